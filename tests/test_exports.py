"""CSV exports exactly as DATA_CONTRACT.md "Outputs", with formula-injection neutralisation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqis.exports import ExportError, write_exports
from sqis.storage import open_storage

YEAR = "2015-16"


def tables() -> dict[str, pd.DataFrame]:
    indicators = pd.DataFrame(
        {
            "school_code": ["01611190000002", "01611190000001", "01611190000001"],
            "student_group": ["ALL", "SED", "ALL"],
            "indicator": ["SEL", "ELA_MET", "ELA_MET"],
            "numerator": [np.nan, 3.0, 12.0],
            "denominator": [40.0, 8.0, 30.0],
            "value": [3.45, 37.5, 40.0],
            "meets_nsize": [True, False, True],
            "level": pd.array([6, pd.NA, 5], dtype="Int64"),
            "improve_1": [0.05, np.nan, 4.0],  # not a contract column: left out
        }
    )
    index = pd.DataFrame(
        {
            "school_code": ["01611190000001"],
            "academic": [5.5],
            "social_emotional": [np.nan],
            "culture_climate": [6.0],
            "sqii": [1 / 3 * 100],
            "prior_sqii": [np.nan],
            "goal": [np.nan],
            "meets_goal": pd.array([pd.NA], dtype="boolean"),
        }
    )
    designations = pd.DataFrame(
        {
            "school_code": ["01611190000001"],
            "designation": ["FOCUS"],
            "reason_group": ["SED"],
            "reason_indicator": ["ELA_MET"],
            "years_in_status": [3],
            "escalation": ["REWARD_PARTNERSHIP"],
            "partner_school_code": ["01611190000002"],
            "exited": [False],
            "gap": [12.5],
        }
    )
    communities = pd.DataFrame(
        {
            "community_id": ['=HYPERLINK("http://x")', "-2+3", "C-SED-ES-1"],
            "school_code": ["01611190000001"] * 3,
            "reason_group": ["SED", "@SUM(A1)", "SED"],
            "checkpoint": [1, 1, 2],
            "date": ["2015-10-15", "2015-10-15", "2016-01-15"],
            "status": ["SCHEDULED", "\tHELD", "\rx"],
        }
    )
    districts = pd.DataFrame(
        {
            "district_code": ["0161120", "0161119"],
            "academic": [np.nan, 5.25],
            "social_emotional": [np.nan, 6.0],
            "culture_climate": [np.nan, 4.5],
            "sqii": [np.nan, 53.25],
            "prior_sqii": [np.nan, 50.0],
            "goal": [np.nan, 55.0],
            "meets_goal": pd.array([pd.NA, False], dtype="boolean"),
            "schools": [0, 3],  # not a contract column: left out
        }
    )
    return {
        "indicators": indicators,
        "index": index,
        "designations": designations,
        "communities": communities,
        "districts": districts,
        # METHODOLOGY.md "Support for schools missing their goal", "Escalation"
        "goal_support": pd.DataFrame(
            {
                "school_code": ["01611190000002", "01611190000001"],
                "weakest_indicator": ["SUSP", None],
                "support_school_code": [None, "01611190000003"],
            }
        ),
        "partnership_flags": pd.DataFrame(
            {"school_code": ["01611190000001"], "flag": ["NO_ELIGIBLE_PARTNER"]}
        ),
    }


def test_contract_files_byte_for_byte(tmp_path: Path) -> None:
    out = open_storage(tmp_path)
    sums = write_exports(YEAR, tables(), out)
    assert sorted(sums) == [
        f"{YEAR}/communities.csv",
        f"{YEAR}/designations.csv",
        f"{YEAR}/districts.csv",
        f"{YEAR}/goal_support.csv",
        f"{YEAR}/index.csv",
        f"{YEAR}/indicators.csv",
        f"{YEAR}/partnership_flags.csv",
    ]
    ind = (tmp_path / YEAR / "indicators.csv").read_text()
    assert ind == (
        "school_code,student_group,indicator,numerator,denominator,value,level,meets_nsize\n"
        "01611190000001,ALL,ELA_MET,12,30,40.0,5,Y\n"
        "01611190000001,SED,ELA_MET,3,8,37.5,,N\n"
        "01611190000002,ALL,SEL,,40,3.45,6,Y\n"
    )
    assert (tmp_path / YEAR / "index.csv").read_text() == (
        "school_code,academic,social_emotional,culture_climate,sqii,prior_sqii,goal,meets_goal\n"
        "01611190000001,5.5,,6.0,33.33333333333333,,,\n"
    )
    assert (tmp_path / YEAR / "designations.csv").read_text() == (
        "school_code,designation,reason_group,reason_indicator,years_in_status,escalation,"
        "partner_school_code,exited\n"
        "01611190000001,FOCUS,SED,ELA_MET,3,REWARD_PARTNERSHIP,01611190000002,N\n"
    )
    # METHODOLOGY.md "District index": a district with no school weighed has empty scores
    assert (tmp_path / YEAR / "districts.csv").read_text() == (
        "district_code,academic,social_emotional,culture_climate,sqii,prior_sqii,goal,"
        "meets_goal\n"
        "0161119,5.25,6.0,4.5,53.25,50.0,55.0,N\n"
        "0161120,,,,,,,\n"
    )
    # sorted by school code; empty where no support school qualifies
    assert (tmp_path / YEAR / "goal_support.csv").read_text() == (
        "school_code,weakest_indicator,support_school_code\n"
        "01611190000001,,01611190000003\n"
        "01611190000002,SUSP,\n"
    )
    assert (tmp_path / YEAR / "partnership_flags.csv").read_text() == (
        "school_code,flag\n01611190000001,NO_ELIGIBLE_PARTNER\n"
    )
    for key, digest in sums.items():
        assert hashlib.sha256((tmp_path / key).read_bytes()).hexdigest() == digest


def test_formula_injection_is_neutralised(tmp_path: Path) -> None:
    write_exports(YEAR, tables(), open_storage(tmp_path))
    back = pd.read_csv(tmp_path / YEAR / "communities.csv", dtype=str, keep_default_na=False)
    assert back["community_id"].tolist() == ["'-2+3", '\'=HYPERLINK("http://x")', "C-SED-ES-1"]
    assert back["reason_group"].tolist() == ["'@SUM(A1)", "SED", "SED"]
    assert back["status"].tolist() == ["'\tHELD", "SCHEDULED", "'\rx"]
    assert back["date"].tolist() == ["2015-10-15", "2015-10-15", "2016-01-15"]


def test_negative_numbers_are_not_touched(tmp_path: Path) -> None:
    t = tables()
    t["index"] = t["index"].assign(academic=-1.5)
    write_exports(YEAR, t, open_storage(tmp_path))
    assert ",-1.5," in (tmp_path / YEAR / "index.csv").read_text()


def test_a_missing_table_or_column_is_refused(tmp_path: Path) -> None:
    t = tables()
    del t["communities"]
    with pytest.raises(ExportError, match="no communities table"):
        write_exports(YEAR, t, open_storage(tmp_path))
    t = tables()
    t["designations"] = t["designations"].drop(columns="exited")
    with pytest.raises(ExportError, match=r"designations\.csv.*exited"):
        write_exports(YEAR, t, open_storage(tmp_path))


def test_a_year_without_communities_gets_a_header_only_file(tmp_path: Path) -> None:
    t = tables()
    t["communities"] = t["communities"].iloc[0:0]
    write_exports(YEAR, t, open_storage(tmp_path))
    assert (tmp_path / YEAR / "communities.csv").read_text() == (
        "community_id,school_code,reason_group,checkpoint,date,status\n"
    )


def test_commas_quotes_and_line_breaks_in_text_are_quoted(tmp_path: Path) -> None:
    t = tables()
    t["communities"] = t["communities"].assign(community_id=["a,b", 'say "hi"', "two\nlines"])
    write_exports(YEAR, t, open_storage(tmp_path))
    back = pd.read_csv(tmp_path / YEAR / "communities.csv", dtype=str, keep_default_na=False)
    assert back["community_id"].tolist() == ["a,b", 'say "hi"', "two\nlines"]
