"""Recall and forgetting dynamics: every memory model through the same protocols (those of Orhan 2023,
"Recognition, recall, and retention of few-shot memories in large language models").

Every memory of the registry (:mod:`neurosim.models.registry`) takes part, built by
:func:`neurosim.models.create` with its defaults for the sparsity asked for, on the engine asked
for (``backend``, ``device``). The harness only calls the memory contract (:mod:`neurosim.memory`):
``store``, ``recall`` and ``recognize``; keyed memories (``n_keys`` > 0: the CA3
content-addressable memory) store item ``i`` under key ``i mod n_keys``, so they forget by
overwriting.

Items are random binary patterns of ``n_units`` with exactly ``round(sparsity n_units)`` units
on. Two protocols, each one task per (model, condition), repeated ``n_reps`` times inside the
task with fresh items and a fresh model (seed + rep):

**retention** (conditions ``retention-none|uniform|exponential|power``, the rehearsal schedule):

1. study: ``n_study`` items, half presented once and half three times (``exposures``), in a
   shuffled order; a model that learns incrementally gives the thrice-seen items more weight;
2. interference: new items are stored one at a time; after every ``rehearse_every`` of them,
   one study item is stored again (rehearsal; none for ``none``), chosen with probability
   uniform, ``exp(-dt / tau)`` (exponential) or ``dt ** -alpha`` (power law), ``dt`` = steps
   since the item was last stored (study counts as step 0): equal rehearsal budgets;
3. probes at ``steps`` (0 = right after study; quick: 0, 1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300,
   500, 1000; ``full``: 1..10, 20..100, 200..1000, 2000..10000, up to the model's cap):

   - recognition, two-alternative forced choice by familiarity between each study item and a
     foil: ``novel`` (a never-stored item of the same sparsity), ``similar`` (the item with 20%
     of its active units moved), ``random`` (each unit on with probability 1/2); 1 if the item
     is more familiar, 0.5 on a tie, 0 otherwise;
   - cued recall, Jaccard overlap |r & x| / |r | x| of the recalled pattern r with the item x
     (1 only for an exact recall), from ``half`` (the first half of the item's active units in
     index order), ``random50`` (a random half of its active units) and ``noisy`` (20% of its
     active units moved) cues.

   Foils and cues are drawn once per item, so curves change only through the memory. A task
   stops early once recognition (novel foils) is at chance (<= 0.55) and recall (random50) is
   below 0.1 at two successive probes: the model no longer holds the study set.

**capacity** (conditions ``capacity-f<sparsity>``): items are stored one at a time; after P of
them (1, 2, 5, 10, 20, 50, ... up to the cap) up to ``n_probe`` of the stored items (a fixed
random sample) are recalled from ``random50`` cues: Jaccard overlap and exact recall.

Tasks are independent and run on local worker processes or a Dask cluster
(:func:`neurosim.parallel.run_tasks`); each finished task is stored at once, so a killed
run resumes with ``resume=True``. The HDF5 file holds one trial group per (model, condition)
(attrs ``model``, ``protocol``, ``condition``, ``sparsity``), arrays (rep, probe, item) with
``units`` attributes ('' for scores, 'items' for counts).
"""

from __future__ import annotations

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

SCHEDULES = ("none", "uniform", "exponential", "power")
FOILS = ("novel", "similar", "random")
CUES = ("half", "random50", "noisy")
QUICK_STEPS = (0, 1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000)
CAPACITY_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def full_steps(cap: int) -> tuple[int, ...]:
    """0, 1..10, 20..100, 200..1000, ... (log-spaced decades, as in Orhan 2023) up to ``cap``."""
    out, decade = [0, *range(1, 10)], 1
    while decade * 10 <= cap:
        out += list(range(decade * 10, decade * 100, decade * 10))
        decade *= 10
    return tuple(s for s in out if s <= cap) + ((cap,) if cap not in out else ())


# -- the models ------------------------------------------------------------------------------------


