"""Bad input to the Simulator's lookups and inputs, and to neurosim.io / neurosim.serialize paths: each is refused
in the project's form ("FIELD = VALUE is not allowed: ALLOWED"), or, for a file, with its path and what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from neurosim import (
    STDP,
    Network,
    OneToOne,
    Population,
    Projection,
    Simulator,
    SpikeMonitor,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)
from neurosim.io import ResultsWriter, ensure_parent, read_results, save_simulation
from neurosim.serialize import load_network, save_network


def _net() -> Network:
    return Network(dt_ms=0.1, populations=(Population("p", 3), Population("q", 3)),
                   sources=(SpikeSourceArray("s", ([1.0], [2.0], [3.0])),),
                   projections=(Projection("c", "s", "p", OneToOne(), weight_nA=0.5, plasticity=STDP()),
                                Projection("d", "s", "q", OneToOne(), weight_nA=0.5)),
                   monitors=(SpikeMonitor("p"), StateMonitor("p", (0, 1)), WeightMonitor("c", 1.0)))


@pytest.fixture(scope="module")
def sim() -> Simulator:
    s = Simulator(_net(), backend="reference")
    s.run(1.0)
    return s


NAMES = [  # (method, args, message)
    *[(m, (v, [5.0], [0]) if m == "add_spikes" else (v, [[5.0], [], []]),
       rf"Simulator.{m} source = {v!r} is not allowed: one of \['s'\] \(the SpikeSourceArrays{k}\)")
      for m in ("add_spikes", "set_spike_times")
      for v, k in (("zz", ""), (None, ""), (5, ""), ("p", "; 'p' is a Population"))],
    *[("set_offset", (v, 0.1), rf"Simulator.set_offset population = {v!r} is not allowed: one of \['p', 'q'\]")
      for v in ("zz", None, 5, "s")],
    *[(m, (v, 0.5) if m == "set_weights" else (v,),
       rf"Simulator.{m} projection = {v!r} is not allowed: one of \['c', 'd'\]")
      for m in ("set_weights", "weights") for v in ("zz", None, 5)],
    ("spikes", ("zz",), r"Simulator.spikes name = 'zz' is not allowed: one of \['p'\] \(the recorded"),
    ("spikes", (None,), r"Simulator.spikes name = None is not allowed: one of \['p'\]"),
    ("spikes", ("s",), r"name = 's' is not allowed: .*spikes of 's' were not recorded: add SpikeMonitor\('s'\)"),
    ("state", ("zz",), r"Simulator.state population = 'zz' is not allowed: one of \['p'\]"),
    ("state", (None,), r"Simulator.state population = None is not allowed: one of \['p'\]"),
    ("state", ("q",), r"population = 'q' is not allowed: .*add StateMonitor\('q', ids\) to the network"),
    ("state", ("s",), r"population = 's' is not allowed: .*'s' is a spike source: it has no state"),
    ("weight_history", ("zz",), r"Simulator.weight_history projection = 'zz' is not allowed: one of \['c'\]"),
    ("weight_history", (5,), r"Simulator.weight_history projection = 5 is not allowed: one of \['c'\]"),
    ("weight_history", ("d",), r"projection = 'd' is not allowed: .*add WeightMonitor\('d', every_ms\)"),
]


@pytest.mark.parametrize(("method", "args", "message"), NAMES)
def test_simulator_names_a_bad_name_and_the_allowed_ones(sim: Simulator, method: str, args: tuple,
                                                         message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(sim, method)(*args)


VALUES = [  # (method, kwargs, message): all refused before anything changes
    ("run", {"duration_ms": 1.0, "progress": "False"}, r"progress = 'False' is not allowed: True or False"),
    ("run", {"duration_ms": 1.0, "progress": 0.5}, r"progress = 0.5 is not allowed"),
    *[("set_spike_times", {"source": "s", "spike_times_ms": v}, rf"spike_times_ms = {v!r} is not allowed: one sequence")
      for v in (None, 5, "abc")],
    ("set_spike_times", {"source": "s", "spike_times_ms": [[[5.0]], [], []]},
     r"spike_times_ms\[0\] = \[\[5.0\]\] is not allowed: a flat sequence"),
    ("set_spike_times", {"source": "s", "spike_times_ms": [[5.0], [[6.0], [7.0, 8.0]], []]},
     r"spike_times_ms\[1\] = .* is not allowed: a flat sequence"),
    *[("set_offset", {"population": "p", "i_offset_nA": v},
       rf"i_offset_nA = {re.escape(repr(v))} is not allowed: within \+-1e\+06 nA")
      for v in (1e308, -1e7)],
    ("set_offset", {"population": "p", "i_offset_nA": [0.0, 2e6, 0.0]}, r"i_offset_nA = 2000000.0 is not allowed"),
    ("set_offset", {"population": "p", "i_offset_nA": [[0.1, 0.1, 0.1]]}, r"i_offset_nA = \[\[0.1, 0.1, 0.1\]\] is no"),
]


@pytest.mark.parametrize(("method", "kwargs", "message"), VALUES)
def test_simulator_refuses_bad_values(sim: Simulator, method: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(sim, method)(**kwargs)


def test_simulator_valid_inputs_still_work() -> None:
    sim = Simulator(_net(), backend="reference")
    sim.run(1.0, progress=np.bool_(False))
    sim.set_offset("p", [0.0, 1e6, -1e6])
    sim.set_offset("p", 0.0)
    sim.set_spike_times("s", np.array([[2.0], [3.0], [4.0]]))  # a 2-D array: one row per neuron
    sim.set_spike_times("s", [[2.5, 3.0], [], [2.0]])
    sim.add_spikes("s", [5.0], [1])
    sim.set_weights("d", 0.25)
    sim.run(5.0)
    assert sim.weights("d").tolist() == [0.25] * 3
    assert sim.spikes("p")[0].shape == sim.spikes("p")[1].shape and set(sim.state("p").values) == {"v_mV"}
    assert sim.weight_history("c")[1].shape[1] == 3


def _writer(path) -> None:
    ResultsWriter(path, config={}).close()


def _save_sim(path) -> None:
    sim = Simulator(_net(), backend="reference")
    sim.run(1.0)
    save_simulation(path, sim)


WRITERS = {"ResultsWriter": _writer, "save_simulation": _save_sim, "ensure_parent": ensure_parent,
           "save_network": lambda p: save_network(p, _net())}
READERS = {"read_results": read_results, "load_network": load_network}


@pytest.mark.parametrize("call", [*WRITERS.values(), *READERS.values()], ids=[*WRITERS, *READERS])
@pytest.mark.parametrize("value", ["", None, 5, ".", "..", b"x.h5"])
def test_a_path_that_is_no_file_path_is_refused_naming_the_field(call, value) -> None:
    with pytest.raises(ValueError, match=r"^path = .* is not allowed: a (file path|path that names a file)"):
        call(value)


@pytest.mark.parametrize("call", WRITERS.values(), ids=WRITERS)
def test_writing_to_a_directory_names_it(call, tmp_path: Path) -> None:
    (tmp_path / "d.h5").mkdir()
    with pytest.raises(ValueError, match=rf"cannot write {tmp_path / 'd.h5'}: it is a directory"):
        call(tmp_path / "d.h5")
    assert [p.name for p in tmp_path.iterdir()] == ["d.h5"] and not any((tmp_path / "d.h5").iterdir())


@pytest.mark.parametrize("call", READERS.values(), ids=READERS)
def test_reading_a_directory_names_it(call, tmp_path: Path) -> None:
    (tmp_path / "d.h5").mkdir()
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path / 'd.h5'}.*it is a directory"):
        call(tmp_path / "d.h5")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_save_network_where_no_file_can_be_made_names_the_path() -> None:
    with pytest.raises(ValueError, match=r"cannot write /proc/x.h5: No such file or directory .*choose an output"):
        save_network("/proc/x.h5", _net())


@pytest.mark.parametrize("network", [5, None, "x", Population("p", 3)])
def test_save_network_of_no_network_leaves_no_file(network, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^network = '\w+' is not allowed: a neurosim.Network"):
        save_network(tmp_path / "n.h5", network)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("resume", ["True", "False", 0.5, 1, None, np.float64(1.0)])
@pytest.mark.parametrize("unfinished", [False, True])
def test_resume_is_a_bool(resume, unfinished: bool, tmp_path: Path) -> None:
    if unfinished:
        with pytest.raises(KeyError), ResultsWriter(tmp_path / "u.h5", config={}):
            raise KeyError
    shown = re.escape(repr(resume.item() if isinstance(resume, np.generic) else resume))
    with pytest.raises(ValueError, match=rf"^resume = {shown} is not allowed: True or False"):
        ResultsWriter(tmp_path / "u.h5", config={}, resume=resume)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sim": None}, r"^sim = 'NoneType' is not allowed: a neurosim.Simulator"),
    ({"sim": 5}, r"^sim = 'int' is not allowed"),
    ({"sim": "net"}, r"^sim = 'Network' is not allowed: .*save_network"),
    ({"meta": 5}, r"^meta = 5 is not allowed: a dict"),
    ({"meta": "x"}, r"^meta = 'x' is not allowed: a dict"),
])
def test_save_simulation_refuses_what_is_no_simulator_or_meta(kwargs: dict, message: str, tmp_path: Path) -> None:
    sim = Simulator(_net(), backend="reference")
    sim.run(1.0)
    kw = {"sim": sim, **kwargs}
    if kw["sim"] == "net":
        kw["sim"] = _net()
    with pytest.raises(ValueError, match=message):
        save_simulation(tmp_path / "r.h5", **kw)
    assert list(tmp_path.iterdir()) == []
