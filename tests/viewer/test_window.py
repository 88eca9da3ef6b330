"""The viewer's windows offscreen (QT_QPA_PLATFORM=offscreen, set in tests/conftest.py), with pytest-qt."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from neurosim import Simulator, cli, experiments  # noqa: E402
from neurosim.bench import core_network  # noqa: E402
from neurosim.io import read_results  # noqa: E402
from neurosim.viewer.qt import QtCore, QtGui  # noqa: E402
from neurosim.viewer.window import LiveWindow, ReplayWindow  # noqa: E402

TIMEOUT_MS = 60_000


@pytest.fixture
def live(qtbot):
    windows = []

    def make(name="ca3", **kw):
        w = LiveWindow(name, **kw)
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()


def _learned(window) -> np.ndarray | None:
    return window.panels.weights.shown()


def test_window_opens_with_every_panel(live, qtbot) -> None:
    w = live("ca3", play=False)
    qtbot.waitExposed(w)
    assert w.isVisible() and "CA3" in w.windowTitle()
    assert w.panels.raster.n_rows == sum(w.session.populations.values())
    assert w.panels.traces.traced == w.session.traced
    assert [w.panels.weights.choice.itemText(k) for k in range(2)] == list(w.session.weight_names)
    assert w.panels.memory.n == w.session.n_units == 36
    assert w.model_box.currentText() == "ca3" and w.backend_box.isEnabled()


def test_live_run_fills_the_raster(live, qtbot) -> None:
    w = live("ca3", play=True)
    qtbot.waitUntil(lambda: w.panels.raster.spike_count() > 20, timeout=TIMEOUT_MS)
    # drawn, not only buffered: several populations spiked, each in its own colour
    def colours() -> int:
        shown = w.panels.raster.image.image
        return 0 if shown is None else np.unique(shown[shown > 0]).size

    qtbot.waitUntil(lambda: colours() > 3, timeout=TIMEOUT_MS)
    assert w.frames_drawn > 0
    qtbot.mouseClick(w.toolbar.widgetForAction(w.play_action), QtCore.Qt.MouseButton.LeftButton)  # pause
    assert not w.play_action.isChecked() and w.play_action.text() == "Play"


def test_a_learn_changes_the_weight_heatmap(live, qtbot) -> None:
    w = live("ca3", play=False)
    assert _learned(w) is None  # paused from the start: no frame, no weights yet
    w.session.speed = None
    w.step_action.trigger()  # one operation: learn item 0 under cue 0, then probe it
    qtbot.waitUntil(lambda: w.worker.operations == 1 and w.panels.memory.view is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not w.panels.weights.dirty, timeout=TIMEOUT_MS)
    item = w.session.items[0]
    after = _learned(w)
    np.testing.assert_allclose(after[0, item], 6.0)
    assert np.all(after[0, ~item] == 0.0)
    np.testing.assert_array_equal(w.panels.weights.image.image, after)  # the heatmap shows it


def _click_bit(qtbot, panel, bit: int) -> None:
    grid, view = panel.cue_grid, panel.graphics
    scene_pos = grid.mapToScene(grid.cell_centre(bit))
    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene_pos))


def test_clicking_cue_bits_recalls_the_stored_item(live, qtbot) -> None:
    w = live("ca3", play=False)
    w.session.speed = None
    for k in range(3):
        w.step_action.trigger()
        qtbot.waitUntil(lambda k=k: w.worker.operations == k + 1, timeout=TIMEOUT_MS)
    memory = w.panels.memory
    qtbot.mouseClick(memory.clear_button, QtCore.Qt.MouseButton.LeftButton)
    item = w.session.items[1]
    bits = np.flatnonzero(item)[:3]
    for b in bits:
        _click_bit(qtbot, memory, int(b))
    np.testing.assert_array_equal(np.flatnonzero(memory.cue), bits)  # the clicks set those cue bits
    qtbot.mouseClick(memory.recall_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: memory.view is not None and "closest to item" in memory.view.label, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not memory.dirty, timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(memory.view.recalled, item)  # the spiking network completed it
    assert "item 1 (Jaccard 1.00)" in memory.label.text()
    shown = memory.recalled_grid.image.reshape(-1)[: memory.n]
    np.testing.assert_array_equal(shown, np.where(item, 1, 0))  # drawn: all correct, nothing missed


def test_forget_this_item_forgets_the_item_shown_and_the_curve_marks_it(live, qtbot) -> None:
    w = live("hopfield", play=False)
    w.session.speed = None
    for k in range(6):
        w.step_action.trigger()
        qtbot.waitUntil(lambda k=k: w.worker.operations == k + 1, timeout=TIMEOUT_MS)
    memory, curve = w.panels.memory, w.panels.forgetting
    qtbot.waitUntil(lambda: memory.view is not None and memory.view.index is not None, timeout=TIMEOUT_MS)
    shown = memory.view.index
    qtbot.mouseClick(memory.forget_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown in w.session.forgotten and len(curve.forgotten) == 1, timeout=TIMEOUT_MS)
    assert w.session.memory.n_stored == 5
    qtbot.waitUntil(lambda: memory.view.label.startswith(f"forgot item {shown}"), timeout=TIMEOUT_MS)
    n_lines = curve.n_points
    # the dots are redrawn DOTS_RATE times a second at most: the forgotten probe's cross comes with the next
    qtbot.waitUntil(lambda: curve.forgotten_recall.data.size == 1, timeout=TIMEOUT_MS)
    assert curve.n_points == n_lines  # apart from the lines
    qtbot.mouseClick(memory.forget_button, QtCore.Qt.MouseButton.LeftButton)  # the same item again: refused
    qtbot.waitUntil(lambda: "cannot forget: index" in w.status.currentMessage(), timeout=TIMEOUT_MS)


def test_switching_model_and_backend_restarts_the_session(live, qtbot) -> None:
    w = live("ca3", play=True, speed=None)
    qtbot.waitUntil(lambda: w.frames_received > 10, timeout=TIMEOUT_MS)
    w.model_box.setCurrentText("hopfield")
    w.model_box.activated.emit(w.model_box.currentIndex())
    assert w.session.name == "hopfield" and "palimpsest" in w.session.title
    engines = [w.backend_box.itemText(i) for i in range(w.backend_box.count())]
    assert engines == ["numba", "torch"] and w.backend_box.isEnabled()  # Hopfield's engines, not the core's
    assert w.panels.weights.plot.getPlotItem().titleLabel.text == "weights (unitless)"
    assert w.speed_box.currentText() == "10 patterns/s"
    w.speed_box.setCurrentIndex(w.speed_box.count() - 1)
    w.speed_box.activated.emit(w.speed_box.currentIndex())
    assert w.session.speed is None
    assert w.play_action.isChecked()  # the new session plays on, as the old one did
    qtbot.waitUntil(lambda: len(w.panels.forgetting.points) >= 6, timeout=TIMEOUT_MS)
    first = w.panels.forgetting.points[0]
    assert first.interference == 0 and first.recall == 1.0  # the only item stored is recalled exactly
    # the recall's sweeps in place of membrane traces; the panel draws its curves at the redraw after a frame
    assert w.panels.dynamics is not None and w.panels.dynamics.latest is not None
    qtbot.waitUntil(lambda: "Jaccard with the probed item" in w.panels.dynamics.curves, timeout=TIMEOUT_MS)
    x, _recog, recall = w.panels.forgetting.curve()
    assert x[0] == 0 and 0.0 <= recall.min() <= recall.max() <= 1.0


def test_a_published_experiment_plays_to_its_end(live, qtbot) -> None:
    w = live("ca3-functional", play=True, speed=None)
    qtbot.waitUntil(lambda: not w.play_action.isEnabled(), timeout=TIMEOUT_MS)
    assert w.session.finished and not w.step_action.isEnabled()
    qtbot.waitUntil(lambda: "5/5 recalls as the oracle" in w.status.currentMessage(), timeout=TIMEOUT_MS)
    assert w.panels.forgetting.getPlotItem().titleLabel.text.endswith("none here")


def test_frames_queued_by_a_replaced_session_are_dropped(live, qtbot) -> None:
    w = live("hopfield", play=True, speed=None)
    qtbot.waitUntil(lambda: w.frames_received > 0, timeout=TIMEOUT_MS)
    old = w.worker
    time.sleep(0.5)  # the interface is busy: the worker's frames (200-bit memory views) queue up
    w.start("ca3", "numba", play=False)  # 36-bit memory panel: a stale frame would break its render
    assert old.operations > 0
    received = w.frames_received
    qtbot.waitUntil(lambda: w.frames_dropped > 0, timeout=TIMEOUT_MS)  # the queued ones arrive, and are dropped
    qtbot.wait(200)
    assert w.frames_received == received
    assert old.sent == old.taken  # every frame it sent was taken (and dropped) by the window


def test_replay_of_an_experiments_file(qtbot, tmp_path) -> None:
    path = tmp_path / "ca3.h5"
    experiments.run("ca3-functional", out=path, progress=False)
    window = ReplayWindow(path)
    qtbot.addWidget(window)
    window.show()
    results = read_results(path)
    rv = window.current
    assert set(rv.populations) == set(results.spikes) and rv.bin == 1.0
    assert window.slider.maximum() == rv.steps - 1
    n_output = results.spikes["output"][0].size
    raster = window.panels.raster
    rows = slice(raster.offsets["output"], raster.offsets["output"] + raster.sizes["output"])
    assert np.count_nonzero(raster.view()[rows]) == n_output  # the whole run fits the window at the end
    t_out = results.spikes["output"][0]
    window.slider.setValue(40)
    assert np.count_nonzero(raster.view()[rows]) == np.count_nonzero(t_out <= 40)
    assert "t = 40 ms" in window.position_label.text()


def test_view_command_saves_a_screenshot_and_rejects_bad_input(qtbot, tmp_path, capsys) -> None:
    png = tmp_path / "shot.png"
    assert cli.main(["view", "--live", "hopfield", "--screenshot", str(png), "--after", "1"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {png}" in out and re.search(r"\d+ redraws in \d+\.\d s \(\d+\.\d/s\), \d+ frames", out)
    image = QtGui.QImage(str(png))
    assert image.width() == 1400 and image.height() == 860
    assert cli.main(["view"]) == 2
    assert "needs a results FILE or --live NAME" in capsys.readouterr().err
    assert cli.main(["view", "--live", "nope"]) == 2
    assert "--live = 'nope' is not allowed" in capsys.readouterr().err
    assert cli.main(["view", str(tmp_path / "none.h5")]) == 2
    assert "no results at" in capsys.readouterr().err
    (tmp_path / "text.h5").write_text("not hdf5")
    assert cli.main(["view", str(tmp_path / "text.h5")]) == 2
    assert f"{tmp_path / 'text.h5'} is not a complete neurosim result" in capsys.readouterr().err
    assert cli.main(["view", "--live", "ca3", "--speed", "7", "--after", "0"]) == 2
    assert "--speed = '7' is not allowed: one of 1, 3, 10, 30, 100, 300, 1000, max" in capsys.readouterr().err
    assert cli.main(["view", "--live", "ca3", "--neurons", "50", "--after", "0"]) == 2
    assert "--neurons is not allowed for --live ca3" in capsys.readouterr().err
    for argv, message in ((["--fps", "nan"], "--fps = nan is not allowed: redraws per second in [0.1, 240]"),
                          (["--after", "inf"], "--after = inf is not allowed: seconds in [0, 86400]"),
                          (["--seed", "-1"], "--seed = -1 is not allowed"),
                          (["--backend", "brian2"], "--backend = 'brian2' is not allowed live")):
        assert cli.main(["view", "--live", "ca3", *argv]) == 2
        assert message in capsys.readouterr().err
    assert cli.main(["view", "--live", "core", "--neurons", "5", "--after", "0"]) == 2
    assert "--neurons = 5 is not allowed: an integer >= 10" in capsys.readouterr().err
    assert cli.main(["view", "--live", "ca3", "--classical", "--after", "0"]) == 2
    assert "--classical is not allowed for --live ca3: only for hopfield and sparsey" in capsys.readouterr().err
    assert cli.main(["view", "--live", "sparsey", "--keep", "-1", "--after", "0"]) == 2
    assert "--keep = -1 is not allowed: an integer >= 0" in capsys.readouterr().err
    assert cli.main(["view", "--live", "hopfield", "--backend", "reference", "--after", "0"]) == 2
    assert "backend = 'reference' is not allowed" in capsys.readouterr().err  # Hopfield runs on numba and torch


def test_raster_pooling_keeps_single_spikes_and_ticks_mark_traced_spikes(qtbot) -> None:
    from neurosim.viewer.panels import RasterPanel, TracePanel

    raster = RasterPanel({"exc": 8000, "inh": 2000}, bin=1.0, window=100.0)
    qtbot.addWidget(raster)
    raster.resize(800, 400)
    raster.show()
    qtbot.waitExposed(raster)
    raster.add("exc", np.array([10.0, 10.0, 55.5]), np.array([0, 4321, 7999]))
    raster.add("inh", np.array([99.0]), np.array([1999]))
    assert raster.render() and not raster.render()  # draws once per change
    pooled = raster.image.image
    factor = 10_000 // (2 * raster.height())
    assert factor > 1 and pooled.shape == (-(-10_000 // factor), 100)
    assert np.count_nonzero(pooled) == 4  # every spike still lights one pixel row, in its colour
    assert pooled[4321 // factor, 10] == 1 and pooled[(8000 + 1999) // factor, 99] == 2
    traces = TracePanel((("exc", 0), ("exc", 1)), window=100.0)
    qtbot.addWidget(traces)
    traces.add(np.arange(100.0), np.full((100, 2), -60.0))
    traces.add_spikes({"exc": (np.array([10.0, 20.0, 30.0]), np.array([0, 1, 0])), "inh": (np.array([5.0]),
                                                                                          np.array([0]))})
    traces.render()
    np.testing.assert_array_equal(traces.ticks[0].data["x"], [10.0, 30.0])
    np.testing.assert_array_equal(traces.ticks[1].data["x"], [20.0])


def test_viewer_bench_runs_its_three_rows_on_the_same_spikes(qtbot) -> None:
    from neurosim.viewer import bench

    rows = bench.bench(n=400, window_ms=100.0, frames=5, log=lambda *a, **k: None)
    assert [r["row"] for r in rows] == ["image", "scatter", "window"]
    sim = Simulator(core_network(400), backend="numba", seed=0)
    sim.run(150.0)  # the bench's 100 ms window and 5 frames of 10 ms
    expected = sum(int(np.count_nonzero(sim.spikes(p)[0] >= 50.0)) for p in ("exc", "inh"))
    assert rows[0]["spikes_in_window"] == expected > 0
    assert all(r["fps"] > 0 and r["frames"] == 5 for r in rows)


def test_the_forgetting_curve_legend_names_each_series_once(qtbot) -> None:
    from neurosim.viewer.panels import ForgettingPanel

    labels = [label.text for _, label in ForgettingPanel(keep=50).plotItem.legend.items]
    assert labels == ["recall (Jaccard, half cue)", "recognition (familiarity)", "forgotten items: recall",
                      "forgotten items: familiarity"]


def test_viewer_bench_has_a_row_per_live_session(qtbot) -> None:
    from neurosim.viewer import bench

    rows = bench.live(("hopfield", "sparsey"), seconds=1.0, warmup=0.5, log=lambda *a, **k: None)
    assert [r["row"] for r in rows] == ["live hopfield", "live sparsey"]
    assert all(r["fps"] > 0 and r["frames_received"] > 0 and r["progress"].endswith("items") for r in rows)


def test_a_cue_being_edited_survives_probes_and_the_curve_keeps_every_probe(qtbot) -> None:
    from neurosim.viewer.panels import MAX_DOTS, ForgettingPanel, MemoryPanel
    from neurosim.viewer.sessions import CurvePoint, MemoryView

    panel = MemoryPanel(16)
    qtbot.addWidget(panel)
    probe = MemoryView(np.eye(16, dtype=bool)[3], np.eye(16, dtype=bool)[3], np.eye(16, dtype=bool)[3], "probe")
    panel.set(probe)
    panel.render()
    np.testing.assert_array_equal(panel.cue, probe.cue)  # not editing: the probe's cue is shown
    panel.clear()
    panel.toggle(7)
    panel.set(probe)  # the model goes on probing while the user edits
    panel.render()
    np.testing.assert_array_equal(np.flatnonzero(panel.cue), [7])
    with qtbot.waitSignal(panel.recall_requested) as sent:
        panel.request_recall()
    np.testing.assert_array_equal(np.flatnonzero(sent.args[0]), [7])
    panel.set(probe)
    panel.render()
    np.testing.assert_array_equal(panel.cue, probe.cue)  # recalled: the next probe shows again
    curve = ForgettingPanel()
    qtbot.addWidget(curve)
    rng = np.random.default_rng(0)
    points = [CurvePoint(int(a), float(r), float(c)) for a, r, c in zip(rng.integers(0, 4, 2500), rng.random(2500),
                                                                       rng.random(2500), strict=True)]
    curve.add(tuple(points))
    assert len(curve.points) == MAX_DOTS and curve.n_points == 2500
    x, recog, recall = curve.curve()
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    for k in range(4):
        mine = [p for p in points if p.interference == k]
        assert recog[k] == pytest.approx(np.mean([p.recognition for p in mine]))
        assert recall[k] == pytest.approx(np.mean([p.recall for p in mine]))
