"""What a yearly run must check before it computes, and how it undoes itself after a failure.

A results store must know its consortium and its years (issue 17, SECURITY.md "Runs that
would compute wrong results are refused"). Before a run of year Y takes the year's lock,
:func:`preflight` refuses, with what to run first, a run that would:

- write into a store that is **another consortium's** (its identity names another
  pseudonymisation key);
- replace a publication of Y that **another results store** made (an empty or wrong
  ``--db``: the years in status would restart at 1, the prior SQII vanish);
- compute from a **missing** earlier year (Y−1 is delivered or ingested but has no results
  in this store: years run out of order), or from a **stale** one (Y−1 was computed from an
  earlier year that has changed since);
- compute Y under a **methodology other than the one Y was validated under** (validation
  rules differ between methodologies, e.g. graduation cohorts).

``force`` (``--force REASON``) runs anyway and the reason is recorded on the run.

After the lock, :class:`Undo` collects what the run changed — the validated store's new
version of Y, the year's rows in the results store, the DRAFT plans it added — so that a
run that fails before its publication is complete puts all three back: the validated
store, the results store and the publication change together or not at all.

A calendar step of service year Y+1 (a checkpoint, an Oversight report, a plan, the
calendars, a district peer review) follows from Y's results: :func:`require_results`
refuses it (:class:`NoResults`) until Y has been run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis.errors import PipelineError, SqisError
from sqis.methodology import Methodology
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.store import ResultsStore


class RunRefused(RuntimeError, SqisError):
    """A run that would compute wrong results or overwrite another store's publication."""


def consortium_of_key(key: bytes | None) -> str:
    """The consortium a run works for: its pseudonymisation key's fingerprint."""
    from sqis.pseudonym import key_id

    return key_id(key) if key else ""


def _published_store_id(out_root: str, year: str) -> str | None:
    """The store id the year's current publication names (None: no publication, or one
    from before publications named their store)."""
    from sqis import publish
    from sqis.storage import ObjectNotFound, StorageError

    try:
        return publish.read_manifest(out_root, year).store_id or None
    except (ObjectNotFound, FileNotFoundError, StorageError, ValueError, KeyError, TypeError):
        return None


def _validated_methodology(year: str, store_root: str | None) -> str | None:
    from sqis import ingest

    try:
        return ingest.delivery_manifest(year, store_root).get("methodology_version")
    except ingest.NotIngested:
        return None


def _ingested(year: str, store_root: str | None) -> bool:
    from sqis import ingest

    try:
        ingest.delivery_manifest(year, store_root)
    except ingest.NotIngested:
        return False
    return True


def check_fresh_store(year: str, out_root: str, url: str, force: str | None) -> None:
    """Before the schema is created in an empty database: refuse when the year's publication
    was made from another store (an empty or mistyped ``--db``), so a refused run leaves
    even an empty database empty."""
    published = _published_store_id(out_root, year)
    if published and not force:
        raise RunRefused(
            f"not run, nothing changed — {url} is empty, and {out_root}/{year} was published "
            f"from another results store ({published}): point --db at the store that "
            "published it. To run anyway, give --force with the reason (it is recorded on "
            "the run)."
        )


def preflight(
    store: Any,
    year: SchoolYear,
    m: Methodology,
    *,
    data_root: str,
    out_root: str,
    store_root: str | None,
    consortium: str,
    force: str | None = None,
) -> list[str]:
    """The refusals a run of ``year`` meets (see the module docstring); raises
    :class:`RunRefused` with all of them unless ``force``. Returns them (for the run's
    note when forced)."""
    from sqis.reading import delivered

    problems: list[str] = []
    ident = store.identity()
    url = getattr(store, "safe_url", "the results store")
    if ident and consortium and ident["consortium"] != consortium:
        problems.append(
            f"{url} holds another consortium's results (pseudonymisation key "
            f"{ident['consortium']}, this run's is {consortium}): point --db at this "
            "consortium's results store"
        )
    published = _published_store_id(out_root, year)
    mine = ident["store_id"] if ident else None
    if published and published != mine:
        problems.append(
            f"{out_root}/{year} was published from another results store ({published}); "
            f"{url} is {'empty' if mine is None else mine}: point --db at the store that "
            "published it"
        )
    before = year.results_year
    if store.dependency(before) is None and (
        delivered(data_root, before) or _ingested(before, store_root)
    ):
        problems.append(
            f"{before} is delivered but {url} holds no results for it, and {year} reads "
            f"them (designations, partners, the prior SQII): run {before} first "
            f"(`sqis run --data {data_root} --year {before}`)"
        )
    elif before in store.stale_years():
        problems.append(
            f"{before} was computed from an earlier year that has changed since: re-run "
            f"{before} first (`sqis run --data {data_root} --year {before}`)"
        )
    validated = _validated_methodology(year, store_root)
    if validated and validated != m.version:
        problems.append(
            f"{year} was validated under methodology {validated} and this run computes under "
            f"{m.version}: run with --methodology {validated}, or re-validate the delivery "
            f"under {m.version} with --replace after removing the validated year"
        )
    if problems and not force:
        raise RunRefused(
            "not run, nothing changed — "
            + "; ".join(problems)
            + ". To run anyway, give --force with the reason (it is recorded on the run)."
        )
    return problems


def forced_note(force: str | None, problems: list[str]) -> str | None:
    """What a forced run records: the reason given and the refusals it overrode."""
    if not force:
        return None
    return f"forced: {force}" + (f" (overrode: {'; '.join(problems)})" if problems else "")


class NoResults(PipelineError):
    """A calendar step (checkpoint, Oversight report, plan) for a service year whose
    results year has no results in the store."""


def require_results(store: ResultsStore, service_year: SchoolYear, what: str) -> SchoolYear:
    """The results year of ``service_year``, or :class:`NoResults` naming the year to run.

    METHODOLOGY.md "Results year and service year": the checkpoints, plans and Oversight
    meetings of Y+1 follow from Y's results, so there is nothing to hold or report before
    Y has been run.
    """
    results = service_year.results_year
    if store.dependency(results) is None:
        raise NoResults(
            f"{what} of {service_year} follows from the {results} results, and the results "
            f"store holds none: run the year first (`sqis run --data <root> --year {results}`)"
        )
    return results


@dataclass
class Undo:
    """What a run changed, to put back when it fails before its publication is complete."""

    year: SchoolYear
    store_root: str | None
    ingested: Any = None  # sqis.ingest.IngestResult of this year, when this run wrote it
    previous_rows: dict[str, pd.DataFrame] | None = None
    plans_before: pd.DataFrame | None = None
    done: list[str] = field(default_factory=list)

    def snapshot(self, store: Any, tables: tuple[str, ...]) -> None:
        """The year's rows before the run replaces them, and the plans of its service year."""
        self.previous_rows = {t: store.read(t, [self.year]) for t in tables}
        self.plans_before = store.read("plans", [self.year.service_year])

    def __call__(self, store: Any, run_id: int) -> None:
        """Put back the results store's rows and plans, then the validated store."""
        if self.previous_rows is not None:
            rows = {
                t: df.drop(columns=[c for c in ("year",) if c in df.columns])
                for t, df in self.previous_rows.items()
            }
            store.replace_year(run_id, self.year, rows, restore=True)
            self.done.append("results store")
        if self.plans_before is not None:
            keep = set(self.plans_before["school_code"])
            store.drop_untouched_plans(self.year.service_year, keep)
        if self.ingested is not None:
            from sqis import ingest

            ingest.undo_ingest(self.ingested, self.store_root)
            self.done.append("validated store")
