"""Small builders of ``YearData`` for tests: a row is a dict of only what matters.

    year = make_year(
        "2015-16",
        schools=[school("A", school_type="MS")],
        students=[student("s1", "A", grade=7, swd=True), *students(19, "A", prefix="x")],
        assessments=[assessment("s1", "A", "ELA", performance_level=3)],
    )

School codes may be short labels ("A", "B"): ``code("A")`` turns them into 14-digit CDS
codes, and every builder accepts either. Every column of the contract has a default, so a
test states only the columns its rule reads. Frames have the types of ``sqis.yeardata``.

Also: ``value(ind, "A", "ALL", "SUSP")`` picks the one indicator row of a school, group
and indicator; ``random_consortium(n_students, n_schools, seed)`` builds three random
years (cross-checks, benchmarks); ``write_delivery(root, year_data)`` writes a year as
the contract's CSV files (flags ``Y``/``N``) for tests of ingest and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sqis import years
from sqis.yeardata import YearData

DISTRICT = "0161234"  # 2 county + 5 district digits


def code(label: str) -> str:
    """A 14-digit school code from a short label: ``code("A")`` → ``01612340000065``."""
    if len(label) == 14 and label.isdigit():
        return label
    n = sum(ord(ch) * 256**i for i, ch in enumerate(reversed(label)))
    return f"{DISTRICT}{n % 10_000_000:07d}"


SCHOOL_DEFAULTS: dict[str, Any] = {
    "school_type": "ES",
    "title_i": True,
    "low_grade": 0,
    "high_grade": 12,
}
STUDENT_DEFAULTS: dict[str, Any] = {
    "grade": 4,
    "race_ethnicity": "HI",
    "gender": "F",
    "el_status": "EO",
    "redesignated": False,
    "swd": False,
    "sed": False,
    "foster": False,
    "homeless": False,
    "days_enrolled": 180,
    "days_absent": 0,
    "suspensions": 0,
    "expelled": False,
    "promoted": True,
}
ASSESSMENT_DEFAULTS: dict[str, Any] = {
    "subject": "ELA",
    "grade": 4,
    "scale_score": 2500.0,
    "performance_level": 2,
}
GRADUATION_DEFAULTS: dict[str, Any] = {
    "outcome": "GRAD",
    "grad_year": None,
    "race_ethnicity": "HI",
    "el": False,
    "swd": False,
    "sed": False,
    "foster": False,
    "homeless": False,
}

COLUMNS = {
    "schools": [
        "school_code",
        "district_code",
        "school_name",
        "district_name",
        "school_type",
        "title_i",
        "low_grade",
        "high_grade",
    ],
    "students": [
        "student_id",
        "school_code",
        "grade",
        "race_ethnicity",
        "gender",
        "el_status",
        "redesignated",
        "swd",
        "sed",
        "foster",
        "homeless",
        "days_enrolled",
        "days_absent",
        "suspensions",
        "expelled",
        "promoted",
    ],
    "assessments": [
        "student_id",
        "school_code",
        "subject",
        "grade",
        "scale_score",
        "performance_level",
    ],
    "graduation": [
        "student_id",
        "school_code",
        "cohort",
        "outcome",
        "grad_year",
        "race_ethnicity",
        "el",
        "swd",
        "sed",
        "foster",
        "homeless",
    ],
    "sel": ["student_id", "school_code", "construct", "score"],
    "climate": ["respondent_id", "school_code", "respondent_type", "construct", "score"],
}
TYPES: dict[str, dict[str, str]] = {
    "schools": {"title_i": "bool", "low_grade": "int64", "high_grade": "int64"},
    "students": {
        "grade": "int64",
        "redesignated": "bool",
        "swd": "bool",
        "sed": "bool",
        "foster": "bool",
        "homeless": "bool",
        "days_enrolled": "int64",
        "days_absent": "int64",
        "suspensions": "int64",
        "expelled": "bool",
        "promoted": "bool",
    },
    "assessments": {"grade": "int64", "scale_score": "float64", "performance_level": "int64"},
    "graduation": {
        "el": "bool",
        "swd": "bool",
        "sed": "bool",
        "foster": "bool",
        "homeless": "bool",
    },
    "sel": {"score": "float64"},
    "climate": {"score": "float64"},
}


def school(label: str = "A", school_type: str = "ES", **kw: Any) -> dict[str, Any]:
    row = {**SCHOOL_DEFAULTS, "school_code": code(label), "school_type": school_type, **kw}
    row["school_code"] = code(row["school_code"])
    row.setdefault("district_code", row["school_code"][:7])
    row.setdefault("school_name", f"School {label}")
    row.setdefault("district_name", "Test Unified")
    return row


def student(student_id: str, school_code: str = "A", **kw: Any) -> dict[str, Any]:
    return {**STUDENT_DEFAULTS, "student_id": student_id, "school_code": code(school_code), **kw}


def students(n: int, school_code: str = "A", prefix: str = "s", **kw: Any) -> list[dict[str, Any]]:
    """``n`` identical students ``{prefix}0 … {prefix}{n-1}`` at one school."""
    return [student(f"{prefix}{i}", school_code, **kw) for i in range(n)]


def assessment(
    student_id: str, school_code: str = "A", subject: str = "ELA", **kw: Any
) -> dict[str, Any]:
    return {
        **ASSESSMENT_DEFAULTS,
        "student_id": student_id,
        "school_code": code(school_code),
        "subject": subject,
        **kw,
    }


def graduate(
    student_id: str, school_code: str = "H", cohort: str = "2012-13", **kw: Any
) -> dict[str, Any]:
    row = {
        **GRADUATION_DEFAULTS,
        "student_id": student_id,
        "school_code": code(school_code),
        "cohort": cohort,
        **kw,
    }
    return row


def sel_row(
    student_id: str, school_code: str = "A", construct: str = "GM", score: float = 3.0
) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "school_code": code(school_code),
        "construct": construct,
        "score": score,
    }


def climate_row(
    respondent_id: str,
    school_code: str = "A",
    respondent_type: str = "STAFF",
    construct: str = "CS",
    score: float = 4.0,
) -> dict[str, Any]:
    return {
        "respondent_id": respondent_id,
        "school_code": code(school_code),
        "respondent_type": respondent_type,
        "construct": construct,
        "score": score,
    }


def frame(name: str, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A contract frame with exactly the contract's columns and ``YearData`` types."""
    rows = list(rows)
    df = (
        pd.DataFrame(rows, columns=COLUMNS[name])
        if rows
        else pd.DataFrame({c: pd.Series([], dtype="object") for c in COLUMNS[name]})
    )
    for c in COLUMNS[name]:
        t = TYPES[name].get(c)
        if t is not None:
            df[c] = df[c].astype(t)
        elif name == "graduation" and c == "grad_year":
            df[c] = (
                df[c].astype("str").where(df[c].notna(), pd.NA) if len(df) else df[c].astype("str")
            )
        else:
            df[c] = df[c].astype("str")
    return df


