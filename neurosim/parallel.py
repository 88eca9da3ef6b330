"""Independent tasks run in parallel: local worker processes, or a Dask cluster given its scheduler address.

Results come back as each task finishes (in no particular order), so the caller can store
every finished task at once (a killed sweep loses only the tasks in flight). ``fn`` and the
tasks must be picklable (module-level functions, plain data). With ``workers <= 1`` and no
scheduler, tasks run in this process, in order (no start-up cost; what tests and small runs use).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from neurosim import _checks as ck

T = TypeVar("T")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_tasks(fn: Callable[[T], Any], tasks: Sequence[T], *, workers: int | None = None,
              scheduler: str | None = None) -> Iterator[tuple[T, Any]]:
    """Yield ``(task, fn(task))`` for every task as it finishes.

    ``scheduler``: the address of a running Dask scheduler (``tcp://host:8786``); the tasks go to
    its workers through ``dask.distributed`` (``pip install neurosim[dask]``). Otherwise ``workers``
    local processes (default: the cores available; 1 runs in this process).
    """
    tasks = list(tasks)
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            ck.fail("scheduler", scheduler, "a Dask scheduler address such as 'tcp://127.0.0.1:8786'")
        yield from _dask(fn, tasks, scheduler)
        return
    workers = default_workers() if workers is None else ck.count("workers", workers)
    if workers == 1 or len(tasks) <= 1:
        for t in tasks:
            yield t, fn(t)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        futures = {pool.submit(fn, t): t for t in tasks}
        try:
            for f in as_completed(futures):
                yield futures[f], f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _dask(fn: Callable[[T], Any], tasks: list[T], scheduler: str) -> Iterator[tuple[T, Any]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - the [dask] extra is part of [all]
        raise ImportError("--scheduler needs dask.distributed: pip install 'neurosim[dask]'") from exc
    with Client(scheduler) as client:
        futures = client.map(fn, tasks, pure=False)
        index = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for f in dask_completed(futures):
            yield index[f.key], f.result()
