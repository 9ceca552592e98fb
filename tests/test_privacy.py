"""No student exposed (issue 10, SECURITY.md "Student identities").

One small annual cycle runs through the Prefect flow under ``prefect_test_harness`` with
every logger at DEBUG. Then every log line (captured in the process and read back from the
Prefect API), every Prefect artifact (read back through the client), every persisted task
result, every report and export, every table of the results store and the validated
Parquet store are scanned for the raw 10-digit student IDs the delivery held, and for the
pseudonym key: neither appears anywhere. The validated store holds exactly the HMAC
pseudonyms of the delivered IDs.

Public reports and small groups: the suppression property test lives in
``tests/test_suppression.py`` (not duplicated here).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.consortium import (
    KEY,
    YEAR,
    YEARS,
    consortium,
    copy_consortium,
    private_tmp,
    raw_student_ids,
)

pytestmark = [pytest.mark.slow, pytest.mark.prefect]

_TEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{10}(?![0-9])")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record whose args do not format: keep the raw parts
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


def _found_ids(text: str, ids: set[str]) -> set[str]:
    return set(_TEN_DIGITS.findall(text)) & ids


class Cycle:
    def __init__(self, work: Path, data: Path) -> None:
        self.work = work
        self.data = data
        self.ids = raw_student_ids(data)
        self.log_lines: list[str] = []
        self.api_logs: list[str] = []
        self.artifacts: list[str] = []
        self.result_files: list[Path] = []
        self.errors: list[str] = []
        self.failed_artifacts: list[str] = []
        self.victim = ""
        # DATA_CONTRACT.md `educators`, `rosters`: the raw educator IDs delivered
        self.educator_ids = raw_educator_ids(data)
        self.educator_victim = ""


@pytest.fixture(scope="module")
def cycle() -> Iterator[Cycle]:
    import os

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH
    from prefect.testing.utilities import prefect_test_harness

    from sqis.settings import reset_settings_cache

    work = private_tmp("sqis-privacy-")
    c = Cycle(work, consortium())
    saved = {
        k: os.environ.get(k) for k in ("SQIS_PSEUDONYM_KEY", "SQIS_STORE_ROOT", "SQIS_DATABASE_URL")
    }
    os.environ["SQIS_PSEUDONYM_KEY"] = KEY
    os.environ["SQIS_STORE_ROOT"] = str(work / "store")
    reset_settings_cache()
    handler = _Collect()
    names = ["", "sqis", "prefect", "flows", "tasks", "sqlalchemy", "alembic"]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        with prefect_test_harness(server_startup_timeout=120):
            from flows.annual_cycle import annual_cycle
            from flows.params import AnnualCycleParams

            os.environ["SQIS_DATABASE_URL"] = f"sqlite:///{work / 'results.db'}"
            reset_settings_cache()
            for year in YEARS[1:]:  # two years: the second reads the first's results
                state = annual_cycle(
                    AnnualCycleParams(
                        year=year,
                        data_root=str(c.data),
                        out_root=str(work / "out"),
                        pdf="none",
                        force="test: the years after the first, on a fresh store",
                    ),
                    return_state=True,
                )
                assert state.is_completed(), state
                fr = state.state_details.flow_run_id
                with get_client(sync_client=True) as client:
                    logs = client.read_logs(
                        log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[fr]))
                    )
                    c.api_logs += [f"{lg.name}: {lg.message}" for lg in logs]
                    arts = client.read_artifacts(
                        artifact_filter=ArtifactFilter(
                            flow_run_id=ArtifactFilterFlowRunId(any_=[fr])
                        )
                    )
                    c.artifacts += [f"{a.key} {a.description} {a.data}" for a in arts]
            # a delivery that fails validation: its logs, artifact and error are scanned too
            bad, c.victim = _bad_delivery(work / "bad")
            c.educator_victim = _bad_roster(bad)
            os.environ["SQIS_STORE_ROOT"] = str(work / "bad-store")
            os.environ["SQIS_DATABASE_URL"] = f"sqlite:///{work / 'bad.db'}"
            reset_settings_cache()
            state = annual_cycle(
                AnnualCycleParams(
                    year=YEAR,
                    data_root=str(bad),
                    out_root=str(work / "bad-out"),
                    pdf="none",
                    force="test: the last year alone on a fresh store",
                ),
                return_state=True,
            )
            assert state.is_failed(), state
            c.errors.append(str(state.message))
            try:
                state.result()
            except Exception as e:
                c.errors.append(f"{type(e).__name__}: {e}")
            fr = state.state_details.flow_run_id
            with get_client(sync_client=True) as client:
                logs = client.read_logs(
                    log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[fr]))
                )
                c.api_logs += [f"{lg.name}: {lg.message}" for lg in logs]
                arts = client.read_artifacts(
                    artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[fr]))
                )
                c.failed_artifacts = [f"{a.key} {a.description} {a.data}" for a in arts]
                c.artifacts += c.failed_artifacts
            storage = Path(PREFECT_LOCAL_STORAGE_PATH.value())
            if storage.exists():
                c.result_files = [p for p in storage.rglob("*") if p.is_file()]
                shutil.copytree(storage, work / "prefect-results")
                c.result_files = [p for p in (work / "prefect-results").rglob("*") if p.is_file()]
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings_cache()
    c.log_lines = handler.lines
    yield c


def test_the_cycle_was_observed(cycle: Cycle) -> None:
    """The scans below read real material: logs, artifacts and outputs exist."""
    assert len(cycle.ids) > 1000
    assert cycle.log_lines and cycle.api_logs and cycle.artifacts
    assert (cycle.work / "out" / YEAR / "manifest.json").exists()


def test_no_raw_student_id_in_any_log_line(cycle: Cycle) -> None:
    assert not _found_ids("\n".join(cycle.log_lines), cycle.ids)
    assert not _found_ids("\n".join(cycle.api_logs), cycle.ids)


def test_a_failed_validation_names_no_student_in_its_error_logs_or_artifact(cycle: Cycle) -> None:
    assert cycle.errors and cycle.failed_artifacts
    assert "ValidationFailed" in " ".join(cycle.errors)
    for text in (*cycle.errors, *cycle.failed_artifacts, *cycle.log_lines, *cycle.api_logs):
        assert cycle.victim not in text
        assert KEY not in text


def test_no_raw_student_id_in_any_prefect_artifact_or_result(cycle: Cycle) -> None:
    assert not _found_ids("\n".join(cycle.artifacts), cycle.ids)
    for p in cycle.result_files:
        assert not _found_ids(p.read_bytes().decode("latin-1"), cycle.ids), p.name


def test_no_raw_student_id_in_any_report_or_export(cycle: Cycle) -> None:
    files = [p for p in (cycle.work / "out").rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".csv" for p in files)
    for p in files:
        assert not _found_ids(p.read_bytes().decode("utf-8", "replace"), cycle.ids), p


def _database_text(db: Path) -> dict[str, str]:
    import sqlalchemy as sa

    eng = sa.create_engine(f"sqlite:///{db}")
    out = {}
    try:
        meta = sa.MetaData()
        meta.reflect(eng)
        with eng.connect() as c:
            for t in meta.sorted_tables:
                rows = c.execute(sa.select(t)).all()
                out[t.name] = "\n".join(repr(tuple(r)) for r in rows)
    finally:
        eng.dispose()
    return out


def test_no_raw_student_id_in_the_results_store(cycle: Cycle) -> None:
    tables = _database_text(cycle.work / "results.db")
    assert tables["indicators"] and tables["runs"]
    for name, text in tables.items():
        assert not _found_ids(text, cycle.ids), name
        assert "student_id" not in text, name


def raw_educator_ids(data: Path) -> set[str]:
    """Every raw educator ID delivered (educators and rosters, every year that has them)."""
    ids: set[str] = set()
    for year in YEARS:
        for name in ("educators", "rosters"):
            f = data / year / f"{name}.csv"
            if f.exists():
                ids.update(pd.read_csv(f, dtype=str, usecols=["educator_id"])["educator_id"])
    return ids


def _found_educators(text: str, ids: set[str]) -> set[str]:
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(ids))) + r")(?![A-Za-z0-9])"
    )
    return set(pattern.findall(text))


def _bad_roster(data: Path) -> str:
    """The failing delivery's roster names a principal as a teacher (a cross-file failure
    whose value is an educator ID): returns that ID."""
    ed = pd.read_csv(data / YEAR / "educators.csv", dtype=str, keep_default_na=False)
    principal = ed.loc[ed["role"] == "PRINCIPAL", "educator_id"].iloc[0]
    f = data / YEAR / "rosters.csv"
    ro = pd.read_csv(f, dtype=str, keep_default_na=False)
    ro.loc[2, "educator_id"] = principal
    ro.to_csv(f, index=False)
    return str(principal)


def test_no_raw_educator_id_in_any_file_log_artifact_or_result_the_run_writes(
    cycle: Cycle,
) -> None:
    """METHODOLOGY.md "Educator effectiveness": educator IDs are pseudonymised at ingest and
    never in a log, artifact, report or export — the staff and public editions, the
    validated store, the results store, Prefect's results, and a refused delivery's
    report, logs and error."""
    ids = cycle.educator_ids
    assert len(ids) > 50 and cycle.educator_victim in ids
    assert (cycle.work / "out" / YEAR / "educators.csv").exists()
    assert (cycle.work / "out" / "public" / YEAR / "educator-distribution.csv").exists()
    texts = [*cycle.log_lines, *cycle.api_logs, *cycle.artifacts, *cycle.errors]
    assert not _found_educators("\n".join(texts), ids)
    roots = [cycle.work / "bad-out", cycle.work / "bad-store", cycle.work / "bad.db"]
    more = [p for r in roots if r.exists() for p in ([r] if r.is_file() else r.rglob("*"))]
    written = _all_bytes(cycle) + [(str(p), p.read_bytes()) for p in more if p.is_file()]
    for where, body in written:
        assert not _found_educators(body.decode("latin-1"), ids), where
    for name, text in _database_text(cycle.work / "results.db").items():
        assert not _found_educators(text, ids), name


def test_the_validated_store_holds_the_educator_domain_pseudonyms(cycle: Cycle) -> None:
    from sqis.pseudonym import educator_key

    key = educator_key(KEY.encode())
    for year in YEARS[1:]:
        ydir = cycle.work / "store" / "validated" / year
        for name in ("educators", "rosters"):
            frame = pq.read_table(ydir / f"{name}.parquet").to_pandas()
            raw = pd.read_csv(cycle.data / year / f"{name}.csv", dtype=str)
            want = {
                hmac.new(key, r.encode(), hashlib.sha256).hexdigest() for r in raw["educator_id"]
            }
            assert set(frame["educator_id"]) == want, f"{year}/{name}"
            if name == "rosters":  # students keep the students' pseudonyms
                assert set(frame["student_id"]) == {_pseudonym(r) for r in raw["student_id"]}


def _pseudonym(raw: str) -> str:
    return hmac.new(KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


def test_the_validated_store_holds_only_the_pseudonyms_of_the_delivered_ids(
    cycle: Cycle,
) -> None:
    for year in YEARS:
        ydir = cycle.work / "store" / "validated" / year
        for name in ("students", "assessments", "graduation", "sel"):
            frame = pq.read_table(ydir / f"{name}.parquet").to_pandas()
            ids = frame["student_id"].astype(str)
            assert ids.str.match(_HEX64).all(), f"{year}/{name}"
            raw = pd.read_csv(cycle.data / year / f"{name}.csv", dtype=str)["student_id"]
            assert set(ids) == {_pseudonym(r) for r in raw}, f"{year}/{name}"
            text = "\n".join(map(str, frame.to_numpy().ravel()))
            assert not _found_ids(text, cycle.ids), f"{year}/{name}"


def _all_bytes(cycle: Cycle) -> list[tuple[str, bytes]]:
    roots = [cycle.work / "out", cycle.work / "store", cycle.work / "results.db"]
    out = []
    for r in roots:
        files = [r] if r.is_file() else [p for p in r.rglob("*") if p.is_file()]
        out += [(str(p), p.read_bytes()) for p in files]
    out += [(str(p), p.read_bytes()) for p in cycle.result_files]
    return out


def test_the_pseudonym_key_appears_nowhere(cycle: Cycle) -> None:
    key = KEY.encode()
    for where, body in _all_bytes(cycle):
        assert key not in body, where
    for text in ("\n".join(cycle.log_lines), "\n".join(cycle.api_logs), "\n".join(cycle.artifacts)):
        assert KEY not in text
    for text in _database_text(cycle.work / "results.db").values():
        assert KEY not in text


# ---- error messages ------------------------------------------------------------------------
def _bad_delivery(dst: Path) -> tuple[Path, str]:
    """A copy of the consortium whose current students file breaks rules on a known row."""
    data = copy_consortium(dst)
    f = data / YEAR / "students.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    victim = df.loc[3, "student_id"]
    df.loc[3, "days_absent"] = str(int(df.loc[3, "days_enrolled"]) + 5)  # absent > enrolled
    df.loc[5, "grade"] = victim  # a student ID in the wrong column (a shifted row)
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)  # a duplicate (student, school)
    df.to_csv(f, index=False)
    return data, victim


def test_validation_errors_name_file_row_column_rule_but_never_the_student(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sqis.ingest import DeliveryInvalid, ingest_year

    data, victim = _bad_delivery(tmp_path / "data")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryInvalid) as ei:
        ingest_year(str(data), YEAR, store_root=str(tmp_path / "store"))
    report = ei.value.report
    errors = report.errors
    assert {"file", "row", "column", "rule", "value"} <= set(errors.columns)
    students = errors[errors["file"] == "students"]
    assert 5 in set(students["row"].dropna().astype(int))  # row 4 of the frame + header
    text = str(ei.value) + report.to_csv_bytes().decode() + errors.to_string() + caplog.text
    assert victim not in text
    assert KEY not in text
    assert not (tmp_path / "store" / "validated" / YEAR).exists()  # nothing stored


def test_key_mismatch_and_missing_key_messages_never_show_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqis.ingest import KeyMismatch, ingest_year
    from sqis.settings import MissingKeyError, reset_settings_cache

    store = str(tmp_path / "store")
    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()
    ingest_year(str(consortium()), YEARS[0], store_root=store)
    other = "another-key-also-not-a-secret-77"
    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", other)
    reset_settings_cache()
    with pytest.raises(KeyMismatch) as ei:
        ingest_year(str(consortium()), YEARS[1], store_root=store)
    assert KEY not in str(ei.value) and other not in str(ei.value)
    assert "another key" in str(ei.value)
    monkeypatch.delenv("SQIS_PSEUDONYM_KEY")
    reset_settings_cache()
    with pytest.raises(MissingKeyError) as ei2:
        ingest_year(str(consortium()), YEARS[1], store_root=store)
    assert "SQIS_PSEUDONYM_KEY" in str(ei2.value)
    manifest = (tmp_path / "store" / "validated" / YEARS[0] / "delivery.json").read_bytes()
    assert KEY.encode() not in manifest and b"pseudonym_key_id" in manifest


def test_the_settings_never_print_the_key() -> None:
    from sqis.settings import Settings

    s = Settings(pseudonym_key=KEY)
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in str(s.model_dump())
    buf = io.StringIO()
    print(s, file=buf)
    assert KEY not in buf.getvalue()


def test_results_do_not_depend_on_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """SECURITY.md "Rotating the pseudonym key": re-run under a new key, the same outputs."""
    from sqis import pipeline
    from sqis.settings import reset_settings_cache
    from tests.consortium import clean_run, manifest_checksums, run_config

    clean = clean_run()
    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", "a-rotated-key-also-not-a-secret-0042")
    reset_settings_cache()
    work = private_tmp("sqis-rotated-")
    pipeline.run_year(YEAR, run_config(work))
    # files that name educators by their pseudonym (the staff educators.csv, actions and
    # school pages, the staff school reports' educator section) change with the key;
    # nothing else does
    named = re.compile(
        r"^(educators\.csv|educator-actions\.csv|reports/(educators|schools)/[0-9]{14}\.html)$"
    )
    got = manifest_checksums(work / "out")
    assert {k: v for k, v in got.items() if not named.match(k)} == {
        k: v for k, v in clean.manifest.items() if not named.match(k)
    }
    # a staff school report differs in its educator section only
    section = re.compile(rb'<section id="educators".*?</section>', re.S)
    reports = sorted((work / "out" / YEAR / "reports" / "schools").glob("*.html"))
    assert reports and any(section.search(p.read_bytes()) for p in reports)
    for p in reports:
        before = clean.work / "out" / YEAR / "reports" / "schools" / p.name
        assert section.sub(b"", p.read_bytes()) == section.sub(b"", before.read_bytes()), p.name
    for out in (work / "out", clean.work / "out"):
        assert (out / YEAR / "educators.csv").exists()

    def without_keys(out: Path) -> pd.DataFrame:
        e = pd.read_csv(out / YEAR / "educators.csv", dtype=str).drop(columns="educator_key")
        return e.sort_values(list(e.columns)).reset_index(drop=True)

    pd.testing.assert_frame_equal(without_keys(work / "out"), without_keys(clean.work / "out"))
    students = pq.read_table(work / "store" / "validated" / YEAR / "students.parquet")
    before = pq.read_table(clean.work / "store" / "validated" / YEAR / "students.parquet")
    assert set(students.column("student_id").to_pylist()).isdisjoint(
        before.column("student_id").to_pylist()
    )  # the pseudonyms did change
