"""Hostile input, round two (issue 17, items 2, 6, 7, 8 and 9; SECURITY.md "Hostile input").

Every fault is written to disk as it happens and run through the real ``sqis validate``
and ``sqis ingest`` commands (typer's ``CliRunner``). Each refusal asserts the exit code
(1: the delivery breaks the contract; 2: a file, the year or the settings cannot be used),
the one error that names file, row, column and rule, that the store root is byte-for-byte
as before (an ingest into a store that already holds the valid year, with ``--replace``),
and that no delivered student ID reaches the console or the report.

- 2: a file without its header row, CSV or Parquet, every contract file: ``file:no_header``,
  no field of the data row echoed (column names in a report are masked like values).
- 6: Unicode digits and a trailing line break in every code, ID and year column and in
  ``--year``; control characters and over-long names; files a year folder may not hold,
  CR-only line ends and a doubled byte-order mark; a methodology under the suppression
  floor; a year folder named in full-width digits.
- 7: ``+1`` and 18- to 40-digit integers in every integer column; a Parquet ``student_id``
  of type int64; a header with a trailing space; ``-0.0`` and ``1e999`` in every score.
- 8: a tiny Parquet file declaring a million rows (refused from its metadata, in a
  subprocess measuring time and memory), every contract file; the report's row cap.
- 9: symbolic links leading out of the data root, the store root and the out root.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from schemas import CONTRACT_MODELS
from schemas.base import column_kinds
from tests.test_validation_corpus import YEAR, tree_digest, valid_year, write_year

FILES = tuple(CONTRACT_MODELS)
STUDENT_FILES = ("students", "assessments", "graduation", "sel")
KINDS = {name: column_kinds(model) for name, model in CONTRACT_MODELS.items()}
INT_COLUMNS = [(f, c) for f, k in KINDS.items() for c, kind in k.items() if kind == "int"]
FLOAT_COLUMNS = [(f, c) for f, k in KINDS.items() for c, kind in k.items() if kind == "float"]
CHECKS = {
    (f, c): [str(ch.error) for ch in m.to_schema().columns[c].checks]
    for f, m in CONTRACT_MODELS.items()
    for c in KINDS[f]
}
DIGIT_COLUMNS = [  # the codes and IDs: ``str_matches('^[0-9]{n}\\Z')``
    (f, c)
    for (f, c), checks in CHECKS.items()
    if any(re.fullmatch(r"str_matches\('\^\[0-9\]\{[0-9]+\}\\Z'\)", ch) for ch in checks)
]
YEAR_COLUMNS = [("graduation", "cohort"), ("graduation", "grad_year")]
TEXT_COLUMNS = [("schools", "school_name"), ("schools", "district_name"),
                ("climate", "respondent_id")]  # fmt: skip
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
TEN_DIGITS = re.compile(r"\d{10}")


def delivered_ids() -> set[str]:
    frames = valid_year()
    return {i for n in STUDENT_FILES for i in frames[n]["student_id"]}


IDS = delivered_ids()


def cli(*args: str):
    from sqis_cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store already holding the valid year (a refused re-delivery must not touch it)."""
    from sqis.ingest import ingest_year
    from sqis.settings import reset_settings_cache
    from tests.conftest import TEST_KEY

    base = tmp_path_factory.mktemp("hostile2")
    write_year(base / "data", valid_year())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SQIS_PSEUDONYM_KEY", TEST_KEY)
        reset_settings_cache()
        ingest_year(str(base / "data"), YEAR, store_root=str(base / "store"))
    reset_settings_cache()
    return base / "store"


@dataclass
class Outcome:
    rows: list[dict[str, str]]  # the validation report, as written
    output: str  # everything both commands printed
    code: int

    def failures(self) -> set[tuple]:
        return {(r["file"], r["row"], r["column"], r["rule"]) for r in self.rows}

    def of(self, file: str) -> list[dict[str, str]]:
        return [r for r in self.rows if r["file"] == file]


def refused(data: Path, store_template: Path, tmp: Path, code: int, year: str = YEAR) -> Outcome:
    """``sqis validate`` then ``sqis ingest --replace`` of ``data``: both exit with ``code``,
    the store root is unchanged, no traceback, no delivered student ID printed or written."""
    store = tmp / "store"
    if not store.exists():
        shutil.copytree(store_template, store)
    before = tree_digest(store)
    v = cli("validate", "--data", str(data), "--year", year, "--report", str(tmp / "validate.csv"))
    i = cli(
        "ingest", "--data", str(data), "--year", year, "--store-root", str(store), "--replace",
        "--report", str(tmp / "ingest.csv"),
    )  # fmt: skip
    output = v.output + i.output
    assert (v.exit_code, i.exit_code) == (code, code), output
    assert "Traceback" not in output, output
    for res in (v, i):
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert tree_digest(store) == before
    report = (tmp / "validate.csv").read_bytes() if (tmp / "validate.csv").exists() else b""
    ingest_report = (tmp / "ingest.csv").read_bytes() if (tmp / "ingest.csv").exists() else b""
    for text in (output, report.decode("utf-8"), ingest_report.decode("utf-8")):
        assert not set(TEN_DIGITS.findall(text)) & IDS, text[:3000]
    rows = list(csv.DictReader(io.StringIO(report.decode("utf-8"), newline="")))
    return Outcome(rows, output, code)


