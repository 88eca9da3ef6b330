"""Bad input to the network description, its connectors, STDP and the input helpers: each is refused with the
project's error, ``FIELD = VALUE is not allowed: ALLOWED``, naming the field (the cases of tools/bad_input_tally.py's
network, connectors, plasticity and inputs modules that were unclear or silent)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from neurosim import STDP, AllToAll, FixedProbability, Network, OneToOne, PoissonSource, Population, Projection
from neurosim.connectors import FixedNumberPre, FixedTotalNumber, FromList
from neurosim.inputs import PoissonStream, sorted_events, spike_ticks
from neurosim.monitors import SpikeMonitor, StateMonitor, WeightMonitor, all_spike_monitors
from neurosim.network import SpikeSourceArray, delay_steps_from_ms
from neurosim.plasticity import decay_table

NAN, INF = math.nan, math.inf
SRC = SpikeSourceArray("s", ([1.0], [2.0], [3.0]))


def pops() -> tuple[Population, ...]:
    return Population("a", 3), Population("b", 3)


def project(**kw) -> Network:
    kw = {"name": "c", "pre": "s", "post": "a", "connector": OneToOne(), "weight_nA": 0.5, **kw}
    return Network(populations=pops(), sources=(SRC,), projections=(Projection(**kw),))


def monitor(m) -> Network:
    return Network(populations=pops(), sources=(SRC,), projections=(Projection("c", "s", "a", OneToOne()),),
                   monitors=(m,))


def refused(call, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern) as info:
        call()
    assert " is not allowed: " in str(info.value)


# -- neurosim.network and neurosim.monitors ---------------------------------------------------------------------

@pytest.mark.parametrize("stop", ["5", None, object(), [1], True, NAN, -INF, -1.0])
def test_poisson_stop(stop) -> None:
    refused(lambda: Network(populations=(Population("p", 1),), sources=(PoissonSource("q", 3, 5.0, 0.0, stop),)),
            r"PoissonSource\.stop_ms = ")


@pytest.mark.parametrize("end", ["pre", "post"])
def test_projection_unknown_node(end) -> None:
    refused(lambda: project(**{end: "zz"}), rf"Projection\[c\]\.{end} = 'zz' is not allowed: one of \['a', 'b', 's'\]")


@pytest.mark.parametrize(("make", "pattern"), [
    *[(lambda t=t: SpikeMonitor(t), r"SpikeMonitor\.target = ") for t in ("zz", "", None, 5, "2x")],
    *[(lambda p=p: StateMonitor(p, (0,)), r"StateMonitor\.population = ") for p in ("zz", None, 5, "s")],
    *[(lambda v=v: StateMonitor("a", (0,), v), r"StateMonitor\.variables = ") for v in (None, 5, ("v",))],
    *[(lambda p=p: WeightMonitor(p, 1.0), r"WeightMonitor\.projection = ") for p in ("zz", None, 5)],
])
def test_monitor_names(make, pattern) -> None:
    refused(lambda: monitor(make()), pattern)


@pytest.mark.parametrize(("part", "value"), [
    *[("populations", v) for v in (None, 5, "p", ("p",), (SRC,))],
    *[("sources", v) for v in (None, 5, ("s",), (Population("q", 1),))],
    *[("projections", v) for v in (None, 5, ("c",), (OneToOne(),))],
    *[("monitors", v) for v in (None, 5, ("p",), (Population("q", 1),))],
])
def test_network_parts(part, value) -> None:
    kw = {"populations": pops(), "sources": (SRC,), part: value}
    refused(lambda: Network(**kw), rf"Network\.{part} = ")


@pytest.mark.parametrize("name", ["zz", None, 5])
@pytest.mark.parametrize(("lookup", "pattern"), [
    ("node", r"Network\.node name = "), ("population", r"Network\.population name = "),
    ("projection", r"Network\.projection name = "), ("connections", r"Network\.connections name = "),
])
def test_network_lookups(lookup, pattern, name) -> None:
    net = project()
    refused(lambda: getattr(net, lookup)(name), pattern)


def test_lookups_name_the_caller_field_and_keep_valid_names() -> None:
    net = project()
    refused(lambda: net.population("s"), r"Network\.population name = 's' is not allowed: a Population")
    refused(lambda: net.node("zz", field="source"), r"^source = 'zz' is not allowed: one of \['a', 'b', 's'\]")
    assert net.node("s") is SRC and net.population("a").size == 3 and net.projection("c").name == "c"
    assert net.connections("c").pre.tolist() == [0, 1, 2]
    assert Network(populations=[Population("p", 1)], sources=[PoissonSource("q", 1, 5.0)]).sources[0].stop_ms == INF


@pytest.mark.parametrize("names", [None, 5, "a", [None]])
def test_all_spike_monitors(names) -> None:
    refused(lambda: all_spike_monitors(names), r"(names|SpikeMonitor\.target) = ")


@pytest.mark.parametrize(("kw", "pattern"), [
    *[({"dt_ms": v}, r"dt_ms = ") for v in ("5", None, object(), [1], True, NAN, INF, -INF, 0.0, -1.0)],
    *[({"delay_ms": v}, r"^d = ") for v in ("5", None, np.array([NAN]), np.array([-1.0]), np.array([0.0]))],
])
def test_delay_steps_from_ms(kw, pattern) -> None:
    refused(lambda: delay_steps_from_ms(**{"field_name": "d", "delay_ms": np.array([1.0]), "dt_ms": 0.1, **kw}),
            pattern)


# -- neurosim.connectors: connect(n_pre, n_post, same) -------------------------------------------------------

CONNECTORS = [OneToOne(), AllToAll(), FixedProbability(0.5), FixedTotalNumber(2), FixedNumberPre(1),
              FromList([0], [0])]


@pytest.mark.parametrize("connector", CONNECTORS, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize(("kw", "pattern"), [
    *[({"n_pre": v}, r"\.connect n_pre = ") for v in ("3", None, 1.5, -1, 0, True)],
    *[({"n_post": v}, r"\.connect n_post = ") for v in ("3", None, 1.5, -1, 0, True)],
    *[({"same": v}, r"\.connect same = ") for v in ("False", 0.5, 1, None)],
])
def test_connect_arguments(connector, kw, pattern) -> None:
    refused(lambda: connector.connect(**{"n_pre": 3, "n_post": 3, "same": False, **kw}), pattern)


@pytest.mark.parametrize("connector", CONNECTORS, ids=lambda c: type(c).__name__)
def test_connect_takes_numpy_sizes(connector) -> None:
    pre, post = connector.connect(np.int64(3), np.uint32(3), same=np.bool_(True))
    assert pre.dtype == post.dtype == np.int64 and pre.shape == post.shape


# -- neurosim.plasticity ------------------------------------------------------------------------------------------

def test_decay_table_overflow() -> None:
    refused(lambda: decay_table(1e308, 0.1), r"^tau_ms = 1e\+308")
    refused(lambda: decay_table(1.0, 1e-310), r"^tau_ms = 1.0")
    assert decay_table(1.0, 0.5).size == 82  # k = 0 .. 80, then 0


@pytest.mark.parametrize(("kw", "pattern"), [
    *[({"w": v}, r"^w = ") for v in ("5", None, object(), [1], True, NAN, INF, -INF, -1.0, 2.0)],
    *[({"dt_post_minus_pre_ms": v}, r"^dt_post_minus_pre_ms = ") for v in ("5", None, object(), [1], True, NAN)],
])
def test_pair_change(kw, pattern) -> None:
    refused(lambda: STDP().pair_change(**{"w": 0.5, "dt_post_minus_pre_ms": 1.0, **kw}), pattern)


def test_pair_change_far_apart_pairs_change_nothing() -> None:
    assert STDP().pair_change(0.5, INF) == 0.5 and STDP().pair_change(0.5, -INF) == 0.5
    assert STDP().pair_change(0.5, 1.0) > 0.5 > STDP().pair_change(0.5, -1.0)


# -- neurosim.inputs ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kw", "pattern"), [
    *[({"times_ms": v}, r"^times_ms = ") for v in (np.array([NAN]), np.array([INF]), "5", None)],
    ({"times_ms": np.array([[1.0]])}, r"^times_ms shape = "),
    *[({"ids": v}, r"^ids( length)? = ") for v in (np.array([0, 1]), None, "0", np.array([0.5]), [True])],
    *[({"dt_ms": v}, r"^dt_ms = ") for v in ("5", None, object(), [1], True, NAN, INF, -INF, 0.0, -1.0)],
])
def test_spike_ticks(kw, pattern) -> None:
    refused(lambda: spike_ticks(**{"source": "s", "times_ms": np.array([1.0]), "ids": np.array([0]), "dt_ms": 0.1,
                                   **kw}), pattern)


def test_spike_ticks_valid() -> None:
    assert spike_ticks("s", np.zeros(0), [], 0.1).size == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spike_ticks("s", [1.0, 2.0], [0, 1], 0.1).tolist() == [10, 20]
        assert spike_ticks("s", np.array([1.0]), np.array([0], np.uint8), 0.1, board=True).tolist() == [10]


@pytest.mark.parametrize(("kw", "pattern"), [
    *[({"ticks": v}, r"^ticks(/nodes lengths)? = ") for v in ([np.array([1])], None, 5, [np.array([1.5, 2.0])])],
    *[({"nodes": v}, r"^(ticks/)?nodes( lengths)? = ") for v in ([np.array([0])], None, 5, [np.array([[0, 1]])])],
])
def test_sorted_events(kw, pattern) -> None:
    refused(lambda: sorted_events(**{"ticks": [np.array([1, 2])], "nodes": [np.array([0, 1])], **kw}), pattern)


def test_sorted_events_valid() -> None:
    t, n = sorted_events([np.array([3, 1]), np.zeros(0)], [np.array([0, 2]), np.zeros(0)])
    assert t.tolist() == [1, 3] and n.tolist() == [2, 0] and t.dtype == n.dtype == np.int64
    assert sorted_events([], [])[0].size == 0


@pytest.mark.parametrize(("kw", "pattern"), [
    *[({"rng": v}, r"^PoissonStream\.rng = ") for v in (None, 5, "x", np.random.RandomState(0))],
    *[({"src": v}, r"^PoissonStream\.src = ") for v in (None, "q", Population("p", 2))],
    *[({"dt_ms": v}, r"^PoissonStream\.dt_ms = ") for v in ("5", None, object(), [1], True, NAN, INF, -INF, 0.0,
                                                             -1.0, 300.0)],
])
def test_poisson_stream(kw, pattern) -> None:
    refused(lambda: PoissonStream(**{"rng": np.random.default_rng(0), "src": PoissonSource("q", 2, 5.0),
                                     "dt_ms": 0.1, **kw}), pattern)


def test_poisson_stream_valid() -> None:
    ticks, ids = PoissonStream(np.random.default_rng(0), PoissonSource("q", 2, 1000.0), 1.0).take(0, 100)
    assert ticks.size > 0 and ids.max() < 2
