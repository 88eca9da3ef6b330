"""A reproducible tally of how neurosim answers bad input to its public constructors and functions.

    .venv/bin/python tools/bad_input_tally.py [--json PATH] [--module NAME ...]

Each case is one public callable called with its valid baseline arguments but one parameter set to a bad
value of that parameter's kind (the tables: tools/bad_inputs_specs.py for the core, I/O and fixed point,
tools/bad_inputs_models.py for the memory models and neurosim.pynn; the kinds: tools/bad_inputs_kinds.py).
Every case is classified:

- **clear**: an exception whose message names the parameter (its field) and says "is not allowed", the
  form of ``neurosim._checks.fail`` ("FIELD = VALUE is not allowed: ALLOWED"); for a file case, one whose
  message names the path;
- **unclear**: any other exception (its type and message are listed);
- **silent**: no exception (a warning, if any, is listed with it);
- **crash**: a BaseException that is not an Exception (SystemExit, ...), or a case still running after
  ``TIMEOUT_S`` seconds.

Before the cases, each table row's baseline call is run once: it must succeed, or that row's cases would
measure the baseline rather than the bad value (a failing baseline is reported and its cases skipped).
Files are written in a temporary directory, removed at the end; address space is capped (``--memory-gib``)
so that a size no machine holds fails fast instead of swapping.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import resource
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bad_inputs_kinds import Bad, Make, Scratch, Spec

CLASSES = ("clear", "unclear", "silent", "crash")
TIMEOUT_S = 30
FORM = "is not allowed"


@dataclass(frozen=True)
class Case:
    spec: Spec
    param: str
    bad: Bad


@dataclass(frozen=True)
class Outcome:
    case: Case
    kind: str       # one of CLASSES
    message: str


class Timeout(BaseException):
    """Raised in a case that runs past TIMEOUT_S (a BaseException: the library's ``except Exception`` lets it by)."""


def all_specs() -> list[Spec]:
    from bad_inputs_models import MODELS
    from bad_inputs_specs import CORE

    return CORE + MODELS


def cases(specs: list[Spec]) -> Iterator[Case]:
    for spec in specs:
        for param, values in spec.bad.items():
            for v in values:
                yield Case(spec, param, v if isinstance(v, Bad) else Bad(v))


def label(value: object, width: int = 70) -> str:
    """A deterministic, short repr of a bad value."""
    if isinstance(value, Make):
        text = f"<{value.label}>"
    elif type(value) is object:
        text = "object()"
    elif isinstance(value, type):
        text = value.__name__
    elif isinstance(value, np.ndarray):
        text = f"array({value.tolist()!r}, {value.dtype})"
    elif isinstance(value, np.generic):
        text = f"np.{type(value).__name__}({value.item()!r})"
    else:
        text = repr(value)
    text = re.sub(r" at 0x[0-9a-f]+", "", text)
    return text if len(text) <= width else text[:width - 3] + "..."


def normalise(message: str) -> str:
    """The message without what changes from run to run (the scratch directory, object addresses)."""
    if Scratch.root is not None:
        message = message.replace(str(Scratch.root), "$TMP")
    return re.sub(r"0x[0-9a-fA-F]{6,}", "0x...", message)


def _resolve(value: object) -> object:
    return value.build() if isinstance(value, Make) else value


def _on_alarm(signum, frame) -> None:
    raise Timeout(f"still running after {TIMEOUT_S} s")


def call(spec: Spec, kwargs: dict) -> tuple[BaseException | None, list[str]]:
    """``spec.call(**kwargs)``, quietly: the exception it raised (None) and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("always")
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(TIMEOUT_S)
        try:
            spec.call(**kwargs)
            error = None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - classified by the caller
            error = exc
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return error, [f"{w.category.__name__}: {w.message}" for w in caught]


def is_clear(case: Case, value: object, message: str) -> bool:
    field = case.bad.field or case.spec.fields.get(case.param, case.param)
    if field.lower() in message.lower() and FORM in message:
        return True
    return case.bad.path and isinstance(value, (str, Path)) and str(value) != "" and str(value) in message


def run_case(case: Case) -> Outcome:
    kwargs = {k: _resolve(v) for k, v in case.spec.baseline.items()}
    kwargs[case.param] = value = _resolve(case.bad.value)
    error, warned = call(case.spec, kwargs)
    if error is None:
        return Outcome(case, "silent", "no exception" + (f" (warned: {warned[0]})" if warned else ""))
    message = normalise(f"{type(error).__name__}: {error}")
    if not isinstance(error, Exception):
        return Outcome(case, "crash", message)
    return Outcome(case, "clear" if is_clear(case, value, str(error)) else "unclear", message)


def baseline_failures(specs: list[Spec]) -> list[str]:
    out = []
    for spec in specs:
        error, _ = call(spec, {k: _resolve(v) for k, v in spec.baseline.items()})
        if error is not None:
            out.append(f"{spec.module} {spec.name}: {normalise(f'{type(error).__name__}: {error}')}")
    return out


def tally(specs: list[Spec]) -> dict:
    """Run every case of ``specs`` (Scratch.root must be set): the summary and every outcome."""
    start = time.perf_counter()
    failed = baseline_failures(specs)
    broken = {f.split(": ")[0] for f in failed}
    outcomes = [run_case(c) for c in cases(specs) if f"{c.spec.module} {c.spec.name}" not in broken]
    modules: dict[str, dict[str, int]] = {}
    for o in outcomes:
        row = modules.setdefault(o.case.spec.module, {"cases": 0, **dict.fromkeys(CLASSES, 0)})
        row["cases"] += 1
        row[o.kind] += 1
    totals = {"cases": len(outcomes), **{k: sum(r[k] for r in modules.values()) for k in CLASSES}}
    return {
        "totals": totals, "modules": modules, "baseline_failures": failed,
        "runtime_s": round(time.perf_counter() - start, 1),
        "cases": [{"module": o.case.spec.module, "callable": o.case.spec.name, "parameter": o.case.param,
                   "value": label(o.case.bad.value, 200), "note": o.case.bad.note, "class": o.kind,
                   "message": o.message} for o in outcomes],
    }


def report(result: dict) -> str:
    lines = [f"{'module':<12} {'cases':>6} {'clear':>6} {'unclear':>8} {'silent':>7} {'crash':>6}"]
    rows = [*result["modules"].items(), ("total", result["totals"])]
    for name, r in rows:
        lines.append(f"{name:<12} {r['cases']:>6} {r['clear']:>6} {r['unclear']:>8} {r['silent']:>7} {r['crash']:>6}")
    t = result["totals"]
    share = ", ".join(f"{k} {100 * t[k] / max(t['cases'], 1):.0f}%" for k in CLASSES)
    lines.append(f"({share}; {result['runtime_s']} s)")
    for failure in result["baseline_failures"]:
        lines.append(f"BASELINE FAILED (its cases skipped): {failure}")
    for kind in ("crash", "unclear", "silent"):
        listed = [c for c in result["cases"] if c["class"] == kind]
        lines.append(f"\n{kind.upper()} ({len(listed)})")
        for c in listed:
            note = f" [{c['note']}]" if c["note"] else ""
            message = c["message"] if len(c["message"]) <= 240 else c["message"][:237] + "..."
            lines.append(f"  {c['module']}: {c['callable']}: {c['parameter']} = {c['value']}{note}\n      -> {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the tally and every case's outcome to this file")
    parser.add_argument("--module", action="append", help="only these modules (network, connectors, ..., pynn)")
    parser.add_argument("--memory-gib", type=float, default=8.0, help="address-space cap while the cases run (0: none)")
    args = parser.parse_args(argv)
    if args.memory_gib > 0:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        cap = int(args.memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    specs = [s for s in all_specs() if not args.module or s.module in args.module]
    with tempfile.TemporaryDirectory(prefix="bad_inputs_") as tmp:
        Scratch.root = Path(tmp)
        try:
            result = tally(specs)
        finally:
            Scratch.root = None
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 1 if result["baseline_failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
