"""What the benchmark measures, and how: wall time, CPU time, peak memory, Prefect task runs.

- **Wall time**: ``time.time()`` (the same clock as Prefect's task-run timestamps, so the
  flow's stages can be cut from the task runs after the fact).
- **CPU time**: user + system seconds of this process, of its children already reaped
  (``psutil``'s ``children_user``/``children_system``) and of every child still running
  (the ephemeral Prefect server, WeasyPrint pool workers). A stage's CPU time is the
  difference at its two ends; where a stage's ends are known only afterwards (the flow),
  the cumulative CPU time is interpolated between the two nearest samples.
- **Peak memory**: the resident set size (RSS) sampled every ``interval`` seconds by a
  thread; a stage's peak is the largest sample inside it (so a spike shorter than the
  interval can be missed). Each step runs in a fresh process, so
  ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` also gives the exact high-water mark of
  the whole step, reported beside the sampled figures. ``rss`` is this process;
  ``tree_rss`` adds its live children (for the flow: the Prefect server).
- **Task runs**: read from the Prefect API after the flow (``task_runs_of``) and mapped
  to the stages of ``sqis.pipeline.run_year`` by their run names (``TASK_STAGE``).
"""

from __future__ import annotations

import bisect
import resource
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from sqis.year_stages import STAGE_NAMES

MIB = 1024 * 1024

# The stages of one year, as sqis.pipeline.run_year reports them (on_stage) and in order:
# sqis.year_stages, the one definition the annual flow walks too.
STAGES: tuple[str, ...] = STAGE_NAMES

# Task-run name prefixes of flows/annual_cycle.py → the run_year stage they belong to.
# (start-run and prior-results open the index stage in run_year too.)
TASK_STAGE: tuple[tuple[str, str], ...] = (
    ("start-run-", "ingest"),  # the run's checks and the year's lock come before ingest
    ("ingest-", "ingest"),
    ("record-inputs-", "ingest"),
    ("abandon-run-", "ingest"),
    ("prior-results-", "compute_index"),
    ("growth-", "compute_index"),
    ("index-", "compute_index"),
    ("educators-", "educators"),
    ("designate-", "designate"),
    ("support-", "designate"),  # goal support partners and partnership flags
    ("communities-", "communities"),
    ("store-results-", "store"),
    ("report-frames-", "reports"),
    ("exports-", "reports"),
    ("educator-files-", "reports"),  # educator-actions.csv and the staff educator pages
    ("reports-", "reports"),
    ("calendars-", "reports"),
    ("public-edition-", "reports"),  # the public edition (sqis.disclosure, sqis.reports.public)
    ("oversight-", "reports"),
    ("publish-", "publish"),
    ("finish-run-", "publish"),
    ("fail-run-", "publish"),
)


def stage_of_task(name: str) -> str | None:
    """The run_year stage a task run of the annual cycle belongs to (``None``: unknown)."""
    for prefix, stage in TASK_STAGE:
        if name.startswith(prefix):
            return stage
    return None


@dataclass
class StageRecord:
    """One stage of one run: what it cost."""

    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    peak_tree_rss_mib: float
    task_runs: int | None = None
    task_seconds: float | None = None  # Σ of the stage's task-run durations (flow only)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sample:
    t: float  # time.time()
    cpu: float  # cumulative CPU seconds, process + children
    rss: int  # bytes, this process
    tree_rss: int  # bytes, this process + live children


def _cpu_and_rss(proc: psutil.Process, kids: list[psutil.Process]) -> tuple[float, int, int]:
    ct = proc.cpu_times()
    cpu = ct.user + ct.system + ct.children_user + ct.children_system
    rss = proc.memory_info().rss
    tree = rss
    for child in kids:
        try:
            cc = child.cpu_times()
            cpu += cc.user + cc.system
            tree += child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return cpu, rss, tree


class Sampler:
    """A thread sampling this process's CPU time and RSS every ``interval`` seconds.

    Use as a context manager; ``mark()`` takes a sample at once (a stage boundary).
    """

    def __init__(self, interval: float = 0.1, children_every: float = 2.0) -> None:
        self.interval = interval
        self.samples: list[Sample] = []
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        # finding children scans /proc: done every ``children_every`` s, not every sample
        self._children_every = children_every
        self._kids: list[psutil.Process] = []
        self._kids_at = float("-inf")

    def _children(self) -> list[psutil.Process]:
        now = time.monotonic()
        if now - self._kids_at >= self._children_every:
            try:
                self._kids = self._proc.children(recursive=True)
            except psutil.Error:
                self._kids = []
            self._kids_at = now
        return self._kids

    def mark(self) -> Sample:
        cpu, rss, tree = _cpu_and_rss(self._proc, self._children())
        s = Sample(time.time(), cpu, rss, tree)
        with self._lock:
            self.samples.append(s)
        return s

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.mark()
            except psutil.Error:  # a child vanished mid-read: the next sample will do
                continue

    def __enter__(self) -> Sampler:
        self.mark()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.mark()

    # ---- reading the samples ------------------------------------------------------
    def _sorted(self) -> list[Sample]:
        with self._lock:
            return sorted(self.samples, key=lambda s: s.t)

    def cpu_at(self, t: float) -> float:
        """Cumulative CPU seconds at time ``t``, interpolated between the nearest samples."""
        ss = self._sorted()
        ts = [s.t for s in ss]
        i = bisect.bisect_left(ts, t)
        if i <= 0:
            return ss[0].cpu
        if i >= len(ss):
            return ss[-1].cpu
        a, b = ss[i - 1], ss[i]
        if b.t == a.t:
            return b.cpu
        return a.cpu + (b.cpu - a.cpu) * (t - a.t) / (b.t - a.t)

    def peaks(self, t0: float, t1: float) -> tuple[int, int]:
        """The largest RSS and tree RSS sampled in ``[t0, t1]`` (bytes).

        The samples just before ``t0`` and just after ``t1`` count too: memory held at a
        boundary belongs to both stages, and a short stage may fall between two samples.
        """
        ss = self._sorted()
        ts = [s.t for s in ss]
        lo = max(0, bisect.bisect_left(ts, t0) - 1)
        hi = min(len(ss), bisect.bisect_right(ts, t1) + 1)
        inside = ss[lo:hi] or ss[-1:]
        return max(s.rss for s in inside), max(s.tree_rss for s in inside)

    def record(
        self,
        stage: str,
        t0: float,
        t1: float,
        *,
        task_runs: int | None = None,
        task_seconds: float | None = None,
    ) -> StageRecord:
        rss, tree = self.peaks(t0, t1)
        return StageRecord(
            stage=stage,
            wall_s=round(t1 - t0, 3),
            cpu_s=round(self.cpu_at(t1) - self.cpu_at(t0), 3),
            peak_rss_mib=round(rss / MIB, 1),
            peak_tree_rss_mib=round(tree / MIB, 1),
            task_runs=task_runs,
            task_seconds=None if task_seconds is None else round(task_seconds, 3),
        )


