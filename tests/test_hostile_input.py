"""Hostile input is refused or made harmless (issue 10, SECURITY.md "Hostile input").

- HTML and script in school and district names render as text in every report.
- A school code that would escape the output folder (``../``) is refused: by validation
  (with file, row, column and rule) and, should one reach publishing, by the key check.
- Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is
  neutralised in every CSV sqis writes: the contract exports and the validation report.
- A 200 MB single-line file, or a file with 10 million columns, fails within seconds with a
  clear error and bounded memory (measured in a subprocess with ``resource``).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sqis import publish as publication
from tests.consortium import KEY, YEAR, clean_run, copy_consortium, private_tmp, run_config

HOSTILE_NAMES = {
    "school": '<script>alert("sqis")</script> Elementary',
    "district": "<img src=x onerror=alert(1)> Unified",
    "other": "\"><svg onload=alert(2)> & Sons ' Middle",
}
FORMULAS = ("=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1")


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqis.settings import reset_settings_cache

    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()


# ---- HTML in names -------------------------------------------------------------------------
@pytest.mark.slow
def test_html_and_script_in_names_are_escaped_in_every_report() -> None:
    from sqis import pipeline

    work = private_tmp("sqis-xss-")
    data = copy_consortium(work / "data")
    f = data / YEAR / "schools.csv"
    schools = pd.read_csv(f, dtype=str, keep_default_na=False)
    schools.loc[0, "school_name"] = HOSTILE_NAMES["school"]
    schools.loc[1, "school_name"] = HOSTILE_NAMES["other"]
    first_district = schools.loc[0, "district_code"]
    schools.loc[schools["district_code"] == first_district, "district_name"] = HOSTILE_NAMES[
        "district"
    ]
    schools.to_csv(f, index=False)

    pipeline.run_year(YEAR, run_config(work, data=data))
    html = sorted((work / "out" / YEAR).rglob("*.html"))
    assert len(html) >= len(schools) + 2
    seen_escaped = 0
    for p in html:
        text = p.read_text(encoding="utf-8")
        for raw in ("<script>alert", "<img src=x", "<svg onload"):
            assert raw not in text, f"{p.name} holds {raw!r} unescaped"
        seen_escaped += "&lt;script&gt;alert(" in text
    reports = work / "out" / YEAR / "reports"
    school_page = reports / "schools" / f"{schools.loc[0, 'school_code']}.html"
    assert "&lt;script&gt;alert(" in school_page.read_text(encoding="utf-8")
    district_page = reports / "districts" / f"{first_district}.html"
    assert "&lt;img src=x onerror=alert(1)&gt;" in district_page.read_text(encoding="utf-8")
    assert seen_escaped >= 2  # the school's own report and its district's index at least


# ---- codes that would escape the out root --------------------------------------------------
def test_a_school_code_with_dot_dot_is_refused_by_validation(tmp_path: Path) -> None:
    from sqis.ingest import DeliveryInvalid, ingest_year

    data = copy_consortium(tmp_path / "data")
    f = data / YEAR / "schools.csv"
    schools = pd.read_csv(f, dtype=str, keep_default_na=False)
    schools.loc[2, "school_code"] = "../../../../tmp/evil"
    schools.to_csv(f, index=False)
    with pytest.raises(DeliveryInvalid) as ei:
        ingest_year(str(data), YEAR, store_root=str(tmp_path / "store"))
    e = ei.value.report.errors
    bad = e[(e["file"] == "schools") & (e["column"] == "school_code")]
    assert 4 in set(bad["row"].dropna().astype(int))  # frame row 2 + header = line 4
    assert bad["rule"].astype(str).str.len().gt(0).all()
    assert "schools" in str(ei.value)
    assert not (tmp_path / "store" / "validated" / YEAR).exists()


@pytest.mark.parametrize(
    "key",
    [
        "reports/schools/../../../evil.html",
        "../evil.html",
        "/etc/evil.html",
        "reports/schools/..\\..\\evil.html",
        "reports/.hidden/evil.html",
    ],
)
def test_publishing_refuses_keys_that_escape_the_year_folder(tmp_path: Path, key: str) -> None:
    from sqis.publish import PublishError, publish_year

    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(PublishError, match="refus"):
        publish_year(YEAR, {"indicators.csv": b"x\n", key: b"<p>evil</p>"}, str(out))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))  # nothing written anywhere


@pytest.mark.slow
def test_reports_for_a_school_code_with_dot_dot_are_refused_before_writing(
    tmp_path: Path,
) -> None:
    """Were a code like ``../../evil`` to reach the reports (validation bypassed), the
    publication is refused as a whole: nothing lands inside or outside the out root."""
    from sqis import report_reads, year_outputs
    from sqis.methodology import for_year
    from sqis.publish import PublishError
    from sqis.store import ResultsStore
    from sqis.years import SchoolYear

    clean = clean_run()
    store = ResultsStore(clean.db_url)
    frames = report_reads.report_frames(store, SchoolYear(YEAR))
    store.dispose()
    code = frames.schools["school_code"].iloc[0]
    evil = "../../../evil"
    frames = replace(
        frames,
        **{
            name: df.assign(school_code=df["school_code"].replace({code: evil}))
            for name, df in frames.held().items()
            if "school_code" in df.columns
        },
    )
    m = for_year(YEAR)
    try:
        files = year_outputs.reports(frames, m, pdf="none")
    except (ValueError, RuntimeError) as e:  # refusing at rendering is as good
        assert "evil" in str(e) or "school_code" in str(e)
        return
    out = tmp_path / "x" / "y" / "out"
    with pytest.raises(PublishError):
        publication.publish_year(YEAR, files, str(out))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


# ---- CSV formula injection -----------------------------------------------------------------
def _rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


@pytest.mark.parametrize("name", ["indicators", "index", "designations", "communities"])
def test_formula_injection_is_neutralised_in_every_text_field_of_every_export(name: str) -> None:
    from sqis.exports import CONTRACT, to_csv_bytes

    columns, _ = CONTRACT[name]
    n = len(FORMULAS)
    sample: dict[str, list[object]] = {}
    for col, kind in columns:
        if kind == "text":
            sample[col] = list(FORMULAS)
        elif kind == "flag":
            sample[col] = [True] * n
        elif kind in ("int", "count"):
            sample[col] = [-3] * n
        elif kind == "float":
            sample[col] = [-2.5] * n
        else:  # date
            sample[col] = [pd.Timestamp("2016-01-15")] * n
    body = to_csv_bytes(name, pd.DataFrame(sample))
    rows = _rows(body)
    assert len(rows) == n
    text_cols = [c for c, k in columns if k == "text"]
    for row in rows:
        for c in text_cols:
            assert not row[c].startswith(("=", "+", "-", "@", "\t", "\r")), (c, row[c])
            assert row[c].lstrip("'") in FORMULAS  # prefixed, not altered otherwise
        for c, k in columns:  # numbers stay numbers: -2.5 is not a formula
            if k == "float":
                assert row[c] == "-2.5"
            elif k in ("int", "count"):
                assert row[c] == "-3"


def test_formula_injection_is_neutralised_in_the_validation_report(tmp_path: Path) -> None:
    """``sqis validate`` writes the failing values to a CSV that operations staff open in a
    spreadsheet: a delivered ``=cmd|…`` must not run there."""
    from sqis.methodology import for_year
    from sqis.validation import validate_delivery

    data = copy_consortium(tmp_path / "data")
    f = data / YEAR / "schools.csv"
    schools = pd.read_csv(f, dtype=str, keep_default_na=False)
    for i, formula in enumerate(FORMULAS[:4]):
        schools.loc[i, "school_type"] = formula  # not ES/MS/HS: reported with its value
    schools.to_csv(f, index=False)
    report = validate_delivery(str(data), YEAR, for_year(YEAR))
    assert not report.ok
    rows = _rows(report.to_csv_bytes())
    values = [r["value"] for r in rows if r["column"] == "school_type"]
    assert len(values) >= 4
    for row in rows:
        for c, v in row.items():
            assert not v.startswith(("=", "+", "@", "\t", "\r")), (c, v)
            assert not (v.startswith("-") and not _is_number(v)), (c, v)


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


# ---- huge and malformed files --------------------------------------------------------------
_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from sqis.methodology import for_year
    from sqis.validation import validate_delivery
    import pandas, pyarrow, pyarrow.csv  # imported before the baseline
    m = for_year(sys.argv[2])
    r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    report = validate_delivery(sys.argv[1], sys.argv[2], m)
    took = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    e = report.errors
    e = e[e["file"] == "students"]
    print(json.dumps({
        "seconds": took,
        "rss_growth": (r1 - r0) * 1024,
        "ok": bool(report.ok),
        "errors": [
            {"row": None if pd_isna(r) else int(r), "rule": str(u), "column": str(c)}
            for r, u, c in zip(e["row"], e["rule"], e["column"])
        ][:5],
        "message": " | ".join(str(v) for v in report.unreadable.values())[:2000],
    }))
    """
).replace("pd_isna", "pandas.isna")


