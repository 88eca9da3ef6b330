"""The command line: info, list, run (HDF5 + figures + table), bench (JSON), errors."""

from __future__ import annotations

import json

from neurosim.cli import main
from neurosim.io import read_results


def test_info_lists_backends(capsys) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("reference", "numba", "torch", "brian2", "CUDA:"):
        assert name in out


def test_list_and_unknown_experiment(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "core-demo" in out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "numba, torch " in lines["forgetting"] and "torch " in lines["elm-tasks"]
    assert "numba, reference, torch, brian2" in lines["ca3-functional"] and "none" in lines["ca3-circuit"]
    assert main(["run", "no-such-thing"]) == 2
    assert "experiment = 'no-such-thing' is not allowed" in capsys.readouterr().err


def test_run_refuses_an_engine_the_experiment_lacks_before_writing(tmp_path, capsys) -> None:
    """Every experiment declares its engines: another is refused with their list (exit 2), never replaced."""
    out = tmp_path / "x.h5"
    cases = ((["elm-tasks", "--backend", "numba"], "backend = 'numba' is not allowed for elm-tasks: one of ['torch']"),
             (["forgetting", "--backend", "brian2"], "one of ['numba', 'torch']"),
             (["sparsey-capacity", "--backend", "reference"], "one of ['numba', 'torch']"),
             (["core-demo", "--device", "cuda"], "device = 'cuda' is not allowed on backend 'numba'"),
             (["ca3-circuit", "--backend", "numba"], "it runs no engine"),
             (["core-demo", "--backend", "torch", "--device", "tpu"], "device = 'tpu' is not allowed"))
    for args, message in cases:
        assert main(["run", *args, "--out", str(out), "--quiet"]) == 2, args
        assert message in capsys.readouterr().err, args
        assert not out.exists() and not out.with_name("x.h5.partial").exists()


def test_run_records_the_engine_that_ran(tmp_path, capsys) -> None:
    out = tmp_path / "f.h5"
    assert main(["run", "ca3-functional", "--backend", "torch", "--device", "cpu", "--out", str(out),
                 "--quiet"]) == 0
    meta = read_results(out).meta
    assert (meta["backend"], meta["device"], meta["dtype"]) == ("torch", "cpu", "float64")


def test_run_core_demo_writes_results_and_refuses_to_overwrite(tmp_path, capsys) -> None:
    out = tmp_path / "demo.h5"
    assert main(["run", "core-demo", "--out", str(out), "--quiet", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "exc" in text and "rate (Hz)" in text
    res = read_results(out)
    assert res.complete and res.meta["seed"] == 3 and res.meta["backend"] == "numba"
    assert res.spikes["exc"][0].size > 1000
    assert res.weights["ee"][1].shape[0] == 21  # t = 0, 100, ..., 2000 ms
    assert res.metrics["wall_time"][1] == "s"
    assert (tmp_path / "demo_raster.png").stat().st_size > 10_000
    assert main(["run", "core-demo", "--out", str(out), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err


def test_bench_json(capsys) -> None:
    assert main(["bench", "core", "--sizes", "300", "--duration-ms", "100", "--engines", "numba,reference",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = {r["engine"]: r for r in result["rows"]}
    assert rows["numba"]["spikes"] == rows["reference"]["spikes"] > 0  # same input, same network
    assert rows["numba"]["events"] == rows["reference"]["events"] > 0
    assert result["static"][0]["fraction_of_ceiling"] > 0


def test_bench_nest_rows_and_ratios(capsys) -> None:
    import importlib.util

    import pytest

    if importlib.util.find_spec("nest") is None:  # not importorskip: importing NEST here would print its banner
        pytest.skip("nest is not installed")
    assert main(["bench", "core", "--sizes", "300", "--duration-ms", "100", "--engines", "numba,nest",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)  # stdout is JSON only: NEST's banner and messages stay out
    rows = {r["engine"]: r for r in result["rows"]}
    assert list(rows) == ["numba", "nest (1 thread)", "nest (2 threads)"]
    assert rows["nest (1 thread)"]["spikes"] == rows["nest (2 threads)"]["spikes"] > 0
    best = min(rows["nest (1 thread)"]["sim_s"], rows["nest (2 threads)"]["sim_s"])
    assert rows["numba"]["vs_nest"] == pytest.approx(best / rows["numba"]["sim_s"])
    assert max(rows["nest (1 thread)"]["vs_nest"], rows["nest (2 threads)"]["vs_nest"]) == 1.0
    assert rows["numba"]["vs_nest_total"] > 0
    assert "vs nest" in main_table(result)


def main_table(result: dict) -> str:
    from neurosim.bench import format_table

    return format_table(result)


def test_bench_sparsey_json(capsys) -> None:
    """The three ways of learning (kernel batch, kernel per item, numpy reference) agree code for code."""
    assert main(["bench", "sparsey", "--sizes", "60", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["way"] for r in result["rows"]] == ["numba batch", "numba per item", "numpy reference"]
    assert all(r["inputs_per_s"] > 0 for r in result["rows"]) and result["rows"][2]["vs_numpy"] == 1.0


def test_bench_rejects_unknown_engine(capsys) -> None:
    assert main(["bench", "core", "--engines", "spinnaker"]) == 2
    assert "engines = ['spinnaker'] are not allowed" in capsys.readouterr().err


def test_export_to_pynn_spinnaker_and_nir(tmp_path, capsys) -> None:
    import py_compile

    import pytest

    nir = pytest.importorskip("nir")
    pytest.importorskip("pyNN")
    for target, suffix in (("pynn", "py"), ("spinnaker", "py")):
        out = tmp_path / f"ca3_{target}.{suffix}"
        assert main(["export", "ca3-functional", "--to", target, "--out", str(out)]) == 0
        py_compile.compile(str(out), doraise=True)
        text = out.read_text()
        expected = "spinnaker" if target == "spinnaker" else "generic"
        assert "DURATION_MS = 90.0" in text and f"EXPORT_TARGET = {expected!r}" in text
    out = tmp_path / "ca3.nir"
    assert main(["export", "ca3-functional", "--to", "nir", "--out", str(out)]) == 0
    graph = nir.read(str(out))
    assert "cueCueRecall" in graph.nodes and "learned_cue_to_content" in graph.nodes
    capsys.readouterr()
    assert main(["export", "core-demo", "--to", "nir", "--out", str(tmp_path / "x.nir")]) == 2
    assert "PoissonSource" in capsys.readouterr().err
    assert main(["export", "nothing", "--to", "nir"]) == 2


def test_bench_startup_runs_each_command_in_a_new_process() -> None:
    """The README example asserts its own spikes, so a row means the example really ran."""
    from neurosim import bench_startup

    lines = []
    rows = bench_startup.bench(repeats=1, log=lines.append)
    assert [r["what"] for r in rows] == list(bench_startup.COMMANDS)
    assert all(0 < r["best_s"] <= r["median_s"] for r in rows) and len(lines) == len(rows)
    assert "README example" in bench_startup.format_table(rows)


def test_export_to_spinnaker_checks_precision(tmp_path, capsys) -> None:
    """The CA3 memory's weights are exact in 16 bits and its spikes equal the board's; weights read after the run
    differ where the board has not applied the post spikes since a synapse's last pre spike."""
    out = tmp_path / "ca3.py"
    assert main(["export", "ca3-functional", "--to", "spinnaker", "--check-precision", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "weights quantized to 16 bits" in text and "the board's spikes equal the float run's" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("learned_cue_to_content  ")]
    assert rows[0][1:4] == ["50", "0", "0"]  # 50 synapses, none changed or lost by quantization
    assert main(["export", "ca3-functional", "--to", "pynn", "--check-precision", "--out", str(out)]) == 2
    assert "--check-precision is not allowed with --to pynn" in capsys.readouterr().err


def test_an_output_path_that_cannot_be_written_is_one_clear_line(tmp_path, capsys) -> None:
    blocker = tmp_path / "FILE"
    blocker.write_text("")
    assert main(["run", "ca3-functional", "--out", str(blocker / "x.h5"), "--quiet"]) == 2
    assert f"cannot write {blocker / 'x.h5'}: {blocker} is a file, not a directory" in capsys.readouterr().err
    assert main(["run", "ca3-functional", "--out", "/proc/neurosim/x.h5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write /proc/neurosim/x.h5:") and "Traceback" not in err