def in_report(value: str) -> str:
    """A value as the report CSV writes it: text a spreadsheet would run as a formula
    (``+…``, ``-`` not followed by a number) gets a leading ``'`` (SECURITY.md)."""
    number = re.fullmatch(r"-[0-9.eE+-]+", value) is not None
    return "'" + value if value.startswith("+") or (value.startswith("-") and not number) else value


def deliver(
    root: Path, mutate: Callable[[dict[str, pd.DataFrame]], None] | None = None, fmt: str = "csv"
) -> Path:
    frames = valid_year()
    if mutate is not None:
        mutate(frames)
    write_year(root, frames, fmt=fmt)
    return root


def setv(name: str, row: int, column: str, value: str) -> Callable[[dict], None]:
    """Set one value; ``row`` as a CSV names it (the first data row is row 2)."""

    def mutate(frames: dict[str, pd.DataFrame]) -> None:
        frames[name].loc[row - 2, column] = value

    return mutate


# ---- item 2: a file without its header row ---------------------------------------------------


def _drop_header(folder: Path, name: str, fmt: str) -> None:
    if fmt == "csv":
        p = folder / f"{name}.csv"
        p.write_bytes(p.read_bytes().split(b"\n", 1)[1])
        return
    p = folder / f"{name}.parquet"
    table = pq.read_table(p)
    first = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    rest = table.slice(1)
    # the first data row becomes the column names (duplicates and all)
    pq.write_table(pa.Table.from_arrays(rest.columns, names=first), p)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("name", FILES)
def test_a_file_without_its_header_row_is_refused_without_echoing_the_row(
    tmp_path: Path, store_template: Path, name: str, fmt: str
) -> None:
    data = deliver(tmp_path / "data", fmt=fmt)
    _drop_header(data / YEAR, name, fmt)
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {(name, "1" if fmt == "csv" else "", "", "file:no_header")}
    message = out.of(name)[0]["value"]
    assert "header row is missing" in message and "not shown" in message
    first = valid_year()[name].iloc[0]  # nothing of the data row in the report or console
    for value in first:
        if len(value) >= 4 and not value.isalpha() and value != YEAR:
            assert value not in message and value not in out.output, value


def test_a_column_named_like_a_student_id_is_masked(tmp_path: Path, store_template: Path) -> None:
    def mutate(f: dict[str, pd.DataFrame]) -> None:
        f["sel"] = f["sel"].assign(**{"1000000001": "x", "note 1000000003": "y"})

    out = refused(deliver(tmp_path / "data", mutate), store_template, tmp_path, 1)
    assert out.failures() == {
        ("sel", "", "'******0001'", "column_unexpected"),
        ("sel", "", "'note ******0003'", "column_unexpected"),
    }


def test_the_summary_behind_the_validation_artifact_names_no_student(tmp_path: Path) -> None:
    """The Prefect validation artifact is the report's summary (file, rule, column, count):
    its column names are masked at the source."""
    from sqis.validation import validate_delivery

    data = deliver(tmp_path / "data")
    _drop_header(data / YEAR, "sel", "csv")
    text = validate_delivery(str(data), YEAR).summary().to_csv()
    assert not set(TEN_DIGITS.findall(text)) & IDS
    assert "file:no_header" in text


# ---- item 6: Unicode digits, trailing line breaks, --year ------------------------------------


def _digit_rule(file: str, column: str) -> str:
    (rule,) = [c for c in CHECKS[(file, column)] if c.startswith("str_matches")]
    return rule


@pytest.mark.parametrize("script", ["full_width", "arabic_indic", "trailing_newline"])
@pytest.mark.parametrize(("file", "column"), DIGIT_COLUMNS + YEAR_COLUMNS)
def test_codes_ids_and_years_take_ascii_digits_only(
    tmp_path: Path, store_template: Path, file: str, column: str, script: str
) -> None:
    good = valid_year()[file].loc[0, column]
    bad = {
        "full_width": good.translate(FULL_WIDTH),
        "arabic_indic": good.translate(ARABIC_INDIC),
        "trailing_newline": good + "\n",
    }[script]
    out = refused(deliver(tmp_path / "data", setv(file, 2, column, bad)), store_template,
                  tmp_path, 1)  # fmt: skip
    own = {(r["file"], r["row"], r["column"], r["rule"]) for r in out.rows
           if not r["rule"].startswith("cross_file:")}  # fmt: skip
    assert own == {(file, "2", column, _digit_rule(file, column))}
    # other rows follow from the bad code (not in schools, not enrolled): never a pass
    assert all(r["rule"].startswith("cross_file:") for r in out.rows if (r["file"], r["row"])
               != (file, "2"))  # fmt: skip


