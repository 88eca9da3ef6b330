"""Targeted forgetting: forget one memory, keep the rest, and measure what is left behind.

Every registered content-addressed memory that can forget (``forget_methods`` of the memory as built,
:mod:`neurosim.memory`) takes part, once per forgetting method, built by
:func:`neurosim.models.create` with its defaults.
The harness calls only the memory contract (``store``, ``recall``, ``recognize``, ``forget``).

Items are random binary patterns of ``n_units`` with ``round(sparsity n_units)`` = ``a`` units on.
Per repetition (fresh items, fresh model, seed + rep):

1. stored: ``n_targets`` targets; for each target one neighbour per overlap in ``OVERLAPS`` (the
   target with ``round((1 - o) a)`` of its units moved: it shares ``o a`` of them); as many
   controls, never stored themselves, with neighbours stored the same way; ``n_filler`` random
   items; all in a shuffled order. A control is what a forgotten target should look like: an
   item the memory never stored, with the same neighbourhood in it (for ``group``, its neighbour
   at overlap 0.8 is not stored either), so forgotten targets and controls can be told apart only
   by a trace the forgetting left. Every item has a fixed cue: a random half of its active units.
2. measured before: recall (Jaccard overlap of the recalled pattern with the item, from its cue)
   of every stored item, familiarity of the targets.
3. the condition:

   - ``single``: each target is forgotten (``forget(target, method=...)``);
   - ``group``: each target and its neighbour at overlap 0.8 are forgotten (a group of items
     sharing units);
   - ``interference``: nothing is forgotten; ``n_interference`` new random items are stored
     instead (plain forgetting by interference, the comparison; method ``-``).

4. measured after, on the forgotten items (the targets under interference):

   - **efficacy**: their recall and familiarity, next to the controls' (a never-stored item's
     recall is what its cue retrieves: its neighbours, often);
   - **specificity**: the recall of every kept neighbour and filler item, before and after; the
     damage (before - after) against the neighbour's overlap with its target;
   - **membership inference**: the AUC of familiarity, forgotten targets against controls (0.5:
     no trace left; 1: the forgotten items still stand out);
   - **savings** (relearning; Ebbinghaus): each forgotten target and each control, on its own copy
     of the memory as forgetting left it (a fresh model, same seed, given the same stores and
     forgets: the models are deterministic given their seed), stored again and again until its recall is back to 0.9
     of what the target's was before forgetting (the control: of its paired target's; a stored
     neighbour can keep any item's recall below 1), or ``max_exposures`` presentations
     (``max_exposures + 1`` when it never gets there); fewer exposures for the forgotten targets
     than for the controls means a hidden trace helps them back.

Tasks (model, method, condition) are independent and run on local worker processes or a Dask
cluster (:func:`neurosim.parallel.run_tasks`); each finished task is written at once, so a killed
run resumes with ``resume=True``. One HDF5 trial group per task (attrs ``model``, ``method``,
``condition``), arrays (rep, ...) with ``units``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from neurosim import _checks as ck
from neurosim.experiments import Outcome, engine
from neurosim.experiments.common import rng_for
from neurosim.io import ResultsWriter, read_results
from neurosim.memory import Memory, jaccard, move_bits, partial_cue, random_patterns
from neurosim.models import registry
from neurosim.parallel import run_tasks

CONDITIONS = ("single", "group", "interference")
OVERLAPS = (0.8, 0.6, 0.4, 0.2)  # a neighbour's share of its target's active units
CRITERION = 0.9                  # savings: relearned = recall back to this share of the target's before forgetting


def forget_methods(model: str) -> tuple[str, ...]:
    """The forgetting methods of a registered memory as the registry builds it (an instance's
    ``forget_methods``: its options can narrow its class's, as a palimpsest Hopfield network's do)."""
    with registry.create(model, n_units=20, sparsity=0.1) as memory:
        return tuple(memory.forget_methods)


def forgetting_models() -> tuple[str, ...]:
    """The registered content-addressed memories that can forget one item. The keyed CA3 memory forgets
    under a key, and this protocol stores more items than it has keys: its forgetting is tested on its own
    (``neurosim run ca3-forget``)."""
    return tuple(m for m in registry.names() if not registry.entry(m).keys and forget_methods(m))


@dataclass(frozen=True)
class Task:
    """One (model, method, condition): everything a worker needs (plain data, picklable)."""

    index: int
    model: str
    method: str      # "-" for interference
    condition: str
    seed: int
    n_reps: int
    n_units: int
    sparsity: float
    n_targets: int
    n_filler: int
    n_interference: int
    max_exposures: int
    backend: str
    device: str | None = None


def run_task(task: Task) -> dict[str, np.ndarray]:
    """All repetitions of one task: arrays (rep, ...) keyed by measure."""
    reps = []
    for rep in range(task.n_reps):
        with _model(task, rep) as memory:
            reps.append(_one(memory, task, rep))
    return {k: np.stack([r[k] for r in reps]) for k in reps[0]}


def _model(task: Task, rep: int) -> Memory:
    return registry.create(task.model, n_units=task.n_units, sparsity=task.sparsity, backend=task.backend,
                           device=task.device, seed=task.seed + rep)


def _recall(memory: Memory, cues: np.ndarray, items: np.ndarray) -> np.ndarray:
    return jaccard(memory.recall_many(cues), items) if len(items) else np.zeros(0)


def _one(memory: Memory, task: Task, rep: int) -> dict[str, np.ndarray]:
    n, a, n_t = task.n_units, max(1, round(task.sparsity * task.n_units)), task.n_targets
    group = task.condition == "group"
    # items and cues depend on (seed, rep) only: every model, method and condition sees the same ones
    item_rng, cue_rng, order_rng = (rng_for(task.seed, 5, rep, j) for j in range(3))
    targets, controls = random_patterns(item_rng, n_t, n, a), random_patterns(item_rng, n_t, n, a)

    def around(x: np.ndarray) -> np.ndarray:  # (overlap, item, unit): a neighbour per overlap
        return np.array([[move_bits(item_rng, r, round((1.0 - o) * a)) for r in x] for o in OVERLAPS])

    neighbours, control_neighbours = around(targets), around(controls)
    filler = random_patterns(item_rng, task.n_filler, n, a)
    interference = random_patterns(item_rng, task.n_interference, n, a)

    def cue(x: np.ndarray) -> np.ndarray:
        return np.array([partial_cue(cue_rng, r, 0.5) for r in x]) if len(x) else x

    c_targets, c_controls, c_filler = cue(targets), cue(controls), cue(filler)
    c_neigh = np.array([cue(x) for x in neighbours])
    stored = np.vstack([targets, *neighbours, *control_neighbours[1 if group else 0:], filler])
    history: list[tuple[str, np.ndarray]] = []  # every store and forget, to rebuild the state (savings)

    def do(what: str, x: np.ndarray) -> None:
        memory.store(x) if what == "store" else memory.forget(x, method=task.method)
        history.append((what, x))

    for i in order_rng.permutation(len(stored)):
        do("store", stored[i])

    def neighbours_recall() -> np.ndarray:
        return np.array([_recall(memory, c, x) for c, x in zip(c_neigh, neighbours, strict=True)])

    out = {"fam_targets_before": memory.recognize_many(targets),
           "recall_targets_before": _recall(memory, c_targets, targets),
           "recall_neighbours_before": neighbours_recall(), "recall_filler_before": _recall(memory, c_filler, filler)}
    if task.condition == "interference":
        for x in interference:
            do("store", x)
    else:
        for t in range(n_t):
            do("forget", targets[t])
            if group:
                do("forget", neighbours[0, t])
    after = neighbours_recall()
    if group:
        after[0] = np.nan  # forgotten themselves
    out |= {"fam_forgotten": memory.recognize_many(targets), "recall_forgotten": _recall(memory, c_targets, targets),
            "fam_control": memory.recognize_many(controls), "recall_control": _recall(memory, c_controls, controls),
            "recall_neighbours_after": after, "recall_filler_after": _recall(memory, c_filler, filler)}
    def rebuilt() -> Memory:
        m = _model(task, rep)
        for what, x in history:
            m.store(x) if what == "store" else m.forget(x, method=task.method)
        return m

    level = CRITERION * out["recall_targets_before"]
    out["exposures_forgotten"] = _relearn(rebuilt, targets, c_targets, level, task.max_exposures)
    out["exposures_control"] = _relearn(rebuilt, controls, c_controls, level, task.max_exposures)
    return out


def _relearn(rebuilt: Callable[[], Memory], items: np.ndarray, cues: np.ndarray, levels: np.ndarray,
             max_exposures: int) -> np.ndarray:
    """Presentations each item needs until its recall reaches its level (max_exposures + 1: never), each on its
    own rebuilt memory (so that relearning one item does not load the memory for the next)."""
    out = np.full(len(items), max_exposures + 1.0)
    for r, (x, c) in enumerate(zip(items, cues, strict=True)):
        with rebuilt() as probe:
            for k in range(1, max_exposures + 1):
                probe.store(x)
                if jaccard(probe.recall(c)[None], x[None])[0] >= levels[r]:
                    out[r] = k
                    break
    return out


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores above a negative) + P(tie) / 2: the ROC area (Mann-Whitney)."""
    p, q = np.ravel(positive)[:, None], np.ravel(negative)[None, :]
    return float(np.mean((p > q) + 0.5 * (p == q))) if p.size and q.size else float("nan")


