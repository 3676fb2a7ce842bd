"""Spread per-file work (validate, test) over the machine's cores.

Rules are independent of each other: loading, checking and running one rule
needs nothing from another. A library of a thousand rules therefore runs on
every core, in worker processes (the work is CPU-bound Python), and the results
come back in input order so output and exit codes do not depend on scheduling.
Small runs stay in-process: starting workers costs more than it saves.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from dac.errors import DacError, InternalError

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many files a run stays in one process.
MIN_PARALLEL_ITEMS = 64


def default_jobs() -> int:
    """Cores this process may use (the CPU affinity mask, as containers and CI set it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(work: Callable[[Item], Result], items: Sequence[Item], jobs: int | None = None,
                min_items: int = MIN_PARALLEL_ITEMS, warm: Callable[[], object] | None = None) -> Iterator[Result]:
    """``work(item)`` for each item, in order; over ``jobs`` processes when there are enough items.

    ``work`` must be a module-level function and its results picklable. Workers are
    forked on Linux (no re-import), else spawned; where no worker pool can be made,
    the work runs in-process. ``warm`` runs first in this process, so forked workers
    inherit what it loads (catalogs, compiled schemas) instead of loading it again.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    work = functools.partial(_guarded, work)
    if jobs == 1 or len(items) < min_items:
        yield from map(work, items)
        return
    if warm is not None:
        warm()
    # fork shares the loaded modules, catalogs and schemas for free; elsewhere than Linux it is
    # unsafe (macOS system libraries), so workers start fresh there
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    chunk = max(1, min(32, len(items) // (jobs * 8)))
    try:
        pool = context.Pool(jobs)
    except OSError:  # no process semaphores here (some sandboxes lack /dev/shm): the same work in-process
        yield from map(work, items)
        return
    with pool:
        yield from pool.imap(work, items, chunksize=chunk)


def _guarded(work: Callable[[Item], Result], item: Item) -> Result:
    """``work(item)``; an unexpected exception becomes an InternalError naming the item.

    Without this a bug met in a worker surfaces as a bare ``KeyError`` with no hint of
    which of a thousand files triggered it.
    """
    try:
        return work(item)
    except (DacError, InternalError):
        raise
    except Exception as exc:  # noqa: BLE001 - reported as a bug in dac, with the input named
        if os.environ.get("DAC_DEBUG"):
            raise
        raise InternalError(str(item), f"{type(exc).__name__}: {exc}") from None
