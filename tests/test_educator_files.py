"""DATA_CONTRACT.md `educators` and `rosters`: validated like the other contract files
(every failure with file, row, column and rule; the cross-file rules), optional per year,
pseudonymised at ingest in their own key domain, never shown raw."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from sqis import methodology
from tests.test_validation_corpus import ES, HS, HS2, MS, YEAR, valid_year, write_year

T_ES, T_ES2, T_MS, P_ES, P_MS, P_HS, P_HS2 = (
    "TCH00001",
    "TCH00002",
    "TCH00003",
    "PRN0001",
    "PRN0002",
    "PRN0003",
    "PRN0004",
)


def educator_frames() -> dict[str, pd.DataFrame]:
    """Educators and rosters fitting ``valid_year``: two ES teachers co-teaching student 1,
    one MS teacher, one principal per school."""
    educators = pd.DataFrame(
        [
            (T_ES, ES, "TEACHER", "3.0"),
            (T_ES2, ES, "TEACHER", "2.25"),
            (T_MS, MS, "TEACHER", "4"),
            (P_ES, ES, "PRINCIPAL", "1.0"),
            (P_MS, MS, "PRINCIPAL", "3.5"),
            (P_HS, HS, "PRINCIPAL", "2.5"),
            (P_HS2, HS2, "PRINCIPAL", "2.5"),
        ],
        columns=["educator_id", "school_code", "role", "practice"],
    )
    rosters = pd.DataFrame(
        [
            ("1000000001", T_ES, ES, "ELA"),
            ("1000000001", T_ES2, ES, "ELA"),  # co-taught
            ("1000000001", T_ES, ES, "MATH"),
            ("1000000002", T_ES2, ES, "MATH"),
            ("1000000004", T_MS, MS, "ELA"),
        ],
        columns=["student_id", "educator_id", "school_code", "subject"],
    )
    return {"educators": educators, "rosters": rosters}


def _delivery(root: Path, **changes: pd.DataFrame | None) -> Path:
    frames = {**valid_year(), **educator_frames(), **changes}
    write_year(root, {k: v for k, v in frames.items() if v is not None})
    return root


def _failures(report) -> set[tuple]:
    e = report.errors
    return {
        (f, None if pd.isna(r) else int(r), c, rule)
        for f, r, c, rule in zip(e["file"], e["row"], e["column"], e["rule"], strict=True)
    }


def test_a_year_with_both_files_validates(tmp_path):
    from sqis.validation import validate_delivery

    report = validate_delivery(str(_delivery(tmp_path)), YEAR)
    assert report.ok, report.errors.to_string()
    ed = report.frames["educators"]
    assert ed["practice"].dtype == "float64" and ed["practice"].tolist()[1] == 2.25
    assert len(report.frames["rosters"]) == 5
    assert set(report.files) >= {"educators", "rosters"}


def test_a_year_without_them_still_validates(tmp_path):
    from sqis.validation import validate_delivery

    write_year(tmp_path, valid_year())
    report = validate_delivery(str(tmp_path), YEAR)
    assert report.ok
    assert "educators" not in report.frames


@pytest.mark.parametrize("missing", ["educators", "rosters"])
def test_the_two_files_come_together(tmp_path, missing):
    from sqis.validation import validate_delivery

    report = validate_delivery(str(_delivery(tmp_path, **{missing: None})), YEAR)
    assert (missing, None, "", "file:educator_files_together") in _failures(report)


def test_educator_files_before_the_pilot_are_refused(tmp_path):
    from sqis.validation import validate_delivery

    data = yaml.safe_load((methodology.BUILTIN_DIR / "core-2015.yaml").read_text())
    data["educators"]["pilot_year"] = "2016-17"
    data["educators"]["first_year"] = "2016-17"
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    m = methodology.load_file(p)
    report = validate_delivery(str(_delivery(tmp_path / "data")), YEAR, m)
    assert _failures(report) == {
        ("educators", None, "", "file:educator_year"),
        ("rosters", None, "", "file:educator_year"),
    }


def test_values_and_keys_fail_with_file_row_column_and_rule(tmp_path):
    from sqis.validation import validate_delivery

    f = educator_frames()
    ed, ro = f["educators"], f["rosters"]
    ed.loc[0, "practice"] = "4.5"  # row 2
    ed.loc[1, "role"] = "COACH"  # row 3
    ed.loc[2, "educator_id"] = "TCH-0003"  # row 4: not letters and digits
    ed = pd.concat([ed, ed.iloc[[3]]], ignore_index=True)  # row 9: duplicate key
    ro.loc[4, "subject"] = "SCI"  # row 6
    report = validate_delivery(str(_delivery(tmp_path, educators=ed, rosters=ro)), YEAR)
    got = _failures(report)
    assert ("educators", 2, "practice", "less_than_or_equal_to(4.0)") in got
    assert ("educators", 3, "role", "isin(['TEACHER', 'PRINCIPAL'])") in got
    assert ("educators", 4, "educator_id", r"str_matches('^[A-Za-z0-9]{1,20}\Z')") in got
    assert ("educators", 9, "educator_id,school_code", "unique(educator_id, school_code)") in got
    assert ("rosters", 6, "subject", "isin(['ELA', 'MATH'])") in got


def test_cross_file_rules(tmp_path):
    from sqis.validation import validate_delivery

    f = educator_frames()
    ed, ro = f["educators"], f["rosters"]
    ro.loc[0, "school_code"] = MS  # row 2: student 1 is not enrolled at MS (nor TCH00001 there)
    ro.loc[3, "educator_id"] = P_ES  # row 5: a principal, not a teacher
    ro.loc[4, "educator_id"] = T_ES  # row 6: a teacher of another school
    ed.loc[3, "role"] = "TEACHER"  # ES loses its principal (schools row 2)
    ed.loc[5, "role"] = "PRINCIPAL"  # no change
    extra = pd.DataFrame([("PRN0099", MS, "PRINCIPAL", "3")], columns=ed.columns)
    ed = pd.concat([ed, extra], ignore_index=True)  # row 9: MS's second principal
    report = validate_delivery(str(_delivery(tmp_path, educators=ed, rosters=ro)), YEAR)
    got = {x for x in _failures(report) if x[3].startswith("cross_file:")}
    assert got == {
        ("rosters", 2, "student_id", "cross_file:roster_student_enrolled"),
        ("rosters", 2, "educator_id", "cross_file:roster_educator_is_teacher"),
        ("rosters", 6, "educator_id", "cross_file:roster_educator_is_teacher"),
        ("educators", 9, "role", "cross_file:one_principal_per_school"),
        ("schools", 2, "school_code", "cross_file:one_principal_per_school"),
    }
    # ro row 5 names PRN0001, now a TEACHER of ES: a valid roster row
    assert not any(r == 5 for f_, r, *_ in _failures(report) if f_ == "rosters")


def test_educator_ids_never_appear_in_the_report(tmp_path):
    from sqis.validation import validate_delivery

    f = educator_frames()
    ro = f["rosters"]
    ro.loc[4, "educator_id"] = "ZZTOP12345"  # not a teacher anywhere
    ed = pd.concat([f["educators"], f["educators"].iloc[[0]]], ignore_index=True)
    report = validate_delivery(str(_delivery(tmp_path, educators=ed, rosters=ro)), YEAR)
    assert not report.ok
    out = tmp_path / "report.csv"
    report.write_csv(out)
    text = out.read_text()
    for raw in ("ZZTOP12345", T_ES):
        assert raw not in text
    assert "******2345" in text


def test_ingest_pseudonymises_both_ids_each_in_its_domain(tmp_path):
    from sqis import ingest
    from sqis.pseudonym import educator_key, pseudonymise, pseudonymise_educators
    from tests.conftest import TEST_KEY

    f = educator_frames()
    # an educator whose ID is a student's ID: another pseudonym all the same
    extra = pd.DataFrame([("1000000001", HS, "TEACHER", "3")], columns=f["educators"].columns)
    ed = pd.concat([f["educators"], extra], ignore_index=True)
    data = _delivery(tmp_path / "data", educators=ed)
    res = ingest.ingest_year(str(data), YEAR, store_root=str(tmp_path / "store"))
    assert set(res.manifest["files"]) >= {"educators", "rosters"}
    yd = ingest.load_year(YEAR, store_root=str(tmp_path / "store"))
    key = TEST_KEY.encode()
    import pyarrow as pa

    expect = pseudonymise_educators(pa.array(ed["educator_id"].tolist()), key).to_pylist()
    assert yd.educators["educator_id"].tolist() == expect
    assert educator_key(key) != key
    student = pseudonymise(pd.Series(["1000000001"]), key).iloc[0]
    assert expect[-1] != student  # the same digits, two domains
    assert yd.rosters["student_id"].iloc[0] == student  # rosters join students
    assert yd.rosters["student_id"].isin(yd.students["student_id"]).all()
    assert set(yd.rosters["educator_id"]) <= set(yd.educators["educator_id"])
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    for raw in ed["educator_id"]:
        assert raw.encode() not in stored
    # the same delivery again changes nothing; a changed roster is a changed delivery
    assert ingest.ingest_year(str(data), YEAR, store_root=str(tmp_path / "store")).status == (
        "unchanged"
    )
    f["rosters"].iloc[:4].to_csv(data / YEAR / "rosters.csv", index=False)
    with pytest.raises(ingest.DeliveryChanged):
        ingest.ingest_year(str(data), YEAR, store_root=str(tmp_path / "store"))


def test_a_year_without_educator_files_loads_none(tmp_path):
    from sqis import ingest

    write_year(tmp_path / "data", valid_year())
    ingest.ingest_year(str(tmp_path / "data"), YEAR, store_root=str(tmp_path / "store"))
    yd = ingest.load_year(YEAR, store_root=str(tmp_path / "store"))
    assert yd.educators is None and yd.rosters is None
