"""The records behind the labels (METHODOLOGY.md "Escalation", "District peer review",
"Oversight Panel"; docs/methodology.md "Reviews and the Panel's decisions").

- **Priority peer reviews**: a ``PEER_REVIEW`` school's review (results year Y, held in
  service year Y+1): reviewers, date, findings on leadership, strengths and areas for
  improvement, status ``PLANNED`` → ``COMPLETED``.
- **Escalation steps**: what the district decided for a ``DISTRICT_TURNAROUND`` or
  ``DISTRICT_ACTION`` school, and when.
- **District peer reviews**: ``sqis.district_review`` (the cycle), kept here.
- **The Oversight Panel**: the meetings held (a meeting is held when its report is
  produced) and the Panel's decision per district at a meeting held.

Each ``*_record`` function checks the rules and returns the row to store, or raises
:class:`RecordRefused` with one line; nothing is stored then. These are operations'
records: they live in their own tables, which a re-run of a year never replaces
(``sqis.store.models.YEAR_TABLES`` does not name them). No Prefect here.

Why one module over 500 lines: the review records share their checks (dates,
free text, states, the ``RecordRefused`` wording) and their store tables; a module per
record kind would repeat them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from sqis import district_review as dr
from sqis import years
from sqis.errors import SqisError
from sqis.methodology import OVERSIGHT_TERMS, Methodology
from sqis.store import open_store
from sqis.store.models import TABLES

PRIORITY_STATUSES: tuple[str, ...] = ("PLANNED", "COMPLETED")
AREAS: tuple[str, ...] = ("leadership", "strengths", "improvement")
STEPS: tuple[str, ...] = ("DISTRICT_TURNAROUND", "DISTRICT_ACTION")
DECISIONS: tuple[str, ...] = ("NONE", "ADDITIONAL_SUPPORT", "INTERVENTION")


class RecordRefused(ValueError, SqisError):
    """A record the rules do not allow (one line: what and why); nothing was changed."""


def now() -> datetime:
    return datetime.now(UTC)


def service_dates(service_year: str, m: Methodology) -> tuple[date, date]:
    """The first and last day of a (service) school year."""
    start = years.start_of(service_year)
    month = m.communities.school_year_starts_month
    first = date(start, month, 1)
    last = date(start + 1, month, 1) if month > 1 else date(start + 1, 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def _in_service_year(day: date, year: str, m: Methodology, what: str) -> None:
    service = years.service_year(year)
    first, last = service_dates(service, m)
    if not first <= day <= last:
        raise RecordRefused(
            f"{what} {day.isoformat()} is outside service year {service} "
            f"({first.isoformat()} to {last.isoformat()}), when the {year} results apply"
        )


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise RecordRefused(f"{what} is required")
    return text


def escalation_of(designations: pd.DataFrame, schools: pd.DataFrame, year: str, code: str) -> str:
    """The stored escalation of a school in results ``year`` (``NONE`` when it has none);
    :class:`RecordRefused` for a school not in the year's schools."""
    if code not in set(schools["school_code"].astype(str)):
        raise RecordRefused(f"school {code} is not a school of the {year} results")
    rows = designations[designations["school_code"].astype(str) == code]
    if rows.empty:
        return "NONE"
    value = rows.iloc[0]["escalation"]
    return "NONE" if pd.isna(value) or str(value) in ("", "nan", "None") else str(value)


