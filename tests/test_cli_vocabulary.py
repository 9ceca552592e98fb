"""The `sqis` command as an operator meets it (issue 21): every command answers `--help`; a
missing or wrong option is one `error:` line and exit 2; a refusal is one line and exit 1;
no traceback anywhere; the same option has the same name on every command.

The console entry point (``sqis_cli.main``) runs in this process with ``sys.argv`` set, as
the installed `sqis` script runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review_fixtures import sqis  # the console entry point: (exit code, out, err)

# every command, and one required option it cannot run without (None: it has none)
COMMANDS: dict[str, str | None] = {
    "generate": "--out",
    "generate-interim": "--data",
    "validate": "--year",
    "ingest": "--year",
    "run": "--data",
    "cycle": "--data",
    "calibrate": "--data",
    "oversight": None,
    "checkpoint": None,
    "calendars": "--year",
    "plan submit": "--school",
    "plan approve": "--school",
    "plan status": "--year",
    "audit": "--year",
    "db upgrade": None,
    "db current": None,
    "db stale": None,
    "db unlock": "--year",
    "oversight decide": "--year",
    "review priority": "--year",
    "review escalation": "--year",
    "review district self-rate": "--year",
    "review district submit": "--year",
    "review district peer-rate": "--year",
    "review district resubmit": "--year",
    "review district show": "--year",
    "review district import": "--year",
}


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_answers_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = sqis(capsys, *command.split(), "--help")
    assert code == 0, err
    assert f"Usage: sqis {command}" in " ".join(out.split())
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", sorted(c for c, req in COMMANDS.items() if req))
def test_a_missing_option_is_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sqis(capsys, *command.split())
    assert code == 2
    assert lines(err) == [lines(err)[0]] and lines(err)[0].startswith("error: Missing ")
    assert f"`sqis {command} --help`" in err
    assert "Traceback" not in out + err and "╭" not in err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_wrong_option_is_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sqis(capsys, *command.split(), "--no-such-option")
    assert code == 2
    assert len(lines(err)) == 1 and "No such option: --no-such-option" in err
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--data", "x", "--pdf", "some"], "'some' is not one of 'auto', 'all', 'none'"),
        (["oversight", "--term", "winter"], "'winter' is not one of 'fall', 'spring'"),
        (["run", "--data", "x", "--task-runner", "ray"], "is not one of 'default', 'dask'"),
        (["run", "--data", "x", "--year", "２０１５-１６"], "YYYY-YY"),
        (["run", "--data", "x", "--date", "2016-13-01"], "YYYY-MM-DD"),
        (["run", "--data", "x", "--methodology", "nonexistent"], "'nonexistent'"),
        (["db", "current", "--db", "notaurl"], "is not a database URL"),
        (["db", "current", "--db", "mysql://sqis:S3CRET@host/db"], "SQLite or PostgreSQL"),
    ],
)
def test_wrong_values_are_one_plain_line_and_exit_2(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = sqis(capsys, *args)
    assert code == 2, out + err
    assert len(lines(err)) == 1, err
    assert expected in err
    for leak in ("Traceback", "Value error,", "Input should be", "S3CRET", "pydantic"):
        assert leak not in out + err


def test_a_mistyped_sqlite_path_makes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    typo = tmp_path / "nowhere" / "sqis.db"
    for args in (["db", "current"], ["audit", "--year", "2015-16"], ["db", "stale"]):
        code, out, err = sqis(capsys, *args, "--db", f"sqlite:///{typo}")
        assert code == 2 and len(lines(err)) == 1 and "there is no results store" in err
    assert not (tmp_path / "nowhere").exists()


def test_a_refusal_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'sqis.db'}"
    assert sqis(capsys, "db", "upgrade", "--db", db)[0] == 0
    code, out, err = sqis(capsys, "checkpoint", "--year", "2016-17", "--number", "1", "--db", db)
    assert code == 1 and len(lines(err)) == 1, err
    assert "run the year first" in err and "--year 2015-16" in err
    code, out, err = sqis(capsys, "db", "stale", "--db", db)
    assert code == 0 and "no stale year" in out


def test_version_and_help_in_calendar_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sqis(capsys, "--version")
    assert code == 0 and out.startswith("sqis ")
    code, out, _ = sqis(capsys, "--help")
    panels = [
        "1. Deliveries",
        "2. The annual run of a results year",
        "3. The service year it decides",
        "4. The results store",
    ]
    where = [out.index(p) for p in panels]
    assert where == sorted(where)
    assert "--install-completion" in out


def test_the_same_option_has_the_same_name_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    """The results store is `--db`, the validated store `--store-root`, the data root
    `--data`; no command spells them otherwise."""
    seen: dict[str, str] = {}
    for command in COMMANDS:
        _, out, _ = sqis(capsys, *command.split(), "--help")
        seen[command] = out
        for old in ("--url", "--store ", "--store\n"):
            assert old not in out, (command, old)
    for command in ("audit", "db current", "checkpoint", "calendars", "plan status", "run"):
        assert "--db" in seen[command], command
    for command in ("validate", "ingest", "run", "cycle", "calibrate", "generate-interim"):
        assert "--data" in seen[command], command


def test_an_invalid_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    """A bad SQIS_ setting, as an operator sets it in the environment of the real command:
    one line naming the variable, its value and its rule (every bad one), exit 2, no
    traceback; a URL setting's value is never echoed (it may carry a password)."""
    import os
    import subprocess

    exe = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sqis"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQIS_")}
    env.update(
        SQIS_PSEUDONYM_KEY="k",
        SQIS_RENDER_MIN_SCHOOLS="-1",
        SQIS_DISTRICT_WORKERS="two",
        SQIS_PUBLIC_BASE_URL="https://staff:s3cretpw@reports.example.org/",
    )
    args = [str(exe), "run", "--data", str(tmp_path), "--year", "2014-15", "--out", str(tmp_path)]
    done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("error: ")
    assert "SQIS_RENDER_MIN_SCHOOLS='-1'" in lines[0] and "greater than or equal to 0" in lines[0]
    assert "SQIS_DISTRICT_WORKERS='two'" in lines[0] and "valid integer" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing made

    # a URL setting that is invalid is named without its value
    from sqis.settings import Settings, _settings_error

    try:
        Settings(public_base_url=["s3cretpw"], render_min_schools=-1)  # type: ignore[arg-type]
    except Exception as e:  # pydantic's ValidationError
        message = str(_settings_error(e))  # type: ignore[arg-type]
    assert "SQIS_PUBLIC_BASE_URL:" in message and "s3cretpw" not in message
