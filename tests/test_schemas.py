"""The pandera models, value parsing, masking, cross-file rules and output models, in isolation."""

from __future__ import annotations

import pandas as pd
import pytest

from schemas import CONTRACT_MODELS
from schemas.base import column_kinds, mask_student_ids, parse_columns
from schemas.cross_file import (
    assessment_student_enrolled,
    graduation_cohort_measured,
    graduation_years,
    school_code_in_schools,
)
from schemas.outputs import check_output
from sqis import codes


def _rows(index: list[int], **cols: list) -> pd.DataFrame:
    return pd.DataFrame(cols, index=pd.Index(index, name="row"))


def test_every_contract_column_has_a_kind() -> None:
    assert column_kinds(CONTRACT_MODELS["students"])["redesignated"] == "flag"
    assert column_kinds(CONTRACT_MODELS["assessments"])["scale_score"] == "float"
    assert column_kinds(CONTRACT_MODELS["schools"])["low_grade"] == "int"
    assert column_kinds(CONTRACT_MODELS["graduation"])["grad_year"] == "str"
    assert list(CONTRACT_MODELS) == ["schools", "students", "assessments", "graduation", "sel",
                                     "climate"]  # fmt: skip


def test_parse_flags_ints_and_floats_strictly() -> None:
    raw = _rows(
        [2, 3, 4, 5],
        f=["Y", "N", "y", ""],
        i=["7", "-2", "7.0", "x"],
        x=["2400.5", "1e3", "inf", ".5"],
        s=["a", "", " b", "c"],
    ).astype("str")
    typed, errors = parse_columns("t", raw, {"f": "flag", "i": "int", "x": "float", "s": "str"})
    assert typed["f"].tolist()[:2] == [True, False] and typed["f"].isna().tolist()[2:] == [True] * 2
    assert typed["i"].tolist()[:2] == [7, -2] and typed["i"].isna().tolist()[2:] == [True, True]
    assert typed["x"].tolist()[0] == 2400.5 and typed["x"].tolist()[1] == 1000.0
    assert typed["x"].isna().tolist() == [False, False, True, False]
    assert typed["s"].tolist()[2] == " b" and pd.isna(typed["s"].tolist()[1])
    got = {(r.row, r.column, r.value, r.rule) for r in errors.itertuples()}
    assert got == {
        (4, "f", "y", "isin(['Y', 'N'])"),
        (4, "i", "7.0", "integer"),
        (5, "i", "x", "integer"),
        (4, "x", "inf", "number"),
    }


def test_student_ids_are_masked_to_the_last_four() -> None:
    out = mask_student_ids(pd.Series(["1234567890", "12", "", "abcdefgh"]))
    assert out.tolist() == ["******7890", "****", "", "******efgh"]


def test_model_validates_typed_frame_and_coerces() -> None:
    model = CONTRACT_MODELS["sel"]
    df = _rows(
        [2],
        student_id=["1000000001"],
        school_code=["01123450000001"],
        construct=["GM"],
        score=[3.0],
    )
    out = model.validate(df)
    assert out["score"].dtype == "float64"


def test_school_codes_must_exist() -> None:
    frames = {
        "schools": _rows([2], school_code=["01123450000001"]),
        "climate": _rows([2, 3], school_code=["01123450000001", "01123450000002"]),
    }
    e = school_code_in_schools(frames, "2015-16")
    assert e[["file", "row", "column", "value"]].values.tolist() == [
        ["climate", 3, "school_code", "01123450000002"]
    ]


def test_enrolment_is_per_school_and_masks_ids() -> None:
    sc = "01123450000001"
    frames = {
        "students": _rows([2, 3], student_id=["1000000001", "1000000002"],
                          school_code=[sc, "01123450000002"]),
        "assessments": _rows([2, 3, 4], student_id=["1000000001", "1000000002", None],
                             school_code=[sc, sc, sc]),
    }  # fmt: skip
    e = assessment_student_enrolled(frames, "2015-16")
    assert e["row"].tolist() == [3]  # enrolled elsewhere; a missing ID is reported apart
    assert e["value"].tolist() == ["******0002"]


