"""``sqis educator action``: a district records its action on a ``TRIGGER`` (METHODOLOGY.md
"Educator effectiveness", option 1; docs/methodology.md).

    sqis educator action --year 2015-16 --educator-key <pseudonym> \\
        --action IMPROVEMENT_PLAN --reason "observations and growth disagree"

``--year`` is the results year whose evaluation showed the trigger; the educator is named
by the pseudonym in the staff ``educators.csv`` (``educator_key``), never by a staff ID.
Refused with one line and exit 1 unless that result is a ``TRIGGER`` (or when an action is
already recorded, or the year has no results); an ``IMPROVEMENT_PLAN`` lasts one service
year. The action is stored (``educator_actions``) and the year's staff publication gains
``educator-actions.csv`` and the school's staff page shows it.
"""

from __future__ import annotations

from enum import StrEnum

import typer

from sqis_cli.app import SERVICE, app
from sqis_cli.errors import friendly
from sqis_cli.options import db_option
from sqis_cli.options import store as open_store

educator_app = typer.Typer(
    help="Educator effectiveness: the districts' follow-up of a TRIGGER.", no_args_is_help=True
)
app.add_typer(educator_app, name="educator", rich_help_panel=SERVICE)


class Action(StrEnum):
    """``--action``: what the district decided after the dialogue a trigger opens."""

    ADDENDUM = "ADDENDUM"
    IMPROVEMENT_PLAN = "IMPROVEMENT_PLAN"
    NO_ACTION = "NO_ACTION"


@educator_app.command("action")
@friendly
def action(
    year: str = typer.Option(..., "--year", help="results year YYYY-YY of the TRIGGER"),
    educator_key: str = typer.Option(
        ..., "--educator-key", help="the educator's pseudonym (educator_key in educators.csv)"
    ),
    what: Action = typer.Option(..., "--action", help="ADDENDUM, IMPROVEMENT_PLAN or NO_ACTION"),
    reason: str = typer.Option(..., "--reason", help="why (required for every action)"),
    school: str | None = typer.Option(
        None, "--school", help="14-digit CDS code, for an educator triggered at two schools"
    ),
    by: str | None = typer.Option(None, "--by", help="who records it (default SQIS_RUN_BY)"),
    db: str | None = db_option(),
    out: str | None = typer.Option(
        None, "--out", help="the staff edition's out root (default SQIS_OUT_ROOT)"
    ),
) -> None:
    """Record the district's action on an educator's TRIGGER (refused on anything else)."""
    from sqis import educators as edu
    from sqis import publish as publication
    from sqis import year_outputs, years
    from sqis.methodology import for_year
    from sqis.settings import get_settings

    year = years.SchoolYear(year)
    s = get_settings()
    store = open_store(db)
    m = for_year(year, None, s.methodology_dir)
    # a refusal (ActionRefused) is one line and exit 1 (sqis_cli.errors.friendly)
    if store.dependency(year) is None:
        raise edu.ActionRefused(f"the results store holds no {year} results: run the year first")
    row = edu.action_record(
        store.read("educator_results", [year]),
        store.read("educator_actions", [year]),
        year,
        educator_key.strip().lower(),
        what.value,
        reason,
        by or s.run_by,
        m,
        school_code=school,
    )
    store.add_educator_action(row)
    runs = store.runs(year)
    done = runs[runs["status"] == "SUCCEEDED"].sort_values("id")
    inputs = dict(done.iloc[-1]["input_checksums"] or {}) if len(done) else {}
    produced = year_outputs.produced_stamp(year, inputs, m)  # the stamp the year's run used
    files = year_outputs.educator_staff_files(store, year, m, produced)
    publication.publish_more(year, files, out or s.out_root)
    until = f", in force through {row['in_force_until']}" if row["in_force_until"] else ""
    typer.echo(
        f"{year}: {what.value} recorded for educator {row['educator_key'][:12]}… at "
        f"{row['school_code']}{until}; wrote {year}/educator-actions.csv"
    )