def make_year(
    year: str = "2015-16",
    schools: Iterable[Mapping[str, Any]] | None = None,
    students: Iterable[Mapping[str, Any]] = (),
    assessments: Iterable[Mapping[str, Any]] = (),
    graduation: Iterable[Mapping[str, Any]] = (),
    sel: Iterable[Mapping[str, Any]] = (),
    climate: Iterable[Mapping[str, Any]] = (),
) -> YearData:
    """A ``YearData`` from row dicts; ``schools`` defaults to one ES school ``"A"``."""
    return YearData(
        year=year,
        schools=frame("schools", schools if schools is not None else [school("A")]),
        students=frame("students", students),
        assessments=frame("assessments", assessments),
        graduation=frame("graduation", graduation),
        sel=frame("sel", sel),
        climate=frame("climate", climate),
    )


def value(ind: pd.DataFrame, school_label: str, group: str, indicator: str) -> pd.Series:
    """The one indicator row for (school, group, indicator); fails if there is not exactly one."""
    sel_ = ind[
        (ind["school_code"] == code(school_label))
        & (ind["student_group"] == group)
        & (ind["indicator"] == indicator)
    ]
    where = f"{school_label}/{group}/{indicator}"
    assert len(sel_) == 1, f"expected one row for {where}, got {len(sel_)}"
    return sel_.iloc[0]


