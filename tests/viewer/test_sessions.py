"""The viewer's sessions and replay, without Qt: what each frame carries is checked against the model."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim import Simulator
from neurosim.bench import core_network
from neurosim.io import ResultsWriter
from neurosim.memory import jaccard
from neurosim.viewer import replay, sessions


def _collect(name: str, **kw):
    frames: list[sessions.Frame] = []
    s = sessions.create(name, emit=frames.append, **kw)
    s.speed = None
    return s, frames


def test_weight_matrix_is_exact_when_small_and_block_means_when_large() -> None:
    sim = Simulator(core_network(500), backend="reference", seed=0)
    sim.run(5.0)
    proj = sim.network.projection("ee")
    net = sim.compiled
    syn = net.proj_syn["ee"]
    pre = net.syn_pre[syn] - net.offsets["exc"][0]
    post = net.syn_post[syn] - net.offsets["exc"][0]
    w = sim.weights("ee")
    exact = sessions.weight_matrix(sim, "ee", max_side=400)
    assert exact.shape == (400, 400) and proj.pre == proj.post == "exc"
    dense = np.full((400, 400), np.nan)
    dense[pre, post] = w
    np.testing.assert_array_equal(exact, dense)
    blocks = sessions.weight_matrix(sim, "ee", max_side=64)  # 400 rows in blocks of 7: 58 blocks
    assert blocks.shape == (58, 58)
    sel = (pre // 7 == 3) & (post // 7 == 10)
    assert blocks[3, 10] == pytest.approx(w[sel].mean())
    with pytest.raises(ValueError, match="max_side"):
        sessions.weight_matrix(sim, "ee", max_side=1)


def test_ca3_session_streams_spikes_traces_and_the_learned_weights() -> None:
    s, frames = _collect("ca3", n_cues=4, n_bits=16, active=3)
    s.step()  # store item 0 under cue 0, probe it
    item = s.items[0]
    assert s.populations["cueCueRecall"] == 4 and s.populations["contCueRecall"] == 16
    fed = [f for f in frames if f.spikes]  # the observer's; the last frame carries the probe's result
    assert fed[-1].t == s.memory.t_ms
    times = np.concatenate([f.spikes["in_content"][0] for f in fed])
    ids = np.concatenate([f.spikes["in_content"][1] for f in fed])
    # the learn presents the content on 3 ticks; the probe then presents half of it once
    np.testing.assert_array_equal(np.unique(ids[times < 3]), np.flatnonzero(item))
    sampled = np.concatenate([f.trace_times for f in fed])
    np.testing.assert_array_equal(sampled, np.arange(s.memory.t_ms))  # every tick once, however many frames
    assert sum(f.traces.shape[0] for f in fed) == sampled.size
    assert all(f.traces.shape[1] == len(s.traced) for f in fed)
    for p in s.populations:  # every spike once
        assert sum(f.spikes[p][0].size for f in fed) == s.memory.sim.spikes(p)[0].size
    w = [f.weights for f in frames if f.weights][-1]["learned_cue_to_content"]
    assert w.shape == (4, 16)
    np.testing.assert_allclose(w[0, item], 6.0)  # STDP to w_max on the stored bits, from cue 0 only
    assert np.all(w[0, ~item] == 0.0) and np.all(w[1:] == 0.0)
    last = frames[-1]
    assert last.curve == (sessions.CurvePoint(0, 1.0, 1.0),)
    np.testing.assert_array_equal(last.memory.recalled, item)


def test_memory_session_probes_older_items_at_the_scheduled_interference() -> None:
    s, frames = _collect("hopfield")
    for _ in range(12):
        s.step()
    # however the columns were grouped into frames, every stored item is there once, in order
    t = np.concatenate([f.spikes["stored"][0] for f in frames if "stored" in f.spikes])
    i = np.concatenate([f.spikes["stored"][1] for f in frames if "stored" in f.spikes])
    times = np.unique(t)
    assert times.size == len(s.items) == 12
    for k, when in enumerate(times):
        np.testing.assert_array_equal(i[t == when], np.flatnonzero(s.items[k]))
    points = [p for f in frames for p in f.curve]
    assert [p.interference for p in points[:5]] == [0, 0, 1, 2, 5]  # age 1 skipped at item 0
    assert all(0.0 <= p.recall <= 1.0 and 0.0 <= p.recognition <= 1.0 for p in points)
    # the activity raster shows the stored item, its half cue and the recalled pattern, in that order
    def first(kind: str) -> float:
        return min(float(f.spikes[kind][0].min()) for f in frames if kind in f.spikes and f.spikes[kind][0].size)

    assert (first("stored"), first("cue"), first("recalled")) == (0.0, 1.0, 2.0)
    np.testing.assert_array_equal(frames[-1].weights["W (normalised)"], s.memory.weights)


def test_forgetting_an_item_on_purpose_marks_its_probes_and_leaves_the_others() -> None:
    s, frames = _collect("hopfield")
    for _ in range(6):
        s.step()
    view = s.forget(2)
    assert view.index == 2 and view.label.startswith("forgot item 2: now recall")
    assert frames[-1].curve == (sessions.CurvePoint(3, frames[-1].curve[0].recognition, frames[-1].curve[0].recall,
                                                    True),)
    assert s.memory.n_stored == 5 and s.forgotten == {2}
    with pytest.raises(ValueError, match=r"index = 2 is not allowed: an item not forgotten already"):
        s.forget(2)
    with pytest.raises(ValueError, match=r"index = 6 is not allowed: a stored item, in \[0, 5\]"):
        s.forget(6)
    for _ in range(40):
        s.step()
    after = frames[frames.index(next(f for f in frames if f.message.startswith("forgot item 2"))):]
    probed = [(p.forgotten, what) for f in after
              for p, what in zip(f.curve, [w for w in f.message.split("; ") if w.startswith(("probed", "forgot"))],
                                 strict=True)]
    assert sum(flag for flag, _ in probed) >= 2  # the forget's own probe, and scheduled probes of item 2 later
    for flag, what in probed:  # flagged exactly when item 2 is the one probed
        assert flag == what.startswith(("probed item 2 (", "forgot item 2")), what
    with pytest.raises(TypeError, match="no memory to forget"):
        sessions.create("core", n=100).forget(0)
    ca3, _ = _collect("ca3")
    ca3.step()
    assert ca3.forget(0).label.startswith("forgot item 0")  # by the spiking circuit's own forget operation
    ca3.close()


def test_recall_names_the_closest_stored_item() -> None:
    s, _ = _collect("sparsey")
    for _ in range(3):
        s.step()
    cue = s.items[1].copy()
    cue[np.flatnonzero(cue)[10:]] = False
    view = s.recall(cue)
    assert view.target is not None and jaccard(view.target, s.items[1]) == 1.0
    assert "item 1" in view.label
    with pytest.raises(ValueError, match="cue shape"):
        s.recall(np.zeros(3, bool))
    with pytest.raises(TypeError, match="no memory"):
        sessions.create("core", n=100).recall(cue)


def test_stop_aborts_a_running_operation_and_names_are_checked() -> None:
    s, frames = _collect("core", n=200)
    s.step()
    assert frames[-1].t == 100.0
    n_exc = sum(f.spikes["exc"][0].size for f in frames)
    assert n_exc == s.sim.spikes("exc")[0].size > 0
    s.stop()
    with pytest.raises(sessions.Stopped):
        s.step()
    with pytest.raises(ValueError, match="live model = 'nope' is not allowed"):
        sessions.create("nope")


def _write(path, **main):
    with ResultsWriter(path, config={"experiment": "test"}) as w:
        w.write_main(**main)
    return path


def test_replay_frames_hold_exactly_the_window(tmp_path) -> None:
    rng = np.random.default_rng(3)
    t = np.sort(rng.integers(0, 1000, 500)).astype(float)
    i = rng.integers(0, 40, 500)
    tt = np.arange(0.0, 1000.0)
    v = rng.normal(-60, 1, (1000, 2))
    wt = np.array([0.0, 500.0, 1000.0])
    wv = rng.random((3, 30))
    path = _write(tmp_path / "r.h5", spikes={"p": (t, i)}, traces={"p": (tt, np.array([0, 5]), {"v_mV": v})},
                  weights={"syn": (wt, wv)})
    _, views = replay.open_views(path)
    (rv,) = views
    assert rv.populations == {"p": int(i.max()) + 1} and rv.traced == (("p", 0), ("p", 5))
    assert rv.t_end == 1000.0 and rv.bin == 1.0 and rv.steps == 1001
    f = rv.frame_at(600, 200.0)  # the 200 bins up to and including t = 600 ms
    assert f.t == 601.0
    sel = (t >= 401) & (t <= 600)
    np.testing.assert_array_equal(f.spikes["p"][0], t[sel])
    np.testing.assert_array_equal(f.traces, v[(tt >= 401) & (tt <= 600)])
    image = f.weights["syn"]
    np.testing.assert_array_equal(image[:, :2], wv[:2].T)  # snapshots at 0 and 500 ms; not yet 1000
    assert np.isnan(image[:, 2]).all()
    np.testing.assert_array_equal(rv.frame_at(1000, 200.0).weights["syn"], wv.T)


def test_replay_of_a_forgetting_trial_and_of_nothing_to_show(tmp_path) -> None:
    rng = np.random.default_rng(0)
    fam, rec = rng.random((2, 4, 5)), rng.random((2, 4, 5))
    with ResultsWriter(tmp_path / "f.h5", config={"experiment": "forgetting"}) as w:
        w.write_trial(0, metrics={"steps": (np.array([0, 1, 5, 10]), ""), "familiarity": (fam, ""),
                                  "recall_half": (rec, "")}, attrs={"model": "hopfield", "condition": "retention-none"})
    _, (rv,) = replay.open_views(tmp_path / "f.h5")
    assert rv.label == "trial 0: hopfield retention-none" and not rv.timed and rv.steps == 4
    x, recog, recall = rv.curve_until(1)
    np.testing.assert_array_equal(x, [0, 1])
    np.testing.assert_allclose(recog, fam.mean(axis=(0, 2))[:2])
    np.testing.assert_allclose(recall, rec.mean(axis=(0, 2))[:2])
    with ResultsWriter(tmp_path / "odd.h5", config={"experiment": "other"}) as w:  # same names, other shapes
        w.write_trial(0, metrics={"steps": (np.array([0, 1, 5, 10]), ""), "familiarity": (fam[0], ""),
                                  "recall_half": (rec[0], "")})
    with pytest.raises(ValueError, match="no spikes, traces, weights or forgetting curves"):
        replay.open_views(tmp_path / "odd.h5")
    _write(tmp_path / "m.h5", metrics={"accuracy": (np.ones(3), "")})
    with pytest.raises(ValueError, match="no spikes, traces, weights or forgetting curves.*accuracy"):
        replay.open_views(tmp_path / "m.h5")


@pytest.mark.parametrize("name", ["ca3-functional", "ca3-stress", "ca3-state-map"])
def test_a_published_experiment_played_live_reproduces_the_published_spike_table(name: str) -> None:
    from neurosim.experiments.ca3_published import mismatches, published_table, spike_table

    table = published_table(name)
    s, frames = _collect(name)
    while not s.finished:
        s.step()
    assert s.step().endswith("recalls as the oracle")  # past the end: nothing runs
    assert all(e == g for op, e, g in s.outcomes if op.kind != "learn")
    bad, total = mismatches(spike_table(s.memory, s.duration), table, s.duration)
    assert bad == 0 and total >= 1000  # every (population, ms) cell as published
    recall_views = [f.memory for f in frames if f.memory is not None and "recall cue" in f.memory.label]
    assert all(np.array_equal(v.recalled, v.target) for v in recall_views)


def _curve(frames, since: int = 0) -> dict[int, tuple[float, float, int]]:
    """Per interference: (mean recall, mean familiarity, probes) from the ``since``-th frame on, probes of
    items forgotten on purpose (Sparsey's load policy) included."""
    points = [p for f in frames[since:] for p in f.curve]
    return {a: (float(np.mean([p.recall for p in points if p.interference == a])),
                float(np.mean([p.recognition for p in points if p.interference == a])),
                sum(p.interference == a for p in points)) for a in sorted({p.interference for p in points})}


@pytest.mark.parametrize(("name", "steps", "kw"), [("hopfield", 1000, {}), ("sparsey", 400, {}),
                                                   ("sparsey", 400, {"model": "sparsey", "keep": 50})])
def test_live_memories_stay_informative_far_past_their_capacity(name, steps, kw) -> None:
    """As fast as it runs, 5 N items into the palimpsest Hopfield network and 2 N into Sparsey (the palimpsest
    MAC, or the classical one forgetting items older than its 50 newest): the newest item is still recalled
    (from a half cue, where a cue alone scores 0.5) and old items are less familiar than new ones, over the
    run's last half (measured: Hopfield 1.00 recall at age 0, familiarity 0.99 at age 0 and 0.29 at 40;
    Sparsey with decay 1.00, 1.00 and 0.72 at 100; Sparsey keeping 50: 0.99, 1.00 and 0.77)."""
    s, frames = _collect(name, **kw)
    for _ in range(steps):
        s.step()
    curve = _curve(frames, since=len(frames) // 2)
    assert curve[0][0] >= 0.9, curve
    oldest = max(curve)
    assert curve[oldest][1] < 0.9 and curve[oldest][1] < curve[0][1], curve
    assert all(n >= 5 for _, _, n in curve.values())


@pytest.mark.parametrize(("name", "steps", "classical"), [("hopfield", 1000, "hopfield"), ("sparsey", 400, "sparsey")])
def test_the_classical_network_blacks_out_where_the_palimpsest_does_not(name, steps, classical) -> None:
    """With no load policy the classical memories lose even the newest item (Sparsey: recall 0.15, every
    familiarity 1.0: its weights are full)."""
    s, frames = _collect(name, model=classical)
    for _ in range(steps):
        s.step()
    assert "classical" in s.title and s.keep is None
    assert _curve(frames, since=len(frames) // 2)[0][0] < 0.7  # even the newest item is lost


def test_non_spiking_sessions_show_what_the_model_did_in_its_last_operation() -> None:
    """Hopfield: the last probe's recall sweep by sweep, ending on the recalled pattern, its energy never
    rising (asynchronous updates); Sparsey: each CM's highest win probability, between 1/k and 1, and G."""
    s, frames = _collect("hopfield")
    for _ in range(30):
        s.step()
    last = [f for f in frames if f.memory is not None][-1]
    d = last.dynamics
    x, jac = d.series["Jaccard with the probed item"]
    _, energy = d.series["energy / |energy of the item|"]
    assert x[0] == 0 and jac[-1] == pytest.approx(jaccard(last.memory.recalled, last.memory.target))
    assert np.all(np.diff(energy) <= 1e-12)
    s, frames = _collect("sparsey")
    for _ in range(5):
        s.step()
    d = [f for f in frames if f.dynamics is not None][-1].dynamics
    x, top = d.series["highest win probability"]
    assert x.size == 20 and np.all((top >= 1 / 20 - 1e-12) & (top <= 1 + 1e-12)) and "G = " in d.title


def test_merged_frames_keep_every_event_and_the_latest_state() -> None:
    a = sessions.Frame(t=1.0, spikes={"x": (np.array([0.0]), np.array([3]))}, trace_times=np.array([0.0, 1.0]),
                       traces=np.array([[1.0], [2.0]]), weights={"w": np.zeros(2)}, message="first",
                       curve=(sessions.CurvePoint(0, 1.0, 1.0),))
    b = sessions.Frame(t=2.0, spikes={"x": (np.array([1.5]), np.array([4])), "y": (np.array([2.0]), np.array([0]))},
                       trace_times=np.array([2.0]), traces=np.array([[3.0]]), weights={"w": np.ones(2)},
                       curve=(sessions.CurvePoint(1, 0.5, 0.5),))
    m = sessions.merge(sessions.merge(None, a), b)
    np.testing.assert_array_equal(m.spikes["x"][0], [0.0, 1.5])
    np.testing.assert_array_equal(m.spikes["x"][1], [3, 4])
    assert set(m.spikes) == {"x", "y"} and m.t == 2.0
    np.testing.assert_array_equal(m.trace_times, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(m.traces[:, 0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(m.weights["w"], np.ones(2))  # the later matrix
    assert [p.interference for p in m.curve] == [0, 1] and m.message == "first"  # b said nothing new
