"""``sqis review …`` and ``sqis oversight decide``: the records behind the labels
(METHODOLOGY.md "Escalation", "District peer review", "Oversight Panel"; ``sqis.reviews``).

    sqis review priority --year 2015-16 --school <code> --reviewers "…" --date 2016-10-20 \\
        --status PLANNED|COMPLETED [--leadership "…" --strengths "…" --improvement "…"]
    sqis review escalation --year 2015-16 --school <code> --step DISTRICT_ACTION \\
        --decision "…" --date 2016-09-01
    sqis review district self-rate|submit|peer-rate|resubmit|show|import …  (service year)
    sqis oversight decide --year 2016-17 --term fall --district <code> \\
        --decision NONE|ADDITIONAL_SUPPORT|INTERVENTION --note "…"

``review priority`` and ``review escalation`` take the results year whose escalation the
school has; ``review district`` and ``oversight decide`` the service year of the reviews
and meetings. A refusal (wrong state, unknown school or district, a district reviewing
itself, a meeting not held) is one ``error:`` line and exit 1, and nothing is changed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import typer

from sqis_cli.app import SERVICE, app
from sqis_cli.errors import friendly
from sqis_cli.options import Term, db_option
from sqis_cli.options import store as open_store
from sqis_cli.run import oversight_app

review_app = typer.Typer(
    help="Records behind the labels: Priority peer reviews, turnaround and district-action "
    "steps, the districts' peer review.",
    no_args_is_help=True,
)
app.add_typer(review_app, name="review", rich_help_panel=SERVICE)
district_app = typer.Typer(
    help="District peer review: DRAFT → SUBMITTED → PEER_REVIEWED → MEETS | REVISE → "
    "RESUBMITTED … (--year: the service year).",
    no_args_is_help=True,
)
review_app.add_typer(district_app, name="district")


class PriorityStatus(StrEnum):
    """``--status`` of a Priority peer review."""

    PLANNED = "PLANNED"
    COMPLETED = "COMPLETED"


class Step(StrEnum):
    """``--step``: the escalation whose decision is recorded."""

    DISTRICT_TURNAROUND = "DISTRICT_TURNAROUND"
    DISTRICT_ACTION = "DISTRICT_ACTION"


class Decision(StrEnum):
    """``--decision`` of the Oversight Panel on a district."""

    NONE = "NONE"
    ADDITIONAL_SUPPORT = "ADDITIONAL_SUPPORT"
    INTERVENTION = "INTERVENTION"


BY_HELP = "Who records it (default SQIS_RUN_BY, else the OS user)."
SERVICE_YEAR_HELP = "Service year YYYY-YY of the reviews (the Oversight Panel's year)."


# any control character (a line break too): never echoed raw to the terminal
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# ASCII digits only (``\d`` and strptime would take full-width ``２０１６``), the whole text
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _shown(text: str) -> str:
    """``text`` on one line, each control character written as its escape (``\x1b``)."""
    return _ANY_CONTROL.sub(lambda c: repr(c.group())[1:-1], text)


def _refuse(message: str) -> NoReturn:
    typer.secho(f"error: {_shown(message)}", fg="red", err=True)
    raise typer.Exit(1)


def _bad_value(message: str) -> NoReturn:
    """A bad option value: one ``error:`` line, exit 2, nothing changed."""
    typer.secho(f"error: {_shown(message)}", fg="red", err=True)
    raise typer.Exit(2)


def _day(text: str, option: str = "--date") -> date:
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        _bad_value(f"{option} {text!r} is not a date of the form YYYY-MM-DD")


def _text_option(value: str | None, option: str, one_line: bool = False) -> str | None:
    """An option's free text under the import's rules (schemas.district_review): no control
    character (line breaks and tabs allowed unless ``one_line``), at most TEXT_MAX_CHARS;
    else exit 2."""
    from schemas.district_review import _CONTROL, LENGTH_RULE, TEXT_MAX_CHARS, TEXT_RULE

    if value is None:
        return None
    if re.search(_ANY_CONTROL if one_line else _CONTROL, value):
        _bad_value(f"{option} holds a control character (rule {TEXT_RULE})")
    if len(value) > TEXT_MAX_CHARS:
        _bad_value(
            f"{option} is {len(value):,} characters, at most {TEXT_MAX_CHARS:,} (rule "
            f"{LENGTH_RULE})"
        )
    return value


def _shown_lines(text: str) -> str:
    """Like :func:`_shown`, the line breaks of a listing kept."""
    return "\n".join(_shown(line) for line in text.split("\n"))


def _code(value: str, option: str) -> str:
    """A district or school code as given, white space around it removed."""
    return _text_option(value, option, one_line=True).strip()  # type: ignore[union-attr]


def _in_scale(rating: int, m: Any, option: str = "--rating") -> int:
    """A rating on the methodology's scale, else exit 2 (a bad value, like ``3.5``)."""
    from sqis import district_review as dr

    lo, hi = dr.spec_of(m).scale
    if not lo <= rating <= hi:
        _bad_value(f"{option} {rating} is not a whole number from {lo} to {hi}")
    return rating


