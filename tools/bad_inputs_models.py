"""The memory models' and neurosim.pynn's bad inputs (the table of tools/bad_input_tally.py, continued).

Every registered memory is built through :func:`neurosim.models.registry.create` with small items (20 units,
4 active) and given bad values for its constructor's arguments, its options and the arguments of store,
recall, recognize, forget and their batched forms. The spiking memories (ca3, ca3-auto) run on the
reference backend. PyNN scripts set up, build and run a three-cell network, each with one bad value.
"""

from __future__ import annotations

import numpy as np
from bad_inputs_kinds import (
    HUGE,
    INF,
    NAN,
    Bad,
    Spec,
    batches,
    boolean,
    choice,
    count,
    non_negative,
    patterns,
    positive,
    probability,
    real,
    seed,
)

import neurosim.pynn as pynn
from neurosim.models.ca3_auto import CA3AutoParams
from neurosim.models.registry import create, entry, names
from neurosim.models.sparsey import CSAParams
from neurosim.network import StateMonitor
from neurosim.plasticity import STDP

N, SPARSITY = 20, 0.2
ROW = np.zeros(N, bool)
ROW[:4] = True            # the item stored (4 active units)
OTHER = np.roll(ROW, 8)   # an item never stored
ONE_HOT = np.eye(N, dtype=bool)[0]


def backend_of(name: str) -> str:
    return "reference" if name.startswith("ca3") else "numba"


def memory(name: str, stored: bool = False):
    m = create(name, n_units=N, sparsity=SPARSITY, backend=backend_of(name))
    if stored:
        m.store(ROW, 0 if entry(name).keys else None)
    return m


def _create(name: str):
    return lambda **kw: create(name, **{"n_units": N, "sparsity": SPARSITY, "backend": backend_of(name), **kw})


def _method(name: str, method: str, stored: bool = False):
    return lambda **kw: getattr(memory(name, stored), method)(**kw)


def model_specs(name: str) -> list[Spec]:
    """create(name, ...) and the memory contract's methods of one registered memory."""
    keyed = entry(name).keys > 0
    engines = entry(name).engines
    key, bad_keys = (0, [None, -1, 50, 1.5, "0", True, np.uint64(2**64 - 1)]) if keyed else (None, [0, "a"])
    not_engine = [Bad("reference", note="not an engine of this model")] if "reference" not in engines else []
    specs = [
        Spec("models", f"create({name!r})", _create(name),
             {"device": None, "dtype": None, "seed": 0},
             {"n_units": count(minimum=2, huge=True),
              "sparsity": probability(0.0, Bad(0.01, note="no active unit of 20")),
              "backend": [*choice(engines[0]), *not_engine],
              "device": [Bad("cuda", note="a CPU engine"), 5, "gpu"],
              "dtype": [Bad("float32", note="a float64 engine"), "float16", 5], "seed": seed()}),
        Spec("models", f"{name}.store", _method(name, "store"), {"item": ROW, "key": key},
             {"item": [*patterns(N, ROW), *([Bad(ONE_HOT, note="< s + 1 active units")] if name == "dendrites"
                                            else [])],
              "key": bad_keys}),
        # a keyed memory recalls from a key too: an integer cue is a key (5 is a valid one)
        Spec("models", f"{name}.recall", _method(name, "recall", stored=True), {"cue": ROW},
             {"cue": [v for v in patterns(N, ROW) if not (keyed and type(v) is int)]
              + ([Bad(-1, field="key"), Bad(50, field="key")] if keyed else [0])}),
        Spec("models", f"{name}.recognize", _method(name, "recognize", stored=True), {"item": ROW},
             {"item": [*patterns(N, ROW), *([Bad(ONE_HOT, note="< 2 active units")] if name == "ca3-auto" else [])]}),
        Spec("models", f"{name}.store_many", _method(name, "store_many"),
             {"items": ROW[None], "keys": [0] if keyed else None},
             {"items": batches(N, ROW), "keys": [None, [0, 1], [-1], ["0"]] if keyed else [[0], [0, 1]]}),
        Spec("models", f"{name}.recall_many", _method(name, "recall_many", stored=True), {"cues": ROW[None]},
             {"cues": batches(N, ROW)}),
        Spec("models", f"{name}.recognize_many", _method(name, "recognize_many", stored=True), {"items": ROW[None]},
             {"items": batches(N, ROW)}),
    ]
    methods = memory(name).forget_methods  # the instance's: hopfield-marginalist forgets by unlearning only
    if methods:  # ca3-auto has no forgetting mechanism: NotImplementedError by design (the memory contract)
        specs.append(Spec("models", f"{name}.forget", _method(name, "forget", stored=True),
                          {"item": ROW, "key": key, "method": methods[0]},
                          {"item": [*patterns(N, ROW), Bad(OTHER, note="never stored")],
                           "key": [Bad(1, field="item", note="stored under 0"), *bad_keys[1:]] if keyed else [0],
                           "method": ["bogus", "", 5, [methods[0]], methods[0].upper()]}))
    return specs


