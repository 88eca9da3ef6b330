"""Acceptance on code no one here wrote: the authors' sPyMem models (pip sPyMem 0.0.9 on sPyBlocks 0.0.1),
unmodified, through ``neurosim.pynn``.

- ``CA3_content_addressable`` driven by the input spikes of its three published experiments reproduces the
  published spike tables cell for cell (every (population, ms) cell of every layer);
- the DG-CA3-CA1 memory reproduces both runs recorded on a SpiNNaker board spike for spike, and its CA3
  membrane potentials within three steps of the board's s16.15 grid (2^-15 mV), or to the bit in the board's
  own integer arithmetic (``arithmetic="spinnaker"``);
- the three memories with forgetting learn, recall, and forget by overwriting, read from their output layer.
"""

from __future__ import annotations

import numpy as np
import pytest

import neurosim.pynn as sim
from neurosim import backends
from neurosim.experiments import spymem, spymem_operations

pytest.importorskip("sPyMem")
pytest.importorskip("sPyBlocks")

ENGINES = [b for b in ("numba", "reference", "torch", "brian2") if backends.is_available(b)]
BOARD_GRID_MV = 2.0 ** -15


@pytest.mark.parametrize("experiment", ["functional", "stress", "state-map"])
def test_ca3_content_addressable_reproduces_the_published_tables(experiment: str) -> None:
    mine, theirs = spymem.ca3_content_addressable(sim, experiment)
    bad, total = spymem.differing(mine, theirs, spymem.published_ca3(experiment)["sim_time_ms"])
    assert total > 1000 and set(theirs) <= set(mine)
    assert bad == 0


@pytest.mark.parametrize("backend", ENGINES)
def test_every_engine_reproduces_the_functional_table_and_the_board(backend: str) -> None:
    options = {"device": "cpu"} if backend == "torch" else {}
    mine, theirs = spymem.ca3_content_addressable(sim, "functional", backend=backend, **options)
    assert spymem.differing(mine, theirs, 90.0)[0] == 0
    spikes, _, board = spymem.dg_ca3_ca1(sim, 2, backend=backend, **options)
    assert spymem.differing(spikes, spymem.board_table(board), board["simTime"])[0] == 0


@pytest.mark.parametrize("run", [1, 2])
def test_dg_ca3_ca1_reproduces_the_board_recordings(run: int) -> None:
    spikes, v, board = spymem.dg_ca3_ca1(sim, run)
    table = spymem.board_table(board)
    bad, total = spymem.differing(spikes, table, board["simTime"])
    assert sum(len(ids) for rows in table.values() for ids in rows.values()) > 20  # the board's runs do spike
    assert bad == 0, f"{bad} of {total} (population, ms) cells differ from the board"
    for name, recorded in spymem.board_v(board).items():
        assert v[name].shape == recorded.shape
        assert np.abs(v[name] - recorded).max() < 3 * BOARD_GRID_MV
        assert np.ptp(recorded) > 0.0  # the membrane moved: the comparison has something to compare


@pytest.mark.parametrize("backend", ["reference", "numba"])
@pytest.mark.parametrize("run", [1, 2])
def test_spinnaker_arithmetic_reproduces_every_membrane_sample_of_the_board(run: int, backend: str) -> None:
    """In the board's integers (arithmetic="spinnaker") every CA3 membrane sample of both recorded runs equals the
    board's, to the bit; the float tick differs by up to 1.33 LSB (run 2)."""
    spikes, v, board = spymem.dg_ca3_ca1(sim, run, backend=backend, arithmetic="spinnaker")
    assert spymem.differing(spikes, spymem.board_table(board), board["simTime"])[0] == 0
    for name, recorded in spymem.board_v(board).items():
        np.testing.assert_array_equal(v[name], recorded)
    _, v_float, _ = spymem.dg_ca3_ca1(sim, run, backend="reference")
    assert max(np.abs(v_float[n] - r).max() for n, r in spymem.board_v(board).items()) > 0.5 * BOARD_GRID_MV


@pytest.mark.parametrize("backend", ["reference", "numba"])
@pytest.mark.parametrize("experiment", ["functional", "stress", "state-map"])
def test_spinnaker_arithmetic_reproduces_the_published_tables(experiment: str, backend: str) -> None:
    mine, theirs = spymem.ca3_content_addressable(sim, experiment, backend=backend, arithmetic="spinnaker")
    assert spymem.differing(mine, theirs, spymem.published_ca3(experiment)["sim_time_ms"])[0] == 0


@pytest.mark.parametrize("model", list(spymem_operations.MODELS))
def test_the_memories_with_forgetting_learn_recall_and_forget(model: str) -> None:
    operations = [("learn", 0, [0, 1, 8, 9]), ("learn", 2, [1, 5, 6]), ("recall", 0), ("recall", 2),
                  ("learn", 0, [2, 3, 4]), ("recall", 0), ("recall", 2), ("recall", 4)]
    recalls = spymem_operations.run_operations(sim, model, operations)
    assert recalls[0] == (0, [0, 1, 8, 9])            # learned, then recalled by its cue
    assert recalls[1] == (2, [1, 5, 6])               # a second memory beside it
    assert recalls[2] == (0, [2, 3, 4])               # relearning cue 0 overwrote the old content: forgotten
    assert recalls[3] == (2, [1, 5, 6])               # ... and left the other memory alone
    assert recalls[4] == (4, [])                      # a cue never learned recalls nothing


def test_the_dialect_matters_for_the_published_tables(monkeypatch) -> None:
    """The sPyNNaker dialect is what reproduces the tables: standard PyNN refuses the script at its first
    sPyNNaker convention, and STDP amplitudes read as relative to w_max (PyNN's reading) give 13 / 60 / 12
    differing cells on the three tables (docs/pynn.md)."""
    from dataclasses import replace

    from neurosim import pynn_conventions
    from neurosim.pynn.scenarios import standard

    with pytest.raises(sim.errors.NonExistentParameterError, match="^v "):  # Population.set(v=...)
        spymem.ca3_content_addressable(standard(sim, dialect="pynn"), "functional")
    relative = replace(pynn_conventions.DIALECTS["spinnaker"], name="relative", stdp_absolute=False)
    monkeypatch.setitem(pynn_conventions.DIALECTS, "relative", relative)
    for experiment, expected in (("functional", 13), ("stress", 60), ("state-map", 12)):
        mine, theirs = spymem.ca3_content_addressable(standard(sim, dialect="relative"), experiment)
        assert spymem.differing(mine, theirs, spymem.published_ca3(experiment)["sim_time_ms"])[0] == expected
