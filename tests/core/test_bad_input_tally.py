"""tools/bad_input_tally.py stays runnable: its baselines are valid calls, and it classifies cases as it says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    """The tally's modules (scripts in tools/, not a package), with a scratch directory."""
    sys.path.insert(0, str(TOOLS))
    try:
        import bad_input_tally
        import bad_inputs_kinds

        bad_inputs_kinds.Scratch.root = tmp_path_factory.mktemp("scratch")
        yield bad_input_tally, bad_inputs_kinds
    finally:
        bad_inputs_kinds.Scratch.root = None
        sys.path.remove(str(TOOLS))


def test_every_baseline_of_the_table_is_a_valid_call(tools) -> None:
    tally, _ = tools
    specs = tally.all_specs()
    assert len(list(tally.cases(specs))) >= 850
    assert tally.baseline_failures(specs) == []


def test_cases_are_classified_by_the_message(tools) -> None:
    tally, kinds = tools
    Bad, Spec, Make = kinds.Bad, kinds.Spec, kinds.Make

    def raising(exc):  # at the baseline (x = 0) a valid call
        def call(x=0):
            if x:
                raise exc
        return call

    from neurosim.io import read_results
    from neurosim.network import LIFParams

    specs = [
        Spec("t", "LIFParams", LIFParams, {}, {"tau_m_ms": [-1.0]}),
        Spec("t", "read_results", read_results, {"path": Make("a result", kinds.results_file)},
             {"path": [Bad(Make("empty", lambda: kinds.make_file("e.h5")), path=True)]}),
        Spec("t", "accepts", lambda **kw: None, {}, {"x": [1]}),
        Spec("t", "numpy's error", raising(TypeError("unsupported operand")), {}, {"x": [1]}),
        Spec("t", "another field", raising(ValueError("y = 1 is not allowed: > 2")), {}, {"x": [1]}),
        Spec("t", "exits", raising(SystemExit(3)), {}, {"x": [1]}),
    ]
    kinds_of = {o.case.spec.name: o.kind for o in map(tally.run_case, tally.cases(specs))}
    assert kinds_of == {"LIFParams": "clear", "read_results": "clear", "accepts": "silent",
                        "numpy's error": "unclear", "another field": "unclear", "exits": "crash"}
    result = tally.tally(specs)
    assert result["totals"] == {"cases": 6, "clear": 2, "unclear": 2, "silent": 1, "crash": 1}
    assert "t: accepts: x = 1\n      -> no exception" in tally.report(result)


def test_every_bad_input_of_the_tally_gets_the_projects_error(tmp_path) -> None:
    """The whole tally (3245 cases, a few seconds), run as a user runs it: every case a clear error, none unclear,
    silently accepted or crashing. A new public parameter without its check shows up here."""
    import json
    import subprocess

    out = tmp_path / "tally.json"
    run = subprocess.run([sys.executable, str(TOOLS / "bad_input_tally.py"), "--json", str(out)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    totals = json.loads(out.read_text())["totals"]
    assert totals["cases"] >= 3000
    assert totals["clear"] == totals["cases"], run.stdout[-6000:]
