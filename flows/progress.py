"""Progress of a flow run: the sqis loggers in the Prefect API, a progress artifact, listeners.

Operators watch a year in the Prefect UI (docs/operations.md "Monitoring and alerts"):

- :func:`to_prefect_api` attaches Prefect's API log handler to the ``sqis`` loggers, so every
  line they log during a flow run — started by the ``sqis`` command or by a deployment —
  is in the run's Logs tab (Prefect attaches it to its own loggers only);
- :class:`Progress` keeps one progress artifact per run (``progress-<flow>-<year>``), updated
  as stages and districts finish, and logs each stage through ``sqis.progress``;
- ``LISTENERS``: callables ``(event, info)`` the ``sqis`` command registers to draw the same
  progress on the console (``started`` with the flow run's UI link, ``stage``, ``done``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.logging.handlers import APILogHandler

from tasks.common import artifact_key

LOGGERS: tuple[str, ...] = ("sqis", "flows", "tasks")
# the flow's own lines (get_run_logger) and Prefect's run lines: their API handler is
# Prefect's, but the ``sqis`` command runs with PREFECT_LOGGING_LEVEL=WARNING for its console
RUN_LOGGERS: tuple[str, ...] = ("prefect.flow_runs", "prefect.task_runs")
log = logging.getLogger("sqis.progress")
LISTENERS: list[Callable[[str, dict[str, Any]], None]] = []


def to_prefect_api() -> None:
    """The ``sqis`` loggers reach the Prefect API of the current flow run (once per process),
    and so do the run's INFO lines whatever the console's level (the ``sqis`` command keeps
    them off its console with a filter, sqis_cli.run._QuietConsole)."""
    for name in LOGGERS:
        lg = logging.getLogger(name)
        if not any(isinstance(h, APILogHandler) for h in lg.handlers):
            lg.addHandler(APILogHandler())
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    for name in RUN_LOGGERS:
        lg = logging.getLogger(name)
        if lg.getEffectiveLevel() > logging.INFO:
            lg.setLevel(logging.INFO)


def ui_link(flow_run_id: Any) -> str | None:
    """The flow run's page in the Prefect UI, when a server is configured."""
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value() or ""
    if not base and os.environ.get("PREFECT_API_URL"):
        base = os.environ["PREFECT_API_URL"].rstrip("/").removesuffix("/api")
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base and flow_run_id else None


def _tell(event: str, info: dict[str, Any]) -> None:
    for listener in list(LISTENERS):
        try:
            listener(event, info)
        except Exception:  # a console's trouble never fails the run
            log.debug("progress listener failed", exc_info=True)


class Progress:
    """One run's progress: ``units`` steps in all, a stage at a time; the artifact is updated
    when the share grows by ``every`` (at most ~50 API calls a run, whatever the districts)."""

    def __init__(
        self, flow: str, year: str, units: int, flow_run_id: Any = None, every: float = 2.0
    ) -> None:
        self.flow, self.year, self.units, self.every = flow, year, max(units, 1), every
        self.done: float = 0
        self.shown = 0.0
        self.stage = "starting"
        self.id: UUID = create_progress_artifact(  # type: ignore[assignment]  # sync context
            0.0,
            key=artifact_key("progress", flow, year),
            description=f"{flow} {year}: starting",
        )
        _tell("started", {"flow": flow, "year": year, "link": ui_link(flow_run_id)})

    def resize(self, units: int) -> None:
        """``units`` in all from now (the districts are known after ingest): the share done
        is kept, so the percentage shown never goes back."""
        units = max(units, 1)
        self.done = min(self.done * units / self.units, units)
        self.units = units

    def percent(self) -> float:
        return round(100.0 * self.done / self.units, 1)

    def step(self, stage: str, what: str = "", n: int = 1) -> None:
        """``n`` units of ``stage`` done (``what``: e.g. the district)."""
        self.done = min(self.done + n, self.units)
        new_stage = stage != self.stage
        self.stage = stage
        pct = self.percent()
        if new_stage or pct - self.shown >= self.every or pct >= 100.0:
            self.shown = pct
            update_progress_artifact(
                self.id, pct, description=f"{self.flow} {self.year}: {stage} {what}".strip()
            )
        if new_stage:
            log.info("%s %s: %s", self.flow, self.year, stage)
        _tell("stage", {"stage": stage, "what": what, "percent": pct})

    def finish(self, summary: str) -> None:
        self.done = self.units
        self.shown = 100.0
        update_progress_artifact(self.id, 100.0, description=f"{self.flow} {self.year}: {summary}")
        log.info("%s %s: done — %s", self.flow, self.year, summary)
        _tell("done", {"summary": summary, "percent": 100.0})
