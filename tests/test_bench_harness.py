"""The benchmark harness (bench/) measures what it says: every stage, wall, CPU, memory,
task runs. Small, hand-made cases; no assertion on how fast anything is."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.measure import (
    STAGES,
    Sampler,
    StageClock,
    TaskSpan,
    flow_stage_bounds,
    flow_stage_records,
    stage_of_task,
    union_seconds,
)
from bench.report import render_markdown, targets, write_between_markers

YEAR = "2014-15"


def _busy(seconds: float) -> int:
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def test_stage_clock_records_wall_cpu_and_peak_memory_per_stage() -> None:
    with Sampler(interval=0.02) as s:
        clock = StageClock(s)
        clock.start()
        time.sleep(0.1)  # waits: wall time, next to no CPU
        clock.end("sleep")
        _busy(0.2)
        clock.end("spin")
        block = bytearray(200 * 2**20)  # 200 MiB, touched so that it is resident
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(0.06)  # at least one sample while the block is held
        clock.end("allocate")
        del block
    rec = {r.stage: r for r in clock.records()}
    assert list(rec) == ["sleep", "spin", "allocate"]
    assert rec["sleep"].wall_s >= 0.1
    assert rec["sleep"].cpu_s < rec["spin"].cpu_s
    assert rec["spin"].cpu_s >= 0.15  # at least the CPU burnt (other threads add to it)
    # the 200 MiB block shows in its stage's peak and not in the first stage's
    assert rec["allocate"].peak_rss_mib >= rec["sleep"].peak_rss_mib + 150
    assert all(r.peak_tree_rss_mib >= r.peak_rss_mib for r in rec.values())


def test_union_of_task_intervals() -> None:
    # [0,2] ∪ [1,3] ∪ [5,6] ∪ [5.5,5.7] = [0,3] ∪ [5,6] → 4 seconds
    assert union_seconds([(5, 6), (0, 2), (1, 3), (5.5, 5.7)]) == pytest.approx(4.0)
    assert union_seconds([]) == 0.0


def _spans() -> list[TaskSpan]:
    """A hand-made annual cycle of two districts (the task-run names of tasks/stages.py)."""
    return [
        TaskSpan(f"start-run-{YEAR}", 9.5, 10),
        TaskSpan(f"ingest-{YEAR}", 10, 20),
        TaskSpan(f"record-inputs-{YEAR}", 20, 21),
        TaskSpan(f"prior-results-{YEAR}", 21, 23),
        TaskSpan(f"growth-{YEAR}", 23, 25),
        TaskSpan(f"index-{YEAR}-0100001", 25, 30),
        TaskSpan(f"index-{YEAR}-0100002", 25, 31),
        TaskSpan(f"educators-{YEAR}-0100001", 31, 31.5),
        TaskSpan(f"educators-{YEAR}-0100002", 31, 31.8),
        TaskSpan(f"designate-{YEAR}", 32, 33),
        TaskSpan(f"communities-{YEAR}", 33, 34),
        TaskSpan(f"store-results-{YEAR}", 34, 36),
        TaskSpan(f"reports-{YEAR}-0100001", 36, 39),
        TaskSpan(f"reports-{YEAR}-0100002", 36, 38),
        TaskSpan(f"exports-{YEAR}", 36, 37),
        TaskSpan(f"calendars-{YEAR}", 39, 40),
        TaskSpan(f"publish-{YEAR}", 40, 41),
        TaskSpan(f"finish-run-{YEAR}-SUCCEEDED", 41, 42),
    ]


def test_flow_stages_are_cut_from_task_runs_and_add_up_to_the_flow() -> None:
    bounds = flow_stage_bounds(_spans(), t_call=9.0, t_return=43.0)
    assert bounds == [
        ("ingest", 9.0, 21),  # flow-run creation counts with ingest
        ("compute_index", 21, 31),
        ("educators", 31, 32),
        ("designate", 32, 33),
        ("communities", 33, 34),
        ("store", 34, 36),
        ("reports", 36, 40),
        ("publish", 40, 43.0),  # the flow's end counts with publish
    ]
    assert sum(b - a for _, a, b in bounds) == pytest.approx(43.0 - 9.0)


def test_flow_stage_records_count_task_runs_per_stage() -> None:
    with Sampler(interval=0.05) as s:
        pass
    recs = {r.stage: r for r in flow_stage_records(s, _spans(), 9.0, 43.0)}
    assert list(recs) == list(STAGES)
    # per district: one index and one reports task run; the rest once per year
    assert {k: r.task_runs for k, r in recs.items()} == {
        "ingest": 3,
        "compute_index": 4,
        "educators": 2,
        "designate": 1,
        "communities": 1,
        "store": 1,
        "reports": 4,
        "publish": 2,
    }
    assert recs["compute_index"].task_seconds == pytest.approx(2 + 2 + 5 + 6)
    assert recs["reports"].wall_s == pytest.approx(4.0)


def test_every_task_of_the_annual_cycle_maps_to_a_stage() -> None:
    """A task renamed in tasks/stages.py must not drop out of the benchmark's stages."""
    from prefect import Task

    import tasks.stages as st

    names = {
        "year": YEAR,
        "district": "0100001",
        "term": "fall",
        "status": "SUCCEEDED",
    }
    found = [o for o in vars(st).values() if isinstance(o, Task)]
    assert len(found) >= 13
    for t in found:
        run_name = t.task_run_name.format(**names)
        assert stage_of_task(run_name) in STAGES, run_name