OPTIONS: list[Spec] = [
    Spec("models", "create('hopfield', **options)", _create("hopfield"), {},
         {"activity": real(0.0, 1.0, -0.1), "threshold": ["x", None, NAN, INF, True, [1]],
          "update": choice("async", "sync"), "max_sweeps": count(), "unlearning_rate": real(0.0, 10.5, -1.0),
          "unlearning_steps": count(), "learning": choice("hebbian", "clipped"), "bound": real(0.0, 101.0),
          "epsilon": real(0.0, 101.0), "q": real(0.0, 1.5)}),
    Spec("models", "create('dam-poly', **options)", _create("dam-poly"), {},
         {"interaction": choice("polynomial", "exponential"),
          "degree": [*count(minimum=2), Bad(10**6, note="F = x^degree overflows")],
          "beta": positive(), "rectified": boolean(), "activity": real(0.0, 1.0), "update": choice("async"),
          "max_sweeps": count()}),
    Spec("models", "create('sparsey', **options)", _create("sparsey"), {},
         {"q": count(huge=True), "k": count(huge=True), "params": ["x", 5, {}, CSAParams],
          "recall_threshold": probability()}),
    Spec("models", "create('dendrites', **options)", _create("dendrites"), {},
         {"s": [*count(), Bad(100, note="> n_units")], "theta": [*count(), Bad(50, note="> s")],
          "max_segments": [v for v in count() if v is not None],  # None: no limit
          "steps": count(), "patterns_per_segment": count()}),
    Spec("models", "create('ca3', **options)", _create("ca3"), {},
         # op_ms has no documented upper bound (a long operation is slow, not wrong)
         {"n_cues": count(huge=True), "plastic_recall": boolean(), "reads": choice("copy", "live"),
          "op_ms": real(1.5, 10.5, 0.0, -1.0), "learning_rule": ["x", None, 5, STDP],
          "monitors": [5, ("x",), Bad((StateMonitor("zz", (0,)),), field="zz"), "pc"]}),
    Spec("models", "create('ca3-auto', **options)", _create("ca3-auto"), {}, {"params": ["x", 5, {}, CA3AutoParams]}),
    Spec("models", "sparsey.CSAParams", CSAParams, {},
         {"g_low": real(-0.1, 1.0), "gamma": positive(), "chi": non_negative(), "sigmoid_center": real(),
          "sigmoid_width": positive(), **{f: positive() for f in ("lambda_u", "lambda_h", "lambda_d")},
          "min_active": count(), "freeze_fraction": ["5", object(), True, NAN, 0.0, 1.5, -1.0],  # None: never
          "decay": probability()}),
    Spec("models", "ca3_auto.CA3AutoParams", CA3AutoParams, {},
         {"v_thresh_mV": real(-60.0, -70.0), "w_dg_per_cell_nA": positive(), "w_inh_nA": non_negative(),
          "rule": ["x", None, STDP], "present_ms": count(),
          "operation_ms": [*count(), Bad(5, note="<= present_ms")], "recall_window_ms": count()}),
]


