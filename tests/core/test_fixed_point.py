"""SpiNNaker's integer arithmetic (neurosim.fixed_point) against hand-computed values, and the spinnaker engine's
pair STDP against the board's rule worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurosim import STDP, FromList, Network, OneToOne, Population, Projection, Simulator, SpikeSourceArray
from neurosim import fixed_point as fp
from neurosim.network import LIFParams, SpikeMonitor


def test_floats_become_s1615_as_spynnaker_writes_them_half_to_even() -> None:
    assert fp.s1615(0.1) == 3277          # 3276.8
    assert fp.s1615(0.3) == 9830          # 9830.4
    assert fp.s1615(-60.0) == -1966080
    assert fp.s1615(2**-16) == 0          # 0.5: to even
    assert fp.s1615(3 * 2**-16) == 2      # 1.5: to even
    assert fp.s1615(-57.5) == -1884160


def test_multiplies_floor_as_the_arm_smull_does() -> None:
    assert fp.mul(-3, 16384) == -2        # -1.5 LSB: floor, not toward zero
    assert fp.mul(3, 16384) == 1
    assert fp.mul(fp.s1615(2.0), fp.s1615(-0.75)) == fp.s1615(-1.5)
    assert fp.decay(1000, 2**31) == 500   # x 0.5 in u0.32
    assert fp.decay(-1, 2**31) == -1      # -0.5: floor
    assert fp.kdivk(32768, 655360) == 1638   # 1 ms / 20 ms = 0.04998779..., truncated
    assert fp.kdivk(32768, 9830) == 109231   # 1 / 0.29998779


def test_exp_tables_and_the_integer_exponential() -> None:
    assert fp.EXP_HI[13] == 2**32 and fp.EXP_HI[14] == 11674931555  # e x 2^32, rounded
    assert fp.EXPM1_MID[1] == 260218914                              # (1 - e^(-1/16)) 2^32
    assert fp.expk(-1638) == 31170 and fp.expk(-3277) == 29649 and fp.expk(0) == 32768
    for n in range(-300000, 1, 997):  # truncated: at most 2 LSB below e^x, never above
        exact = math.exp(n / 32768) * 32768
        assert exact - 2 <= fp.expk(n) <= exact + 1e-9, n
    assert fp.expk(-400000) == 0 and fp.expk(400000) == 0x7FFFFFFF
    exact = math.exp(-109231 / 32768) * 2**32
    assert abs(fp.expulr(-109231) - exact) < 2**32 * 1e-7  # within 1e-7 of e^x (162 LSB of 2^-32 here)


def test_the_constants_a_core_derives() -> None:
    # tau_m 20 ms, cm 1 nF, tau_refrac 0.1 ms at dt 1 ms: R = 20 MOhm exactly, exp_TC = expk(-1638), 1 tick
    assert fp.lif_constants(fp.s1615(20.0), fp.s1615(1.0), fp.s1615(0.1), fp.s1615(1.0)) == (655360, 31170, 1)
    # CA3's cells: tau_m 3 ms, cm 0.27 nF: R = floor(98304 * 2^15 / 8847) bits, 2 refractory ticks from 1 ms at 0.5
    r, _, ticks = fp.lif_constants(fp.s1615(3.0), fp.s1615(0.27), fp.s1615(1.0), fp.s1615(0.5))
    assert r == (98304 << 15) // 8847 and ticks == 2
    decay, init = fp.synapse_constants(fp.s1615(0.3), fp.s1615(1.0))
    assert decay == fp.expulr(-109231)
    assert init == (fp.kdivk(9830, 32768) * (fp.U32 - decay)) >> 15
    assert abs(init / 2**32 - 0.3 * (1 - math.exp(-1 / 0.3))) < 1e-4


@pytest.mark.parametrize(("weight", "shift"), [(0.0, 0), (0.5, 0), (1.0, 1), (2.5, 2), (4.0, 3), (6.0, 3), (8.0, 4)])
def test_ring_buffer_shift_leaves_room_above_the_largest_sum(weight: float, shift: int) -> None:
    assert fp.ring_buffer_shift(weight) == shift


def test_stdp_lookup_tables() -> None:
    assert fp.stdp_lut(20.0, 1.0).size == 154  # 2 ceil(ln(2048) 20 / 2)
    np.testing.assert_array_equal(fp.stdp_lut(3.0, 1.0)[:8], [2048, 1467, 1051, 753, 539, 386, 277, 198])
    assert fp.stdp_lut(3.0, 1.0).size == 24


def _pair_network(w0: float, dependence: str = "additive") -> Network:
    """pre fires at 1 and 10 ms, post is driven to fire at 4 ms; pre -> post plastic, delay 1, additive
    (A+ = 0.5 nA, A- = 0.25 nA absolute, taus 3 ms), w_max 1 nA; dt 1 ms."""
    params = LIFParams(tau_m_ms=3.0, cm_nF=0.27, v_rest_mV=-60.0, v_reset_mV=-60.0, v_thresh_mV=-57.0,
                       tau_refrac_ms=1.0, tau_syn_e_ms=0.3, tau_syn_i_ms=0.3, v_init_mV=-60.0)
    rule = STDP(tau_plus_ms=3.0, tau_minus_ms=3.0, A_plus=0.5, A_minus=0.25, w_min_nA=0.0, w_max_nA=1.0,
                weight_dependence=dependence)
    return Network(dt_ms=1.0, populations=(Population("post", 1, params),),
                   sources=(SpikeSourceArray("pre", ([1.0, 10.0],)), SpikeSourceArray("drive", ([2.0],))),
                   projections=(Projection("plastic", "pre", "post", OneToOne(), weight_nA=w0, delay_steps=1,
                                           plasticity=rule),
                                Projection("driving", "drive", "post", FromList(np.array([0]), np.array([0])),
                                           weight_nA=6.0, delay_steps=1)),
                   monitors=(SpikeMonitor("post"),))


def test_pair_stdp_as_the_board_computes_it_worked_by_hand() -> None:
    """The post spike at tick 3 lies in the window of the pre spike at tick 10 (delay 1 both ways): potentiation
    with the pre trace of the spike at tick 1, r = 2048 x lut+[3 + 1 - 1] >> 11 = 753, then depression by the same
    post spike's trace, o = 2048 x lut-[10 - (3 + 1)] >> 11 = 277; the weight is truncated to 16 bits at the
    ring-buffer shift of 'post' (3: 6 + 1 nA can sum in one tick)."""
    sim = Simulator(_pair_network(0.0), "reference", arithmetic="spinnaker")
    sim.run(12.0)
    t, _ = sim.spikes("post")
    assert t.tolist() == [3.0]  # the drive (2 ms + 1) puts the post spike at tick 3
    a_plus, a_minus = fp.s1615(0.5 * 1.0), fp.s1615(0.25 * 1.0)  # A x w_max: neurosim's additive amplitudes
    w = min((a_plus * (753 << 4)) >> 15, fp.s1615(1.0))
    w = max(w - ((a_minus * (277 << 4)) >> 15), 0)
    shift = fp.ring_buffer_shift(6.0 + 1.0)
    expected = (w >> shift) * 2.0**shift / 2**15
    got = sim.weights("plastic")[0]
    assert got == expected and 0.1 < got < 0.2, (got, expected)
    float_sim = Simulator(_pair_network(0.0), "reference")
    float_sim.run(12.0)
    assert float_sim.weights("plastic")[0] != got  # the board's integers differ from the float rule here


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_multiplicative_pair_stdp_as_the_board_computes_it_worked_by_hand(backend: str) -> None:
    """The same pairing under the multiplicative rule: each step is scaled by the room left, (w_max - w) A+ for
    potentiation and (w - w_min) A- for depression, each product floored, and no clamp."""
    sim = Simulator(_pair_network(0.0, "multiplicative"), backend, arithmetic="spinnaker")
    sim.run(12.0)
    w_max, a_plus, a_minus = fp.s1615(1.0), fp.s1615(0.5), fp.s1615(0.25)
    w = 0
    w += ((((w_max - w) * a_plus) >> 15) * (753 << 4)) >> 15
    w -= ((((w - 0) * a_minus) >> 15) * (277 << 4)) >> 15
    shift = fp.ring_buffer_shift(6.0 + 1.0)
    assert sim.weights("plastic")[0] == (w >> shift) * 2.0**shift / 2**15 > 0.1


def test_an_arithmetic_a_backend_lacks_is_refused_naming_those_that_have_it() -> None:
    net = _pair_network(0.0)
    with pytest.raises(ValueError, match=r"arithmetic = 'spinnaker' is not allowed on backend 'torch': backends with "
                                         r"it: \['reference', 'numba'\]"):
        Simulator(net, "torch", arithmetic="spinnaker")
    with pytest.raises(ValueError, match=r"arithmetic = 'float32' is not allowed: one of \['float64', 'spinnaker'\]"):
        Simulator(net, "reference", arithmetic="float32")


def test_the_precision_report_names_quantized_weights_lost_stdp_steps_and_changed_spikes() -> None:
    from neurosim.hardware.precision import check_precision

    report = check_precision(_pair_network(0.3), 12.0)
    weights = {r["projection"]: r for r in report.weights}
    # 0.3 nA at shift 3 (step 2^3 / 2^15 nA): rint(0.3 x 4096) = 1229 steps = 0.300048828125 nA
    assert weights["plastic"]["changed"] == 1 and weights["plastic"]["max error nA"] == pytest.approx(1229 / 4096 - 0.3)
    assert weights["driving"]["changed"] == 0 and weights["driving"]["resolution nA"] == 2.0**-12
    (stdp,) = report.stdp
    # one pair's change is A x lut[lag] / 2048: A+ = 0.5 nA makes lut[lag] x 8 bits, A- = 0.25 nA lut[lag] x 4, and
    # one weight step is 8 bits: potentiation is lost where lut+ is 0 (lag 23), depression where lut- <= 1 (21)
    assert stdp["A+ step at lag 1 nA"] == 1467 * 8 / 2**15
    assert stdp["A+ lost from lag (ticks)"] == 23 and stdp["A- lost from lag (ticks)"] == 21
    assert {r["population"]: r["only float"] + r["only board"] for r in report.spikes} == {"post": 0}
    text = report.table()
    assert "weights quantized to 16 bits" in text and "the board's spikes equal the float run's" in text


@pytest.mark.parametrize("parallel", [False, True])
def test_numba_computes_the_boards_integers_bit_for_bit_as_the_reference(parallel: bool, monkeypatch) -> None:
    """The benchmark network (recurrent E/I, STDP on E->E, Poisson input), 200 ms: the same spikes, weights and
    membrane samples on both engines, with numba's serial kernel and with its parallel one (blocks of neurons and
    partitions of the synapse table on threads)."""
    from dataclasses import replace

    from neurosim.backends import numba_engine
    from neurosim.bench import core_network
    from neurosim.network import StateMonitor

    monkeypatch.setattr(numba_engine, "PARALLEL_MIN_NEURONS", 0 if parallel else 10**9)
    base = core_network(400)
    net = replace(base, monitors=(*base.monitors, StateMonitor("exc", (0, 1, 2))))
    runs = {}
    for backend in ("reference", "numba"):
        sim = Simulator(net, backend, seed=2, arithmetic="spinnaker")
        sim.run(200.0)
        runs[backend] = sim
    a, b = runs["reference"], runs["numba"]
    for pop in ("exc", "inh"):
        for x, y in zip(a.spikes(pop), b.spikes(pop), strict=True):
            np.testing.assert_array_equal(x, y)
    assert a.spikes("exc")[0].size > 100
    np.testing.assert_array_equal(a.weights("ee"), b.weights("ee"))
    fresh = Simulator(net, "reference", seed=2, arithmetic="spinnaker")
    assert not np.array_equal(a.weights("ee"), fresh.weights("ee"))  # STDP did change weights
    np.testing.assert_array_equal(a.state("exc").values["v_mV"], b.state("exc").values["v_mV"])
    assert b.engine.parallel is parallel
    # weights set, then learned from, alike: the partitioned table maps canonical synapse ids to its own order
    for sim in (a, b):
        sim.set_weights("ee", np.linspace(0.0, 0.1, sim.weights("ee").size))
        sim.run(50.0)
    np.testing.assert_array_equal(a.weights("ee"), b.weights("ee"))
    for x, y in zip(a.spikes("exc"), b.spikes("exc"), strict=True):
        np.testing.assert_array_equal(x, y)


def test_source_spikes_off_the_grid_enter_at_the_next_tick_as_on_the_board() -> None:
    """sPyNNaker puts a time t at ceil(floor(t in us) / dt in us): 10.3 ms at dt 1 ms fires at tick 11, where the
    float tick's nearest-tick rule gives 10."""
    net = Network(dt_ms=1.0, populations=(Population("p", 1),), sources=(SpikeSourceArray("s", ([10.3, 20.0],)),),
                  monitors=(SpikeMonitor("s"),))
    got = {}
    for arithmetic in ("float64", "spinnaker"):
        with pytest.warns(RuntimeWarning, match="not multiples of dt"):
            sim = Simulator(net, "reference", arithmetic=arithmetic)
        sim.run(30.0)
        got[arithmetic] = sim.spikes("s")[0].tolist()
    assert got == {"float64": [10.0, 20.0], "spinnaker": [11.0, 20.0]}