def test_direct_run_of_2000_students_records_every_stage(tmp_path: Path) -> None:
    """generate → ingest the prior year → run_year, as bench.run does (in one process here)."""
    from bench import steps

    data, store = tmp_path / "data", tmp_path / "store"
    g = steps.step_generate(
        {"data_root": str(data), "years": ["2013-14", YEAR], "students": 2000, "districts": 2}
    )
    assert g["rows"][f"{YEAR}/students"] > 1900 and g["schools"] >= 6
    i = steps.step_ingest({"data_root": str(data), "year": "2013-14", "store_root": str(store)})
    assert i["status"] == "ingested" and i["rows"]["students"] > 1900
    d = steps.step_direct(
        {
            "data_root": str(data),
            "year": YEAR,
            "store_root": str(store),
            "out_root": str(tmp_path / "out"),
            "db_url": f"sqlite:///{tmp_path / 'r.db'}",
            "interval": 0.02,
        }
    )
    assert [r["stage"] for r in d["stages"]] == list(STAGES)
    for r in d["stages"]:
        assert r["wall_s"] >= 0 and r["cpu_s"] >= 0 and r["peak_rss_mib"] > 0
    assert sum(r["wall_s"] for r in d["stages"]) <= d["wall_s"] + 0.01  # contiguous slices
    assert d["max_rss_mib"] >= max(r["peak_rss_mib"] for r in d["stages"]) - 1
    assert d["counts"]["schools"] == g["schools"]
    assert d["files"] > g["schools"]  # a report per school, and the exports


def _fake_results(flow_1m: float, index_1m: float, duck_1m: float) -> dict:
    def flow(wall: float, index: float, districts: int) -> dict:
        return {
            "wall_s": wall,
            "cpu_s": wall,
            "max_rss_mib": 1000.0,
            "peak_tree_rss_mib": 1200.0,
            "task_runs": 2 * districts + 11,
            "outside_tasks_s": 1.0,
            "task_seconds_sum": wall,
            "prefect_startup_s": 5.0,
            "stages": [
                {
                    "stage": "compute_index",
                    "wall_s": index,
                    "cpu_s": index,
                    "peak_rss_mib": 900.0,
                    "task_runs": districts + 3,
                    "task_seconds": index,
                },
                {
                    "stage": "reports",
                    "wall_s": 1.0,
                    "cpu_s": 1.0,
                    "peak_rss_mib": 900.0,
                    "task_runs": districts + 2,
                    "task_seconds": 1.0,
                },
            ],
        }

    return {
        "started": "2026-11-23T15:30:00+00:00",
        "finished": None,
        "commit": "abc (dirty)",
        "command": "python -m bench.run",
        "machine": {"nproc": 2, "libraries": {"pandas": "3"}},
        "years": ["2013-14", YEAR],
        "db": "sqlite",
        "format": "csv",
        "sizes": {
            "100000": {
                "students": 100000,
                "districts": 8,
                "flow": flow(20.0, 4.0, 8),
                "duckdb": {"wall_s": 1.0, "max_rss_mib": 10.0},
            },
            "1000000": {
                "students": 1000000,
                "districts": 40,
                "flow": flow(flow_1m, index_1m, 40),
                "duckdb": {"wall_s": duck_1m, "max_rss_mib": 10.0},
                "direct": {"wall_s": flow_1m * 0.95, "max_rss_mib": 900.0},
            },
        },
    }


