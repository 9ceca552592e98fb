"""Run bookkeeping: how a run of a results year begins and ends (docs/operations.md
"Restarting after a failure").

- **Begin** (:func:`begin_run`): the run's checks (``sqis.run_control.preflight``), the
  store claimed for this consortium, a ``RUNNING`` run recorded and the year's lock taken
  (:func:`start_run`) — before anything is ingested, so that of two runs of one year the
  one that loses the lock has written nothing.
- **Liveness and takeover**: the lock records its holder's host and pid (columns of
  ``year_locks``) and the run its Prefect flow run; a lock whose holder can no longer be
  running (:func:`lock_holder_is_dead`) is taken over, its run marked ``FAILED``.
- **End**: ``SUCCEEDED`` with the output checksums (``ResultsStore.finish_run``), or
  :func:`fail_run` (what the run changed put back, then ``FAILED``); a run whose
  delivery was refused leaves no row (``ResultsStore.abandon_run``).

The statuses are :class:`sqis.store.models.RunStatus`. No Prefect here: whether a flow
run is alive is asked through ``flow_run_alive``, which the flows layer gives.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis.settings import get_settings
from sqis.store.models import RunStatus
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.methodology import Methodology
    from sqis.pipeline import RunConfig
    from sqis.store import ResultsStore

log = logging.getLogger(__name__)


def lock_holder(store: ResultsStore, year: str) -> dict[str, Any] | None:
    """Who holds ``year``'s lock: run id, the holder's text, host, pid and Prefect flow run
    (``None``: nobody). Host and pid are the lock's own columns (revision ``0007``)."""
    locks = store.locks()
    row = locks[locks["year"] == year]
    if row.empty:
        return None
    rec = row.iloc[0]
    out: dict[str, Any] = {"run_id": int(rec["run_id"]), "holder": str(rec["holder"])}
    if not pd.isna(rec.get("holder_host")) and not pd.isna(rec.get("holder_pid")):
        out.update(host=str(rec["holder_host"]), pid=int(rec["holder_pid"]))
    runs = store.runs(year)
    run = runs[runs["id"] == out["run_id"]]
    if not run.empty and run.iloc[0]["flow_run_id"]:
        out["flow_run_id"] = str(run.iloc[0]["flow_run_id"])
    return out


def lock_holder_is_dead(
    holder: dict[str, Any], *, flow_run_alive: Callable[[str], bool] | None = None
) -> bool:
    """Whether the run holding a year's lock can no longer be running.

    - its Prefect flow run is final (crashed, failed, cancelled) → dead
      (``flow_run_alive`` asks the API; only the flows layer knows Prefect);
    - it was started on this host by a process that no longer exists → dead.
    Anything else (another host, the API unreachable) → alive: the lock stands and
    ``sqis db unlock`` clears it by hand.
    """
    fr = holder.get("flow_run_id")
    if fr and flow_run_alive is not None:
        try:
            if not flow_run_alive(str(fr)):
                return True
        except Exception:  # the API is unreachable: fall back to the process check
            log.debug("could not ask the API about flow run %s", fr)
    host, pid = holder.get("host"), holder.get("pid")
    if host and pid and host == socket.gethostname():
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def start_run(
    store: ResultsStore,
    year: str,
    m: Methodology,
    input_checksums: dict[str, str],
    cfg: RunConfig,
    depends_on: dict[str, Any] | None,
    *,
    flow_run_alive: Callable[[str], bool] | None = None,
    note: str | None = None,
) -> tuple[int, int | None]:
    """Take the year's lock (``ResultsStore.start_run``), taking over one a dead run left.

    Returns ``(run_id, id of the dead run whose lock was taken over, or None)``.
    """
    from sqis.store import YearLocked

    def attempt() -> int:
        return store.start_run(
            year,
            methodology_version=m.version,
            methodology_checksum=m.checksum,
            input_checksums=input_checksums,
            run_by=cfg.run_by or get_settings().run_by,
            depends_on=depends_on,
            flow_run_id=cfg.flow_run_id,
            note=note,
        )

    try:
        return attempt(), None
    except YearLocked:
        holder = lock_holder(store, year)
        if holder is None:  # released in between
            return attempt(), None
        if not lock_holder_is_dead(holder, flow_run_alive=flow_run_alive):
            raise
        log.warning(
            "%s was locked by run %s (%s), which is no longer running: taking the lock over "
            "(that run is marked FAILED)",
            year,
            holder["run_id"],
            holder["holder"],
        )
        store.unlock(year)
        return attempt(), holder["run_id"]


@dataclass
class Began:
    """A run that holds its year's lock: its id, a dead run it took over, the store's id."""

    run_id: int
    took_over: int | None
    store_id: str


def begin_run(
    store: ResultsStore,
    year: SchoolYear,
    m: Methodology,
    cfg: RunConfig,
    *,
    flow_run_alive: Callable[[str], bool] | None = None,
) -> Began:
    """Check the run may go ahead (``sqis.run_control.preflight``: the store's consortium,
    the publication's store, earlier years, the methodology), claim the store for this
    consortium and take the year's lock — before anything is ingested, so that two runs of
    one year never both write: the one that loses the lock has written nothing."""
    from sqis import run_control

    consortium = run_control.consortium_of_key(get_settings().require_pseudonym_key())
    problems = run_control.preflight(
        store,
        year,
        m,
        data_root=cfg.data_root,
        out_root=cfg.out_root or get_settings().out_root,
        store_root=cfg.store_root,
        consortium=consortium,
        force=cfg.force,
    )
    ident = store.claim(consortium)
    run_id, old = start_run(
        store,
        year,
        m,
        {},
        cfg,
        None,
        flow_run_alive=flow_run_alive,
        note=run_control.forced_note(cfg.force, problems),
    )
    return Began(run_id, old, str(ident["store_id"]))


def fail_run(store: ResultsStore, run_id: int, undo: Any) -> None:
    """A run that failed after ingest: put back what it changed (``run_control.Undo``),
    then mark it FAILED (releasing the lock). Errors here are logged, not raised."""
    try:
        undo(store, run_id)
    except Exception as e:  # the original error matters more
        log.error("run %s: could not put back what it changed: %s", run_id, e)
    finish_failed(store, run_id)


def depends_on_for(store: ResultsStore, year: SchoolYear) -> dict[str, Any]:
    """The earlier year this year's run reads from the store (its designations, index, partners).

    ``{year−1: {"run_id", "checksum"}}`` from ``ResultsStore.dependency``; empty when
    last year was never computed.
    """
    y1 = year.previous
    dep = store.dependency(y1)
    return {y1: dep} if dep else {}


def finish_failed(store: ResultsStore, run_id: int) -> None:
    """Mark the run FAILED (releasing the lock); a second failure here is only logged."""
    try:
        store.finish_run(run_id, RunStatus.FAILED)
    except Exception as e:  # the original error matters more
        log.error("could not mark run %s FAILED: %s", run_id, e)
