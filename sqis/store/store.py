"""The results store: every year's results, runs, plans and checkpoints, behind one API.

``ResultsStore(url)`` talks to SQLite (the default, ``sqlite:///var/sqis.db``) or
PostgreSQL (``postgresql+psycopg://…``) through SQLAlchemy; the schema is managed by
Alembic (``sqis/migrations``), applied with ``sqis db upgrade``. The rules:

- **one run per year at a time**: ``start_run`` takes the year's lock (a row of
  ``year_locks``); a second run of the same year is refused with ``YearLocked``
  naming the holder; other years proceed. ``finish_run`` releases it;
  ``unlock`` clears a stale lock left by a run that died.
- **a year is replaced whole**: ``replace_year`` deletes that year's rows of each
  given table and bulk-inserts the new ones in ONE transaction, so a failure
  leaves the previous results, and nothing is ever duplicated.
- **provenance**: every run records its methodology version and checksum, input
  checksums, output checksums (files and a content digest per table) and the
  earlier years it read (``depends_on``): ``stale_years`` names the years whose
  inputs were re-computed with different results after they ran.

Why one module over 500 lines: ``ResultsStore`` is the store's one API. Every read
and write goes through it so that the year's lock, the one-transaction replacement and the
provenance records sit in one class; the tables are in ``sqis.store.models``, the bulk
insert in ``sqis.store.bulk``, run bookkeeping in ``sqis.runs``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from sqis import years
from sqis.errors import REFUSED, USAGE, SqisError
from sqis.store import bulk
from sqis.store.models import TABLES, YEAR_TABLES, RunStatus

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
RUN_STATUSES = tuple(RunStatus)
# how long a SQLite writer waits for another (runs of different years write in turn)
SQLITE_BUSY_TIMEOUT_S = 120
# an identifier for PostgreSQL's advisory lock around migrations (any fixed bigint)
MIGRATION_LOCK_ID = int.from_bytes(hashlib.sha256(b"sqis migrations").digest()[:7], "big")


class StoreError(RuntimeError, SqisError):
    """A results-store operation that cannot be done; the message says why and what to do."""

    exit_code = USAGE


class StoreUnreachable(StoreError):
    """The database cannot be reached (wrong URL, server down, no permission)."""


class SchemaOutdated(StoreError):
    """The database's schema is not the one this sqis needs: run ``sqis db upgrade``."""


class YearLocked(StoreError):
    """Another run holds the year's lock."""


class PlanStateError(StoreError):
    """A plan operation not allowed in the plan's current state."""

    exit_code = REFUSED


def _now() -> datetime:
    return datetime.now(UTC)


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def database_url(text: str) -> sa.URL:
    """A results store URL, parsed; anything but SQLite or PostgreSQL is a ``StoreError``
    naming the URL (password masked), never a traceback."""
    try:
        u = sa.make_url(text)
    except sa.exc.ArgumentError:
        raise StoreError(
            f"{text.split('@')[-1]!r} is not a database URL: use sqlite:///path/sqis.db or "
            "postgresql+psycopg://user@host/db"
        ) from None
    if u.get_backend_name() not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"{u.render_as_string(hide_password=True)}: sqis keeps its results in SQLite or "
            f"PostgreSQL, not {u.get_backend_name()}"
        )
    return u


def default_url() -> str:
    from sqis.settings import get_settings

    return get_settings().database_url


