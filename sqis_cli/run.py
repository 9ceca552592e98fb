"""``sqis run``, ``sqis cycle``, ``sqis oversight``: the Prefect flows from the command line.

The flows run against ``PREFECT_API_URL`` when it is set (the runs show in that
server's UI) and otherwise against Prefect's temporary local server, which takes
10–20 seconds to start. On failure the command prints one clear line and exits
non-zero; it never shows a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date, datetime
from typing import Any

import typer

from sqis_cli.app import ANNUAL, SERVICE, app
from sqis_cli.options import Pdf, TaskRunner, Term, db_option

PDF_HELP = "PDF reports: auto (Focus/Priority data reports), all, none."
OUT_HELP = "Out root (folder or s3://): the staff edition. Default SQIS_OUT_ROOT."
PUBLIC_HELP = (
    "Public root (folder or s3://, e.g. a public bucket): the public edition. "
    "Default SQIS_PUBLIC_ROOT, else <out>/public."
)
DASK_HELP = "tcp://host:port of a Dask scheduler."
FORCE_HELP = (
    "Run past a refusal (another store's publication, a missing or stale earlier year, "
    "another methodology), giving the reason; it is recorded on the run."
)
DATE_HELP = "Run as on this date (YYYY-MM-DD), deriving the year from it. Default: today."


def as_of_date(text: str | None) -> date | None:
    """``--date YYYY-MM-DD`` (or None); a wrong date exits 2 with one line."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"--date {text!r} is not a date of the form YYYY-MM-DD (e.g. 2016-08-15)", 2)
        raise  # unreachable: _fail exits