# ---- Priority peer reviews ----------------------------------------------------------------
def priority_review_record(
    year: str,
    code: str,
    designations: pd.DataFrame,
    schools: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    reviewers: str,
    review_date: date,
    findings: dict[str, str | None],
    status: str,
    by: str,
    m: Methodology,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The ``priority_reviews`` row for a PEER_REVIEW school of results ``year``: a new
    review, or a PLANNED one updated (findings and a COMPLETED status). A COMPLETED review
    needs a finding for each area and is final."""
    at = at or now()
    esc = escalation_of(designations, schools, year, code)
    if esc != "PEER_REVIEW":
        raise RecordRefused(
            f"school {code}'s escalation from the {year} results is {esc}: a Priority peer "
            "review is recorded only for a PEER_REVIEW school"
        )
    if status not in PRIORITY_STATUSES:
        raise RecordRefused(f"status {status!r}: use {' or '.join(PRIORITY_STATUSES)}")
    mine = existing[existing["school_code"].astype(str) == code] if len(existing) else existing
    before = mine.iloc[0].to_dict() if len(mine) else None
    if before is not None and before["status"] == "COMPLETED":
        raise RecordRefused(
            f"the Priority peer review of school {code} ({year} results) is COMPLETED "
            f"already (recorded by {before['recorded_by']}): it is final"
        )
    _in_service_year(review_date, year, m, "review date")
    row = {
        "year": year,
        "school_code": code,
        "status": status,
        "reviewers": _text(reviewers, "--reviewers"),
        "review_date": review_date,
        "recorded_by": by,
        "recorded_at": at,
    }
    for area in AREAS:
        text = (findings.get(area) or "").strip()
        if not text and before is not None and isinstance(before.get(area), str):
            text = before[area] if before[area] not in ("", "nan", "None") else ""
        if status == "COMPLETED" and not text:
            raise RecordRefused(
                f"a COMPLETED Priority peer review needs findings on {area} (--{area})"
            )
        row[area] = text or None
    history = list(before["history"] or []) if before is not None else []
    history.append({"at": at.isoformat(), "by": by, "status": status})
    row["history"] = history
    return row


# ---- turnaround and district-action steps -------------------------------------------------
def escalation_step_record(
    year: str,
    code: str,
    step: str,
    designations: pd.DataFrame,
    schools: pd.DataFrame,
    existing: pd.DataFrame,
    *,
    decision: str,
    decided_on: date,
    by: str,
    m: Methodology,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The ``escalation_steps`` row: the district's decision for a school whose escalation
    from results ``year`` is ``step`` (DISTRICT_TURNAROUND or DISTRICT_ACTION); once."""
    if step not in STEPS:
        raise RecordRefused(f"step {step!r}: use {' or '.join(STEPS)}")
    esc = escalation_of(designations, schools, year, code)
    if esc != step:
        raise RecordRefused(
            f"school {code}'s escalation from the {year} results is {esc}: a {step} step is "
            f"recorded only for a {step} school"
        )
    if len(existing) and (existing["school_code"].astype(str) == code).any():
        prior = existing[existing["school_code"].astype(str) == code].iloc[0]
        raise RecordRefused(
            f"the {step} decision for school {code} ({year} results) is recorded already "
            f"(decided {prior['decided_on']}, recorded by {prior['recorded_by']})"
        )
    _in_service_year(decided_on, year, m, "decision date")
    return {
        "year": year,
        "school_code": code,
        "step": step,
        "decision": _text(decision, "--decision"),
        "decided_on": decided_on,
        "recorded_by": by,
        "recorded_at": at or now(),
    }


# ---- the Oversight Panel ------------------------------------------------------------------
def meeting_order(year: str, term: str) -> tuple[int, int]:
    """Meetings in calendar order: service year, then fall before spring."""
    return years.start_of(year), OVERSIGHT_TERMS.index(term)


def decision_record(
    service_year: str,
    term: str,
    district: str,
    decision: str,
    note: str,
    *,
    held: bool,
    districts: set[str],
    existing: pd.DataFrame,
    by: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The ``oversight_decisions`` row of the Panel's decision on a district at the
    ``term`` meeting of ``service_year``: only for a meeting held (its report produced),
    a district of the results year it reviewed, once per meeting and district."""
    if term not in OVERSIGHT_TERMS:
        raise RecordRefused(f"term {term!r}: use {' or '.join(OVERSIGHT_TERMS)}")
    if not held:
        raise RecordRefused(
            f"the {term} {service_year} Oversight Panel meeting has not been held (its report "
            f"was never produced): run `sqis oversight --year {service_year} --term {term}` "
            "first"
        )
    if district not in districts:
        raise RecordRefused(
            f"district {district} is not a district of the {years.results_year(service_year)} "
            "results the meeting reviewed"
        )
    if decision not in DECISIONS:
        raise RecordRefused(f"decision {decision!r}: use one of {', '.join(DECISIONS)}")
    if len(existing):
        same = existing[
            (existing["term"] == term) & (existing["district_code"].astype(str) == district)
        ]
        if len(same):
            prior = same.iloc[0]
            raise RecordRefused(
                f"the Panel's decision on district {district} at the {term} {service_year} "
                f"meeting is recorded already ({prior['decision']}, by {prior['decided_by']})"
            )
    return {
        "year": service_year,
        "term": term,
        "district_code": district,
        "decision": decision,
        "note": _text(note, "--note"),
        "decided_by": by,
        "recorded_at": at or now(),
    }


# ---- storage: small operations' tables, written in one transaction each -------------------
def read(store: Any, table: str, year: str | list[str] | None = None) -> pd.DataFrame:
    """A records table (of a year), as the store reads every table."""
    return store.read(table, year)


def insert(store: Any, table: str, row: dict[str, Any]) -> None:
    """Add one record; a record already there (a race) is a refusal, nothing changed."""
    t = TABLES[table]
    try:
        with store.engine.begin() as c:
            c.execute(sa.insert(t), [row])
    except sa.exc.IntegrityError:
        raise RecordRefused(f"that {table} record was recorded already") from None


def replace_row(store: Any, table: str, row: dict[str, Any]) -> None:
    """Put one record in place of the one with its key (one transaction)."""
    t = TABLES[table]
    key = [t.c[c.name] == row[c.name] for c in t.primary_key.columns]
    with store.engine.begin() as c:
        c.execute(sa.delete(t).where(*key))
        c.execute(sa.insert(t), [row])


def record_meeting(store: Any, service_year: str, term: str, m: Methodology) -> bool:
    """Note that the ``term`` Oversight Panel meeting of ``service_year`` is held (its
    report was produced); a meeting already noted keeps its first record. True when new."""
    t = TABLES["oversight_meetings"]
    with store.engine.begin() as c:
        have = c.execute(
            sa.select(t.c.year).where(t.c.year == service_year, t.c.term == term)
        ).first()
        if have is not None:
            return False
        c.execute(
            sa.insert(t),
            [
                {
                    "year": service_year,
                    "term": term,
                    "results_year": years.results_year(service_year),
                    "meeting_date": m.oversight_date(service_year, term),
                    "reported_at": now(),
                }
            ],
        )
    return True


def meeting_held(store: Any, service_year: str, term: str, out_root: str | None = None) -> bool:
    """Whether the meeting is held: noted in the store, or (a meeting reported before the
    store noted meetings) its report is in the results year's publication under ``out_root``
    — a publication made from THIS store (the manifest's ``store_id`` is the store's
    identity) whose report file is there with the checksum the manifest gives. A manifest
    that cannot be read, names no store or another one, or lists a report that is missing
    or altered holds no meeting."""
    held = store.read("oversight_meetings", service_year)
    if len(held) and (held["term"] == term).any():
        return True
    if not out_root:
        return False
    return _reported_in_publication(store, service_year, term, out_root)


def _reported_in_publication(store: Any, service_year: str, term: str, out_root: str) -> bool:
    import hashlib

    from sqis import publish as pub
    from sqis.storage import open_storage

    identity = store.identity()
    if not identity or not str(identity.get("store_id") or ""):
        return False
    results = years.results_year(service_year)
    key = f"reports/oversight-{service_year}-{term}.html"
    try:
        manifest = pub.read_manifest(out_root, results)
        if str(manifest.store_id or "") != str(identity["store_id"]):
            return False
        entries = [f for f in manifest.files if f.key == key]
        if len(entries) != 1:
            return False
        data = open_storage(out_root).read_bytes(f"{results}/{key}")
        return hashlib.sha256(data).hexdigest() == str(entries[0].sha256)
    except Exception:  # unreadable, corrupt or incomplete: no meeting on its word
        return False


# ---- district peer reviews ----------------------------------------------------------------
def load_reviews(store: Any, year: str) -> dict[str, dr.Review]:
    """The district peer reviews of service ``year``, by district."""
    heads = store.read("district_reviews", year)
    items = store.read("district_review_items", year)
    out: dict[str, dr.Review] = {}
    for h in heads.to_dict("records"):
        d = str(h["district_code"])
        out[d] = dr.Review(
            year, d, str(h["methodology_version"]), str(h["status"]), int(h["round"]),
            {}, list(h["history"] or []),
        )  # fmt: skip
    for row in items.to_dict("records"):
        r = out.get(str(row["district_code"]))
        if r is None:
            continue
        values = {}
        for k in dr.ITEM_FIELDS:
            v = row[k]
            values[k] = None if v is None or (not isinstance(v, str) and pd.isna(v)) else v
            if k.endswith("_rating") and values[k] is not None:
                values[k] = int(values[k])
        r.items.setdefault(int(row["round"]), {})[str(row["item"])] = values
    return out


def save_reviews(store: Any, reviews: dict[str, dr.Review], at: datetime | None = None) -> None:
    """Store the given reviews (their head and every round's items) in ONE transaction."""
    at = at or now()
    heads, items = TABLES["district_reviews"], TABLES["district_review_items"]
    with store.engine.begin() as c:
        for r in reviews.values():
            c.execute(
                sa.delete(items).where(
                    items.c.year == r.year, items.c.district_code == r.district_code
                )
            )
            c.execute(
                sa.delete(heads).where(
                    heads.c.year == r.year, heads.c.district_code == r.district_code
                )
            )
            c.execute(
                sa.insert(heads),
                [
                    {
                        "year": r.year,
                        "district_code": r.district_code,
                        "status": r.status,
                        "round": r.round,
                        "methodology_version": r.methodology_version,
                        "updated_at": at,
                        "history": r.history,
                    }
                ],
            )
            rows = [
                {
                    "year": r.year,
                    "district_code": r.district_code,
                    "round": rnd,
                    "item": item,
                    **{k: v.get(k) for k in dr.ITEM_FIELDS},
                }
                for rnd, by_item in sorted(r.items.items())
                for item, v in sorted(by_item.items())
            ]
            if rows:
                c.execute(sa.insert(items), rows)


def meeting_reported(db_url: str, service_year: str, term: str, m: Methodology) -> bool:
    """The ``oversight-report`` flow's last step: the meeting's report is published, so the
    meeting is held (``record_meeting``) and the Panel's decisions on it can be recorded.
    ``m``: the run's methodology (that of the results year under review), handed down."""
    return record_meeting(open_store(db_url, upgrade=True), service_year, term, m)


# ---- what the reports show (read back from the store: results → reports, one way) ---------
DISTRICT_REVIEW_COLUMNS: tuple[str, ...] = (
    "year",
    "district_code",
    "status",
    "round",
    "item",
    "self_rating",
    "peer_rating",
    "peer_district_code",
    "peer_district_name",
    "narrative",
    "evidence",
    "comments",
    "rated_round",
)
DECISION_COLUMNS: tuple[str, ...] = (
    "year",
    "term",
    "district_code",
    "decision",
    "note",
    "decided_by",
    "recorded_at",
)


def district_review_rows(
    reviews: dict[str, dr.Review] | list[dr.Review], names: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per district review × rubric item of the round a peer rated last (or the
    current round, before any peer rating), with the review's status and CURRENT round
    (``round``: a RESUBMITTED review is in its next round) and the round whose ratings
    the row holds (``rated_round``, staff only). ``names``: the districts' names, so the
    peer is named on a page rendered with its own district's schools only."""
    names = names or {}
    rows = []
    for r in reviews.values() if isinstance(reviews, dict) else reviews:
        shown = dr.last_peer_ratings(r)
        rnd = next((k for k, v in r.items.items() if v is shown), r.round)
        for item, v in shown.items():
            rows.append(
                {
                    "year": r.year,
                    "district_code": r.district_code,
                    "status": r.status,
                    "round": r.round,
                    "item": item,
                    **{k: v.get(k) for k in dr.ITEM_FIELDS},
                    "peer_district_name": names.get(str(v.get("peer_district_code") or "")),
                    "rated_round": rnd,
                }
            )
    return pd.DataFrame(rows, columns=list(DISTRICT_REVIEW_COLUMNS))


def _years_upto(frame: pd.DataFrame, last: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    start = years.start_of(last)
    keep = pd.to_numeric(frame["year"].astype(str).str.slice(0, 4)) <= start
    return frame[keep.to_numpy()].reset_index(drop=True)


def _district_names(store: Any, results_year: str) -> dict[str, str]:
    """The districts' names in the schools of ``results_year`` ({} when it has none)."""
    schools = store.read("schools", [results_year])
    if schools.empty:
        return {}
    return dict(
        zip(schools["district_code"].astype(str), schools["district_name"].astype(str), strict=True)
    )


def _decisions(store: Any) -> pd.DataFrame:
    return store.read("oversight_decisions")[list(DECISION_COLUMNS)]


def review_frames(
    store: Any, year: str, codes: set[str] | None = None, district: str | None = None
) -> dict[str, pd.DataFrame]:
    """The records the annual reports of results ``year`` show (``sqis.reports.reviews``):
    the schools' Priority peer reviews and escalation steps of every year up to ``year``,
    and the districts' peer reviews and the Panel's decisions of every service year up to
    the one ``year`` decides (what is on record when the year is run). ``codes`` /
    ``district``: those schools' / that district's rows only."""
    service = years.service_year(year)
    pr = _years_upto(store.read("priority_reviews", school_codes=codes), year)
    steps = _years_upto(store.read("escalation_steps", school_codes=codes), year)
    heads = _years_upto(store.read("district_reviews"), service)
    reviews = []
    for y in sorted(set(heads["year"].astype(str)), key=years.start_of):
        reviews += list(load_reviews(store, y).values())
    # the peers' names (a district's pages know only its own schools); none to read
    # before any district review is recorded
    dreviews = district_review_rows(reviews, _district_names(store, year) if reviews else {})
    decisions = _years_upto(_decisions(store), service)
    if district is not None:
        dreviews = dreviews[(dreviews["district_code"] == district).to_numpy()]
        decisions = decisions[(decisions["district_code"] == district).to_numpy()]
    return {
        "priority_reviews": pr.drop(columns=["history"]),
        "escalation_steps": steps,
        "district_reviews": dreviews.reset_index(drop=True),
        "panel_decisions": decisions.reset_index(drop=True),
    }


def oversight_frames(store: Any, service_year: str, term: str) -> dict[str, pd.DataFrame]:
    """The records the ``term`` Oversight Panel meeting of ``service_year`` reviews: the
    Priority peer reviews and escalation steps of the results year it reviews, the
    districts' peer reviews of the service year, and the Panel's decisions at every
    earlier meeting."""
    results = years.results_year(service_year)
    pr = store.read("priority_reviews", [results]).drop(columns=["history"])
    decisions = _decisions(store)
    if len(decisions):
        here = meeting_order(service_year, term)
        earlier = [
            meeting_order(str(y), str(t)) < here
            for y, t in zip(decisions["year"], decisions["term"], strict=True)
        ]
        decisions = decisions[earlier].reset_index(drop=True)
    return {
        "priority_reviews": pr,
        "escalation_steps": store.read("escalation_steps", [results]),
        "district_reviews": district_review_rows(
            load_reviews(store, service_year), _district_names(store, results)
        ),
        "panel_decisions": decisions,
    }