@pytest.mark.parametrize(
    "year", ["２０１５-１６", "2015-16\n", "٢٠١٥-١٦", " 2015-16", "2015-16 ", "2015-16\x00"]
)
def test_a_year_in_other_digits_or_with_a_line_break_is_refused(
    tmp_path: Path, store_template: Path, year: str
) -> None:
    from sqis import years

    with pytest.raises(years.YearError):
        years.start_of(year)
    with pytest.raises(years.YearError):
        years.parse_range(f"2013-14..{year}")
    data = deliver(tmp_path / "data")
    if "\n" not in year and "\x00" not in year:  # a folder so named holds a valid delivery
        shutil.copytree(data / YEAR, data / year)
    out = refused(data, store_template, tmp_path, 2, year=year)
    assert "error: school year" in out.output and "not of the form YYYY-YY" in out.output
    assert "Artifact key" not in out.output


def test_a_year_folder_in_full_width_digits_is_never_read(tmp_path: Path) -> None:
    from sqis.ingest import ingest_year
    from sqis.years import YearError

    data = deliver(tmp_path / "data")
    (data / YEAR).rename(data / "２０１５-１６")
    with pytest.raises(YearError, match="YYYY-YY"):
        ingest_year(str(data), "２０１５-１６", store_root=str(tmp_path / "store"))
    assert not (tmp_path / "store").exists()


_ATTENDANCE = "student_id,school_code,days_enrolled,days_absent\n1000000001,01123450000001,40,2\n"
_PARTICIPATION = "school_code,attended,attendees\n01123450000001,Y,Principal\n"


@pytest.mark.parametrize(
    ("file", "body", "rule"),
    [
        ("attendance", _ATTENDANCE.split("\n", 1)[1], "file:no_header"),
        ("attendance", _ATTENDANCE.replace("01123450000001", "０１１２３４５００００００１"),
         "str_matches('^[0-9]{14}\\Z')"),
        ("participation", _PARTICIPATION.replace("Principal", "Prin\x00cipal"),
         "no_control_characters"),
        ("participation", _PARTICIPATION.replace("\n", "\r"), "file:line_ends (a CR without LF)"),
        ("participation", "\ufeff\ufeff" + _PARTICIPATION, "file:encoding (two byte-order marks)"),
        ("attendance", _ATTENDANCE.replace(",40,", ",+40,"), None),
    ],
    ids=["no_header", "full_width", "nul", "cr_only", "double_bom", "plus_sign"],
)  # fmt: skip
def test_interim_deliveries_are_held_to_the_same_rules(
    tmp_path: Path, file: str, body: str, rule: str | None
) -> None:
    from schemas.interim import InterimError, load_interim
    from sqis.storage import open_storage

    folder = tmp_path / "data" / YEAR / "interim" / "checkpoint-1"
    folder.mkdir(parents=True)
    (folder / f"{file}.csv").write_bytes(body.encode("utf-8"))
    storage = open_storage(tmp_path / "data")
    if rule is None:
        got = load_interim(storage, YEAR, 1, b"key")
        assert getattr(got, file)["days_enrolled"].tolist() == [40]
        return
    with pytest.raises(InterimError) as e:
        load_interim(storage, YEAR, 1, b"key")
    assert rule in set(e.value.errors["rule"])
    assert "1000000001" not in str(e.value)


# ---- item 6: control characters and lengths the results store cannot hold --------------------

