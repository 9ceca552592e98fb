"""Ingest: pseudonymisation, the store layout, idempotent re-ingest, --replace, load_year, CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sqis.ingest import (
    DeliveryChanged,
    DeliveryInvalid,
    KeyMismatch,
    NotIngested,
    StoreInconsistent,
    delivery_manifest,
    ingest_year,
    ingested_years,
    load_year,
)
from sqis.pseudonym import key_id, pseudonymise
from sqis.settings import MissingKeyError, reset_settings_cache
from tests.conftest import TEST_KEY
from tests.test_validation_corpus import YEAR, setv, tree_digest, valid_year, write_year

RAW_IDS = [f"10000000{i:02d}" for i in range(1, 12)]


def _hmac(value: str, key: str = TEST_KEY) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


# ---- pseudonym ----------------------------------------------------------------------------


def test_pseudonym_is_hmac_sha256_of_the_id() -> None:
    ids = pd.Series(["1000000001", "1000000002", "1000000001", None], dtype="str")
    out = pseudonymise(ids, TEST_KEY.encode())
    assert out.iloc[0] == _hmac("1000000001")
    assert out.iloc[1] == _hmac("1000000002")
    assert out.iloc[2] == out.iloc[0]
    assert pd.isna(out.iloc[3])
    assert len(out.iloc[0]) == 64


def test_pseudonym_differs_by_key() -> None:
    ids = pd.Series(["1000000001"], dtype="str")
    assert pseudonymise(ids, b"key-a").iloc[0] != pseudonymise(ids, b"key-b").iloc[0]
    assert key_id(b"key-a") != key_id(b"key-b")
    assert "key-a" not in key_id(b"key-a")


def test_pseudonym_without_a_key_is_refused() -> None:
    with pytest.raises(MissingKeyError):
        pseudonymise(pd.Series(["1000000001"]), b"")


# ---- ingest -------------------------------------------------------------------------------


def _deliver(root: Path, changes: dict | None = None, year: str = YEAR) -> Path:
    frames = valid_year()
    for (name, row, column), value in (changes or {}).items():
        setv(name, row, column, value)(frames)
    write_year(root, frames, year)
    return root


def test_ingest_stores_parquet_and_manifest(tmp_path: Path) -> None:
    data = _deliver(tmp_path / "data")
    store = tmp_path / "store"
    result = ingest_year(str(data), YEAR, store_root=str(store))
    assert result.status == "ingested"
    ydir = store / "validated" / YEAR
    assert sorted(p.name for p in ydir.iterdir()) == sorted(
        [f"{n}.parquet" for n in ("schools", "students", "assessments", "graduation", "sel",
                                  "climate", "student_keys")] + ["delivery.json"]
    )  # fmt: skip
    manifest = json.loads((ydir / "delivery.json").read_text())
    assert manifest["year"] == YEAR
    assert manifest["schema_version"] == "1"
    assert manifest["source"] == str(data.resolve())
    assert manifest["pseudonym_key_id"] == key_id(TEST_KEY.encode())
    students_csv = data / YEAR / "students.csv"
    entry = manifest["files"]["students"]
    assert entry["sha256"] == hashlib.sha256(students_csv.read_bytes()).hexdigest()
    assert entry["rows"] == 9 and entry["format"] == "csv"
    assert ingested_years(str(store)) == [YEAR]
    assert delivery_manifest(YEAR, str(store)) == manifest


def test_no_raw_student_id_in_the_store(tmp_path: Path) -> None:
    data = _deliver(tmp_path / "data")
    store = tmp_path / "store"
    ingest_year(str(data), YEAR, store_root=str(store))
    for p in store.rglob("*"):
        if p.is_file():
            blob = p.read_bytes()
            for raw in RAW_IDS:
                assert raw.encode() not in blob, f"{raw} in {p.name}"


def test_load_year_gives_typed_pseudonymised_frames(tmp_path: Path) -> None:
    data = _deliver(tmp_path / "data")
    store = tmp_path / "store"
    ingest_year(str(data), YEAR, store_root=str(store))
    y = load_year(YEAR, str(store))
    assert y.year == YEAR
    assert y.students["student_id"].tolist()[:2] == [_hmac("1000000001"), _hmac("1000000002")]
    # the student who moved keeps one pseudonym at both schools
    assert y.students["student_id"].iloc[3] == y.students["student_id"].iloc[4]
    # the same student in assessments and graduation: the same pseudonym
    assert y.assessments["student_id"].iloc[0] == y.students["student_id"].iloc[0]
    assert y.graduation["student_id"].iloc[0] == _hmac("1000000006")
    assert y.students["swd"].dtype == bool and y.students["grade"].dtype == "int64"
    assert y.schools["school_code"].iloc[0] == "01123450000001"  # leading zero kept
    assert y.graduation["grad_year"].isna().tolist() == [False, True, False, True]
    assert y.assessments["scale_score"].iloc[0] == 2400.5
    assert y.climate["respondent_id"].tolist()[0] == "R1"  # survey IDs are not pseudonymised
    # every contract file; the optional educator files only where delivered (none here)
    assert set(y.checksums) == set(y.__dataclass_fields__) - {
        "year", "checksums", "educators", "rosters", "stored_keys"
    }  # fmt: skip


def test_pseudonyms_are_stable_across_years(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest_year(str(_deliver(tmp_path / "a")), YEAR, store_root=str(store))
    # the next year: same students, cohorts one year on
    frames = valid_year()
    frames["graduation"] = frames["graduation"].assign(
        cohort=["2013-14", "2012-13", "2011-12", "2013-14"],
        grad_year=["2016-17", "", "2015-16", ""],
    )
    write_year(tmp_path / "b", frames, "2016-17")
    ingest_year(str(tmp_path / "b"), "2016-17", store_root=str(store))
    a, b = load_year(YEAR, str(store)), load_year("2016-17", str(store))
    assert a.students["student_id"].tolist() == b.students["student_id"].tolist()
    assert ingested_years(str(store)) == [YEAR, "2016-17"]


def test_reingesting_the_same_files_changes_nothing(tmp_path: Path) -> None:
    data = _deliver(tmp_path / "data")
    store = tmp_path / "store"
    ingest_year(str(data), YEAR, store_root=str(store))
    before = tree_digest(store)
    result = ingest_year(str(data), YEAR, store_root=str(store))
    assert result.status == "unchanged"
    assert tree_digest(store) == before


def test_a_changed_delivery_needs_replace_which_keeps_the_previous(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest_year(str(_deliver(tmp_path / "v1")), YEAR, store_root=str(store))
    first = tree_digest(store)
    v2 = _deliver(tmp_path / "v2", {("students", 2, "days_absent"): "5"})
    with pytest.raises(DeliveryChanged, match="--replace"):
        ingest_year(str(v2), YEAR, store_root=str(store))
    assert tree_digest(store) == first
    result = ingest_year(str(v2), YEAR, store_root=str(store), replace=True)
    assert result.status == "replaced" and result.previous_version == 1
    after = tree_digest(store)
    prefix = f"validated/{YEAR}/"
    for key, digest in first.items():  # the first version, byte for byte, under versions/1/
        assert after[prefix + "versions/1/" + key[len(prefix) :]] == digest
    assert load_year(YEAR, str(store)).students["days_absent"].iloc[0] == 5
    assert delivery_manifest(YEAR, str(store))["version"] == 2
    # and again: a third delivery goes to versions/2/, versions/1/ untouched
    v3 = _deliver(tmp_path / "v3", {("students", 2, "days_absent"): "6"})
    assert ingest_year(str(v3), YEAR, store_root=str(store), replace=True).previous_version == 2
    final = tree_digest(store)
    assert {k: v for k, v in final.items() if "/versions/1/" in k} == {
        k: v for k, v in after.items() if "/versions/1/" in k
    }
    assert json.loads((store / prefix / "versions/2/delivery.json").read_text())["version"] == 2


def test_an_invalid_delivery_stores_nothing(tmp_path: Path) -> None:
    data = _deliver(tmp_path / "data", {("students", 3, "gender"): "Q"})
    store = tmp_path / "store"
    with pytest.raises(DeliveryInvalid) as e:
        ingest_year(str(data), YEAR, store_root=str(store))
    assert "students: 1" in str(e.value)
    assert tree_digest(store) == {}
    with pytest.raises(NotIngested):
        load_year(YEAR, str(store))


def test_a_run_without_the_key_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SQIS_PSEUDONYM_KEY")
    reset_settings_cache()
    with pytest.raises(MissingKeyError) as e:
        ingest_year(str(_deliver(tmp_path / "data")), YEAR, store_root=str(tmp_path / "s"))
    assert TEST_KEY not in str(e.value)
    assert not (tmp_path / "s").exists()


def test_years_under_another_key_are_not_mixed(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "store"
    ingest_year(str(_deliver(tmp_path / "a")), YEAR, store_root=str(store))
    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", "another-key")
    reset_settings_cache()
    frames = valid_year()
    frames["graduation"] = frames["graduation"].iloc[[1, 3]].assign(cohort=["2012-13", "2013-14"])
    write_year(tmp_path / "b", frames, "2016-17")
    with pytest.raises(KeyMismatch) as e:
        ingest_year(str(tmp_path / "b"), "2016-17", store_root=str(store))
    assert "another-key" not in str(e.value)


def test_load_year_detects_a_stored_file_that_does_not_match(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest_year(str(_deliver(tmp_path / "data")), YEAR, store_root=str(store))
    p = store / "validated" / YEAR / "sel.parquet"
    p.write_bytes(p.read_bytes() + b"x")
    with pytest.raises(StoreInconsistent, match="sel.parquet"):
        load_year(YEAR, str(store))


def test_parquet_delivery_is_read_like_csv(tmp_path: Path) -> None:
    write_year(tmp_path / "data", valid_year(), fmt="parquet")
    store = tmp_path / "store"
    result = ingest_year(str(tmp_path / "data"), YEAR, store_root=str(store))
    assert result.manifest["files"]["students"]["format"] == "parquet"
    y = load_year(YEAR, str(store))
    assert y.students["student_id"].iloc[0] == _hmac("1000000001")


# ---- CLI ----------------------------------------------------------------------------------


def _cli(*args: str):
    from sqis_cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_validate_exit_codes_and_report(tmp_path: Path) -> None:
    good = _deliver(tmp_path / "good")
    res = _cli(
        "validate", "--data", str(good), "--year", YEAR, "--report", str(tmp_path / "ok.csv")
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "ok.csv").read_text().strip() == "file,row,column,value,rule"

    bad = _deliver(tmp_path / "bad", {("assessments", 2, "school_code"): "01123450000002"})
    res = _cli(
        "validate", "--data", str(bad), "--year", YEAR, "--report", str(tmp_path / "bad.csv")
    )
    assert res.exit_code == 1
    assert "cross_file:assessment_student_enrolled" in res.output
    report = pd.read_csv(tmp_path / "bad.csv", dtype=str)
    assert report.to_dict("records") == [
        {"file": "assessments", "row": "2", "column": "student_id", "value": "******0001",
         "rule": "cross_file:assessment_student_enrolled"}
    ]  # fmt: skip
    assert "1000000001" not in res.output


def test_cli_validate_unreadable_input_exits_2_without_traceback(tmp_path: Path) -> None:
    res = _cli("validate", "--data", str(tmp_path / "nowhere"), "--year", YEAR)
    assert res.exit_code == 2
    assert "error:" in res.output and "Traceback" not in res.output
    # the default report goes under SQIS_OUT_ROOT/validation/
    assert (tmp_path / "out" / "validation" / f"validation-{YEAR}.csv").exists()
    res = _cli("validate", "--data", str(tmp_path), "--year", "2015-17")
    assert res.exit_code == 2 and "2015-17" in res.output


def test_cli_ingest_then_unchanged_then_replace(tmp_path: Path) -> None:
    data = _deliver(tmp_path / "data")
    res = _cli("ingest", "--data", str(data), "--year", YEAR)
    assert res.exit_code == 0, res.output
    assert "ingested" in res.output
    assert (tmp_path / "store" / "validated" / YEAR / "delivery.json").exists()
    res = _cli("ingest", "--data", str(data), "--year", YEAR)
    assert res.exit_code == 0 and "unchanged" in res.output
    v2 = _deliver(tmp_path / "v2", {("sel", 2, "score"): "3"})
    res = _cli("ingest", "--data", str(v2), "--year", YEAR)
    assert res.exit_code == 2 and "--replace" in res.output
    res = _cli("ingest", "--data", str(v2), "--year", YEAR, "--replace")
    assert res.exit_code == 0 and "versions/1/" in res.output


def test_cli_ingest_invalid_delivery_exits_1(tmp_path: Path) -> None:
    bad = _deliver(tmp_path / "bad", {("schools", 2, "title_i"): "maybe"})
    res = _cli("ingest", "--data", str(bad), "--year", YEAR)
    assert res.exit_code == 1
    assert "isin(['Y', 'N'])" in res.output
    assert not (tmp_path / "store").exists()


def test_an_unreadable_redelivery_is_reported_as_invalid_not_changed(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest_year(str(_deliver(tmp_path / "data")), YEAR, store_root=str(store))
    before = tree_digest(store)
    (tmp_path / "data" / YEAR / "sel.csv").unlink()
    with pytest.raises(DeliveryInvalid) as e:
        ingest_year(str(tmp_path / "data"), YEAR, store_root=str(store))
    assert e.value.report.errors["rule"].tolist() == ["file:missing"]
    assert tree_digest(store) == before