def test_targets_are_judged_from_the_numbers() -> None:
    res = _fake_results(flow_1m=140.0, index_1m=25.0, duck_1m=10.0)
    by_text = {t["target"]: t["verdict"] for t in targets(res)}
    whole = next(v for k, v in by_text.items() if "15 ×" in k)
    index = next(v for k, v in by_text.items() if "2 × DuckDB" in k)
    overhead = next(v for k, v in by_text.items() if "Prefect overhead" in k)
    runs = next(v for k, v in by_text.items() if "Task runs" in k)
    assert whole == "holds"  # 140 ≤ 15 × 10
    assert index == "**does not hold**"  # 25 > 2 × 10
    assert overhead == "holds"  # 5 % < 10 %
    assert runs == "holds"  # 8 → 16 + 11, 40 → 80 + 11
    # one task run per school somewhere: the extra runs break the fixed part
    res["sizes"]["1000000"]["flow"]["task_runs"] += 1500
    by_text = {t["target"]: t["verdict"] for t in targets(res)}
    assert next(v for k, v in by_text.items() if "Task runs" in k) == "**does not hold**"
    res = _fake_results(flow_1m=160.0, index_1m=20.0, duck_1m=10.0)
    by_text = {t["target"]: t["verdict"] for t in targets(res)}
    assert next(v for k, v in by_text.items() if "15 ×" in k) == "**does not hold**"
    assert next(v for k, v in by_text.items() if "2 × DuckDB" in k) == "holds"


def test_markdown_goes_between_the_markers_and_keeps_the_prose(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        "# Benchmarks\n\nprose before\n\n<!-- bench:begin -->\nold numbers\n"
        "<!-- bench:end -->\n\nprose after\n",
        encoding="utf-8",
    )
    write_between_markers(doc, render_markdown(_fake_results(140.0, 25.0, 10.0)))
    text = doc.read_text(encoding="utf-8")
    assert "old numbers" not in text
    assert text.startswith("# Benchmarks\n\nprose before\n")
    assert text.rstrip().endswith("prose after")
    inside = text.split("<!-- bench:begin -->")[1].split("<!-- bench:end -->")[0]
    assert "| 100,000 | 1,000,000 |" in inside
    assert "abc (dirty)" in inside
    assert "140.0" in inside  # the 1M flow's wall time, from the results