CONTROLS = ["\x00", "\t", "\n", "\x1b", "\x7f", "\x85"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("char", CONTROLS, ids=[f"x{ord(c):02x}" for c in CONTROLS])
@pytest.mark.parametrize(("file", "column"), TEXT_COLUMNS)
def test_control_characters_in_text_are_refused_with_file_row_column_and_rule(
    tmp_path: Path, store_template: Path, file: str, column: str, char: str, fmt: str
) -> None:
    value = valid_year()[file].loc[1, column]
    bad = value[:1] + char + value[1:]
    data = deliver(tmp_path / "data", setv(file, 3, column, bad), fmt=fmt)
    out = refused(data, store_template, tmp_path, 1)
    row = "3" if fmt == "csv" else "2"
    assert out.failures() == {(file, row, column, "no_control_characters")}
    shown = out.of(file)[0]["value"]
    assert char not in shown and repr(char)[1:-1] in shown  # visible, escaped


def test_a_carriage_return_inside_a_quoted_value_is_refused(
    tmp_path: Path, store_template: Path
) -> None:
    data = deliver(tmp_path / "data", setv("schools", 3, "school_name", "Birch\rMiddle"))
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {("schools", "", "", "file:line_ends")}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("column", ["school_name", "district_name"])
def test_a_name_longer_than_the_results_store_holds_is_refused(
    tmp_path: Path, store_template: Path, column: str, fmt: str
) -> None:
    from schemas.limits import NAME_MAX_CHARS

    data = deliver(tmp_path / "data", setv("schools", 4, column, "é" * (NAME_MAX_CHARS + 100)),
                   fmt=fmt)  # fmt: skip
    out = refused(data, store_template, tmp_path, 1)
    row = "4" if fmt == "csv" else "3"
    assert out.failures() == {("schools", row, column, f"max_length({NAME_MAX_CHARS})")}
    assert out.of("schools")[0]["value"].endswith(f"… ({NAME_MAX_CHARS + 100:,} characters)")


def test_a_name_of_exactly_the_store_size_is_accepted_and_stored(tmp_path: Path) -> None:
    from schemas.limits import NAME_MAX_CHARS

    name = "é" * NAME_MAX_CHARS  # characters, not bytes: PostgreSQL's VARCHAR(200)
    data = deliver(tmp_path / "data", setv("schools", 4, "school_name", name))
    res = cli(
        "ingest", "--data", str(data), "--year", YEAR, "--store-root", str(tmp_path / "store")
    )
    assert res.exit_code == 0, res.output
    stored = pq.read_table(tmp_path / "store" / "validated" / YEAR / "schools.parquet")
    assert name in stored.column("school_name").to_pylist()


def test_the_contract_bounds_are_the_results_store_column_sizes() -> None:
    import sqlalchemy as sa

    from schemas.limits import INTEGER_MAX, NAME_MAX_CHARS
    from sqis.store.models import School

    cols = School.__table__.c
    assert cols.school_name.type.length == NAME_MAX_CHARS
    assert cols.district_name.type.length == NAME_MAX_CHARS
    assert isinstance(cols.low_grade.type, sa.Integer) and INTEGER_MAX == 2**31 - 1
    assert cols.school_code.type.length == 14 and cols.district_code.type.length == 7


# ---- item 6: what a year folder may hold -----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("students.csv.bak", "backup"),
        ("README.txt", "not a file of the data contract"),
        (".DS_Store", "not a file of the data contract"),
        ("old/students.csv", "not a file of the data contract"),
        ("students/students.csv", "variant of a contract file"),
        ("interim", "not a file of the data contract"),
        ("1000000001.csv", "not a file of the data contract"),
    ],
)
def test_any_other_file_in_a_year_folder_is_refused_naming_it(
    tmp_path: Path, store_template: Path, extra: str, words: str
) -> None:
    data = deliver(tmp_path / "data")
    p = data / YEAR / extra
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"student_id\n1000000002\n")
    out = refused(data, store_template, tmp_path, 2)
    shown = extra.replace("1000000001", "******0001")
    assert out.failures() == {(shown, "", "", "file:unexpected")}
    assert words in out.of(shown)[0]["value"] and shown in out.output


def test_a_contract_file_named_in_capitals_is_refused_naming_it(
    tmp_path: Path, store_template: Path
) -> None:
    data = deliver(tmp_path / "data")
    (data / YEAR / "schools.csv").rename(data / YEAR / "Schools.CSV")
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {
        ("Schools.CSV", "", "", "file:unexpected"),
        ("schools", "", "", "file:missing"),
    }
    assert "rename it schools.csv" in out.of("Schools.CSV")[0]["value"]


@pytest.mark.parametrize("name", FILES)
def test_a_file_both_as_csv_and_parquet_is_refused(
    tmp_path: Path, store_template: Path, name: str
) -> None:
    data = deliver(tmp_path / "data")
    valid_year()[name].to_parquet(data / YEAR / f"{name}.parquet", index=False)
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {(name, "", "", "file:ambiguous")}


def test_the_interim_folder_of_checkpoint_deliveries_stays_accepted(tmp_path: Path) -> None:
    data = deliver(tmp_path / "data")
    interim = data / YEAR / "interim" / "checkpoint-1"
    interim.mkdir(parents=True)
    (interim / "attendance.csv").write_text(
        "student_id,school_code,days_enrolled,days_absent\n1000000001,01123450000001,40,2\n"
    )
    res = cli("validate", "--data", str(data), "--year", YEAR, "--report", str(tmp_path / "r.csv"))
    assert res.exit_code == 0, res.output
    res = cli(
        "ingest", "--data", str(data), "--year", YEAR, "--store-root", str(tmp_path / "store")
    )
    assert res.exit_code == 0, res.output


def test_an_extra_file_is_refused_even_when_the_contract_files_are_already_ingested(
    tmp_path: Path, store_template: Path
) -> None:
    """The same six files again would be ``unchanged``; with a stray file beside them the
    delivery is refused, not waved through."""
    data = deliver(tmp_path / "data")
    (data / YEAR / "README.txt").write_text("notes")
    out = refused(data, store_template, tmp_path, 2)
    assert ("README.txt", "", "", "file:unexpected") in out.failures()


