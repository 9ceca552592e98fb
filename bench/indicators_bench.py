"""Benchmark: indicators + levels + index on a large year, pandas against DuckDB.

    .venv/bin/python bench/indicators_bench.py [--students 1000000] [--schools 1500]

Builds a random consortium (``tests.builders.random_consortium``: three years, the
contract's columns and types), then times

- pandas, the production path: ``compute_indicators`` (every indicator, growth fitted
  consortium-wide) + ``assign_levels`` + ``compute_index``;
- pandas on exactly the indicators the DuckDB SQL computes (no growth, no MS_PERSIST);
- DuckDB: ``tests.test_duckdb_crosscheck.duckdb_indicators`` over the same frames
  (registration, group tables and every query), the independent SQL implementation.

Target (issue 4): pandas ≤ 2× DuckDB on the same indicators. Not part of the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from sqis.growth import fit_growth, growth_indicators  # noqa: E402
from sqis.index import compute_index  # noqa: E402
from sqis.indicators import compute_indicators, empty_indicators  # noqa: E402
from sqis.levels import assign_levels  # noqa: E402
from sqis.methodology import for_year  # noqa: E402
from tests.builders import random_consortium  # noqa: E402
from tests.test_duckdb_crosscheck import (  # noqa: E402
    CROSSCHECKED,
    duckdb_indicators,
    duckdb_levels_and_index,
)


def timed(label: str, fn, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<52} {best:8.2f} s")
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--schools", type=int, default=1500)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (2 cores here)")
    a = ap.parse_args()

    (cur, prior, prior2), _ = timed(
        f"generate {a.students:,} students, {a.schools} schools",
        lambda: random_consortium(a.students, a.schools, seed=7),
    )
    m = for_year(cur.year)
    print(
        f"rows: students {len(cur.students):,}, assessments {len(cur.assessments):,}, "
        f"sel {len(cur.sel):,}, climate {len(cur.climate):,}, "
        f"graduation {len(cur.graduation):,}"
    )

    residuals, t_fit = timed(
        "pandas: fit_growth (consortium lstsq)", lambda: fit_growth(cur, prior, m), a.repeat
    )
    growth, t_gi = timed(
        "pandas: growth_indicators (percentiles)",
        lambda: growth_indicators(residuals, cur.schools, m),
        a.repeat,
    )
    ind, t_ind = timed(
        "pandas: compute_indicators (all, growth given)",
        lambda: compute_indicators(cur, prior, prior2, m, growth=growth),
        a.repeat,
    )
    lv, t_lv = timed("pandas: assign_levels", lambda: assign_levels(ind, cur.schools, m), a.repeat)
    _, t_ix = timed(
        "pandas: compute_index", lambda: compute_index(lv, cur.schools, m, None), a.repeat
    )
    total = t_fit + t_gi + t_ind + t_lv + t_ix
    print(f"{'pandas: production path total':<52} {total:8.2f} s  ({len(ind):,} indicator rows)")

    same, t_same = timed(
        "pandas: the DuckDB indicator set only",
        lambda: compute_indicators(cur, None, None, m, growth=empty_indicators()),
        a.repeat,
    )
    assert set(same["indicator"]) == set(CROSSCHECKED)

    def pandas_same():
        ind_ = compute_indicators(cur, None, None, m, growth=empty_indicators())
        lv_ = assign_levels(ind_, cur.schools, m)
        return ind_, compute_index(lv_, cur.schools, m, None)

    def run_duckdb():
        con = duckdb.connect()
        con.execute(f"SET threads = {a.threads}")
        ind_ = duckdb_indicators(cur, m, con)
        return ind_, duckdb_levels_and_index(ind_, cur.schools, m, con, climate=cur.climate)

    def duckdb_ind_only():
        con = duckdb.connect()
        con.execute(f"SET threads = {a.threads}")
        return duckdb_indicators(cur, m, con)

    _, t_sql_ind = timed(
        f"duckdb ({a.threads} threads): same indicator set", duckdb_ind_only, a.repeat
    )
    (p_ind, _), t_pl = timed("pandas: same set + levels + index", pandas_same, a.repeat)
    (sql, _), t_sql = timed(
        f"duckdb ({a.threads} threads): same set + levels + index", run_duckdb, a.repeat
    )
    assert len(sql) == len(p_ind), (len(sql), len(p_ind))
    print(
        f"ratio pandas / duckdb, indicators only: {t_same / t_sql:.2f}; "
        f"with levels and index: {t_pl / t_sql:.2f} (target ≤ 2)"
    )


if __name__ == "__main__":
    main()