def test_school_subsets_of_the_indicators_equal_the_whole_consortium() -> None:
    """The optimisation the benchmark led to (``sqis.indicators.at_schools``: a district's
    call reads only its schools' rows) changes no number: every subset of schools, MS_PERSIST
    (grade 10 anywhere) included, gives exactly the consortium's rows for those schools."""
    import pandas as pd

    from sqis.growth import fit_growth, growth_indicators
    from sqis.indicators import compute_indicators, rows_at_schools
    from sqis.methodology import for_year
    from tests.builders import random_consortium

    cur, prior, prior2 = random_consortium(2500, 12, seed=5)
    m = for_year(cur.year)
    g = growth_indicators(fit_growth(cur, prior, m), cur.schools, m)
    whole = compute_indicators(cur, prior, prior2, m, growth=g)
    assert "MS_PERSIST" in set(whole["indicator"])
    codes = sorted(cur.schools["school_code"])
    subsets = [codes[:1], codes[1:5], codes[5:], codes[::3], []]
    parts = [compute_indicators(cur, prior, prior2, m, growth=g, schools=s) for s in subsets[:3]]
    split = pd.concat(parts, ignore_index=True)
    key = ["school_code", "student_group", "indicator"]
    pd.testing.assert_frame_equal(
        split.sort_values(key).reset_index(drop=True),
        whole.sort_values(key).reset_index(drop=True),
    )
    every_third = compute_indicators(cur, prior, prior2, m, growth=g, schools=subsets[3])
    expected = whole[whole["school_code"].isin(subsets[3])].reset_index(drop=True)
    pd.testing.assert_frame_equal(every_third.reset_index(drop=True), expected)
    assert compute_indicators(cur, prior, prior2, m, growth=g, schools=[]).empty
    # the row positions themselves: ascending, exactly the rows at those schools
    pos = rows_at_schools(cur.students, codes[1:5])
    assert (pos == sorted(pos)).all()
    expect = cur.students.index[cur.students["school_code"].isin(codes[1:5])].to_numpy()
    assert (pos == expect).all()
    assert len(rows_at_schools(cur.students, ["99999999999999"])) == 0


def test_school_indicator_levels_agree_with_a_plain_pandas_reading_of_step_1() -> None:
    """``sqis.index.school_indicator_levels`` was rewritten on integer keys for speed (the
    bench's per-district overhead); a direct pandas reading of METHODOLOGY.md "SQII" step 1
    on a random consortium (integer levels: many ties) must give the same rows."""
    import numpy as np
    import pandas as pd

    from sqis import codes
    from sqis.index import school_indicator_levels
    from sqis.indicators import compute_indicators
    from sqis.levels import assign_levels
    from sqis.methodology import for_year
    from tests.builders import random_consortium

    cur, prior, prior2 = random_consortium(3000, 12, seed=9)
    m = for_year(cur.year)
    lv = assign_levels(compute_indicators(cur, prior, prior2, m), cur.schools, m)
    got = school_indicator_levels(lv, cur.schools, m)

    x = lv[lv["level"].notna()].astype({"level": float})
    keys = ["school_code", "indicator"]
    all_ = x[x["student_group"] == "ALL"].set_index(keys)["level"]
    races = [g for g in m.student_groups if g in codes.RACE_GROUPS]
    r = x[x["student_group"].isin(races)].copy()
    r["order"] = r["student_group"].map(races.index)
    low = r.sort_values([*keys, "level", "order"]).drop_duplicates(keys).set_index(keys)
    subs = []
    for g in m.school_level.subgroups:
        if g == "LOWEST_RACE":
            subs.append(low["level"])
        else:
            subs.append(x[x["student_group"] == g].set_index(keys)["level"])
    sub = pd.concat(subs).groupby(level=[0, 1]).agg(["size", "mean"])
    w = m.school_level.all_weight
    assert len(got) > 100
    for row in got.itertuples():
        k = (row.school_code, row.indicator)
        assert row.all_level == all_[k]
        n, mean = (sub.loc[k, "size"], sub.loc[k, "mean"]) if k in sub.index else (0, np.nan)
        assert row.subgroup_count == n
        expect = w * all_[k] + (1 - w) * mean if n else all_[k]
        assert row.school_level == pytest.approx(expect)
        if k in low.index:
            assert row.lowest_race_group == low.loc[k, "student_group"]
            assert row.lowest_race_level == low.loc[k, "level"]
        else:
            assert pd.isna(row.lowest_race_group)
    # every (school, indicator) with an ALL level and applying to the school's type is there
    types = cur.schools.set_index("school_code")["school_type"]
    applies = [k for k in all_.index if types[k[0]] in m.indicators[k[1]].school_types]
    assert sorted(applies) == sorted(zip(got["school_code"], got["indicator"], strict=True))