@pytest.mark.parametrize(
    ("fault", "rule"),
    [("cr_only", "file:line_ends"), ("double_bom", "file:encoding"),
     ("bom_in_header", "column_unexpected")],
)  # fmt: skip
@pytest.mark.parametrize("name", FILES)
def test_cr_only_line_ends_and_a_doubled_byte_order_mark_are_refused_naming_the_file(
    tmp_path: Path, store_template: Path, name: str, fault: str, rule: str
) -> None:
    data = deliver(tmp_path / "data")
    p = data / YEAR / f"{name}.csv"
    body = p.read_bytes()
    if fault == "cr_only":
        p.write_bytes(body.replace(b"\n", b"\r"))
    elif fault == "double_bom":
        p.write_bytes(b"\xef\xbb\xbf" * 2 + body)
    else:  # a BOM in the middle of the header: one BOM, then the header's second copy
        p.write_bytes(b"\xef\xbb\xbf" + body.replace(b",", b",\xef\xbb\xbf", 1))
    out = refused(data, store_template, tmp_path, 1 if rule == "column_unexpected" else 2)
    assert {r["rule"] for r in out.of(name)} >= {rule}
    assert {r["file"] for r in out.rows} == {name}
    if rule == "column_unexpected":
        (bad,) = [r for r in out.of(name) if r["rule"] == rule]
        assert bad["column"].startswith("'\\ufeff")  # the invisible character, made visible


# ---- item 6: the suppression floor of a methodology ------------------------------------------


def _methodology_file(tmp: Path, **changes: int) -> Path:
    """The built-in methodology file with settings changed in its text (``min_count=0``,
    ``n_size=11``; each key is on one line of the file)."""
    from sqis.methodology import BUILTIN_DIR

    text = (BUILTIN_DIR / "core-2013.yaml").read_text()
    for key, value in changes.items():
        text, n = re.subn(rf"(?m)^(\s*{key}:)\s*[0-9]+", rf"\g<1> {value}", text)
        assert n == 1, key
    p = tmp / "m.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "changes",
    [{"max_count": 0}, {"max_count": 9}, {"min_count": 2}, {"min_count": -1}, {"n_size": 1},
     {"n_size": 10}],
    ids=["max_0", "max_9", "min_2", "min_neg", "nsize_1", "nsize_10"],
)  # fmt: skip
def test_a_methodology_under_the_public_suppression_floor_does_not_load(
    tmp_path: Path, changes: dict
) -> None:
    from sqis.methodology import MethodologyError, load_file

    path = _methodology_file(tmp_path, **changes)
    with pytest.raises(MethodologyError, match="under 11|floor of 11"):
        load_file(path)
    data = deliver(tmp_path / "data")
    res = cli("validate", "--data", str(data), "--year", YEAR, "--methodology", str(path))
    assert res.exit_code == 2 and "error: methodology file" in res.output
    assert "Traceback" not in res.output


def test_a_methodology_at_the_floor_loads(tmp_path: Path) -> None:
    from sqis.methodology import load_file

    m = load_file(_methodology_file(tmp_path, min_count=0, max_count=10, n_size=11))
    assert (m.suppression.min_count, m.suppression.max_count, m.n_size) == (0, 10, 11)


# ---- item 7: integers --------------------------------------------------------------------------


def _range_rules(file: str, column: str) -> set[str]:
    return {c for c in CHECKS[(file, column)] if not c.startswith("greater_than")}


@pytest.mark.parametrize(("file", "column"), INT_COLUMNS)
def test_a_plus_sign_is_read_as_the_integer_it_writes(
    tmp_path: Path, file: str, column: str
) -> None:
    good = valid_year()[file].loc[0, column]
    data = deliver(tmp_path / "data", setv(file, 2, column, "+" + good))
    res = cli("validate", "--data", str(data), "--year", YEAR, "--report", str(tmp_path / "r.csv"))
    assert res.exit_code == 0, res.output
    res = cli(
        "ingest", "--data", str(data), "--year", YEAR, "--store-root", str(tmp_path / "store")
    )
    assert res.exit_code == 0, res.output
    stored = pq.read_table(tmp_path / "store" / "validated" / YEAR / f"{file}.parquet")
    assert stored.column(column).to_pylist()[0] == int(good)


@pytest.mark.parametrize("also_bad", [False, True], ids=["alone", "with_another_bad_row"])
@pytest.mark.parametrize("big", ["999999999999999999", "1" * 40, "-" + "9" * 30])
@pytest.mark.parametrize(("file", "column"), INT_COLUMNS)
def test_an_integer_beyond_the_range_is_refused_as_out_of_range_whatever_else_fails(
    tmp_path: Path, store_template: Path, file: str, column: str, big: str, also_bad: bool
) -> None:
    def mutate(f: dict[str, pd.DataFrame]) -> None:
        setv(file, 2, column, big)(f)
        if also_bad:
            setv(file, 3, column, "x")(f)

    out = refused(deliver(tmp_path / "data", mutate), store_template, tmp_path, 1)
    cell = [r for r in out.of(file) if (r["row"], r["column"]) == ("2", column)
            and not r["rule"].startswith("cross_file:")]  # fmt: skip
    expected = (
        _range_rules(file, column) if not big.startswith("-") else set(CHECKS[(file, column)])
    )
    assert len(cell) == 1 and cell[0]["rule"] in expected, out.rows
    # as delivered, and as a run of ten digits or more (it could be a student ID): masked
    assert cell[0]["value"] == in_report(("-" if big.startswith("-") else "") + "******" + big[-4:])
    if also_bad:
        assert (file, "3", column, "integer") in out.failures()