def _results_of(store: Any, year: str) -> tuple[Any, Any]:
    """The results year's schools and designations, or a refusal naming the year to run."""
    from sqis.reviews import RecordRefused

    if store.dependency(year) is None:
        raise RecordRefused(f"the results store holds no {year} results: run the year first")
    return store.read("schools", [year]), store.read("designations", [year])


def _by(by: str | None) -> str:
    """``--by``, else SQIS_RUN_BY, else the OS user (a blank one falls back too); exit 2
    when none names anyone."""
    from sqis.settings import _default_user, get_settings

    for option, value in (("--by", by), ("SQIS_RUN_BY", get_settings().run_by)):
        text = (_text_option(value, option, one_line=True) or "").strip()
        if text:
            return text
    who = _default_user().strip()
    if not who or who == "unknown" or _ANY_CONTROL.search(who):
        _bad_value("--by is blank and neither SQIS_RUN_BY nor the OS user names anyone")
    return who


# ---- Priority peer reviews and escalation steps --------------------------------------------
@review_app.command("priority")
@friendly
def priority(
    year: str = typer.Option(..., "--year", help="results year YYYY-YY of the PEER_REVIEW"),
    school: str = typer.Option(..., "--school", help="14-digit CDS code"),
    reviewers: str = typer.Option(..., "--reviewers", help="the peer reviewers (names, roles)"),
    when: str = typer.Option(..., "--date", help="date of the review, YYYY-MM-DD"),
    status: PriorityStatus = typer.Option(..., "--status", help="PLANNED or COMPLETED"),
    leadership: str = typer.Option(None, "--leadership", help="findings on school leadership"),
    strengths: str = typer.Option(None, "--strengths", help="findings: strengths"),
    improvement: str = typer.Option(None, "--improvement", help="areas for improvement"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """Record a Priority school's peer review (only for a PEER_REVIEW school; a COMPLETED
    review needs findings on each area and is final)."""
    from sqis import reviews, years
    from sqis.methodology import for_year
    from sqis.settings import get_settings

    year = years.SchoolYear(year)
    day = _day(when)
    code, who = _code(school, "--school"), _by(by)
    findings = {
        "leadership": _text_option(leadership, "--leadership"),
        "strengths": _text_option(strengths, "--strengths"),
        "improvement": _text_option(improvement, "--improvement"),
    }
    _text_option(reviewers, "--reviewers")
    store = open_store(db)
    m = for_year(year, None, get_settings().methodology_dir)
    try:
        schools, des = _results_of(store, year)
        row = reviews.priority_review_record(
            year,
            code,
            des,
            schools,
            store.read("priority_reviews", [year]),
            reviewers=reviewers,
            review_date=day,
            findings=findings,
            status=str(status),
            by=who,
            m=m,
        )
    except reviews.RecordRefused as e:
        _refuse(str(e))
    reviews.replace_row(store, "priority_reviews", row)
    typer.echo(
        f"{year}: Priority peer review of school {row['school_code']} recorded "
        f"({row['status']}, {day.isoformat()}); shown in its data report and the Oversight "
        "report"
    )


@review_app.command("escalation")
@friendly
def escalation(
    year: str = typer.Option(..., "--year", help="results year YYYY-YY of the escalation"),
    school: str = typer.Option(..., "--school", help="14-digit CDS code"),
    step: Step = typer.Option(..., "--step", help="DISTRICT_TURNAROUND or DISTRICT_ACTION"),
    decision: str = typer.Option(..., "--decision", help="what the district decided"),
    when: str = typer.Option(..., "--date", help="date of the decision, YYYY-MM-DD"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """Record the district's decision for a DISTRICT_TURNAROUND or DISTRICT_ACTION school
    (only for a school with that escalation; once)."""
    from sqis import reviews, years
    from sqis.methodology import for_year
    from sqis.settings import get_settings

    year = years.SchoolYear(year)
    day = _day(when)
    code, who = _code(school, "--school"), _by(by)
    _text_option(decision, "--decision")
    store = open_store(db)
    m = for_year(year, None, get_settings().methodology_dir)
    try:
        schools, des = _results_of(store, year)
        row = reviews.escalation_step_record(
            year,
            code,
            str(step),
            des,
            schools,
            store.read("escalation_steps", [year]),
            decision=decision,
            decided_on=day,
            by=who,
            m=m,
        )
        reviews.insert(store, "escalation_steps", row)
    except reviews.RecordRefused as e:
        _refuse(str(e))
    typer.echo(
        f"{year}: {step} decision for school {row['school_code']} recorded ({day.isoformat()})"
    )


# ---- district peer review ------------------------------------------------------------------
def _district_context(store: Any, year: str) -> tuple[Any, set[str], dict[str, Any]]:
    """The methodology of the reviews of service ``year`` (the one its Oversight meetings
    use), the districts of the results they follow, and the stored reviews."""
    from sqis import reviews, run_control, years
    from sqis.methodology import for_year
    from sqis.settings import get_settings

    year = years.SchoolYear(year)
    results = year.results_year
    try:
        run_control.require_results(store, year, "the district peer review")
    except run_control.NoResults as e:
        raise reviews.RecordRefused(str(e)) from None
    m = for_year(results, None, get_settings().methodology_dir)
    districts = set(store.read("schools", [results])["district_code"].astype(str))
    return m, districts, reviews.load_reviews(store, year)


def _district_step(year: str, district: str, db: str | None, step: Any, done: str) -> None:
    from sqis import district_review as dr
    from sqis import reviews

    district = _code(district, "--district")
    store = open_store(db)
    try:
        m, districts, stored = _district_context(store, year)
        if district not in districts:
            raise reviews.RecordRefused(f"district {district} is not a district of the consortium")
        r = stored.get(district) or dr.new_review(year, district, m)
        new = step(r, m, districts)
    except (reviews.RecordRefused, dr.ReviewRefused) as e:
        _refuse(str(e))
    reviews.save_reviews(store, {district: new})
    typer.echo(f"{year}: district {district} {done}; its peer review is now {new.status}")


@district_app.command("self-rate")
@friendly
def self_rate(
    year: str = typer.Option(..., "--year", help=SERVICE_YEAR_HELP),
    district: str = typer.Option(..., "--district", help="7-digit district code"),
    item: str = typer.Option(..., "--item", help="rubric item code (see `review district show`)"),
    rating: int = typer.Option(..., "--rating", help="self-rating on the rubric's scale (1–4)"),
    narrative: str = typer.Option(..., "--narrative", help="the district's narrative"),
    evidence: str = typer.Option(..., "--evidence", help="the evidence it offers"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """Self-rate one rubric item (starts the review as DRAFT; revises it in DRAFT or REVISE)."""
    from sqis import district_review as dr
    from sqis.reviews import now

    item = _code(item, "--item")
    _text_option(narrative, "--narrative")
    _text_option(evidence, "--evidence")
    who = _by(by)

    def step(r: Any, m: Any, _d: set[str]) -> Any:
        return dr.self_rate(r, item, _in_scale(rating, m), narrative, evidence, m, who, now())

    _district_step(year, district, db, step, f"self-rated {item} {rating}")


@district_app.command("submit")
@friendly
def submit(
    year: str = typer.Option(..., "--year", help=SERVICE_YEAR_HELP),
    district: str = typer.Option(..., "--district", help="7-digit district code"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """DRAFT → SUBMITTED (every item self-rated)."""
    from sqis import district_review as dr
    from sqis.reviews import now

    who = _by(by)
    _district_step(year, district, db, lambda r, m, _d: dr.submit(r, m, who, now()), "submitted")


@district_app.command("resubmit")
@friendly
def resubmit(
    year: str = typer.Option(..., "--year", help=SERVICE_YEAR_HELP),
    district: str = typer.Option(..., "--district", help="7-digit district code"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """REVISE → RESUBMITTED (the revised self-ratings go to a peer again)."""
    from sqis import district_review as dr
    from sqis.reviews import now

    who = _by(by)
    _district_step(
        year, district, db, lambda r, m, _d: dr.resubmit(r, m, who, now()), "resubmitted"
    )


@district_app.command("peer-rate")
@friendly
def peer_rate(
    year: str = typer.Option(..., "--year", help=SERVICE_YEAR_HELP),
    district: str = typer.Option(..., "--district", help="the district reviewed (7 digits)"),
    peer: str = typer.Option(..., "--peer", help="the reviewing district (7 digits), not itself"),
    item: str = typer.Option(..., "--item", help="rubric item code"),
    rating: int = typer.Option(..., "--rating", help="peer rating on the rubric's scale (1–4)"),
    comments: str = typer.Option(..., "--comments", help="the peer's comments"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """Another district's rating of one item of a SUBMITTED or RESUBMITTED review; the last
    item's rating concludes the round: MEETS, or REVISE when any item is below `meets`."""
    from sqis import district_review as dr
    from sqis.reviews import RecordRefused, now

    peer, item = _code(peer, "--peer"), _code(item, "--item")
    _text_option(comments, "--comments")
    who = _by(by)

    def step(r: Any, m: Any, districts: set[str]) -> Any:
        if peer not in districts:
            raise RecordRefused(f"peer district {peer} is not a district of the consortium")
        return dr.peer_rate(r, peer, item, _in_scale(rating, m), comments, m, who, now())

    _district_step(year, district, db, step, f"peer-rated {item} {rating} by district {peer}")


@district_app.command("show")
@friendly
def show(
    year: str = typer.Option(..., "--year", help=SERVICE_YEAR_HELP),
    district: str = typer.Option(None, "--district", help="one district (default: every one)"),
    db: str | None = db_option(),
) -> None:
    """Each district's state, round and ratings (self / peer) per rubric item."""
    from sqis import district_review as dr
    from sqis import reviews

    if district is not None:
        district = _code(district, "--district")
    store = open_store(db)
    try:
        m, districts, stored = _district_context(store, year)
        if district is not None and district not in districts:
            raise reviews.RecordRefused(f"district {district} is not a district of the consortium")
        spec = dr.spec_of(m)
    except (reviews.RecordRefused, dr.ReviewRefused) as e:
        _refuse(str(e))
    wanted = [district] if district is not None else sorted(districts)
    typer.echo(f"{year}: district peer review, rubric of {m.version} (meets {spec.meets})")
    for d in wanted:
        r = stored.get(d)
        if r is None:
            typer.echo(f"{d}  not started")
            continue
        typer.echo(f"{d}  {r.status}  round {r.round}")
        for rnd in sorted(r.items):
            for i in spec.item_codes():
                v = r.items[rnd].get(i, {})
                peer = v.get("peer_district_code") or ""
                typer.echo(
                    f"    round {rnd}  {i:<20} self {v.get('self_rating') or '-'}  "
                    f"peer {v.get('peer_rating') or '-'}{f' ({peer})' if peer else ''}"
                )


@district_app.command("import")
@friendly
def import_(
    file: Path = typer.Argument(..., help="CSV or YAML: one row per district × rubric item"),
    year: str = typer.Option(..., "--year", help=SERVICE_YEAR_HELP),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    db: str | None = db_option(),
) -> None:
    """Import a whole consortium's ratings (validated row by row; all or nothing)."""
    from schemas.district_review import RatingsImportInvalid, read_rows, validate_ratings
    from sqis import district_review as dr
    from sqis import reviews

    who = _by(by)
    store = open_store(db)
    try:
        m, districts, stored = _district_context(store, year)
        spec = dr.spec_of(m)
    except (reviews.RecordRefused, dr.ReviewRefused) as e:
        _refuse(str(e))
    try:
        rows = validate_ratings(read_rows(file), file.name, spec, districts)
    except RatingsImportInvalid as e:
        typer.secho(f"error: {_shown_lines(str(e))}", fg="red", err=True)
        raise typer.Exit(1) from None
    records = [
        {k: (None if _missing(v) else v) for k, v in rec.items()} for rec in rows.to_dict("records")
    ]
    try:
        changed = dr.apply_rows(stored, records, year, m, districts, who, reviews.now())
    except dr.ReviewRefused as e:
        _refuse(f"{file.name}: {e}; nothing imported")
    reviews.save_reviews(store, changed)
    states = ", ".join(f"{d} {r.status}" for d, r in sorted(changed.items()))
    typer.echo(f"{year}: imported {len(records)} row(s) of {len(changed)} district(s): {states}")


def _missing(v: Any) -> bool:
    import pandas as pd

    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


# ---- the Oversight Panel's decisions -------------------------------------------------------
@oversight_app.command("decide")
@friendly
def decide(
    year: str = typer.Option(..., "--year", help="service year YYYY-YY of the meeting"),
    term: Term = typer.Option(..., "--term", help="the meeting: fall or spring"),
    district: str = typer.Option(..., "--district", help="7-digit district code"),
    decision: Decision = typer.Option(
        ..., "--decision", help="NONE, ADDITIONAL_SUPPORT or INTERVENTION"
    ),
    note: str = typer.Option(..., "--note", help="the Panel's note"),
    by: str | None = typer.Option(None, "--by", help=BY_HELP),
    out: str | None = typer.Option(
        None,
        "--out",
        help="the staff out root (default SQIS_OUT_ROOT): where a meeting "
        "reported before the store noted meetings is found",
    ),  # fmt: skip
    db: str | None = db_option(),
) -> None:
    """Record the Panel's decision on a district at a meeting held (its report produced);
    it appears in the next Oversight report and on the district's page."""
    from sqis import reviews, years
    from sqis.settings import get_settings

    year = years.SchoolYear(year)
    code, who = _code(district, "--district"), _by(by)
    _text_option(note, "--note")
    store = open_store(db)
    try:
        results = year.results_year
        schools = store.read("schools", [results])
        row = reviews.decision_record(
            year,
            str(term),
            code,
            str(decision),
            note,
            held=reviews.meeting_held(store, year, str(term), out or get_settings().out_root),
            districts=set(schools["district_code"].astype(str)),
            existing=store.read("oversight_decisions", [year]),
            by=who,
        )
        reviews.insert(store, "oversight_decisions", row)
    except reviews.RecordRefused as e:
        _refuse(str(e))
    typer.echo(
        f"{year} {term}: the Panel's decision on district {row['district_code']} recorded "
        f"({row['decision']}, by {row['decided_by']}); shown in the next Oversight report"
    )