def tasks(*, models: tuple[str, ...], seed: int, n_reps: int, n_units: int, sparsity: float, n_targets: int,
          n_filler: int, n_interference: int, max_exposures: int, backend: str,
          device: str | None = None) -> list[Task]:
    out: list[Task] = []
    common = {"seed": seed, "n_reps": n_reps, "n_units": n_units, "sparsity": sparsity, "n_targets": n_targets,
              "n_filler": n_filler, "n_interference": n_interference,
              "max_exposures": max_exposures, "backend": backend, "device": device}
    for m in models:
        for method in forget_methods(m):
            for condition in ("single", "group"):
                out.append(Task(len(out), m, method, condition, **common))
        out.append(Task(len(out), m, "-", "interference", **common))
    return out


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0, out: Path | str = "results/unlearning.h5",
        resume: bool = False, progress: bool = True, full: bool = False, scheduler: str | None = None,
        workers: int | None = None, models: tuple[str, ...] | None = None, n_units: int = 500,
        sparsity: float = 0.1, n_reps: int | None = None, n_targets: int = 5, n_filler: int | None = None,
        n_interference: int | None = None, max_exposures: int = 5) -> Outcome:
    """Run the protocol (see the module docstring). Quick: 2 repetitions, 15 filler items, 50 interfering
    items; ``full``: 10 repetitions, 40 filler items, 200 interfering items."""
    out = Path(out)
    able = forgetting_models()
    models = able if models is None else tuple(models)
    for m in models:
        if m not in able:
            ck.fail("models", m, f"names from {list(able)} (the registered memories that can forget)")
    if not models:
        ck.fail("models", models, "at least one model")
    eng = engine("unlearning", backend, device)
    ck.count("n_units", n_units, minimum=10)
    ck.in_range("sparsity", sparsity, 4.0 / n_units, 0.5)
    n_reps = ck.count("n_reps", n_reps) if n_reps is not None else (10 if full else 2)
    n_filler = ck.count("n_filler", n_filler, minimum=0) if n_filler is not None else (40 if full else 15)
    n_interference = (ck.count("n_interference", n_interference) if n_interference is not None
                      else (200 if full else 50))
    ck.count("n_targets", n_targets)
    ck.count("max_exposures", max_exposures)
    todo_all = tasks(models=models, seed=seed, n_reps=n_reps, n_units=n_units, sparsity=sparsity,
                     n_targets=n_targets, n_filler=n_filler, n_interference=n_interference,
                     max_exposures=max_exposures, backend=eng["backend"], device=eng["device"])
    config = {"experiment": "unlearning", "full": full, "models": list(models), "overlaps": list(OVERLAPS),
              "criterion": CRITERION,
              **{k: v for k, v in asdict(todo_all[0]).items() if k not in ("index", "model", "method", "condition",
                                                                           "backend", "device")},
              "tasks": [{"model": t.model, "method": t.method, "condition": t.condition} for t in todo_all]}
    units = {"exposures_forgotten": "presentations", "exposures_control": "presentations"}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [t for t in todo_all if t.index not in writer.finished_trials]
        bar = tqdm(total=len(todo), desc="unlearning tasks", disable=not progress)
        for t, result in run_tasks(run_task, todo, workers=workers, scheduler=scheduler):
            writer.write_trial(t.index, metrics={k: (v, units.get(k, "")) for k, v in result.items()},
                               attrs={"model": t.model, "method": t.method, "condition": t.condition,
                                      "n_reps": t.n_reps})
            bar.update()
        bar.close()
    from neurosim.experiments import unlearning_plots as plots

    res = read_results(out)
    stem = out.with_name(out.stem)
    files = [out, plots.efficacy(res, todo_all, Path(f"{stem}_efficacy.png")),
             plots.damage(res, todo_all, Path(f"{stem}_damage.png")),
             plots.savings(res, todo_all, Path(f"{stem}_savings.png")),
             plots.roc(res, todo_all, Path(f"{stem}_roc.png"))]
    return Outcome(title=f"unlearning: {len(models)} models, N = {n_units} units, sparsity {sparsity:g}, "
                         f"{n_targets} targets, {n_reps} repetitions ({'full' if full else 'quick'})",
                   columns=plots.SUMMARY_COLUMNS, rows=plots.summary(res, todo_all), files=files,
                   notes=plots.NOTES)