def test_integer_parsing_agrees_with_its_definition_on_random_text() -> None:
    """Fuzz: every text parses (no exception), and is an integer exactly when it is a sign
    and ASCII digits; its value is the integer, or ±10**18 beyond 18 significant digits."""
    import numpy as np

    from schemas.base import parse_columns

    rng = np.random.default_rng(17)
    alphabet = list("+-0123456789") * 3 + list(".eE x\n１٣")
    texts = ["".join(rng.choice(alphabet, int(rng.integers(1, 25)))) for _ in range(3000)]
    texts += ["+0", "-0", "0" * 30 + "7", "9" * 19, "+" + "9" * 18, "--1", "+-1", "+", "-"]
    raw = pd.DataFrame({"n": texts}, index=pd.RangeIndex(2, len(texts) + 2)).astype("str")
    typed, errors = parse_columns("f", raw, {"n": "int"})
    bad_rows = set(errors["row"].astype(int))
    for row, text in zip(raw.index, texts, strict=True):
        ok = re.fullmatch(r"[+-]?[0-9]+", text) is not None
        assert (row not in bad_rows) == ok, text
        if ok:
            huge = len(text.lstrip("+-").lstrip("0")) > 18
            sign = -1 if text.startswith("-") else 1
            assert typed.loc[row, "n"] == (sign * 10**18 if huge else int(text)), text
    typedf, errorsf = parse_columns("f", raw.rename(columns={"n": "x"}), {"x": "float"})
    badf = set(errorsf["row"].astype(int))
    pattern = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?"
    for row, text in zip(raw.index, texts, strict=True):
        ok = re.fullmatch(pattern, text) is not None
        assert (row not in badf) == ok, text
        if ok:
            assert typedf.loc[row, "x"] == float(text), text


# ---- item 7: clear reports --------------------------------------------------------------------


@pytest.mark.parametrize("arrow_type", [pa.int64(), pa.float64(), pa.int32()])
@pytest.mark.parametrize("name", STUDENT_FILES)
def test_a_parquet_student_id_of_a_numeric_type_names_the_rule_unmasked(
    tmp_path: Path, store_template: Path, name: str, arrow_type: pa.DataType
) -> None:
    data = deliver(tmp_path / "data", fmt="parquet")
    p = data / YEAR / f"{name}.parquet"
    t = pq.read_table(p)
    i = t.column_names.index("student_id")
    ids = pa.array([int(v) for v in t.column(i).to_pylist()]).cast(arrow_type)
    pq.write_table(t.set_column(i, "student_id", ids), p)
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {(name, "", "student_id", "file:parquet_type")}
    message = out.of(name)[0]["value"]
    assert f"column 'student_id' has Parquet type {arrow_type}; expected string" in message
    assert "***" not in message


@pytest.mark.parametrize(
    ("shape", "shown"),
    [("{} ", "'{} '"), (" {}", "' {}'"), ("{}\t", "'{}\\t'"), ("\ufeff{}", "'\\ufeff{}'"),
     ("{}\u00a0", "'{}\\xa0'")],
    ids=["trailing_space", "leading_space", "tab", "bom", "nbsp"],
)  # fmt: skip
@pytest.mark.parametrize("name", FILES)
def test_a_header_name_with_an_invisible_character_is_shown_quoted(
    tmp_path: Path, store_template: Path, name: str, shape: str, shown: str
) -> None:
    column = list(KINDS[name])[-1]  # (a BOM at the very start of a file is its BOM)

    def mutate(f: dict[str, pd.DataFrame]) -> None:
        f[name] = f[name].rename(columns={column: shape.format(column)})

    out = refused(deliver(tmp_path / "data", mutate), store_template, tmp_path, 1)
    assert out.failures() == {
        (name, "", shown.format(column), "column_unexpected"),
        (name, "", column, "column_missing"),
    }
    (unexpected,) = [r for r in out.of(name) if r["rule"] == "column_unexpected"]
    assert f"did you mean '{column}'?" in unexpected["value"]


@pytest.mark.parametrize("value", ["1e999", "-0.0", "+1e999", "1E+999", "-1e999", "0e5"])
@pytest.mark.parametrize(("file", "column"), FLOAT_COLUMNS)
def test_a_score_out_of_range_is_reported_as_delivered(
    tmp_path: Path, store_template: Path, file: str, column: str, value: str
) -> None:
    out = refused(deliver(tmp_path / "data", setv(file, 2, column, value)), store_template,
                  tmp_path, 1)  # fmt: skip
    (r,) = out.of(file)
    assert (r["row"], r["column"], r["value"]) == ("2", column, in_report(value))
    assert r["rule"] in CHECKS[(file, column)]


