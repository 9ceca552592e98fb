"""Rendering in worker processes: the staff reports of each district beside the public edition.

Rendering HTML is pure Python (Jinja) and holds the interpreter's lock, so threads cannot
share it out; processes can. While the run's own process builds the public edition, each
district's staff reports are rendered by one of ``SQIS_RENDER_WORKERS`` worker processes
(by default one per core), from that district's frames only. Both paths of a year use
it: ``sqis.pipeline.PlainSteps`` and the annual flow's district report tasks on the thread
pool (on Dask, each task renders where it runs: Dask has the processes already).

The output is the same bytes whichever process renders (``tests/test_flows.py`` holds
the flow's, rendered by two workers, to ``run_year``'s in one process). Workers are
started with ``spawn`` (never ``fork``: the run's process has threads — Prefect's,
Arrow's — whose locks a forked child would inherit held), when the run reads its report
frames (``start``), so a year without reports starts none; they import the renderers
while the frames are read, receive one district's frames and the methodology, and send
back the files. ``RenderWorkers`` is a context manager: leaving it (a failed step
included) cancels jobs not yet started and waits for the workers to end; a run killed
outright takes its workers with it: each worker watches its parent and ends within a
second of it (a worker busy with a job would otherwise finish the job first).

A spawned worker imports the run's main module again (as ``multiprocessing`` does for any
spawned process, and as the PDF workers of ``sqis.reports.pdf`` always have): a script
that runs a year with workers keeps its top level under ``if __name__ == "__main__":``.
``sqis``, the flows and ``python -m`` entry points do; ``SQIS_RENDER_WORKERS=1`` renders
in the run's own process.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class RenderWorkers:
    """Up to ``workers`` processes for rendering jobs; with ``workers`` ≤ 1 each job runs
    in the calling thread (``submit`` returns a finished future)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """``fn(*args, **kwargs)`` in a worker (``fn`` a module-level function, its
        arguments picklable); exceptions come back through the future."""
        if self.workers <= 1:
            done: Future[T] = Future()
            try:
                done.set_result(fn(*args, **kwargs))
            except Exception as exc:  # .result() raises it, as a worker's; Ctrl-C stops at once
                done.set_exception(exc)
            return done
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_end_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool.submit(fn, *args, **kwargs)

    def start(self) -> None:
        """Start the workers now, each importing the report renderers, so that they are
        ready when the first district's reports are (the run reads its report frames
        meanwhile). Nothing with one worker."""
        if self.workers > 1:
            for _ in range(self.workers):  # a submit with no idle worker starts one
                self.submit(importlib.import_module, "sqis.reports.render")

    def close(self) -> None:
        """Cancel the jobs not started; wait for the workers to end."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> RenderWorkers:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# how often a worker checks that the run that started it is alive (seconds)
_WATCH_S = 0.5


def _end_with_parent(parent: int) -> None:
    """In each worker, at start: a watcher thread that ends the worker at once when its
    parent is gone (a killed run leaves no worker rendering for nobody)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="sqis-parent-watch", daemon=True).start()