def _prefect_quiet() -> None:
    """Keep Prefect's console to the essentials (the log stays complete in the API), and
    give the temporary local server time to start on a busy machine."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def use_db(db: str | None) -> None:
    """``--db``: the results store for this command, as its setting (never a flow parameter:
    a password in it would be stored with every flow run's parameters)."""
    if db:
        from sqis.settings import reset_settings_cache

        os.environ["SQIS_DATABASE_URL"] = db
        reset_settings_cache()


def plain_errors(e: Any) -> str:
    """A pydantic ValidationError in plain words: ``field: message``, without pydantic's
    "Value error, " and "Input should be" wording."""
    out = []
    for x in e.errors():
        where = ".".join(str(p) for p in x["loc"]) or "value"
        msg = str(x["msg"]).removeprefix("Value error, ")
        msg = msg.replace("Input should be ", "use ")
        out.append(f"{where.replace('_', '-')}: {msg}")
    return "; ".join(out)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def _explain(e: BaseException) -> str:
    """One line (or a short block) for an exception; never a traceback."""
    text = str(e).strip() or type(e).__name__
    return text if len(text) < 4000 else text[:4000] + " …"


def _where(kind: str) -> str:
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return f"Prefect server {url}"
    return (
        "Prefect's temporary local server (starting takes 10-20 s; "
        "set PREFECT_API_URL to keep the runs)"
    )


class _QuietConsole(logging.Filter):
    """The console shows the ``sqis`` loggers' WARNING and above unless ``-v`` (the Prefect
    API keeps every line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from sqis_cli.app import verbose

        if verbose():
            return True
        if record.name in ("prefect.flow_runs", "prefect.task_runs"):
            # the command prints the run's link, its progress and a failure's message
            # once (`error: …`); Prefect's per-run lines stay in the API
            return False
        ours = record.name.split(".", 1)[0] in ("sqis", "flows", "tasks")
        return not ours or record.levelno >= logging.WARNING


class _NoTraceback(logging.Filter):
    """Drop the traceback from a record on its way to the console (the API keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _console_without_tracebacks() -> None:
    """Prefect's console handler prints a failed flow's traceback; the command prints one
    ``error:`` line instead. The flow-run log in the Prefect API (written by its own
    handler, before the console's) keeps the traceback."""
    for h in logging.getLogger().handlers:
        if type(h).__name__ == "PrefectConsoleHandler" and not any(
            isinstance(f, _NoTraceback) for f in h.filters
        ):
            h.addFilter(_NoTraceback())
            h.addFilter(_QuietConsole())


def _run_flow(params: Any, task_runner: str, dask_address: str | None) -> dict[str, Any]:
    from flows.annual_cycle import with_task_runner

    flow = with_task_runner(task_runner, dask_address)
    _console_without_tracebacks()
    year_tag = f"year:{params.year}" if params.year else "year:current"
    from prefect import tags

    from flows import progress

    listener = _console_progress()
    progress.LISTENERS.append(listener)
    try:
        with tags("sqis", "cli", year_tag):
            return flow(params)
    finally:
        progress.LISTENERS.remove(listener)


def _console_progress() -> Any:
    """Stage-by-stage progress on the console (stderr): the flow run's UI link first when
    a Prefect server is configured, then one line per stage with the share done."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    last = {"stage": ""}

    def show(event: str, info: dict[str, Any]) -> None:
        if event == "started":
            if info.get("link"):
                console.print(f"{info['year']}: flow run {info['link']}")
        elif event == "stage" and info["stage"] != last["stage"]:
            last["stage"] = info["stage"]
            console.print(f"  [{info['percent']:5.1f}%] {info['stage']}")
        elif event == "done":
            console.print(f"  [100.0%] {info['summary']}")

    return show


def _print_result(res: dict[str, Any]) -> None:
    des = ", ".join(f"{k} {v}" for k, v in sorted(res.get("designations", {}).items()))
    typer.echo(
        f"{res['year']}: done (methodology {res['methodology']}, run {res['run_id']}). "
        f"{len(res['output_checksums'])} files in {res['out_root']}/{res['year']}"
        + (f" and {res['public_root']}/{res['year']}" if res.get("public_root") else "")
        + f"; results store {res['db_url']}. Designations: {des or 'none'}."
    )


@app.command("run", rich_help_panel=ANNUAL)
def run(
    data: str = typer.Option(..., "--data", help="Data root: a folder or s3://bucket/prefix."),
    year: str = typer.Option(
        None,
        "--year",
        help="Results year YYYY-YY (its results decide the next school year). "
        "Default: the school year that ended before --date.",
    ),
    as_of: str = typer.Option(None, "--date", help=DATE_HELP),
    out: str = typer.Option(None, "--out", help=OUT_HELP),
    public_out: str = typer.Option(None, "--public-out", help=PUBLIC_HELP),
    db: str = db_option(),
    methodology: str = typer.Option(None, "--methodology", help="Methodology version or file."),
    pdf: Pdf = typer.Option(Pdf.auto, "--pdf", help=PDF_HELP),
    replace: bool = typer.Option(False, "--replace", help="Accept a changed delivery."),
    force: str = typer.Option(None, "--force", metavar="REASON", help=FORCE_HELP),
    task_runner: TaskRunner = typer.Option(
        TaskRunner.default, "--task-runner", help="default (threads here) or dask."
    ),
    dask_address: str = typer.Option(None, "--dask-address", help=DASK_HELP),
) -> None:
    """Run one results year's annual cycle (ingest → index → designations → reports)."""
    if year and as_of:
        _fail("give --year or --date, not both", 2)
    if not year:
        from flows.annual_cycle import resolve_year
        from sqis.methodology import MethodologyError

        try:
            year = resolve_year(None, methodology, as_of_date(as_of))
        except MethodologyError as e:
            _fail(str(e), 2)
    _cycle(
        [year],
        data,
        out,
        db,
        methodology,
        pdf,
        replace,
        task_runner,
        dask_address,
        force,
        public_out=public_out,
    )


@app.command("cycle", rich_help_panel=ANNUAL)
def cycle(
    data: str = typer.Option(..., "--data", help="Data root: a folder or s3://bucket/prefix."),
    first: str = typer.Option(..., "--from", help="First school year YYYY-YY."),
    last: str = typer.Option(..., "--to", help="Last school year YYYY-YY."),
    out: str = typer.Option(None, "--out", help=OUT_HELP),
    public_out: str = typer.Option(None, "--public-out", help=PUBLIC_HELP),
    db: str = db_option(),
    methodology: str = typer.Option(None, "--methodology", help="Methodology version or file."),
    pdf: Pdf = typer.Option(Pdf.auto, "--pdf", help=PDF_HELP),
    replace: bool = typer.Option(False, "--replace", help="Accept changed deliveries."),
    force: str = typer.Option(None, "--force", metavar="REASON", help=FORCE_HELP),
    task_runner: TaskRunner = typer.Option(
        TaskRunner.default, "--task-runner", help="default (threads here) or dask."
    ),
    dask_address: str = typer.Option(None, "--dask-address", help=DASK_HELP),
) -> None:
    """Run the annual cycle for every year from --from to --to, in order."""
    from sqis.years import YearError, year_range

    try:
        ys = year_range(first, last)
    except YearError as e:
        _fail(str(e), 2)
    _cycle(
        ys,
        data,
        out,
        db,
        methodology,
        pdf,
        replace,
        task_runner,
        dask_address,
        force,
        public_out=public_out,
    )


def _cycle(
    ys: list[str],
    data: str,
    out: str | None,
    db: str | None,
    methodology: str | None,
    pdf: str,
    replace: bool,
    task_runner: str,
    dask_address: str | None,
    force: str | None = None,
    *,
    public_out: str | None = None,
) -> None:
    from pydantic import ValidationError

    _prefect_quiet()
    _check_public_root(out, public_out)
    if task_runner not in ("default", "dask"):
        _fail(f"--task-runner {task_runner!r}: use default or dask", 2)
    if dask_address and task_runner != "dask":
        _fail("--dask-address needs --task-runner dask", 2)
    from flows.params import AnnualCycleParams

    use_db(db)
    try:
        params = [
            AnnualCycleParams(
                year=y,
                data_root=data,
                out_root=out or "",
                public_root=public_out or "",
                methodology=methodology or "",
                pdf=str(pdf),
                replace=replace,
                force=force or "",
            )
            for y in ys
        ]
    except ValidationError as e:
        _fail(plain_errors(e), 2)
    from sqis import reading
    from sqis.storage import StorageError

    try:
        missing = [y for y in ys if not reading.delivered(data, y)]
    except StorageError as e:
        _fail(str(e), 2)
    if missing:
        _fail(f"{data}: no delivery for {', '.join(missing)} (expected a folder per year)", 2)
    typer.echo(f"running {', '.join(ys)} on {_where('run')}", err=True)
    for p in params:
        try:
            res = _run_flow(p, str(task_runner), dask_address)
        except KeyboardInterrupt:
            _fail(f"{p.year}: interrupted; run the same command again to complete it", 130)
        except Exception as e:  # the flow's failure, explained without a traceback
            _fail(f"{p.year}: {_explain(e)}")
        _print_result(res)


# `sqis oversight [--year … --term …]` writes a meeting's report (the group's own
# invocation, as before); `sqis oversight decide …` records the Panel's decisions
# (sqis_cli/reviews.py)
oversight_app = typer.Typer(
    invoke_without_command=True,
    help="The Oversight Panel: a meeting's report; `decide` records the Panel's decisions.",
)
app.add_typer(oversight_app, name="oversight", rich_help_panel=SERVICE)


@oversight_app.callback()
def oversight(
    ctx: typer.Context,
    year: str = typer.Option(
        None,
        "--year",
        help="Service year YYYY-YY of the meeting (it reviews the year before's results). "
        "Default: the meeting due on --date.",
    ),
    term: Term = typer.Option(None, "--term", help="The meeting. Default: due on --date."),
    as_of: str = typer.Option(None, "--date", help=DATE_HELP),
    out: str = typer.Option(None, "--out", help=OUT_HELP),
    public_out: str = typer.Option(None, "--public-out", help=PUBLIC_HELP),
    db: str = db_option(),
) -> None:
    """Write the report of an Oversight Panel meeting from the results store: the staff
    edition under the out root, the public one under the public root (`decide`: record
    the Panel's decision on a district at a meeting held)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqis.years import SchoolYear, YearError

    _prefect_quiet()
    _check_public_root(out, public_out)
    try:
        if year:
            year = SchoolYear(year)
    except YearError as e:
        _fail(str(e), 2)
    term = str(term) if term else None
    day = as_of_date(as_of)
    from flows.oversight import oversight_report, resolve
    from flows.params import OversightParams

    use_db(db)
    try:
        year, term = resolve(year, term, day)
    except Exception as e:
        _fail(_explain(e), 2)
    _console_without_tracebacks()
    try:
        res = oversight_report(
            OversightParams(year=year, term=term, out_root=out or "", public_root=public_out or "")
        )
    except Exception as e:
        _fail(f"oversight {year} {term}: {_explain(e)}")
    for k in res["files"]:
        typer.echo(f"wrote {res['out_root']}/{res['results_year']}/{k}")
    for k in res.get("public_files", []):
        typer.echo(f"wrote {res['public_root']}/{res['results_year']}/{k}")


def _check_public_root(out: str | None, public_out: str | None) -> None:
    """``--public-out`` (or its default) is refused before anything runs when it is the out
    root, inside a year folder of it, or holds it (``sqis.publish.public_root_for``)."""
    from sqis.publish import PublishError, public_root_for
    from sqis.settings import get_settings

    s = get_settings()
    try:
        public_root_for(out or s.out_root, public_out or s.public_root)
    except PublishError as e:
        _fail(str(e), 2)


def main() -> None:  # pragma: no cover - python -m sqis_cli.run
    app(sys.argv[1:])