# ---- item 8: bounded Parquet, bounded report --------------------------------------------------

_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from sqis.methodology import for_year
    from sqis.validation import validate_delivery
    import pandas, pyarrow, pyarrow.parquet  # imported before the baseline
    m = for_year(sys.argv[2])
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    report = validate_delivery(sys.argv[1], sys.argv[2], m)
    took = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": took,
        "rss_growth": (r1 - r0) * 1024,
        "rules": sorted(set(report.errors["rule"])),
        "report_bytes": len(report.to_csv_bytes()),
    }))
    """
)


def _repeated_parquet(path: Path, frame: pd.DataFrame, rows: int) -> None:
    """``rows`` copies of the frame's first row: a few kilobytes of Parquet."""
    import numpy as np

    zeros = pa.array(np.zeros(rows, dtype=np.int8))
    columns = [pa.DictionaryArray.from_arrays(zeros, pa.array([str(v)])) for v in frame.iloc[0]]
    pq.write_table(pa.Table.from_arrays(columns, names=list(frame.columns)), path)


@pytest.mark.slow
def test_a_29_kb_parquet_file_of_a_million_rows_is_refused_from_its_metadata(
    tmp_path: Path,
) -> None:
    data = deliver(tmp_path / "data", fmt="parquet")
    p = data / YEAR / "schools.parquet"
    _repeated_parquet(p, valid_year()["schools"], 1_000_000)
    assert p.stat().st_size < 100_000
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(data), YEAR], capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(done.stdout.strip().splitlines()[-1])
    assert r["rules"] == ["file:too_many_rows"], r
    assert r["seconds"] < 5 and r["rss_growth"] < 50 * 2**20, r
    assert r["report_bytes"] < 2000, r


@pytest.mark.parametrize("name", FILES)
def test_every_contract_file_as_parquet_is_bounded_like_csv(
    tmp_path: Path, store_template: Path, name: str
) -> None:
    from schemas.limits import PARQUET_MAX_CELLS_PER_BYTE

    data = deliver(tmp_path / "data", fmt="parquet")
    p = data / YEAR / f"{name}.parquet"
    _repeated_parquet(p, valid_year()[name], 200_000)
    cells = 200_000 * len(KINDS[name])
    assert cells > PARQUET_MAX_CELLS_PER_BYTE * p.stat().st_size  # the fault: a bomb
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {(name, "", "", "file:too_many_rows")}
    assert "200,000 rows" in out.of(name)[0]["value"]


def test_a_well_compressed_real_parquet_delivery_is_within_the_bound(tmp_path: Path) -> None:
    """The synthetic consortium's files as Parquet (zstd, typed and text) all pass."""
    from schemas.limits import PARQUET_MAX_CELLS_PER_BYTE
    from tests.consortium import consortium

    folder = consortium() / YEAR
    for name in FILES:
        df = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for frame in (df, pd.read_csv(folder / f"{name}.csv")):
            buf = io.BytesIO()
            frame.to_parquet(buf, index=False, compression="zstd")
            ratio = frame.size / len(buf.getvalue())
            assert ratio < PARQUET_MAX_CELLS_PER_BYTE / 4, (name, ratio)


def test_the_report_lists_at_most_the_cap_per_rule_and_says_how_many_more(
    tmp_path: Path, store_template: Path
) -> None:
    from schemas.limits import REPORT_MAX_ROWS_PER_RULE as CAP

    n = CAP * 3 + 7

    def mutate(f: dict[str, pd.DataFrame]) -> None:
        f["climate"] = pd.DataFrame(
            {
                "respondent_id": [f"R{i}" for i in range(n)],
                "school_code": "01123450000001",
                "respondent_type": "TEACHER",  # not a respondent type: every row fails
                "construct": "CS",
                "score": "4",
            }
        )

    out = refused(deliver(tmp_path / "data", mutate), store_template, tmp_path, 1)
    listed = [r for r in out.of("climate") if r["rule"].startswith("isin")]
    assert len(listed) == CAP
    assert [int(r["row"]) for r in listed] == list(range(2, CAP + 2))  # the first, in order
    (note,) = [r for r in out.rows if r["rule"] == "report:truncated"]
    assert note["file"] == "climate" and note["column"] == "respondent_type"
    assert f"{n - CAP:,} more failures" in note["value"] and f"{n:,} in all" in note["value"]
    assert f"{n:,}" in out.output  # the console's summary counts every failure


# ---- item 9: symbolic links --------------------------------------------------------------------


