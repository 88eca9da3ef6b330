"""The core's bad inputs: neurosim.network, connectors, plasticity, simulator, inputs, io and fixed_point.

Each :class:`~bad_inputs_kinds.Spec` is one public callable with a VALID baseline call and, per parameter,
the bad values its kind gives; a case is (callable, parameter, bad value) with every other argument at the
baseline. Where a value looks bad but is allowed by design, it is left out and a comment says why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bad_inputs_kinds import (
    CONFIG,
    HUGE,
    INF,
    META,
    NAN,
    RECORD,
    SPIKES,
    Bad,
    Make,
    Scratch,
    Spec,
    bad_paths,
    boolean,
    choice,
    count,
    identifier,
    make_file,
    new_file,
    non_negative,
    open_writer,
    per_neuron,
    positive,
    probability,
    real,
    results_file,
    seed,
    trial,
    unfinished_run,
    write_and_close,
)

from neurosim import fixed_point as fx
from neurosim.connectors import (
    AllToAll,
    FixedNumberPre,
    FixedProbability,
    FixedTotalNumber,
    FromList,
    Normal,
    OneToOne,
    Uniform,
)
from neurosim.inputs import PoissonStream, sorted_events, spike_ticks
from neurosim.io import ensure_parent, read_results, save_simulation
from neurosim.network import (
    LIFParams,
    Network,
    PoissonSource,
    Population,
    Projection,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
    all_spike_monitors,
    delay_steps_from_ms,
)
from neurosim.plasticity import STDP, decay_table
from neurosim.serialize import load_network, save_network
from neurosim.simulator import Simulator

# -- baselines ------------------------------------------------------------------------------------------------

SRC3 = SpikeSourceArray("s", ([1.0], [2.0], [3.0]))


def pops() -> tuple[Population, ...]:
    return Population("a", 3), Population("b", 3)


def project(**kw) -> Network:
    """A network of pops a, b (3 each) and source s, with one projection ``Projection(**kw)``."""
    return Network(populations=pops(), sources=(SRC3,), projections=(Projection(**kw),))


def connect_ab(connector) -> Network:
    return Network(populations=pops(), projections=(Projection("c", "a", "b", connector, weight_nA=0.5),))


def monitor(m) -> Network:
    return Network(populations=pops(), sources=(SRC3,),
                   projections=(Projection("c", "s", "a", OneToOne(), weight_nA=0.5),), monitors=(m,))


def sim_net(**proj) -> Network:
    kw = {"weight_nA": 0.5, "plasticity": STDP(), **proj}
    return Network(dt_ms=0.1, populations=(Population("p", 3),), sources=(SRC3,),
                   projections=(Projection("c", "s", "p", OneToOne(), **kw),),
                   monitors=(SpikeMonitor("p"), StateMonitor("p", (0, 1)), WeightMonitor("c", 1.0)))


def fresh_sim() -> Simulator:
    """A reference-backend simulator that has run 1 ms."""
    sim = Simulator(sim_net(), backend="reference")
    sim.run(1.0)
    return sim


def _set_learning(value) -> None:
    fresh_sim().learning = value


LIF_SHAPES = [[[1.0]], [], ["5"], [1.0, NAN]]  # a list is one value per neuron: [1] is valid, these are not
CORE: list[Spec] = [
    # -- neurosim.network ------------------------------------------------------------------------------
    Spec("network", "LIFParams", LIFParams, {},
         {**{f: per_neuron(positive(*LIF_SHAPES, [1.0, -1.0])) for f in ("tau_m_ms", "cm_nF", "tau_syn_e_ms",
                                                                          "tau_syn_i_ms")},
          "tau_refrac_ms": per_neuron(non_negative(*LIF_SHAPES, [0.0, -1.0])),
          # voltages and currents: within +-1e6 (MAGNITUDE); the reset below the threshold
          **{f: per_neuron(real(*LIF_SHAPES, 1e308, -1e7)) for f in ("v_rest_mV", "i_offset_nA", "v_init_mV")},
          "v_reset_mV": per_neuron(real(*LIF_SHAPES, -40.0, 1e308)),
          "v_thresh_mV": per_neuron(real(*LIF_SHAPES, -70.0, -1e308))}),
    Spec("network", "Population", Population, {"name": "p", "size": 3, "params": LIFParams()},
         {"name": identifier(), "size": count(huge=True) + [2**31],
          "params": ["x", None, {}, 5, LIFParams, Bad(LIFParams(tau_m_ms=(10.0, 20.0)), field="length")]}),
    Spec("network", "SpikeSourceArray", SpikeSourceArray, {"name": "s", "spike_times_ms": [[1.0], [2.0, 3.0]]},
         {"name": identifier(),
          # [[]] (a neuron that never fires) is valid; [] (no neuron) is not
          "spike_times_ms": [[], [1.0, 2.0], np.array([1.0, 2.0]), "12", ["12"], None, 5, object(), [[2.0, 1.0]],
                             [[-1.0]], [[NAN]], [[INF]], [["1"]], [[1.0, None]], [[True]], [[[1.0]]], [[1.0, [2.0]]]]}),
    Spec("network", "SpikeSourceArray.empty", SpikeSourceArray.empty, {"name": "s", "size": 3},
         {"name": identifier(), "size": count(huge=True)}),
    Spec("network", "PoissonSource (in a Network)",
         lambda **kw: Network(populations=(Population("p", 1),), sources=(PoissonSource(**kw),)),
         {"name": "q", "size": 3, "rate_hz": 5.0, "start_ms": 0.0, "stop_ms": INF},
         {"name": identifier(), "size": count(huge=True),
          "rate_hz": non_negative(20000.0, 1e308),  # <= 1 / dt = 10 kHz
          "start_ms": non_negative(),
          "stop_ms": ["5", None, object(), [1], True, NAN, -INF, -1.0]}),  # +inf: never stops (the default)
    Spec("network", "Projection (in a Network)", lambda **kw: project(**kw),
         {"name": "c", "pre": "s", "post": "a", "connector": OneToOne(), "weight_nA": 0.5, "delay_steps": 1,
          "receptor": "excitatory", "plasticity": None, "delay_ms": None},
         {"name": [*identifier(), Bad("a", note="already a population's name")],
          "pre": [*identifier(), Bad("zz", note="no such node")],
          "post": [*identifier(), Bad("zz", note="no such node"), Bad("s", note="a source has no synapses")],
          "connector": ["x", None, 5, OneToOne, {}, Bad(FromList([0, 5], [0, 1]), field="FromList.pre")],
          "weight_nA": [*real(-1.0, [[0.5]], np.ones(2), [0.5, NAN, 0.5], ["1", "2", "3"]),
                        Bad(Uniform(-2.0, -1.0), note="negative draws"), Bad(Normal(0.0, 1.0), note="negative draws")],
          # huge delays are a valid description: the Simulator refuses what it cannot allocate (below)
          "delay_steps": [*count(whole_floats=True), [[1]], np.array([1, 2]), 2.5, INF],
          "delay_ms": ["5", object(), [[1.0]], True, NAN, INF, -INF, -1.0, 0.0, 0.04, np.ones(2),
                       Bad(Normal(-5.0, 1.0), note="negative draws")],
          "receptor": choice("excitatory", "inhibitory"),
          "plasticity": ["stdp", 5, STDP, {}, Bad(STDP(w_max_nA=0.1), field="weight_nA", note="0.5 > w_max")]},
         {"weight_nA": "weight_nA", "delay_steps": "delay_steps", "delay_ms": "delay_ms"}),
    Spec("network", "SpikeMonitor (in a Network)", lambda **kw: monitor(SpikeMonitor(**kw)),
         {"target": "a"}, {"target": ["zz", "", None, 5, "2x"]}),
    Spec("network", "StateMonitor (in a Network)", lambda **kw: monitor(StateMonitor(**kw)),
         {"population": "a", "ids": (0, 1), "variables": ("v_mV",)},
         {"population": ["zz", Bad("s", note="a source"), None, 5],
          "ids": [(1.7,), ("1",), (-1,), (), 5, "0", None, (5,), (True,), np.array([[0]]), (2**63,)],
          # () records no variable: not documented as invalid, left out
          "variables": ["v_mV", ("v",), (5,), None, 5]}),
    Spec("network", "WeightMonitor (in a Network)", lambda **kw: monitor(WeightMonitor(**kw)),
         {"projection": "c", "every_ms": 1.0},
         {"projection": ["zz", None, 5], "every_ms": positive()}),
    Spec("network", "Network", Network, {"dt_ms": 0.1, "populations": pops(), "sources": (SRC3,), "projections": (),
                                         "monitors": ()},
         {"dt_ms": positive(),  # no upper bound is documented: a coarse dt is a choice
          "populations": [None, 5, "p", ("p",), (SpikeSourceArray("q", ([1.0],)),),
                          Bad((Population("a", 1), Population("a", 2)), field="name", note="one name twice")],
          "sources": [None, 5, ("s",), (Population("q", 1),), Bad((PoissonSource("q", 1, 20000.0),), field="rate_hz")],
          "projections": [None, 5, ("c",), (OneToOne(),)],
          "monitors": [None, 5, ("p",), (Population("q", 1),)]}),
    Spec("network", "Network.node", lambda name: connect_ab(OneToOne()).node(name), {"name": "a"},
         {"name": ["zz", None, 5]}),
    Spec("network", "Network.population", lambda name: monitor(SpikeMonitor("a")).population(name),
         {"name": "a"}, {"name": ["zz", None, 5, Bad("s", note="a source")]}, {"name": "population"}),
    Spec("network", "Network.connections", lambda name: connect_ab(OneToOne()).connections(name),
         {"name": "c"}, {"name": ["zz", None, 5]}),
    # a SpikeMonitor checks nothing itself (its Network does): names such as "2x" or 5 are the Network's to refuse
    Spec("network", "all_spike_monitors", all_spike_monitors, {"names": ["a", "b"]}, {"names": [None, 5]}),
    Spec("network", "delay_steps_from_ms", delay_steps_from_ms,
         {"field_name": "d", "delay_ms": np.array([1.0]), "dt_ms": 0.1},
         {"delay_ms": [np.array([NAN]), np.array([-1.0]), "5", None, np.array([0.0])], "dt_ms": positive()},
         {"delay_ms": "d"}),

    # -- neurosim.connectors (each in a network of two populations of 3) -------------------------------------
    Spec("connectors", "AllToAll", lambda **kw: connect_ab(AllToAll(**kw)),
         {"allow_self_connections": True}, {"allow_self_connections": boolean()}),
    Spec("connectors", "FixedProbability", lambda **kw: connect_ab(FixedProbability(**kw)),
         {"p": 0.5, "allow_self_connections": True, "seed": 0},
         {"p": probability(), "allow_self_connections": boolean(), "seed": seed()}),
    Spec("connectors", "FixedTotalNumber", lambda **kw: connect_ab(FixedTotalNumber(**kw)),
         {"n": 4, "allow_self_connections": True, "with_replacement": False, "seed": 0},
         {"n": [*count(minimum=0, huge=True), Bad(10, note="9 distinct pairs")],
          "allow_self_connections": boolean(), "with_replacement": boolean(), "seed": seed()}),
    Spec("connectors", "FixedNumberPre", lambda **kw: connect_ab(FixedNumberPre(**kw)),
         {"n": 2, "allow_self_connections": True, "with_replacement": False, "seed": 0},
         {"n": [*count(minimum=0, huge=True), Bad(4, note="3 pre neurons, without replacement")],
          "allow_self_connections": boolean(), "with_replacement": boolean(), "seed": seed()}),
    Spec("connectors", "FromList", lambda **kw: connect_ab(FromList(**kw)),
         {"pre": [0, 1], "post": [1, 2], "weights_nA": None, "delays_steps": None},
         {"pre": [[-1, 0], [0.5, 1.0], [True, False], np.array([2**64 - 1, 0], np.uint64), [[0, 1]], "01", None,
                  [0, 5], Bad([0], field="pre/post"), ["0", "1"], [NAN, 0], object()],
          "post": [[-1, 0], [0.5, 1.0], [True, False], [[0, 1]], None, [0, 3], Bad([0], field="pre/post"), ["0", "1"]],
          "weights_nA": [[-1.0, 0.5], [NAN, 0.5], [INF, 0.5], [0.5], "ab", [[0.5, 0.5]], ["1", "2"], [True, True]],
          "delays_steps": [[0, 1], [1.5, 1], [NAN, 1], [1], ["1", "1"], [True, True], [[1, 1]]]},
         {"pre": "pre", "post": "post", "weights_nA": "weights_nA", "delays_steps": "delays_steps"}),
    Spec("connectors", "Uniform", Uniform, {"low": 0.1, "high": 0.5, "seed": 0},
         {"low": real(), "high": real(Bad(0.0, note="< low")), "seed": seed()}),
    Spec("connectors", "Normal", Normal, {"mean": 0.5, "sd": 0.1, "seed": 0, "low": -INF, "high": INF},
         # low / high: +-inf mean no bound (the defaults)
         {"mean": real(), "sd": non_negative(), "seed": seed(),
          "low": ["5", None, object(), [1], True, NAN, INF, Bad(5.0, note="holds 0% of the mass")],
          "high": ["5", None, object(), [1], True, NAN, -INF, Bad(-5.0, note="holds 0% of the mass")]}),
    # connect() itself (public: the rule a Network calls): sizes are counts. Not OneToOne's: one bad size of two
    # always makes them unequal, so its cases could not tell the bad value from the mismatch.
    *[Spec("connectors", f"{cls.__name__}.connect", lambda cls=cls, args=args, **kw: cls(*args).connect(**kw),
           {"n_pre": 3, "n_post": 3, "same": False},
           {"n_pre": ["3", None, 1.5, -1, True, *HUGE], "n_post": ["3", None, 1.5, -1, True, *HUGE],
            "same": ["False", 0.5]}, {"n_pre": "pre", "n_post": "post"})
      for cls, args in ((AllToAll, ()), (FixedProbability, (0.5,)))],

    # -- neurosim.plasticity ---------------------------------------------------------------------------------
    Spec("plasticity", "STDP", STDP, {},
         # no upper bound is documented for the amplitudes or w_max (weights are clipped to [w_min, w_max])
         {"tau_plus_ms": positive(), "tau_minus_ms": positive(), "A_plus": non_negative(),
          "A_minus": non_negative(), "w_min_nA": non_negative(Bad(2.0, note="> w_max")),
          "w_max_nA": non_negative(Bad(-0.5, note="< w_min")), "weight_dependence": choice("additive", "mult")}),
    Spec("plasticity", "decay_table", decay_table, {"tau_ms": 20.0, "dt_ms": 0.1},
         {"tau_ms": positive(1e308, 1e6), "dt_ms": positive()}),
    Spec("plasticity", "STDP.pair_change", lambda **kw: STDP().pair_change(**kw),
         {"w": 0.5, "dt_post_minus_pre_ms": 1.0},
         # w outside [w_min, w_max] = [0, 1]; dt = +-inf is a pair infinitely far apart (no change): allowed
         {"w": real(-1.0, 2.0), "dt_post_minus_pre_ms": ["5", None, object(), [1], True, NAN]}),

    # -- neurosim.simulator -----------------------------------------------------------------------------------
    Spec("simulator", "Simulator", Simulator,
         {"network": sim_net(), "backend": "reference", "seed": 0, "batch_size": 1, "dtype": None, "device": None,
          "arithmetic": "float64"},
         {"network": [None, "net", 5, Population("p", 3), {}], "backend": choice("reference"),
          "seed": seed(), "batch_size": [*count(), Bad(4, note="batches need torch")],
          "dtype": ["float16", 5, Bad("float32", note="reference computes in float64"), ""],
          "device": [Bad("cuda", note="reference runs on the CPU"), 5, "gpu"],
          "arithmetic": ["float32", None, 5, "SPINNAKER"]}),
    Spec("simulator", "Simulator (network it cannot run)",
         lambda **kw: Simulator(sim_net(**kw), backend="reference"),
         {"delay_steps": 1, "plasticity": STDP()},
         {"delay_steps": [10**10, 10**12, 2**62],
          "plasticity": [Bad(STDP(tau_plus_ms=1e6), field="tau_plus_ms"),
                         Bad(STDP(tau_minus_ms=1e9), field="tau_minus_ms")]}),
    Spec("simulator", "Simulator.run", lambda **kw: fresh_sim().run(**kw),
         {"duration_ms": 1.0, "progress": False},
         # huge durations are left out: a valid request that takes as long as asked
         {"duration_ms": non_negative(0.05, 1.25), "progress": ["False", 0.5]}),
    Spec("simulator", "Simulator.draw_inputs", lambda **kw: fresh_sim().draw_inputs(**kw),
         {"duration_ms": 1.0}, {"duration_ms": non_negative(0.05)}),
    Spec("simulator", "Simulator.add_observer", lambda **kw: fresh_sim().add_observer(**kw),
         {"callback": lambda s: None, "every_steps": 1}, {"callback": ["x", None, 5], "every_steps": count()}),
    Spec("simulator", "Simulator.add_spikes", lambda **kw: fresh_sim().add_spikes(**kw),
         {"source": "s", "times_ms": [5.0], "ids": [0], "trial": None},
         {"source": [Bad("p", note="a population"), "zz", None, 5],
          "times_ms": [[0.5], [NAN], [INF], [-1.0], ["5"], [[5.0]], None, 5.0, [1e308], Bad([5.0, 6.0], field="ids")],
          "ids": [[-1], [3], [0.5], ["0"], [True], None, [[0]], 0, [2**63], [np.uint64(2**64 - 1)], [0, 1]],
          "trial": trial()[:-2]}),  # None: every trial
    Spec("simulator", "Simulator.set_spike_times", lambda **kw: fresh_sim().set_spike_times(**kw),
         {"source": "s", "spike_times_ms": [[5.0], [], [6.0]], "trial": None},
         {"source": [Bad("p", note="a population"), "zz", None, 5],
          # unsorted times are allowed here (they are sorted, as add_spikes sorts)
          "spike_times_ms": [[[5.0]], [[0.5], [], []], [[NAN], [], []], [["5"], [], []], None, 5, "abc",
                             [[[5.0]], [], []], [[-1.0], [], []], [[INF], [], []]],
          "trial": trial()[:-2]}),
    Spec("simulator", "Simulator.set_offset", lambda **kw: fresh_sim().set_offset(**kw),
         {"population": "p", "i_offset_nA": 0.1},
         {"population": [Bad("s", note="a source"), "zz", None, 5],
          # +-1e6 nA, as LIFParams.i_offset_nA
          "i_offset_nA": real(1e308, -1e7, [0.1, 0.2], [[0.1, 0.1, 0.1]])}),
    Spec("simulator", "Simulator.set_weights", lambda **kw: fresh_sim().set_weights(**kw),
         {"projection": "c", "weights_nA": 0.5, "trial": None},
         {"projection": ["zz", None, 5],
          "weights_nA": real(-1.0, Bad(1.5, note="> w_max of its STDP"), [0.5, 0.5], [[0.5, 0.5, 0.5]]),
          "trial": trial()[:-2]}),
    Spec("simulator", "Simulator.learning =", _set_learning, {"value": True},
         {"value": boolean()}, {"value": "learning"}),
    Spec("simulator", "Simulator.spikes", lambda **kw: fresh_sim().spikes(**kw),
         {"name": "p", "trial": 0, "since_ms": 0.0},
         {"name": ["zz", Bad("s", note="not recorded"), None], "trial": trial(), "since_ms": non_negative()}),
    Spec("simulator", "Simulator.state", lambda **kw: fresh_sim().state(**kw),
         {"population": "p", "trial": 0, "since_ms": 0.0},
         {"population": ["zz", Bad("s", note="not recorded"), None], "trial": trial(), "since_ms": non_negative()}),
    Spec("simulator", "Simulator.weights", lambda **kw: fresh_sim().weights(**kw),
         {"projection": "c", "trial": 0}, {"projection": ["zz", None, 5], "trial": trial()}),
    Spec("simulator", "Simulator.weight_history", lambda **kw: fresh_sim().weight_history(**kw),
         {"projection": "c", "trial": 0}, {"projection": ["zz", None, 5], "trial": trial()}),
    Spec("simulator", "Simulator.discard_recordings", lambda **kw: fresh_sim().discard_recordings(**kw),
         {"before_ms": 0.5}, {"before_ms": real()}),  # any time: before 0 discards nothing

    # -- neurosim.inputs ----------------------------------------------------------------------------------------
    Spec("inputs", "spike_ticks", spike_ticks,
         {"source": "s", "times_ms": np.array([1.0]), "ids": np.array([0]), "dt_ms": 0.1},
         # times before 0 are the caller's to refuse (Simulator.add_spikes: >= the current time)
         {"times_ms": [np.array([NAN]), "5", None, np.array([INF])],
          "ids": [np.array([0, 1]), None, "0"], "dt_ms": positive()}, {"times_ms": "times", "dt_ms": "dt"}),
    Spec("inputs", "sorted_events", sorted_events, {"ticks": [np.array([1, 2])], "nodes": [np.array([0, 1])]},
         {"ticks": [[np.array([1])], None, 5, [np.array([1.5, 2.0])]], "nodes": [[np.array([0])], None, 5]}),
    Spec("inputs", "PoissonStream (take)",
         lambda **kw: PoissonStream(**kw).take(0, 10),
         {"rng": Make("default_rng(0)", lambda: np.random.default_rng(0)), "src": PoissonSource("q", 2, 5.0),
          "dt_ms": 0.1},
         {"rng": [None, 5, "x"], "src": [None, "q", Population("p", 2)], "dt_ms": positive()}),

    # -- neurosim.io and neurosim.serialize (files) ----------------------------------------------------------
    Spec("io", "ResultsWriter", write_and_close,
         {"path": new_file(), "config": {"x": 1}, "meta": None, "resume": False},
         {"path": bad_paths("new"), "config": CONFIG, "meta": META, "resume": ["False", 0.5]}),
    Spec("io", "ResultsWriter (resume an unfinished run)", write_and_close,
         {"path": Make("an unfinished run", unfinished_run), "config": {}, "resume": True},
         {"resume": ["True", 0.5, 1, None, np.float64(1.0)]}),
    Spec("io", "ResultsWriter.write_trial", lambda **kw: open_writer().write_trial(**kw),
         {"index": 0, "spikes": SPIKES, "traces": None, "weights": None, "metrics": None, "attrs": None},
         {"index": [-1, 10**6, 1.5, "0", True, None, 2**63, NAN], **RECORD}),
    Spec("io", "ResultsWriter.write_main", lambda **kw: open_writer().write_main(**kw),
         {"spikes": SPIKES, "traces": None, "weights": None, "metrics": None, "attrs": None, "network": None},
         {"network": [5, "x", Population("p", 3), {}], "attrs": RECORD["attrs"] + [Bad({"format": "x"}, field="key")],
          "metrics": RECORD["metrics"]}),
    Spec("io", "save_simulation", save_simulation,
         {"path": new_file(), "sim": Make("a simulator that ran 1 ms", fresh_sim), "config": None, "metrics": None,
          "meta": None, "overwrite": False},
         {"path": bad_paths("new"), "sim": [None, 5, sim_net()], "config": CONFIG[1:],
          "metrics": RECORD["metrics"],
          "meta": [5, "x", {"seed": 5}, {"backend": "torch"}, {"x": object()}, {"2x": 1}],
          "overwrite": boolean()}),
    Spec("io", "read_results", read_results, {"path": Make("a results file", results_file)},
         {"path": bad_paths("read")}),
    Spec("io", "ensure_parent", ensure_parent, {"path": new_file()},
         {"path": [Bad(Make("FILE/x.h5", lambda: make_file("file") / "x.h5"), path=True),
                   Bad(Make("/proc/x/y.h5", lambda: Path("/proc/x/y.h5")), path=True), Bad(None, field="path"),
                   Bad(5, field="path")]}),
    Spec("io", "save_network", save_network, {"path": new_file("net.h5"), "network": sim_net()},
         # a network file is replaced when it exists (no overwrite protection is documented): only unwritable paths
         {"path": bad_paths("write"), "network": [5, None, Population("p", 3), "x"]}),
    Spec("io", "load_network", load_network,
         {"path": Make("a saved network", lambda: save_network(Scratch.new() / "net.h5", sim_net()))},
         {"path": bad_paths("read")[:-2]}),  # not the unfinished runs: results only

    # -- neurosim.fixed_point: raw s16.15 / u0.32 integer functions ------------------------------------------
    # accepted ranges: s16.15 values in [-65536, 65536) as floats, raw bits as Python/numpy integers
    Spec("fixed_point", "s1615", fx.s1615, {"value": 1.5}, {"value": real(1e308, 70000.0)}),
    Spec("fixed_point", "s1615_array", fx.s1615_array, {"values": np.array([1.5])},
         {"values": [np.array([NAN]), np.array([INF]), ["5"], None, np.array([1e308])]}),
    Spec("fixed_point", "mul", fx.mul, {"a": 1 << 15, "b": 1 << 15}, {"a": ["5", None, 1.5, NAN, 2**63],
                                                                      "b": ["5", None, 1.5, NAN, 2**63]}),
    Spec("fixed_point", "decay", fx.decay, {"x": 1 << 15, "d": 1 << 31}, {"x": ["5", None, 1.5, 2**63],
                                                                         "d": ["5", None, -1, 2**63]}),
    Spec("fixed_point", "kdivk", fx.kdivk, {"a": 1 << 15, "b": 1 << 15}, {"a": ["5", None, NAN, -1],
                                                                          "b": [0, "5", None, NAN, -1]}),
    Spec("fixed_point", "expk", fx.expk, {"n": -(1 << 15)}, {"n": ["5", None, 1.5, NAN]}),
    Spec("fixed_point", "expulr", fx.expulr, {"n": -(1 << 15)}, {"n": ["5", None, 1.5, Bad(1 << 15, note="n <= 0")]}),
    Spec("fixed_point", "lif_constants", fx.lif_constants,
         {"tau_m": 20 << 15, "cm": 1 << 15, "tau_refrac": 2 << 15, "dt": 1 << 14},
         {"tau_m": [0, -1, None, 1.5], "cm": [0, -1, None], "tau_refrac": [-1, None], "dt": [0, -1, None]}),
    Spec("fixed_point", "synapse_constants", fx.synapse_constants, {"tau": 5 << 15, "dt": 1 << 14},
         {"tau": [0, -1, None, "5"], "dt": [0, -1, None]}),
    Spec("fixed_point", "ring_buffer_shift", fx.ring_buffer_shift, {"max_weight": 3.0},
         {"max_weight": ["5", None, NAN, INF]}),  # any finite weight has a shift; <= 0: none
    Spec("fixed_point", "stdp_lut", fx.stdp_lut, {"tau_ms": 20.0, "dt_ms": 1.0},
         {"tau_ms": positive(), "dt_ms": positive()}),
]