# how far the harness drives each registered memory: most interfering / stored items (quick run, full run)
CAPS: dict[str, tuple[int, int]] = {"hopfield": (1000, 10000), "hopfield-marginalist": (1000, 10000),
                                    "dam-poly": (1000, 10000),
                                    "dam-exp": (1000, 10000),
                                    "sparsey": (1000, 10000),
                                    "sparsey-decay": (1000, 10000), "dendrites": (1000, 10000), "ca3": (200, 1000),
                                    "ca3-auto": (100, 500)}
MODELS = tuple(registry.names())  # every registered memory (a test checks that CAPS covers them)


def make_model(task: Task, rep: int) -> Memory:
    """The task's memory for one repetition, from the registry (its defaults for the task's sparsity)."""
    return registry.create(task.model, n_units=task.n_units, sparsity=task.sparsity, backend=task.backend,
                           device=task.device, seed=task.seed + rep)


# -- one task ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One (model, condition): everything a worker needs (plain data, picklable)."""

    index: int
    model: str
    protocol: str       # "retention" or "capacity"
    schedule: str       # retention: the rehearsal schedule; capacity: ""
    sparsity: float
    steps: tuple[int, ...]
    seed: int
    n_reps: int
    n_units: int
    n_study: int
    rehearse_every: int
    tau: float
    alpha: float
    n_probe: int
    backend: str
    device: str | None = None

    @property
    def condition(self) -> str:
        return f"retention-{self.schedule}" if self.protocol == "retention" else f"capacity-f{self.sparsity:g}"


def run_task(task: Task) -> dict[str, np.ndarray]:
    """All repetitions of one task: arrays (rep, ...) keyed by measure."""
    reps = []
    for rep in range(task.n_reps):
        with make_model(task, rep) as memory:
            fn = _retention if task.protocol == "retention" else _capacity
            reps.append(fn(memory, task, rep))
    return {k: np.stack([r[k] for r in reps]) for k in reps[0]}


def _key(memory: Memory, i: int) -> int | None:
    return i % memory.n_keys if memory.n_keys else None


def _active(task: Task) -> int:
    return max(1, round(task.sparsity * task.n_units))