# ---- a random but realistic consortium (cross-checks and the benchmark) ---------------

_GRADE_TYPE = np.array(["ES"] * 6 + ["MS"] * 3 + ["HS"] * 4, dtype=object)  # grades 0..12


def random_consortium(
    n_students: int = 3000, n_schools: int = 15, seed: int = 0, year: str = "2015-16"
) -> tuple[YearData, YearData, YearData]:
    """(this year, last year, the year before) for a random consortium, built with numpy.

    Students keep their ID, race and flags across the three years and are one and two
    grades lower in the earlier years; ~3% have a second enrolment at another school of
    their type; days absent hit exactly 10% now and then, days enrolled straddle 31.
    Every frame has the contract columns and ``YearData`` types. Not validated data: a
    fixture for comparing implementations, not a model of California.
    """
    rng = np.random.default_rng(seed)
    n_sch = max(n_schools, 3)
    types = np.array(["ES", "MS", "HS"], dtype=object)[np.arange(n_sch) % 3]
    school_codes = np.array([f"0161234{1000000 + i:07d}" for i in range(n_sch)], dtype=object)
    by_type = {t: np.flatnonzero(types == t) for t in ("ES", "MS", "HS")}
    schools_df = pd.DataFrame(
        {
            "school_code": school_codes,
            "district_code": [c[:7] for c in school_codes],
            "school_name": [f"School {i}" for i in range(n_sch)],
            "district_name": "Test Unified",
            "school_type": types,
            "title_i": rng.random(n_sch) < 0.7,
            "low_grade": np.select([types == "ES", types == "MS"], [0, 6], 9),
            "high_grade": np.select([types == "ES", types == "MS"], [5, 8], 12),
        }
    )
    for c in ("school_code", "district_code", "school_name", "district_name", "school_type"):
        schools_df[c] = schools_df[c].astype("str")

    ids = np.array([f"{i:010d}" for i in range(n_students)], dtype=object)
    grade_now = rng.integers(0, 13, n_students)
    race = rng.choice(
        np.array(["AA", "AI", "AS", "FI", "HI", "PI", "WH", "MR", "NR"], dtype=object),
        n_students,
        p=[0.08, 0.01, 0.1, 0.04, 0.5, 0.01, 0.18, 0.05, 0.03],
    )
    el_status = rng.choice(
        np.array(["EO", "IFEP", "EL", "RFEP", "TBD"], dtype=object),
        n_students,
        p=[0.55, 0.08, 0.22, 0.14, 0.01],
    )
    flags = {
        f: rng.random(n_students) < p
        for f, p in (("swd", 0.12), ("sed", 0.6), ("foster", 0.01), ("homeless", 0.03))
    }
    pick = rng.random(n_students)  # which school of the type (stable across years)
    ability = rng.normal(0, 1, n_students)
    school_effect = rng.normal(0, 15, n_sch)

    def school_for(grade: np.ndarray, u: np.ndarray) -> np.ndarray:
        t = _GRADE_TYPE[np.clip(grade, 0, 12)]
        out = np.zeros(len(grade), dtype=np.int64)
        for tt, idx in by_type.items():
            sel = t == tt
            out[sel] = idx[(u[sel] * len(idx)).astype(np.int64) % len(idx)]
        return out

    def one_year(back: int) -> YearData:
        y = years.shift(year, -back)
        grade = grade_now - back
        keep = np.flatnonzero(grade >= 0)
        g = grade[keep]
        sch = school_for(g, pick[keep])
        # ~3% also enrolled at a second school of the same type
        movers = keep[rng.random(len(keep)) < 0.03]
        g2 = grade_now[movers] - back
        sch2 = school_for(g2, (pick[movers] + 0.5) % 1.0)
        differs = sch2 != school_for(g2, pick[movers])
        movers, g2, sch2 = movers[differs], g2[differs], sch2[differs]
        rows = np.concatenate([keep, movers])
        grades = np.concatenate([g, g2])
        sidx = np.concatenate([sch, sch2])
        n = len(rows)
        enrolled = rng.integers(1, 181, n)
        edge = rng.random(n) < 0.05
        enrolled[edge] = rng.choice([30, 31], int(edge.sum()))  # the 31-day rule's edge
        absent = np.minimum(enrolled, rng.poisson(np.maximum(enrolled * 0.06, 0.1)))
        exact = rng.random(n) < 0.05
        absent[exact] = enrolled[exact] // 10  # often exactly 10% (enrolled a multiple of 10)
        enrolled[exact] = absent[exact] * 10
        enrolled = np.maximum(enrolled, 1)
        absent = np.minimum(absent, enrolled)
        el = el_status[rows] == "EL"
        students_df = pd.DataFrame(
            {
                "student_id": ids[rows],
                "school_code": school_codes[sidx],
                "grade": grades.astype(np.int64),
                "race_ethnicity": race[rows],
                "gender": rng.choice(np.array(["F", "M", "X"], dtype=object), n),
                "el_status": el_status[rows],
                "redesignated": el & (rng.random(n) < 0.12),
                **{f: flags[f][rows] for f in ("swd", "sed", "foster", "homeless")},
                "days_enrolled": enrolled.astype(np.int64),
                "days_absent": absent.astype(np.int64),
                "suspensions": rng.poisson(0.06, n).astype(np.int64),
                "expelled": rng.random(n) < 0.003,
                "promoted": rng.random(n) < 0.95,
            }
        )
        # assessments: first enrolment only ((student_id, subject) unique in a year)
        first = np.arange(len(keep))
        parts = []
        for subj, grades_tested in (
            ("ELA", (3, 4, 5, 6, 7, 8, 11)),
            ("MATH", (3, 4, 5, 6, 7, 8, 11)),
            ("SCI", (5, 8, 10, 11, 12)),
        ):
            tested = first[np.isin(grades[first], grades_tested) & (rng.random(len(first)) < 0.97)]
            score = (
                2300
                + 40 * grades[tested]
                + 60 * ability[rows[tested]]
                + school_effect[sidx[tested]]
                - 25 * flags["sed"][rows[tested]]
                + rng.normal(0, 35, len(tested))
            )
            score = np.clip(score, 2000, 3000)
            cut = 2400 + 40 * grades[tested]
            level = 1 + (score >= cut - 60) + (score >= cut) + (score >= cut + 80)
            parts.append(
                pd.DataFrame(
                    {
                        "student_id": ids[rows[tested]],
                        "school_code": school_codes[sidx[tested]],
                        "subject": subj,
                        "grade": grades[tested].astype(np.int64),
                        "scale_score": score.astype(float),
                        "performance_level": level.astype(np.int64),
                    }
                )
            )
        assessments_df = pd.concat(parts, ignore_index=True)
        # SEL: ~70% of enrolments answer 1–4 constructs
        answer = np.flatnonzero(rng.random(n) < 0.7)
        k = rng.integers(1, 5, len(answer))
        rep = np.repeat(answer, k)
        construct = np.concatenate([np.arange(kk) for kk in k])
        sel_df = pd.DataFrame(
            {
                "student_id": ids[rows[rep]],
                "school_code": school_codes[sidx[rep]],
                "construct": np.array(["GM", "SE", "SM", "SA"], dtype=object)[construct],
                "score": np.clip(np.round(rng.normal(3.5, 0.7, len(rep)), 2), 1, 5),
            }
        )
        # climate: respondents per school and type, four constructs each
        n_resp = rng.integers(5, 40, (n_sch, 3))
        resp_school = np.repeat(np.arange(n_sch * 3) // 3, n_resp.ravel())
        resp_type = np.repeat(np.tile(np.arange(3), n_sch), n_resp.ravel())
        r = np.repeat(np.arange(len(resp_school)), 4)
        climate_df = pd.DataFrame(
            {
                "respondent_id": np.array([f"R{i}" for i in r], dtype=object),
                "school_code": school_codes[resp_school[r]],
                "respondent_type": np.array(["STUDENT", "STAFF", "PARENT"], dtype=object)[
                    resp_type[r]
                ],
                "construct": np.tile(
                    np.array(["CS", "SC", "KF", "SB"], dtype=object), len(resp_school)
                ),
                "score": np.clip(np.round(rng.normal(3.7, 0.8, len(r)) * 2) / 2, 1, 5),
            }
        )
        # graduation: HS students of grade 12 now, cohorts 3, 4 and 5 years back
        hs = by_type["HS"]
        n_grad = max(n_students // 20, 10)
        cohort_back = rng.choice([3, 4, 5], n_grad, p=[0.7, 0.2, 0.1])
        outcome = rng.choice(
            np.array(["GRAD", "DROP", "CONT", "OTHER"], dtype=object),
            n_grad,
            p=[0.8, 0.1, 0.07, 0.03],
        )
        cohort_start = years.start_of(y) - cohort_back
        grad_start = cohort_start + rng.integers(3, cohort_back + 1)
        gid = ids[rng.choice(n_students, n_grad, replace=False)]
        grad_df = pd.DataFrame(
            {
                "student_id": gid,
                "school_code": school_codes[hs[rng.integers(0, len(hs), n_grad)]],
                "cohort": [years.from_start(int(s)) for s in cohort_start],
                "outcome": outcome,
                "grad_year": [
                    years.from_start(int(s)) if o == "GRAD" else None
                    for s, o in zip(grad_start, outcome, strict=True)
                ],
                "race_ethnicity": race[rng.integers(0, n_students, n_grad)],
                "el": rng.random(n_grad) < 0.2,
                "swd": rng.random(n_grad) < 0.12,
                "sed": rng.random(n_grad) < 0.6,
                "foster": rng.random(n_grad) < 0.01,
                "homeless": rng.random(n_grad) < 0.03,
            }
        )
        frames = {
            "schools": schools_df.copy(),
            "students": students_df,
            "assessments": assessments_df,
            "graduation": grad_df,
            "sel": sel_df,
            "climate": climate_df,
        }
        for name, df in frames.items():
            for c in COLUMNS[name]:
                t = TYPES[name].get(c)
                if t is not None:
                    df[c] = df[c].astype(t)
                elif name == "graduation" and c == "grad_year":
                    df[c] = pd.array(df[c].to_numpy(dtype=object), dtype="str")
                else:
                    df[c] = df[c].astype("str")
            frames[name] = df[COLUMNS[name]]
        return YearData(year=y, **frames)

    return one_year(0), one_year(1), one_year(2)


def write_delivery(root: Path | str, year_data: YearData) -> Path:
    """Write a ``YearData`` as a contract delivery: ``<root>/<year>/<file>.csv``, flags Y/N."""
    folder = Path(root) / year_data.year
    folder.mkdir(parents=True, exist_ok=True)
    for name in COLUMNS:
        df = year_data.frame(name).copy()
        for c in df.columns:
            if df[c].dtype == bool:
                df[c] = np.where(df[c].to_numpy(), "Y", "N")
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder
