"""An independent SQL implementation (DuckDB) of the indicators agrees with the pandas code.

Every (school, group) row of ELA_MET, MATH_MET, SCI_MET, GRAD4, GRAD5, GRAD6, CHRONIC,
SUSP, EL_RFEP, SEL, CLIMATE_STUDENT, CLIMATE_STAFF, CLIMATE_PARENT and SPED_DISPROP is
compared on a random consortium of a few thousand students: same rows, same numerator,
same denominator, same value. The SQL is written from METHODOLOGY.md, not from the
pandas code (integer and decimal arithmetic, joins and GROUP BY where pandas uses bit
masks and bincount). ``duckdb_indicators`` is reused by bench/indicators_bench.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis import codes, years
from sqis.indicators import compute_indicators
from sqis.methodology import Methodology, for_year
from sqis.yeardata import YearData
from tests.builders import random_consortium

duckdb = pytest.importorskip("duckdb")  # a dev dependency: always installed with `.[dev]`

CROSSCHECKED = (
    "ELA_MET",
    "MATH_MET",
    "SCI_MET",
    "GRAD4",
    "GRAD5",
    "GRAD6",
    "CHRONIC",
    "SUSP",
    "EL_RFEP",
    "SEL",
    "CLIMATE_STUDENT",
    "CLIMATE_STAFF",
    "CLIMATE_PARENT",
    "SPED_DISPROP",
)


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _groups_sql(table: str, el_expr: str, m: Methodology) -> str:
    """UNION ALL of every (row, group) membership of ``table`` (which has a ``rid``)."""
    flag_of = {"SWD": "swd", "SED": "sed", "FOS": "foster", "HOM": "homeless"}
    parts = []
    for g in m.student_groups:
        if g == "ALL":
            cond = "TRUE"
        elif g in codes.RACE_GROUPS:
            cond = f"race_ethnicity = '{g}'"
        elif g == "EL":
            cond = el_expr
        else:
            cond = flag_of[g]
        parts.append(f"SELECT rid, '{g}' AS grp FROM {table} WHERE {cond}")
    return "\nUNION ALL\n".join(parts)


def duckdb_indicators(y: YearData, m: Methodology, con=None) -> pd.DataFrame:
    """The cross-checked indicators in SQL, as an indicators frame."""
    con = con or duckdb.connect()
    con.register("schools", y.schools)
    con.register("students_raw", y.students)
    con.register("assessments", y.assessments)
    con.register("graduation_raw", y.graduation)
    con.register("sel", y.sel)
    con.register("climate", y.climate)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE students AS "
        "SELECT row_number() OVER () AS rid, * FROM students_raw"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE graduation AS "
        "SELECT row_number() OVER () AS rid, * FROM graduation_raw"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sg AS " + _groups_sql("students", "el_status = 'EL'", m)
    )
    con.execute("CREATE OR REPLACE TEMP TABLE gg AS " + _groups_sql("graduation", "el", m))
    r = m.rules

    def types(ind: str) -> str:
        return _in(m.indicators[ind].school_types)

    def groups(ind: str) -> str:
        return _in(m.indicators[ind].groups or m.student_groups)

    selects = []
    for subj, ind in (("ELA", "ELA_MET"), ("MATH", "MATH_MET"), ("SCI", "SCI_MET")):
        selects.append(f"""
            SELECT a.school_code, g.grp, '{ind}' AS indicator,
                   SUM(CASE WHEN a.performance_level >= {r.met_min_performance_level}
                       THEN 1 ELSE 0 END) AS num, COUNT(*) AS den,
                   100.0 * SUM(CASE WHEN a.performance_level >= {r.met_min_performance_level}
                       THEN 1 ELSE 0 END) / COUNT(*) AS value
            FROM assessments a
            JOIN students s ON s.student_id = a.student_id AND s.school_code = a.school_code
            JOIN sg g ON g.rid = s.rid
            JOIN schools k ON k.school_code = a.school_code
            WHERE a.subject = '{subj}' AND k.school_type IN {types(ind)}
              AND g.grp IN {groups(ind)}
            GROUP BY 1, 2""")
    this_year = years.start_of(y.year)
    for ind, offset in r.grad_cohort_offsets.items():
        cohort = years.shift(y.year, -offset)
        selects.append(f"""
            SELECT d.school_code, g.grp, '{ind}',
                   SUM(CASE WHEN d.outcome = 'GRAD'
                        AND CAST(substr(d.grad_year, 1, 4) AS INTEGER) <= {this_year}
                       THEN 1 ELSE 0 END), COUNT(*),
                   100.0 * SUM(CASE WHEN d.outcome = 'GRAD'
                        AND CAST(substr(d.grad_year, 1, 4) AS INTEGER) <= {this_year}
                       THEN 1 ELSE 0 END) / COUNT(*)
            FROM graduation d JOIN gg g ON g.rid = d.rid
            JOIN schools k ON k.school_code = d.school_code
            WHERE d.cohort = '{cohort}' AND k.school_type IN {types(ind)}
              AND g.grp IN {groups(ind)}
            GROUP BY 1, 2""")
    share = f"CAST('{r.chronic_absent_share}' AS DECIMAL(18, 6))"
    per_student = {
        "CHRONIC": (
            f"s.days_enrolled >= {r.chronic_min_days_enrolled}",
            f"CAST(s.days_absent AS DECIMAL(18, 6)) >= {share} * s.days_enrolled",
        ),
        "SUSP": ("TRUE", "s.suspensions > 0 OR s.expelled"),
        "EL_RFEP": ("s.el_status = 'EL'", "s.redesignated"),
    }
    for ind, (den, num) in per_student.items():
        selects.append(f"""
            SELECT s.school_code, g.grp, '{ind}',
                   SUM(CASE WHEN {num} THEN 1 ELSE 0 END), COUNT(*),
                   100.0 * SUM(CASE WHEN {num} THEN 1 ELSE 0 END) / COUNT(*)
            FROM students s JOIN sg g ON g.rid = s.rid
            JOIN schools k ON k.school_code = s.school_code
            WHERE {den} AND k.school_type IN {types(ind)} AND g.grp IN {groups(ind)}
            GROUP BY 1, 2""")
    selects.append(f"""
        SELECT p.school_code, g.grp, 'SEL', NULL, COUNT(*), AVG(p.mean_score)
        FROM (SELECT student_id, school_code, AVG(score) AS mean_score
              FROM sel GROUP BY 1, 2) p
        JOIN students s ON s.student_id = p.student_id AND s.school_code = p.school_code
        JOIN sg g ON g.rid = s.rid
        JOIN schools k ON k.school_code = p.school_code
        WHERE k.school_type IN {types("SEL")} AND g.grp IN {groups("SEL")}
        GROUP BY 1, 2""")
    for rtype in codes.RESPONDENT_TYPES:
        ind = f"CLIMATE_{rtype}"
        fav = r.climate_favourable_score
        selects.append(f"""
            SELECT c.school_code, 'ALL', '{ind}',
                   SUM(CASE WHEN c.score >= {fav} THEN 1 ELSE 0 END), COUNT(*),
                   100.0 * SUM(CASE WHEN c.score >= {fav} THEN 1 ELSE 0 END) / COUNT(*)
            FROM climate c JOIN schools k ON k.school_code = c.school_code
            WHERE c.respondent_type = '{rtype}' AND k.school_type IN {types(ind)}
            GROUP BY 1, 2""")
    body = "\nUNION ALL\n".join(selects)
    out = con.execute(f"SELECT * FROM ({body}) ORDER BY 1, 2, 3").df()
    out.columns = ["school_code", "student_group", "indicator", "numerator", "denominator", "value"]
    disp = con.execute(f"""
        WITH tot AS (
            SELECT school_code, COUNT(*) AS n, SUM(CASE WHEN swd THEN 1 ELSE 0 END) AS n_swd
            FROM students GROUP BY 1),
        grp AS (
            SELECT s.school_code, g.grp, COUNT(*) AS n,
                   SUM(CASE WHEN s.swd THEN 1 ELSE 0 END) AS n_swd
            FROM students s JOIN sg g ON g.rid = s.rid
            JOIN schools k ON k.school_code = s.school_code
            WHERE k.school_type IN {types("SPED_DISPROP")}
              AND g.grp IN {groups("SPED_DISPROP")} AND g.grp <> 'ALL'
            GROUP BY 1, 2),
        ratio AS (
            SELECT grp.school_code, grp.grp, grp.n_swd, grp.n,
                   CASE WHEN tot.n - grp.n > 0 AND tot.n_swd - grp.n_swd > 0
                        THEN (grp.n_swd * 1.0 / grp.n)
                             / ((tot.n_swd - grp.n_swd) * 1.0 / (tot.n - grp.n))
                   END AS ratio
            FROM grp JOIN tot USING (school_code))
        SELECT school_code, grp, 'SPED_DISPROP', n_swd, n, ratio FROM ratio
        UNION ALL
        SELECT tot.school_code, 'ALL', 'SPED_DISPROP', NULL, tot.n,
               (SELECT MAX(ratio) FROM ratio r WHERE r.school_code = tot.school_code
                  AND r.grp IN {_in(codes.RACE_GROUPS)} AND r.n >= {m.n_size})
        FROM tot JOIN schools k ON k.school_code = tot.school_code
        WHERE k.school_type IN {types("SPED_DISPROP")}""").df()
    disp.columns = out.columns
    return pd.concat([out, disp], ignore_index=True)


def duckdb_levels_and_index(
    ind: pd.DataFrame,
    schools: pd.DataFrame,
    m: Methodology,
    con=None,
    climate: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Levels (METHODOLOGY "Index levels") and the SQII (steps 1–3) in SQL, from an
    indicators frame: (levels: school_code, student_group, indicator, level;
    index: school_code, sqii). The n-size is the denominator, except for the climate
    indicators under ``rules.climate_nsize_counts: respondents``: COUNT(DISTINCT
    respondent_id) of ``climate`` (the year's survey rows) per school and type."""
    con = con or duckdb.connect()
    n_join, n_expr = "", "i.denominator"
    if m.rules.climate_nsize_counts == "respondents":
        if climate is None:
            raise ValueError("the climate n-size by respondents needs the climate frame")
        con.register("climate_r", climate[["school_code", "respondent_type", "respondent_id"]])
        n_join = """
        LEFT JOIN (SELECT school_code, 'CLIMATE_' || respondent_type AS indicator,
                          COUNT(DISTINCT respondent_id) AS n
                   FROM climate_r GROUP BY 1, 2) r
          ON r.school_code = i.school_code AND r.indicator = i.indicator"""
        n_expr = "COALESCE(r.n, i.denominator)"
    cuts = pd.DataFrame(
        [
            (code, st, spec.direction, float(c))
            for code, spec in m.indicators.items()
            for st in spec.school_types
            for c in m.cuts(code, st)
        ],
        columns=["indicator", "school_type", "direction", "cut"],
    )
    meta = pd.DataFrame(
        [(code, spec.domain) for code, spec in m.indicators.items()],
        columns=["indicator", "domain"],
    )
    weights = pd.DataFrame(
        [(d.name, d.weight, pool) for d in m.domains for pool in d.pools],
        columns=["name", "weight", "domain"],
    )
    con.register("ind", ind[["school_code", "student_group", "indicator", "denominator", "value"]])
    con.register("schools_l", schools)
    con.register("cuts", cuts)
    con.register("meta", meta)
    con.register("weights", weights)
    w = m.school_level.all_weight
    others = [g for g in m.school_level.subgroups if g != "LOWEST_RACE"]
    lowest = "LOWEST_RACE" in m.school_level.subgroups
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lv AS
        SELECT i.school_code, i.student_group, i.indicator,
               1 + SUM(CASE WHEN (c.direction = 'higher' AND i.value >= c.cut)
                             OR (c.direction = 'lower' AND i.value <= c.cut)
                        THEN 1 ELSE 0 END) AS level
        FROM ind i JOIN schools_l s ON s.school_code = i.school_code
        JOIN cuts c ON c.indicator = i.indicator AND c.school_type = s.school_type{n_join}
        WHERE {n_expr} >= {m.n_size} AND i.value IS NOT NULL AND NOT isnan(i.value)
        GROUP BY 1, 2, 3""")
    levels = con.execute("SELECT * FROM lv").df()
    sub_parts = (
        [f"SELECT school_code, indicator, level FROM lv WHERE student_group IN {_in(others)}"]
        if others
        else []
    )
    if lowest:
        sub_parts.append(
            f"SELECT school_code, indicator, MIN(level) FROM lv WHERE "
            f"student_group IN {_in(codes.RACE_GROUPS)} GROUP BY 1, 2"
        )
    sub = " UNION ALL ".join(sub_parts) or "SELECT NULL, NULL, NULL WHERE FALSE"
    index = con.execute(f"""
        WITH sub AS ({sub}),
        subm AS (SELECT school_code, indicator, AVG(level) AS m, COUNT(*) AS n
                 FROM sub GROUP BY 1, 2),
        sil AS (
            SELECT a.school_code, a.indicator,
                   CASE WHEN subm.n > 0 THEN {w} * a.level + (1 - {w}) * subm.m
                        ELSE a.level END AS sl
            FROM lv a LEFT JOIN subm
              ON subm.school_code = a.school_code AND subm.indicator = a.indicator
            WHERE a.student_group = 'ALL'),
        pooled AS (
            SELECT sil.school_code, w.name, MAX(w.weight) AS weight, AVG(sil.sl) AS score
            FROM sil JOIN meta USING (indicator) JOIN weights w ON w.domain = meta.domain
            GROUP BY 1, 2)
        SELECT school_code, 10.0 * SUM(weight * score) / SUM(weight) AS sqii
        FROM pooled GROUP BY 1""").df()
    return levels, index


@pytest.mark.parametrize("seed", [1, 2])
def test_duckdb_agrees_with_pandas(seed: int) -> None:
    cur, prior, prior2 = random_consortium(n_students=4000, n_schools=18, seed=seed)
    m = for_year(cur.year)
    pandas_rows = compute_indicators(cur, prior, prior2, m)
    pandas_rows = pandas_rows[pandas_rows["indicator"].isin(CROSSCHECKED)]
    sql_rows = duckdb_indicators(cur, m)
    keys = ["school_code", "student_group", "indicator"]
    both = pandas_rows.merge(
        sql_rows, on=keys, how="outer", suffixes=("_pd", "_sql"), indicator=True
    )
    only = both[both["_merge"] != "both"]
    assert only.empty, f"rows in one implementation only:\n{only[keys + ['_merge']].head(20)}"
    assert set(both["indicator"]) == set(CROSSCHECKED)
    np.testing.assert_array_equal(
        both["denominator_pd"].to_numpy(dtype=np.int64),
        both["denominator_sql"].to_numpy(dtype=np.int64),
    )
    num_pd = both["numerator_pd"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    num_sql = both["numerator_sql"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(num_pd, num_sql)
    np.testing.assert_allclose(
        both["value_pd"].to_numpy(dtype=float),
        both["value_sql"].to_numpy(dtype=float, na_value=np.nan),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
    )
    # the data exercises the edges the rules care about
    assert ((cur.students["days_enrolled"] == 30) | (cur.students["days_enrolled"] == 31)).any()
    exact = cur.students["days_absent"] * 10 == cur.students["days_enrolled"]
    assert (exact & (cur.students["days_enrolled"] >= 31)).any()
    assert cur.students.duplicated("student_id").any()  # students at two schools


def test_duckdb_levels_and_index_agree_with_pandas() -> None:
    from sqis.index import compute_index
    from sqis.levels import assign_levels

    cur, prior, prior2 = random_consortium(n_students=4000, n_schools=18, seed=5)
    m = for_year(cur.year)
    ind = compute_indicators(cur, prior, prior2, m)
    lv = assign_levels(ind, cur.schools, m)
    idx = compute_index(lv, cur.schools, m, None)
    sql_levels, sql_index = duckdb_levels_and_index(ind, cur.schools, m, climate=cur.climate)
    keys = ["school_code", "student_group", "indicator"]
    got = lv[lv["level"].notna()][keys + ["level"]].merge(
        sql_levels, on=keys, how="outer", suffixes=("_pd", "_sql"), indicator=True
    )
    assert (got["_merge"] == "both").all(), got[got["_merge"] != "both"].head()
    np.testing.assert_array_equal(
        got["level_pd"].to_numpy(dtype=np.int64), got["level_sql"].to_numpy(dtype=np.int64)
    )
    assert got["level_pd"].nunique() >= 5  # the data spreads over the levels
    both = idx.merge(sql_index, on="school_code", how="left", suffixes=("_pd", "_sql"))
    np.testing.assert_allclose(
        both["sqii_pd"].to_numpy(dtype=float),
        both["sqii_sql"].to_numpy(dtype=float),
        rtol=1e-12,
        equal_nan=True,
    )
    assert both["sqii_pd"].notna().all()


def test_duckdb_agrees_on_the_synthetic_generator(tmp_path) -> None:
    """The same cross-check on the project's generator (``sqis generate``), validated."""
    from sqis.synthetic.writer import generate
    from sqis.validation import validate_delivery

    generate(tmp_path, ["2015-16"], n_students=800, n_districts=1, seed=11)
    report = validate_delivery(str(tmp_path), "2015-16")
    assert report.ok, report.errors.head()
    cur = YearData(
        year="2015-16", **{k: v.reset_index(drop=True) for k, v in report.frames.items()}
    )
    m = for_year(cur.year)
    pandas_rows = compute_indicators(cur, None, None, m)
    pandas_rows = pandas_rows[pandas_rows["indicator"].isin(CROSSCHECKED)]
    sql_rows = duckdb_indicators(cur, m)
    keys = ["school_code", "student_group", "indicator"]
    both = pandas_rows.merge(
        sql_rows, on=keys, how="outer", suffixes=("_pd", "_sql"), indicator=True
    )
    assert (both["_merge"] == "both").all()
    assert len(both) > 100
    np.testing.assert_array_equal(
        both["denominator_pd"].to_numpy(dtype=np.int64),
        both["denominator_sql"].to_numpy(dtype=np.int64),
    )
    np.testing.assert_allclose(
        both["value_pd"].to_numpy(dtype=float),
        both["value_sql"].to_numpy(dtype=float, na_value=np.nan),
        rtol=1e-9,
        atol=1e-12,
        equal_nan=True,
    )