def _retention(memory: Memory, task: Task, rep: int) -> dict[str, np.ndarray]:
    n, n_study, active = task.n_units, task.n_study, _active(task)
    # items, foils and cues depend on (seed, rep) only: every model and schedule sees the same ones
    item_rng, foil_rng, cue_rng, order_rng = (rng_for(task.seed, 1, rep, j) for j in range(4))
    choice_rng = rng_for(task.seed, 2, rep, SCHEDULES.index(task.schedule))
    study = random_patterns(item_rng, n_study, n, active)
    interference = random_patterns(item_rng, max(task.steps), n, active)
    moved = max(1, round(0.2 * active))
    foils = {"novel": random_patterns(foil_rng, n_study, n, active),
             "similar": np.array([move_bits(foil_rng, x, moved) for x in study]),
             "random": foil_rng.random((n_study, n)) < 0.5}
    cues = {"half": np.array([_first_half(x) for x in study]),
            "random50": np.array([partial_cue(cue_rng, x, 0.5) for x in study]),
            "noisy": np.array([move_bits(cue_rng, x, moved) for x in study])}
    exposures = np.where(np.arange(n_study) < n_study // 2, 1, 3)
    for i in order_rng.permutation(np.repeat(np.arange(n_study), exposures)):
        memory.store(study[i], _key(memory, int(i)))
    n_ck = len(task.steps)
    out = {f"afc_{f}": np.full((n_ck, n_study), np.nan) for f in FOILS}
    out |= {f"recall_{c}": np.full((n_ck, n_study), np.nan) for c in CUES}
    out["familiarity"] = np.full((n_ck, n_study), np.nan)
    rehearsals = np.zeros(n_study)
    last_seen = np.zeros(n_study)
    t, at_chance = 0, 0
    for c, step in enumerate(task.steps):
        while t < step:
            memory.store(interference[t], _key(memory, n_study + t))
            t += 1
            if task.schedule != "none" and t % task.rehearse_every == 0:
                i = _rehearse(choice_rng, task, t - last_seen)
                memory.store(study[i], _key(memory, i))
                last_seen[i] = t
                rehearsals[i] += 1
        fam = np.array([memory.recognize(x) for x in study])
        out["familiarity"][c] = fam
        for f in FOILS:
            foil = np.array([memory.recognize(x) for x in foils[f]])
            out[f"afc_{f}"][c] = np.where(fam > foil, 1.0, np.where(fam == foil, 0.5, 0.0))
        for name, cue in cues.items():
            out[f"recall_{name}"][c] = jaccard(np.array([memory.recall(x) for x in cue]), study)
        gone = out["afc_novel"][c].mean() <= 0.55 and out["recall_random50"][c].mean() < 0.1
        at_chance = at_chance + 1 if gone and step > 0 else 0
        if at_chance == 2:
            break
    out["exposures"] = exposures.astype(np.float64)
    out["rehearsals"] = rehearsals
    return out


def _first_half(item: np.ndarray) -> np.ndarray:
    """The item's first ceil(a / 2) active units in index order (the cue 'first half of the item')."""
    on = np.flatnonzero(item)
    cue = np.zeros_like(item)
    cue[on[:(on.size + 1) // 2]] = True
    return cue


def _rehearse(rng: np.random.Generator, task: Task, dt: np.ndarray) -> int:
    """The study item rehearsed now, given the steps since each was last stored."""
    if task.schedule == "uniform":
        p = np.ones_like(dt)
    elif task.schedule == "exponential":
        p = np.exp(-(dt - dt.min()) / task.tau)
    else:
        p = dt ** -task.alpha
    return int(rng.choice(dt.size, p=p / p.sum()))


def _capacity(memory: Memory, task: Task, rep: int) -> dict[str, np.ndarray]:
    n, active = task.n_units, _active(task)
    item_rng, cue_rng, probe_rng = (rng_for(task.seed, 3, rep, round(task.sparsity * 1000), j) for j in range(3))
    items = random_patterns(item_rng, max(task.steps), n, active)
    cues = np.array([partial_cue(cue_rng, x, 0.5) for x in items])
    out = {"jaccard": np.full((len(task.steps), task.n_probe), np.nan),
           "exact": np.full((len(task.steps), task.n_probe), np.nan)}
    stored = 0
    for c, p in enumerate(task.steps):
        while stored < p:
            memory.store(items[stored], _key(memory, stored))
            stored += 1
        probe = np.sort(probe_rng.choice(p, size=min(p, task.n_probe), replace=False))
        recalled = np.array([memory.recall(x) for x in cues[probe]])
        out["jaccard"][c, :probe.size] = jaccard(recalled, items[probe])
        out["exact"][c, :probe.size] = np.all(recalled == items[probe], axis=1)
        if c >= 1 and np.nanmean(out["jaccard"][c]) < 0.1 and np.nanmean(out["jaccard"][c - 1]) < 0.1:
            break
    return out


# -- the run -------------------------------------------------------------------------------------------


def tasks(*, models: tuple[str, ...], full: bool, seed: int, n_reps: int, n_units: int, sparsity: float,
          sparsities: tuple[float, ...], n_study: int, rehearse_every: int, tau: float, alpha: float,
          n_probe: int, backend: str, device: str | None = None, max_items: int | None = None) -> list[Task]:
    out = []
    common = {"seed": seed, "n_reps": n_reps, "n_units": n_units, "n_study": n_study,
              "rehearse_every": rehearse_every, "tau": tau, "alpha": alpha, "n_probe": n_probe, "backend": backend,
              "device": device}
    for m in models:
        cap = CAPS[m][1] if full else CAPS[m][0]
        cap = min(cap, max_items) if max_items is not None else cap
        steps = full_steps(cap) if full else tuple(s for s in QUICK_STEPS if s <= cap)
        for s in SCHEDULES:
            out.append(Task(len(out), m, "retention", s, sparsity, steps, **common))
        cap_steps = tuple(p for p in CAPACITY_STEPS if p <= cap)
        for f in sparsities:
            out.append(Task(len(out), m, "capacity", "", f, cap_steps, **common))
    return out


def run(*, backend: str = "numba", device: str | None = None, seed: int = 0, out: Path | str = "results/forgetting.h5",
        resume: bool = False, progress: bool = True, full: bool = False, scheduler: str | None = None,
        workers: int | None = None,
        models: tuple[str, ...] = tuple(MODELS), n_units: int = 200, sparsity: float = 0.1,
        sparsities: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5), n_reps: int | None = None, n_study: int = 10,
        rehearse_every: int = 4, tau: float = 10.0, alpha: float = 1.0, n_probe: int = 20,
        max_items: int | None = None) -> Outcome:
    """Run the harness (see the module docstring); ``max_items`` caps every model's interference and
    capacity sweep below its own cap (small runs)."""
    out = Path(out)
    for m in models:
        if m not in MODELS:
            ck.fail("models", m, f"names from {sorted(MODELS)}")
    if not models:
        ck.fail("models", models, "at least one model")
    eng = engine("forgetting", backend, device)  # every registered memory runs on the harness's engines
    ck.count("n_units", n_units, minimum=4)
    for f in (sparsity, *sparsities):
        ck.in_range("sparsity", f, 1.0 / n_units, 1.0)
    n_reps = ck.count("n_reps", n_reps) if n_reps is not None else (5 if full else 2)
    ck.count("n_study", n_study, minimum=2)
    ck.count("rehearse_every", rehearse_every)
    ck.positive("tau", tau)
    ck.positive("alpha", alpha)
    ck.count("n_probe", n_probe)
    if max_items is not None:
        ck.count("max_items", max_items)
    todo_all = tasks(models=tuple(models), full=full, seed=seed, n_reps=n_reps, n_units=n_units, sparsity=sparsity,
                     sparsities=tuple(sparsities), n_study=n_study, rehearse_every=rehearse_every, tau=tau,
                     alpha=alpha, n_probe=n_probe, backend=eng["backend"], device=eng["device"], max_items=max_items)
    config = {"experiment": "forgetting", "full": full, "models": list(models), "n_units": n_units,
              "sparsity": sparsity, "sparsities": list(sparsities), "n_reps": n_reps, "n_study": n_study,
              "rehearse_every": rehearse_every, "tau": tau, "alpha": alpha, "n_probe": n_probe, "seed": seed,
              "max_items": max_items,
              "tasks": [{k: v for k, v in asdict(t).items() if k in ("model", "protocol", "schedule", "sparsity",
                                                                      "steps")} for t in todo_all]}
    with ResultsWriter(out, config=config, meta={**eng, "seed": seed}, resume=resume) as writer:
        todo = [t for t in todo_all if t.index not in writer.finished_trials]
        bar = tqdm(total=len(todo), desc="forgetting tasks", disable=not progress)
        for t, result in run_tasks(run_task, todo, workers=workers, scheduler=scheduler):
            units = {"exposures": "presentations", "rehearsals": "presentations"}
            metrics = {k: (v, units.get(k, "")) for k, v in result.items()}
            metrics["steps"] = (np.array(t.steps, dtype=np.float64), "items")
            writer.write_trial(t.index, metrics=metrics,
                               attrs={"model": t.model, "protocol": t.protocol, "condition": t.condition,
                                      "schedule": t.schedule, "sparsity": t.sparsity, "n_reps": t.n_reps})
            bar.update()
        bar.close()
    from neurosim.experiments import forgetting_plots as plots

    res = read_results(out)
    rows, notes = plots.summary(res, todo_all, sparsity)
    files = [out, plots.forgetting_curves(res, todo_all, out.with_name(f"{out.stem}_curves.png")),
             plots.rehearsal(res, todo_all, out.with_name(f"{out.stem}_rehearsal.png")),
             plots.capacity(res, todo_all, out.with_name(f"{out.stem}_capacity.png"))]
    return Outcome(title=f"forgetting: {len(models)} models, N = {n_units} units, sparsity {sparsity:g}, "
                         f"{n_study} study items, {n_reps} repetitions ({'full' if full else 'quick'})",
                   columns=plots.SUMMARY_COLUMNS, rows=rows, files=files, notes=notes)