def alembic_config(url: str, script_location: str | Path | None = None) -> Config:
    """Alembic's configuration from code: no ini file, scripts in ``sqis/migrations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class ResultsStore:
    """The results store at ``url`` (default: ``SQIS_DATABASE_URL``)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        script_location: str | Path | None = None,
        create: bool = True,
    ):
        """``create=False``: a SQLite file that does not exist is refused (``StoreError``)
        rather than made, for commands that only read (a mistyped path makes nothing)."""
        self.url = url or default_url()
        self._script_location = script_location
        u = database_url(self.url)
        kwargs: dict[str, Any] = {}
        if u.get_backend_name() == "sqlite":
            if u.database and u.database != ":memory:":
                if not create and not Path(u.database).is_file():
                    raise StoreError(
                        f"there is no results store at {u.database}: check the path (a new "
                        "store is made by `sqis db upgrade` or the first `sqis run`)"
                    )
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        else:
            kwargs["pool_pre_ping"] = True
            if u.get_backend_name() == "postgresql":
                kwargs["connect_args"] = {"connect_timeout": 10}
        try:
            self.engine = sa.create_engine(u, **kwargs)
        except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as e:
            raise StoreError(
                f"{u.render_as_string(hide_password=True)}: not a database sqis can use "
                f"({type(e).__name__}): use SQLite (sqlite:///path/sqis.db) or PostgreSQL "
                "(postgresql+psycopg://user@host/db)"
            ) from None

    # ---- connection and schema --------------------------------------------------
    @property
    def safe_url(self) -> str:
        """The URL with any password masked (for messages and logs)."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    def ensure_reachable(self) -> None:
        """Raise ``StoreUnreachable`` unless the database answers a trivial query."""
        try:
            with self.engine.connect() as c:
                c.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as e:
            reason = (
                str(getattr(e, "orig", e)).strip().splitlines()[0]
                if str(getattr(e, "orig", e)).strip()
                else type(e).__name__
            )
            raise StoreUnreachable(
                f"the results store at {self.safe_url} cannot be reached ({reason}); check "
                "SQIS_DATABASE_URL and that the database server is running"
            ) from None

    def _config(self) -> Config:
        return alembic_config(self.url, self._script_location)

    def head_revision(self) -> str:
        head = ScriptDirectory.from_config(self._config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        """The revision the database is at (``None``: no sqis schema yet)."""
        self.ensure_reachable()
        with self.engine.connect() as c:
            return MigrationContext.configure(c).get_current_revision()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (``sqis db upgrade``)."""
        self.ensure_reachable()
        cfg = self._config()
        with self.engine.begin() as c:
            if c.dialect.name == "postgresql":
                # two runs starting at once on a fresh database: the second waits for the
                # first's (transactional) migration, then finds nothing to do
                c.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_ID})
            cfg.attributes["connection"] = c
            command.upgrade(cfg, revision)

    def downgrade(self, revision: str) -> None:
        cfg = self._config()
        with self.engine.begin() as c:
            cfg.attributes["connection"] = c
            command.downgrade(cfg, revision)

    def check_schema(self) -> None:
        """Raise ``SchemaOutdated`` unless the database is at this sqis's head revision."""
        current = self.current_revision()
        head = self.head_revision()
        if current == head:
            return
        known = {s.revision for s in ScriptDirectory.from_config(self._config()).walk_revisions()}
        if current is not None and current not in known:
            raise SchemaOutdated(
                f"the results store is at revision {current}, which this sqis does not know "
                f"(it needs {head}): it was written by a newer sqis; upgrade sqis"
            )
        raise SchemaOutdated(
            f"the results store is at revision {current or 'none (empty)'}, this sqis needs "
            f"{head}: run `sqis db upgrade`"
        )

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as c:
            yield c

    # ---- runs and the year lock -------------------------------------------------
    def start_run(
        self,
        year: str,
        methodology_version: str,
        methodology_checksum: str,
        input_checksums: dict[str, str],
        run_by: str,
        depends_on: dict[str, Any] | None = None,
        flow_run_id: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record a RUNNING run of ``year`` and take the year's lock; returns the run id.

        ``note``: why the run was forced past a refusal (``--force``). Raises
        ``YearLocked`` when another run of the same year holds the lock.
        """
        years.start_of(year)
        runs, locks = TABLES["runs"], TABLES["year_locks"]
        now = _now()
        try:
            with self._begin() as c:
                run_id = c.execute(
                    sa.insert(runs)
                    .values(
                        year=year,
                        methodology_version=methodology_version,
                        methodology_checksum=methodology_checksum,
                        input_checksums=dict(input_checksums or {}),
                        output_checksums=None,
                        status="RUNNING",
                        started_at=now,
                        run_by=run_by,
                        flow_run_id=str(flow_run_id) if flow_run_id else None,
                        depends_on=depends_on or None,
                        note=note[:500] if note else None,
                    )
                    .returning(runs.c.id)
                ).scalar_one()
                host, pid = socket.gethostname(), os.getpid()
                c.execute(
                    sa.insert(locks).values(
                        year=year,
                        run_id=run_id,
                        acquired_at=now,
                        holder=f"{run_by} on {host} (pid {pid})",
                        holder_host=host,
                        holder_pid=pid,
                    )
                )
        except sa.exc.IntegrityError:
            raise self._locked(year) from None
        return int(run_id)

    def record_inputs(
        self, run_id: int, input_checksums: dict[str, str], depends_on: dict[str, Any] | None
    ) -> None:
        """What a RUNNING run read, once it has read it (the lock is taken before ingest)."""
        runs = TABLES["runs"]
        with self._begin() as c:
            done = c.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.status == "RUNNING")
                .values(input_checksums=dict(input_checksums), depends_on=depends_on or None)
            )
            if done.rowcount != 1:
                raise StoreError(f"run {run_id} is not running: its inputs cannot be recorded")

    def abandon_run(self, run_id: int) -> None:
        """Forget a run that stored nothing (its delivery was refused): its row and its lock
        go, so refused input leaves the database as it was."""
        runs, locks = TABLES["runs"], TABLES["year_locks"]
        with self._begin() as c:
            c.execute(sa.delete(locks).where(locks.c.run_id == run_id))
            c.execute(sa.delete(runs).where(runs.c.id == run_id, runs.c.status == "RUNNING"))

    # ---- identity ---------------------------------------------------------------
    def identity(self) -> dict[str, Any] | None:
        """``{"store_id", "consortium", "created_at"}``, or None before the first run."""
        t = TABLES["store_identity"]
        with self.engine.connect() as c:
            row = c.execute(sa.select(t).order_by(t.c.id)).mappings().first()
        return dict(row) if row else None

    def claim(self, consortium: str) -> dict[str, Any]:
        """The store's identity, written now if it has none (the first run claims it)."""
        import uuid

        t = TABLES["store_identity"]
        with self._begin() as c:
            row = c.execute(sa.select(t).order_by(t.c.id)).mappings().first()
            if row is None:
                values = {
                    "store_id": str(uuid.uuid4()),
                    "consortium": consortium,
                    "created_at": _now(),
                }
                c.execute(sa.insert(t).values(**values))
                return values
        return dict(row)

    def _locked(self, year: str) -> YearLocked:
        locks = TABLES["year_locks"]
        with self.engine.connect() as c:
            row = c.execute(sa.select(locks).where(locks.c.year == year)).mappings().first()
        who = (
            f"run {row['run_id']} ({row['holder']}, since {row['acquired_at']:%Y-%m-%d %H:%M} UTC)"
            if row
            else "another run"
        )
        return YearLocked(
            f"{year} is being computed by {who}: wait for it to finish. If that run died, "
            f"clear the stale lock with `sqis db unlock --year {year}`"
        )

    def finish_run(
        self, run_id: int, status: str, output_checksums: dict[str, str] | None = None
    ) -> None:
        """Mark a run SUCCEEDED or FAILED, add its output checksums, release the year's lock."""
        if status not in ("SUCCEEDED", "FAILED"):
            raise StoreError(f"a run finishes SUCCEEDED or FAILED, not {status!r}")
        runs, locks = TABLES["runs"], TABLES["year_locks"]
        with self._begin() as c:
            row = c.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
            if row is None:
                raise StoreError(f"there is no run {run_id}")
            if row["status"] != "RUNNING":
                raise StoreError(
                    f"run {run_id} has already finished ({row['status']}); was its lock cleared "
                    "with `sqis db unlock`?"
                )
            merged = dict(row["output_checksums"] or {})
            merged.update(output_checksums or {})
            c.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, finished_at=_now(), output_checksums=merged or None)
            )
            c.execute(sa.delete(locks).where(locks.c.run_id == run_id))

    def unlock(self, year: str) -> int | None:
        """Clear the year's lock (a run that died); its run is marked FAILED. Returns its id."""
        runs, locks = TABLES["runs"], TABLES["year_locks"]
        with self._begin() as c:
            run_id = c.execute(sa.select(locks.c.run_id).where(locks.c.year == year)).scalar()
            if run_id is None:
                return None
            c.execute(sa.delete(locks).where(locks.c.year == year))
            c.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.status == "RUNNING")
                .values(status="FAILED", finished_at=_now())
            )
        return int(run_id)

    def runs(self, year: str | None = None) -> pd.DataFrame:
        """Every run (of ``year``), oldest first."""
        runs = TABLES["runs"]
        q = sa.select(runs).order_by(runs.c.id)
        if year is not None:
            q = q.where(runs.c.year == year)
        with self.engine.connect() as c:
            rows = c.execute(q).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[col.name for col in runs.columns])

    def locks(self) -> pd.DataFrame:
        t = TABLES["year_locks"]
        with self.engine.connect() as c:
            rows = c.execute(sa.select(t).order_by(t.c.year)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[col.name for col in t.columns])

    # ---- results ----------------------------------------------------------------
    def replace_year(
        self,
        run_id: int,
        year: str,
        tables: dict[str, pd.DataFrame],
        *,
        restore: bool = False,
    ) -> dict[str, str]:
        """Replace ``year``'s rows of each given table by the frames, in ONE transaction.

        The run must be RUNNING and hold the year's lock. Returns a content digest per
        table (also recorded on the run as ``table:<name>`` output checksums).
        ``restore``: the frames are rows read back before the run (``sqis.run_control.Undo``)
        and keep the run ids they carry.
        """
        unknown = set(tables) - set(YEAR_TABLES)
        if unknown:
            raise StoreError(
                f"replace_year: unknown tables {sorted(unknown)}; known: {', '.join(YEAR_TABLES)}"
            )
        prepared: dict[str, pd.DataFrame] = {}
        digests: dict[str, str] = {}
        for name in YEAR_TABLES:  # a fixed order: the same on every backend
            if name not in tables:
                continue
            t = TABLES[name]
            frame = tables[name].assign(year=year)
            if "run_id" in t.c and not (restore and "run_id" in frame.columns):
                frame = frame.assign(run_id=run_id)
            prepared[name] = bulk.normalise(t, frame)
            digests[name] = bulk.digest(t, prepared[name])
        runs = TABLES["runs"]
        with self._begin() as c:
            self._assert_holds(c, run_id, year)
            for name, frame in prepared.items():
                t = TABLES[name]
                c.execute(sa.delete(t).where(t.c.year == year))
                bulk.insert_frame(c, t, frame)
            row = c.execute(sa.select(runs.c.output_checksums).where(runs.c.id == run_id)).scalar()
            merged = dict(row or {})
            merged.update({f"table:{k}": v for k, v in digests.items()})
            c.execute(sa.update(runs).where(runs.c.id == run_id).values(output_checksums=merged))
        return digests

    def _assert_holds(self, c: sa.Connection, run_id: int, year: str) -> None:
        runs, locks = TABLES["runs"], TABLES["year_locks"]
        run = c.execute(sa.select(runs.c.year, runs.c.status).where(runs.c.id == run_id)).first()
        if run is None:
            raise StoreError(f"there is no run {run_id}")
        if run.year != year:
            raise StoreError(f"run {run_id} computes {run.year}, not {year}")
        if run.status != "RUNNING":
            raise StoreError(f"run {run_id} has already finished ({run.status})")
        holder = c.execute(
            sa.select(locks.c.run_id).where(locks.c.year == year).with_for_update()
        ).scalar()
        if holder != run_id:
            raise YearLocked(
                f"run {run_id} does not hold the lock of {year} "
                f"(held by {holder or 'nobody'}): its results are not stored"
            )

    def write_schools(self, year: str, schools: pd.DataFrame) -> None:
        """Replace the year's schools (the delivered schools file), in one transaction."""
        t = TABLES["schools"]
        frame = bulk.normalise(t, schools.assign(year=year))
        with self._begin() as c:
            c.execute(sa.delete(t).where(t.c.year == year))
            bulk.insert_frame(c, t, frame)

    def read(
        self,
        table: str,
        years: str | list[str] | None = None,
        school_codes: Collection[str] | None = None,
    ) -> pd.DataFrame:
        """A table's rows (of the given years and schools), key-sorted, typed as the frames are.

        Flags are ``bool`` (nullable ``boolean`` where the column is nullable), whole
        numbers ``Int64``, text ``str``; missing values are NA. ``school_codes`` filters in
        the database (a district's reports read only its schools' rows).
        """
        if table not in TABLES:
            raise StoreError(f"no table {table!r}; known: {', '.join(sorted(TABLES))}")
        t = TABLES[table]
        q = sa.select(t)
        if years is not None and "year" in t.c:
            ys = [years] if isinstance(years, str) else list(years)
            q = q.where(t.c.year.in_(ys))
        if school_codes is not None and "school_code" in t.c:
            q = q.where(t.c.school_code.in_(sorted(school_codes)))
        q = q.order_by(*t.primary_key.columns)
        plain = all(
            isinstance(col.type, sa.String | sa.Text | sa.Integer | sa.Float | sa.Boolean)
            for col in t.columns
        )
        with self.engine.connect() as c:
            if plain:  # no per-value conversion needed: the driver's rows as they come
                sql = str(q.compile(dialect=c.dialect, compile_kwargs={"literal_binds": True}))
                cur = c.connection.dbapi_connection.cursor()
                try:
                    cur.execute(sql)
                    columns = [d[0] for d in cur.description]
                    rows = cur.fetchall()
                finally:
                    cur.close()
            else:
                result = c.execute(q)
                columns = list(result.keys())
                rows = [tuple(r) for r in result]
            frame = pd.DataFrame.from_records(rows, columns=columns)
        return _typed(t, frame)

    # ---- provenance -------------------------------------------------------------
    def _latest_succeeded(self) -> dict[str, dict[str, Any]]:
        runs = self.runs()
        out: dict[str, dict[str, Any]] = {}
        if runs.empty:
            return out
        ok = runs[runs["status"] == "SUCCEEDED"].sort_values("id")
        for rec in ok.to_dict("records"):  # few rows: one per run
            out[rec["year"]] = rec
        return out

    @staticmethod
    def _content_checksum(output_checksums: dict[str, str] | None) -> str:
        sums = dict(output_checksums or {})
        tables = {k: v for k, v in sums.items() if k.startswith("table:")}
        body = json.dumps(tables or sums, sort_keys=True)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def dependency(self, year: str) -> dict[str, Any] | None:
        """``{"run_id", "checksum"}`` of ``year``'s latest successful run, for ``depends_on``.

        The checksum digests the stored results' content (not the run id), so re-running
        a year that gives the same results leaves the years after it current.
        """
        rec = self._latest_succeeded().get(year)
        if rec is None:
            return None
        return {
            "run_id": int(rec["id"]),
            "checksum": self._content_checksum(rec["output_checksums"]),
        }

    def stale_years(self) -> list[str]:
        """Years whose latest successful run read an earlier year that has since changed.

        A year is stale when an earlier year it depends on now has different results
        (content checksum) than when it ran, or is itself stale.
        """
        latest = self._latest_succeeded()
        stale: set[str] = set()
        for year in sorted(latest, key=years.start_of):
            before = years.shift(year, -1)
            deps = latest[year]["depends_on"] or {}
            if before in latest and before not in deps:
                # computed without last year's results, which have been computed since
                # (years run out of order, or a year delivered late)
                stale.add(year)
                continue
            for dep_year, dep in deps.items():
                recorded = dep.get("checksum") if isinstance(dep, dict) else dep
                now = latest.get(dep_year)
                current = self._content_checksum(now["output_checksums"]) if now else None
                if dep_year in stale or current != recorded:
                    stale.add(year)
                    break
        return sorted(stale, key=years.start_of)

    # ---- educator actions (METHODOLOGY.md "Educator effectiveness", option 1) ----------
    def add_educator_action(self, row: dict[str, Any]) -> None:
        """Record a district's action on a TRIGGER (``sqis.educators.action_record`` checks
        the rules); kept across re-runs of the results year, like plans."""
        t = TABLES["educator_actions"]
        with self._begin() as c:
            c.execute(sa.insert(t), [row])

    # ---- plans ------------------------------------------------------------------
    def ensure_plans(self, year: str, school_codes: Iterable[str], deadline: date | None) -> int:
        """A DRAFT plan for each school without one this year; returns how many were added."""
        t = TABLES["plans"]
        wanted = sorted(set(school_codes))
        if not wanted:
            return 0
        with self._begin() as c:
            have = set(c.execute(sa.select(t.c.school_code).where(t.c.year == year)).scalars())
            new = [s for s in wanted if s not in have]
            if new:
                now = _now()
                hist = [{"at": now.isoformat(), "status": "DRAFT", "by": "sqis"}]
                c.execute(
                    sa.insert(t),
                    [
                        {
                            "year": year,
                            "school_code": s,
                            "status": "DRAFT",
                            "deadline": deadline,
                            "history": hist,
                        }
                        for s in new
                    ],
                )
        return len(new)

    def drop_untouched_plans(self, year: str, keep: Iterable[str]) -> int:
        """Remove the DRAFT plans of ``year`` that nobody has acted on and whose school is not
        in ``keep`` (a re-run no longer designates it): a plan an earlier, wrong run created
        does not survive. Plans someone submitted, approved or returned stay. Returns how many
        went."""
        t = TABLES["plans"]
        keep = set(keep)
        with self._begin() as c:
            rows = c.execute(
                sa.select(t.c.school_code, t.c.history).where(
                    t.c.year == year, t.c.status == "DRAFT"
                )
            ).all()
            gone = [
                code
                for code, history in rows
                if code not in keep and len(history or []) <= 1  # created, never moved
            ]
            if gone:
                c.execute(sa.delete(t).where(t.c.year == year, t.c.school_code.in_(gone)))
        return len(gone)

    def _plan_move(self, school_code: str, year: str, by: str, frm: str, to: str) -> None:
        t = TABLES["plans"]
        with self._begin() as c:
            row = (
                c.execute(sa.select(t).where(t.c.year == year, t.c.school_code == school_code))
                .mappings()
                .first()
            )
            if row is None:
                raise PlanStateError(
                    f"school {school_code} has no plan for {year}: plans exist for the year's "
                    "FOCUS schools only"
                )
            if row["status"] != frm:
                raise PlanStateError(
                    f"the plan of school {school_code} for {year} is {row['status']}: only a "
                    f"{frm} plan can become {to}"
                )
            now = _now()
            hist = list(row["history"] or [])
            hist.append({"at": now.isoformat(), "status": to, "by": by})
            values: dict[str, Any] = {"status": to, "history": hist}
            if to == "SUBMITTED":
                values.update(submitted_by=by, submitted_at=now)
            else:
                values.update(approved_by=by, approved_at=now)
            c.execute(
                sa.update(t)
                .where(t.c.year == year, t.c.school_code == school_code)
                .values(**values)
            )

    def plan_submit(self, school_code: str, year: str, by: str) -> None:
        """DRAFT → SUBMITTED (Escalation: the two-year plan the superintendent approves)."""
        self._plan_move(school_code, year, by, "DRAFT", "SUBMITTED")

    def plan_approve(self, school_code: str, year: str, by: str) -> None:
        """SUBMITTED → APPROVED; any other state raises ``PlanStateError``."""
        self._plan_move(school_code, year, by, "SUBMITTED", "APPROVED")

    def plan_status(self, school_code: str | None = None, *, year: str) -> pd.DataFrame:
        """The year's plans (one school's, if given)."""
        frame = self.read("plans", year)
        if school_code is not None:
            frame = frame[frame["school_code"] == school_code].reset_index(drop=True)
        return frame

    # ---- checkpoints ------------------------------------------------------------
    def record_checkpoint(self, year: str, number: int, rows: pd.DataFrame) -> int:
        """Store checkpoint ``number`` of the given communities, replacing what was recorded.

        ``rows``: community_id, school_code and any of date, status (default HELD),
        held_at, attendees, plan_status, flags, interim.
        """
        t = TABLES["checkpoints"]
        frame = rows.assign(year=year, number=number)
        if "status" not in frame.columns:
            frame = frame.assign(status="HELD")
        bad = set(frame["status"].dropna()) - {"SCHEDULED", "HELD"}
        if bad:
            raise StoreError(f"checkpoint status must be SCHEDULED or HELD, not {sorted(bad)}")
        frame = bulk.normalise(t, frame)
        communities = sorted(set(frame["community_id"]))
        with self._begin() as c:
            c.execute(
                sa.delete(t).where(
                    t.c.year == year, t.c.number == number, t.c.community_id.in_(communities)
                )
            )
            bulk.insert_frame(c, t, frame)
        return len(frame)


def _typed(t: sa.Table, frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col in t.columns:
        s = frame[col.name]
        ty = col.type
        if isinstance(ty, sa.Boolean):
            s = s.astype("boolean")
            if not col.nullable and not s.isna().any():
                s = s.astype(bool)
        elif isinstance(ty, sa.Integer):
            s = s.astype("Int64")
        elif isinstance(ty, sa.Float):
            s = pd.to_numeric(s).astype("float64")
        elif isinstance(ty, sa.String | sa.Text):
            s = s.astype("str")
        out[col.name] = s
    return pd.DataFrame(out, columns=[c.name for c in t.columns])


__all__ = [
    "PlanStateError",
    "ResultsStore",
    "SchemaOutdated",
    "StoreError",
    "StoreUnreachable",
    "YearLocked",
    "alembic_config",
]
