"""PyNN's own system scenarios run with ``neurosim.pynn`` as one more simulator.

PyNN's source distribution (``pip download --no-deps --no-binary :all: PyNN==0.13.0``; the
Makefile keeps it in ``.venv/share``) holds ``test/system/scenarios``: functions
``test_*(sim)`` that PyNN runs against each of its backends. :func:`run_scenarios` imports them
from that archive (nothing of PyNN's is copied into neurosim), calls each with
``neurosim.pynn`` and sorts the outcome:

- ``pass``: the scenario ran to its end;
- ``n/a``: it needs what neurosim does not model, said by PyNN's own ``NoModelAvailableError``
  (conductance synapses, Izhikevich, multicompartment cells, ...), or it skipped itself;
- ``fail``: anything else, with the error, to be fixed or explained (docs/pynn.md).

``neurosim pynn-scenarios`` prints the tally; tests pin it scenario by scenario.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import sys
import tarfile
import tempfile
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = "test/system/scenarios"


@dataclass(frozen=True)
class Outcome:
    module: str
    name: str
    status: str   # "pass", "n/a" or "fail"
    detail: str   # the error (its type and first line) where there is one


def _system_dir(source: Path, workdir: Path) -> Path:
    """The ``test/system`` directory of a PyNN source tree or sdist archive (extracted into ``workdir``)."""
    source = Path(source)
    if source.is_dir():
        hits = [source / "test/system"] if (source / SCENARIOS).is_dir() else sorted(source.glob(f"*/{SCENARIOS}"))
        if hits:
            return hits[0] if hits[0].name == "system" else hits[0].parent
    elif tarfile.is_tarfile(source):
        with tarfile.open(source) as archive:
            members = [m for m in archive.getmembers() if f"/{SCENARIOS}/" in m.name and m.isfile()]
            archive.extractall(workdir, members=members, filter="data")
        found = sorted(workdir.glob(f"*/{SCENARIOS}"))
        if found:
            return found[0].parent
    raise FileNotFoundError(f"{source}: no PyNN {SCENARIOS} in it (a PyNN source tree or its sdist .tar.gz)")


def _classify(error: BaseException) -> str:
    from pyNN import errors

    if isinstance(error, errors.NoModelAvailableError):
        return "n/a"
    if type(error).__name__ == "Skipped":  # pytest.skip() inside a scenario
        return "n/a"
    return "fail"


def standard(sim: types.ModuleType, **defaults) -> types.ModuleType:
    """``sim`` whose ``setup()`` takes ``defaults`` unless a script says otherwise."""
    from neurosim.pynn.adapter import module_copy

    out = module_copy(sim, sim.__name__)

    def setup(*args, **kwargs):
        return sim.setup(*args, **{**defaults, **kwargs})

    out.setup = setup
    return out


def run_scenarios(source: str | Path, sim=None, only: str | None = None) -> list[Outcome]:
    """Run every scenario of PyNN's ``test/system/scenarios`` in ``source`` with ``sim`` (default
    ``neurosim.pynn`` in the standard dialect: they are standard PyNN scripts); ``only``: a substring of the
    scenarios' names to select."""
    if sim is None:
        import neurosim.pynn

        sim = standard(neurosim.pynn, dialect="pynn")
    outcomes = []
    source = Path(source).resolve()
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):  # scenarios write files where they run
        system = _system_dir(source, Path(tmp))
        sys.path.insert(0, str(system))
        try:
            for path in sorted((system / "scenarios").glob("test_*.py")):
                module = importlib.import_module(f"scenarios.{path.stem}")
                for name, func in inspect.getmembers(module, inspect.isfunction):
                    if not name.startswith("test_") or func.__module__ != module.__name__:
                        continue
                    if only and only not in name:
                        continue
                    outcomes.append(_run_one(path.stem, name, func, sim))
        finally:
            sys.path.remove(str(system))
            for key in [k for k in sys.modules if k == "scenarios" or k.startswith("scenarios.")]:
                del sys.modules[key]
    return outcomes


def _run_one(module: str, name: str, func, sim) -> Outcome:
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            func(sim)
    except BaseException as error:  # noqa: BLE001 - pytest's Skipped is a BaseException
        if isinstance(error, KeyboardInterrupt):
            raise
        status = _classify(error)
        where = traceback.extract_tb(error.__traceback__)[-1]
        detail = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        if status == "fail":
            detail += f" ({Path(where.filename).name}:{where.lineno})"
        return Outcome(module, name, status, detail[:300])
    finally:
        try:
            sim.end()
        except Exception:  # noqa: BLE001 - a scenario that failed half-way may leave nothing to end
            pass
    return Outcome(module, name, "pass", "")


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    out = {"pass": 0, "fail": 0, "n/a": 0}
    for outcome in outcomes:
        out[outcome.status] += 1
    return out
