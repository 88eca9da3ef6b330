"""Bad input to neurosim.fixed_point's integer primitives and to the memory models' sizes and options: refused in the
project's form, naming the field (tools/bad_input_tally.py, modules fixed_point and models)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim import fixed_point as fp
from neurosim.models import create
from neurosim.models.ca3 import CA3Memory
from neurosim.models.dendritic_memory import DendriticMemory
from neurosim.models.sparsey import MAC, SparseyMemory
from neurosim.network import StateMonitor, WeightMonitor

NAN, INF = math.nan, math.inf
ONE = 1 << 15


@pytest.mark.parametrize(("call", "field"), [
    *[(lambda v=v: fp.s1615(v), "value") for v in ("5", True, None, NAN, INF, -INF, 1e308, 70000.0, -65537.0, [1])],
    *[(lambda v=v: fp.s1615_array(v), "values") for v in (np.array([NAN]), np.array([INF]), ["5"], None,
                                                            np.array([1e308]))],
    *[(lambda v=v: fp.mul(v, ONE), "a") for v in ("5", None, 1.5, NAN, 2**63, True, np.array([1.5]), [1.5])],
    *[(lambda v=v: fp.mul(ONE, v), "b") for v in ("5", None, 1.5, NAN, 2**63, [2**40])],
    *[(lambda v=v: fp.decay(v, 1 << 31), "x") for v in ("5", None, 1.5, 2**63)],
    *[(lambda v=v: fp.decay(ONE, v), "d") for v in ("5", None, -1, 2**63, 1 << 32)],
    *[(lambda v=v: fp.kdivk(v, ONE), "a") for v in ("5", None, NAN, -1)],
    *[(lambda v=v: fp.kdivk(ONE, v), "b") for v in (0, "5", None, NAN, -1)],
    *[(lambda v=v: fp.expk(v), "n") for v in ("5", None, 1.5, NAN, True)],
    *[(lambda v=v: fp.expulr(v), "n") for v in ("5", None, 1.5, ONE)],
    *[(lambda v=v: fp.lif_constants(v, ONE, 2 * ONE, ONE // 2), "tau_m") for v in (0, -1, None, 1.5)],
    *[(lambda v=v: fp.lif_constants(20 * ONE, v, 2 * ONE, ONE // 2), "cm") for v in (0, -1, None)],
    *[(lambda v=v: fp.lif_constants(20 * ONE, ONE, v, ONE // 2), "tau_refrac") for v in (-1, None)],
    *[(lambda v=v: fp.lif_constants(20 * ONE, ONE, 2 * ONE, v), "dt") for v in (0, -1, None)],
    *[(lambda v=v: fp.synapse_constants(v, ONE // 2), "tau") for v in (0, -1, None, "5")],
    *[(lambda v=v: fp.synapse_constants(5 * ONE, v), "dt") for v in (0, -1, None)],
    *[(lambda v=v: fp.ring_buffer_shift(v), "max_weight") for v in ("5", None, NAN, INF)],
    *[(lambda v=v: fp.stdp_lut(v, 1.0), "tau_ms") for v in ("5", None, True, NAN, INF, 0.0, -1.0, 1e300)],
    *[(lambda v=v: fp.stdp_lut(20.0, v), "dt_ms") for v in ("5", None, True, NAN, INF, -INF, 0.0, -1.0)],
])
def test_fixed_point_refuses_bad_input_naming_the_field(call, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} = .* is not allowed: "):
        call()


def test_fixed_point_keeps_its_valid_inputs() -> None:
    assert fp.s1615(np.float64(-65536.0)) == -(1 << 31) and fp.s1615(65535.5) == 65535.5 * ONE
    np.testing.assert_array_equal(fp.mul(np.array([3, -3], np.int32), 16384), [1, -2])
    np.testing.assert_array_equal(fp.mul([3, -3], np.int64(16384)), [1, -2])
    np.testing.assert_array_equal(fp.decay(np.array([1000]), np.array([1 << 31], np.uint32)), [500])
    assert fp.kdivk(0, ONE) == 0 and fp.expk(10**30) == 0x7FFFFFFF and fp.expulr(-10**30) == 0
    assert fp.ring_buffer_shift(-1.0) == 0 and fp.ring_buffer_shift(np.float64(2.5)) == 2
    assert fp.lif_constants(20 * ONE, ONE, 0, ONE)[2] == 0


HUGE = (10**12, 2**63, np.uint64(2**64 - 1))
BACKEND = {"ca3": "reference", "ca3-auto": "reference"}


def _create(name: str, **kw):
    return create(name, **{"n_units": 20, "sparsity": 0.2, "backend": BACKEND.get(name, "numba"), **kw})


@pytest.mark.parametrize("n", HUGE)
@pytest.mark.parametrize("name", ["hopfield", "hopfield-marginalist", "dam-poly", "dam-exp", "sparsey",
                                  "sparsey-decay", "dendrites", "ca3", "ca3-auto"])
def test_a_memory_too_big_for_this_machine_is_refused_naming_n_units(name: str, n) -> None:
    with pytest.raises(ValueError, match=r"^n_units( \(\w+\))? = \d+ is not allowed: "):
        _create(name, n_units=n)


@pytest.mark.parametrize(("name", "options", "field"), [
    *[("sparsey", {f: v}, f) for f in ("q", "k") for v in HUGE],
    ("dendrites", {"s": None}, "s"), ("dendrites", {"theta": None}, "theta"),
    ("dendrites", {"patterns_per_segment": 10**12}, "patterns_per_segment"),
    *[("ca3", {"n_cues": v}, "n_cues") for v in HUGE],
    ("ca3", {"monitors": 5}, "monitors"), ("ca3", {"monitors": "pc"}, "monitors"),
    ("ca3", {"monitors": ("x",)}, r"monitors\[0\]"),
    ("ca3", {"monitors": (StateMonitor("zz", (0,)),)}, r"monitors\[0\]\.population = 'zz'"),
    ("ca3", {"monitors": [StateMonitor("output", (0,)), WeightMonitor("zz", 1.0)]}, r"monitors\[1\]\.projection"),
])
def test_bad_model_options_are_refused_naming_them(name: str, options: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}( = .*)? is not allowed: "):
        _create(name, **options)


@pytest.mark.parametrize(("call", "field"), [
    (lambda: MAC(10**12, 20, 20), "n_inputs"), (lambda: MAC(20, 20, 10**12), "k"),
    (lambda: MAC(20, 20, 20, n_top_down=10**12), "n_top_down"), (lambda: SparseyMemory(20, q=2**63), "q"),
    (lambda: DendriticMemory(np.uint64(2**64 - 1), 12, 5), r"n_units \(n\)"),
    (lambda: CA3Memory(5, 2**31, backend="reference"), r"n_units \(n_bits\)"),
])
def test_the_constructors_refuse_sizes_naming_their_keyword(call, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field} = \d+ is not allowed: "):
        call()


def test_ca3_takes_valid_monitors() -> None:
    m = _create("ca3", monitors=[StateMonitor("output", (0,)), WeightMonitor("learned_cue_to_content", 5.0)])
    assert m.n_units == 20
    m.close()


def test_the_spinnaker_engine_names_the_parameter_that_does_not_fit_s1615() -> None:
    from neurosim.network import LIFParams, Network, Population
    from neurosim.simulator import Simulator

    params = LIFParams(v_rest_mV=-70000.0, v_reset_mV=-70000.0, v_init_mV=-70000.0, v_thresh_mV=-50.0)
    net = Network(dt_ms=1.0, populations=(Population("p", 1, params),))
    Simulator(net, "reference")  # float64 takes it
    with pytest.raises(ValueError, match=r"LIFParams.v_rest_mV = -70000.0 is not allowed: in \[-65536, "):
        Simulator(net, "reference", arithmetic="spinnaker")


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_a_weight_beyond_16_bits_at_its_shift_is_refused_not_wrapped(backend: str) -> None:
    """17 nA at shift 3 would keep its low 16 bits and read back 1 nA; it is refused, and nothing is set."""
    from neurosim.connectors import OneToOne
    from neurosim.network import Network, Population, Projection, SpikeSourceArray
    from neurosim.simulator import Simulator

    net = Network(dt_ms=1.0, populations=(Population("p", 3),), sources=(SpikeSourceArray("s", ([1.0], [2.0], [3.0])),),
                  projections=(Projection("drive", "s", "p", OneToOne(), weight_nA=5.0, delay_steps=1),))
    sim = Simulator(net, backend, arithmetic="spinnaker")
    with pytest.raises(ValueError, match=r"weights = 17.0 is not allowed: \|w\| <= 15.9998 nA with arithmetic"):
        sim.set_weights("drive", np.array([15.9, 17.0, 1.0]))
    np.testing.assert_array_equal(sim.weights("drive"), [5.0, 5.0, 5.0])
    sim.set_weights("drive", np.array([15.9, 2.0, 1.0]))
    np.testing.assert_allclose(sim.weights("drive"), [15.9, 2.0, 1.0], atol=2.0**-12)


@pytest.mark.parametrize("field, params", [("LIFParams.cm_nF", {"cm_nF": 1e-6}),
                                           ("LIFParams.tau_syn_e_ms", {"tau_syn_e_ms": 1e-6})])
def test_a_constant_below_one_s1615_step_is_named(field: str, params: dict) -> None:
    from neurosim.network import LIFParams, Network, Population
    from neurosim.simulator import Simulator

    net = Network(dt_ms=1.0, populations=(Population("p", 1, LIFParams(**params)),))
    with pytest.raises(ValueError, match=rf"{field} = 1e-06 is not allowed: >= 3.05176e-05 \(one s16.15 step\)"):
        Simulator(net, "reference", arithmetic="spinnaker")