def max_rss_mib() -> float:
    """The exact RSS high-water mark of this process so far (``ru_maxrss``, KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class StageClock:
    """Stage boundaries of a run that reports its stages as they end (``run_year``'s
    ``on_stage``): ``start()`` once, ``end(name)`` after each stage."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler
        self.bounds: list[tuple[str, float, float]] = []
        self._t: float | None = None

    def start(self) -> float:
        self._t = self.sampler.mark().t
        return self._t

    def end(self, name: str, info: dict[str, Any] | None = None) -> None:
        if self._t is None:
            raise RuntimeError("StageClock.end before start")
        t = self.sampler.mark().t
        self.bounds.append((name, self._t, t))
        self._t = t

    def records(self) -> list[StageRecord]:
        return [self.sampler.record(n, a, b) for n, a, b in self.bounds]


# ---- the flow's stages, from its task runs -------------------------------------------
@dataclass
class TaskSpan:
    """What the benchmark needs of a Prefect task run."""

    name: str
    start: float  # epoch seconds
    end: float
    state: str = "COMPLETED"
    tags: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def union_seconds(spans: Iterable[tuple[float, float]]) -> float:
    """Length of the union of intervals: time when at least one of them was running."""
    total = 0.0
    cur_a = cur_b = None
    for a, b in sorted(spans):
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a  # type: ignore[operator]
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a  # type: ignore[operator]
    return total


def flow_stage_bounds(
    spans: Sequence[TaskSpan], t_call: float, t_return: float
) -> list[tuple[str, float, float]]:
    """Cut ``[t_call, t_return]`` into the run_year stages from the flow's task runs.

    A stage runs from the first start of its task runs to the first start of the next
    stage's (the flow's own code between tasks — combining district frames, artifacts —
    counts with the stage before it); the first stage starts at the call (creating the
    flow run counts with ingest), the last ends at the return. Stages without a task run
    are left out. The walls therefore add up to the flow's wall time.
    """
    firsts: dict[str, float] = {}
    for s in spans:
        st = stage_of_task(s.name)
        if st is not None:
            firsts[st] = min(firsts.get(st, s.start), s.start)
    present = [st for st in STAGES if st in firsts]
    out = []
    for i, st in enumerate(present):
        a = t_call if i == 0 else firsts[st]
        b = firsts[present[i + 1]] if i + 1 < len(present) else t_return
        out.append((st, a, max(a, b)))
    return out


def flow_stage_records(
    sampler: Sampler, spans: Sequence[TaskSpan], t_call: float, t_return: float
) -> list[StageRecord]:
    """Per-stage records of a flow run: walls cut by ``flow_stage_bounds``, task-run
    counts and summed task-run durations per stage."""
    counts: dict[str, int] = {}
    secs: dict[str, float] = {}
    for s in spans:
        st = stage_of_task(s.name)
        if st is not None:
            counts[st] = counts.get(st, 0) + 1
            secs[st] = secs.get(st, 0.0) + s.seconds
    return [
        sampler.record(st, a, b, task_runs=counts.get(st, 0), task_seconds=secs.get(st, 0.0))
        for st, a, b in flow_stage_bounds(spans, t_call, t_return)
    ]


def task_runs_of(flow_run_id: Any, *, settle_seconds: float = 60.0) -> list[TaskSpan]:
    """Every task run of a flow run, from the Prefect API (paged).

    Prefect 3 records task-run states through events, a moment after they happen: read
    until every run has an end time and the count stops changing (or ``settle_seconds``).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + settle_seconds
    last_n = -1
    spans: list[TaskSpan] = []
    while True:
        runs: list[Any] = []
        with get_client(sync_client=True) as c:
            while True:
                page = c.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                    limit=200,
                    offset=len(runs),
                )
                runs.extend(page)
                if len(page) < 200:
                    break
        done = all(r.end_time is not None and r.start_time is not None for r in runs)
        spans = [
            TaskSpan(
                name=r.name,
                start=r.start_time.timestamp() if r.start_time else 0.0,
                end=(r.end_time or r.start_time).timestamp() if r.start_time else 0.0,
                state=r.state.type.value if r.state else "UNKNOWN",
                tags=list(r.tags or []),
            )
            for r in runs
        ]
        if (done and len(runs) == last_n) or time.monotonic() > deadline:
            return spans
        last_n = len(runs)
        time.sleep(1.0)