# -- neurosim.pynn --------------------------------------------------------------------------------------------

CELL = {"cm": 0.25, "tau_m": 10.0, "tau_syn_E": 2.0, "tau_syn_I": 4.0, "tau_refrac": 2.0, "v_rest": -65.0,
        "v_reset": -65.0, "v_thresh": -55.0, "i_offset": 0.0}


def pynn_run(cell=None, spike_times=(1.0,), connector=None, synapse=None, receptor_type="excitatory", size=3,
             simtime=2.0, record="spikes", **setup) -> None:
    """setup(), a spike source onto ``size`` IF_curr_exp cells, run(simtime), end()."""
    pynn.setup(**{"timestep": 0.1, "backend": "reference", **setup})
    try:
        src = pynn.Population(3, pynn.SpikeSourceArray(spike_times=spike_times), label="src")
        cells = pynn.Population(size, cell or pynn.IF_curr_exp(**CELL), label="cells")
        pynn.Projection(src, cells, connector or pynn.AllToAllConnector(),
                        synapse or pynn.StaticSynapse(weight=0.5, delay=1.0), receptor_type=receptor_type)
        cells.record(record)
        pynn.run(simtime)
    finally:
        pynn.end()


PYNN: list[Spec] = [
    Spec("pynn", "setup", pynn_run,
         {"timestep": 0.1, "min_delay": "auto", "backend": "reference", "seed": 0, "dialect": "spinnaker",
          "arithmetic": "float64"},
         {"timestep": positive(), "min_delay": ["x", -1.0, NAN, None], "backend": choice("reference"),
          "device": [Bad("cuda", note="reference runs on the CPU"), 5], "seed": seed(),
          "dialect": choice("spinnaker", "pynn"), "arithmetic": ["float32", None, 5],
          "spike_precision": ["off_grid", 5]}),
    Spec("pynn", "IF_curr_exp (run)", lambda **kw: pynn_run(cell=pynn.IF_curr_exp(**kw)), dict(CELL),
         {"cm": positive(), "tau_m": positive(), "tau_syn_E": positive(), "tau_syn_I": positive(),
          "tau_refrac": non_negative(), "v_rest": real(1e308), "v_reset": real(-40.0), "v_thresh": real(-70.0),
          "i_offset": real(1e308)}),
    Spec("pynn", "Population (run)", pynn_run, {"size": 3}, {"size": [*count(), *HUGE]}),
    Spec("pynn", "SpikeSourceArray (run)", pynn_run, {"spike_times": [1.0]},
         {"spike_times": [Bad([2.0, 1.0], note="unsorted"), [-1.0], [NAN], [INF], "abc", None, ["1"], 5]}),
    # the spinnaker dialect takes weight magnitudes (as sPyNNaker does): a negative weight is not an error there;
    # None is PyNN's default (weight 0, delay min_delay)
    Spec("pynn", "StaticSynapse (run)", lambda **kw: pynn_run(synapse=pynn.StaticSynapse(**kw)),
         {"weight": 0.5, "delay": 1.0},
         {"weight": [v for v in real() if v is not None],
          "delay": [v for v in positive(Bad(0.01, note="< dt / 2: no whole step")) if v is not None]}),
    Spec("pynn", "FixedProbabilityConnector (run)",
         lambda **kw: pynn_run(connector=pynn.FixedProbabilityConnector(**kw)), {"p_connect": 0.5},
         {"p_connect": probability()}),
    # receptor_type None is PyNN's default receptor; record(None) stops recording
    Spec("pynn", "Projection (run)", pynn_run, {"receptor_type": "excitatory"},
         {"receptor_type": [v for v in choice("excitatory", "inhibitory") if v is not None]}),
    Spec("pynn", "Population.record (run)", pynn_run, {"record": "spikes"}, {"record": ["bogus", 5, ["v", 5]]}),
    Spec("pynn", "run", pynn_run, {"simtime": 2.0}, {"simtime": non_negative()}),
]

MODELS: list[Spec] = [s for name in names() for s in model_specs(name)] + OPTIONS + PYNN