def _measure(data: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(data), YEAR],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]  # a clear error, never a traceback
    return json.loads(done.stdout.strip().splitlines()[-1])


def _with_students(tmp: Path, write: object) -> tuple[Path, int]:
    from tests.consortium import consortium

    data = tmp / "data"
    (data / YEAR).mkdir(parents=True)
    for p in (consortium() / YEAR).iterdir():
        if p.name != "students.csv":
            (data / YEAR / p.name).write_bytes(p.read_bytes())
    target = data / YEAR / "students.csv"
    with open(target, "wb") as f:
        write(f)  # type: ignore[operator]
    return data, target.stat().st_size


@pytest.mark.slow
def test_a_200_mb_single_line_file_fails_fast_in_bounded_memory() -> None:
    def write(f: io.BufferedWriter) -> None:
        f.write(b"student_id,")
        chunk = b"x" * (1 << 20)
        for _ in range(200):
            f.write(chunk)
        f.write(b"\n")

    data, size = _with_students(private_tmp("sqis-huge-"), write)
    r = _measure(data)
    assert not r["ok"]
    assert r["errors"] and r["errors"][0]["row"] == 1, r
    assert r["errors"][0]["rule"].startswith("file:"), r
    assert r["seconds"] < 10, r
    # the file is read once; nothing is copied or parsed beyond its first line
    assert r["rss_growth"] < size + 150 * 2**20, r


@pytest.mark.slow
def test_a_file_with_ten_million_columns_fails_fast_in_bounded_memory() -> None:
    def write(f: io.BufferedWriter) -> None:
        for start in range(0, 10_000_000, 500_000):
            f.write(b",".join(b"c%d" % i for i in range(start, start + 500_000)))
            f.write(b"," if start + 500_000 < 10_000_000 else b"\n")
        f.write(b"1,2,3\n")

    data, size = _with_students(private_tmp("sqis-wide-"), write)
    r = _measure(data)
    assert not r["ok"]
    assert r["errors"] and r["errors"][0]["row"] == 1, r
    assert r["seconds"] < 10, r
    assert r["rss_growth"] < size + 150 * 2**20, r