def test_graduation_year_rules() -> None:
    g = _rows(
        [2, 3, 4, 5, 6, 7],
        outcome=["GRAD", "GRAD", "DROP", "GRAD", "GRAD", "OTHER"],
        cohort=["2012-13", "2012-13", "2012-13", "2012-13", "2011-12", "2010-11"],
        grad_year=["2015-16", None, "2014-15", "2012-13", "2016-17", None],
    )
    e = graduation_years({"graduation": g}, "2015-16")
    assert sorted(zip(e["row"].tolist(), e["rule"].tolist(), strict=True)) == [
        (3, "cross_file:grad_year_iff_grad"),
        (4, "cross_file:grad_year_iff_grad"),
        (5, "cross_file:grad_year_after_cohort"),
        (6, "cross_file:grad_year_not_after_year"),
    ]


def test_measured_cohorts_come_from_the_methodology_offsets() -> None:
    g = _rows([2, 3, 4], cohort=["2012-13", "2009-10", "2010-11"])
    offsets = {"GRAD4": 3, "GRAD5": 4, "GRAD6": 5}
    e = graduation_cohort_measured({"graduation": g}, "2015-16", offsets)
    assert e["row"].tolist() == [3]
    assert graduation_cohort_measured({"graduation": g}, "2015-16", {"GRAD4": 6})["row"].tolist() \
        == [2, 4]  # fmt: skip


INDICATORS_HEADER = (
    "school_code,student_group,indicator,numerator,denominator,value,level,meets_nsize"
)


def test_output_indicators_csv_is_held_to_the_contract() -> None:
    good = (
        f"{INDICATORS_HEADER}\n"
        "01123450000001,ALL,ELA_MET,10,20,50.0,5,Y\n"
        "01123450000001,EL,SEL,,12,3.5,,N\n"
    ).encode()
    assert check_output("indicators", good).empty
    bad = (
        f"{INDICATORS_HEADER}\n"
        "01123450000001,ALL,ELA_MET,10,20,50.0,11,Y\n"
        "01123450000001,XX,SEL,,12,3.5,4,N\n"
    ).encode()
    got = {(r.row, r.column, r.rule) for r in check_output("indicators", bad).itertuples()}
    assert got == {
        (2, "level", "less_than_or_equal_to(10)"),
        (3, "student_group", f"isin({list(codes.STUDENT_GROUPS)})"),
        (3, "", "level empty where meets_nsize is N"),
    }


@pytest.mark.parametrize(
    ("name", "header", "row", "column", "rule"),
    [
        ("designations",
         "school_code,designation,reason_group,reason_indicator,years_in_status,escalation,"
         "partner_school_code,exited",
         "01123450000001,FOCUS,EL,ELA_MET,1,WATCH,,N", "escalation",
         "isin(['NONE', 'PEER_REVIEW', 'REWARD_PARTNERSHIP', 'DISTRICT_TURNAROUND', "
         "'DISTRICT_ACTION'])"),
        ("index",
         "school_code,academic,social_emotional,culture_climate,sqii,prior_sqii,goal,meets_goal",
         "01123450000001,5.5,6,7,101,,,", "sqii", "less_than_or_equal_to(100.0)"),
        ("communities", "community_id,school_code,reason_group,checkpoint,date,status",
         "C1,01123450000001,EL,0,2015-10-15,SCHEDULED", "checkpoint",
         "greater_than_or_equal_to(1)"),
        ("communities", "community_id,school_code,reason_group,checkpoint,date,status",
         "C1,01123450000001,EL,1,2015-10-15,DRAFT", "status", "isin(['SCHEDULED', 'HELD'])"),
    ],
)  # fmt: skip
def test_output_models(name: str, header: str, row: str, column: str, rule: str) -> None:
    errors = check_output(name, f"{header}\n{row}\n".encode())
    assert {(r.row, r.column, r.rule) for r in errors.itertuples()} == {(2, column, rule)}


def test_a_student_id_in_the_wrong_column_is_masked_too() -> None:
    from schemas.base import make_errors

    e = make_errors("students", [5, 6], "school_code", ["1000000042", "01123450000001"], "x")
    assert e["value"].tolist() == ["******0042", "01123450000001"]