def test_a_year_folder_linked_from_outside_the_data_root_is_refused(
    tmp_path: Path, store_template: Path
) -> None:
    elsewhere = deliver(tmp_path / "elsewhere")
    data = tmp_path / "data"
    data.mkdir()
    (data / YEAR).symlink_to(elsewhere / YEAR, target_is_directory=True)
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {(YEAR, "", "", "file:unreadable")}
    assert "symbolic link" in out.rows[0]["value"]


@pytest.mark.parametrize("name", FILES)
def test_a_contract_file_linked_from_outside_the_data_root_is_refused(
    tmp_path: Path, store_template: Path, name: str
) -> None:
    elsewhere = deliver(tmp_path / "elsewhere")
    data = deliver(tmp_path / "data")
    (data / YEAR / f"{name}.csv").unlink()
    (data / YEAR / f"{name}.csv").symlink_to(elsewhere / YEAR / f"{name}.csv")
    out = refused(data, store_template, tmp_path, 2)
    assert out.failures() == {(name, "", "", "file:unreadable")}
    assert "symbolic link that leads out of" in out.of(name)[0]["value"]


def test_links_that_stay_inside_the_data_root_are_followed(tmp_path: Path) -> None:
    data = deliver(tmp_path / "data")
    shared = data / "shared"
    shared.mkdir()
    (data / YEAR / "schools.csv").rename(shared / "schools.csv")
    (data / YEAR / "schools.csv").symlink_to(Path("..") / "shared" / "schools.csv")
    linked_root = tmp_path / "linked-root"
    linked_root.symlink_to(data, target_is_directory=True)  # a root that is itself a link
    res = cli(
        "validate", "--data", str(linked_root), "--year", YEAR, "--report", str(tmp_path / "r.csv")
    )
    assert res.exit_code == 0, res.output


def test_a_store_folder_linked_outside_the_store_root_is_never_written(tmp_path: Path) -> None:
    data = deliver(tmp_path / "data")
    outside = tmp_path / "outside"
    outside.mkdir()
    store = tmp_path / "store"
    store.mkdir()
    (store / "validated").symlink_to(outside, target_is_directory=True)
    res = cli("ingest", "--data", str(data), "--year", YEAR, "--store-root", str(store))
    assert res.exit_code == 2 and "symbolic link" in res.output, res.output
    assert "Traceback" not in res.output
    assert list(outside.rglob("*")) == []


def test_a_report_folder_linked_outside_the_out_root_is_never_written(tmp_path: Path) -> None:
    data = deliver(tmp_path / "data", setv("schools", 2, "title_i", "maybe"))
    outside = tmp_path / "outside"
    outside.mkdir()
    out_root = tmp_path / "out"  # SQIS_OUT_ROOT (tests/conftest.py)
    out_root.mkdir()
    (out_root / "validation").symlink_to(outside, target_is_directory=True)
    res = cli("validate", "--data", str(data), "--year", YEAR)
    assert res.exit_code == 2 and "symbolic link" in res.output, res.output
    assert list(outside.rglob("*")) == []


@pytest.mark.parametrize("op", ["read", "write", "list", "exists", "delete", "child"])
def test_local_storage_refuses_every_operation_through_a_link_out_of_its_root(
    tmp_path: Path, op: str
) -> None:
    from sqis.storage import OutsideRoot, local_path_inside, open_storage

    outside = tmp_path / "outside"
    (outside / "schools").mkdir(parents=True)
    (outside / "schools" / "a.html").write_bytes(b"theirs")
    root = tmp_path / "out"
    (root / YEAR / "reports").mkdir(parents=True)
    (root / YEAR / "reports" / "schools").symlink_to(outside / "schools", target_is_directory=True)
    s = open_storage(root)
    key = f"{YEAR}/reports/schools/a.html"
    calls = {
        "read": lambda: s.read_bytes(key),
        "write": lambda: s.write_bytes(key, b"ours"),
        "list": lambda: s.list(f"{YEAR}/reports/schools"),
        "exists": lambda: s.exists(key),
        "delete": lambda: s.delete(key),
        "child": lambda: s.child(f"{YEAR}/reports/schools"),
    }
    with pytest.raises(OutsideRoot, match="symbolic link"):
        calls[op]()
    with pytest.raises(OutsideRoot):
        local_path_inside(root, key)
    assert (outside / "schools" / "a.html").read_bytes() == b"theirs"
    assert [p.name for p in (outside / "schools").iterdir()] == ["a.html"]


def test_publishing_through_a_linked_reports_folder_writes_nothing_outside(
    tmp_path: Path,
) -> None:
    from sqis.publish import PublishError, publish_year

    outside = tmp_path / "outside"
    outside.mkdir()
    out_root = tmp_path / "out"
    (out_root / YEAR / "reports").mkdir(parents=True)
    (out_root / YEAR / "reports" / "schools").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PublishError, match="nothing was published"):
        publish_year(YEAR, {"reports/schools/x.html": b"<p>x</p>"}, str(out_root))
    assert list(outside.rglob("*")) == []
    assert not (out_root / YEAR / "manifest.json").exists()
