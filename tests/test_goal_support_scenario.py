"""Five generated years through ``sqis.pipeline.run_cycle`` on SQLite and PostgreSQL: support
partners for schools missing their goal, the Reward pool (this year's REWARD under
core-2013.1, this and last year's under core-2015.1, from 2015-16), last year's pairs
kept, ``NO_ELIGIBLE_PARTNER``, the exports, the reports and the Oversight report; and a
core-2013.1 year re-run gives the same bytes.

Each rule is checked against the stored results by an independent restatement (plain
pandas over the stored rows), not by calling the code under test.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from schemas.outputs import check_output
from sqis import codes, oversight, pipeline, years
from sqis.methodology import for_year
from sqis.store import ResultsStore
from tests.legacy_reference import YEARS, make_root

CHANGED_FROM = 2  # YEARS[2] = 2015-16: core-2015.1 (the Reward pool of this and last year)
SUPPORT_MIN, SUPPORT_MAX = 8, 2  # goal_support.min_level, max_supported (both files)
PARTNER_MIN = 7  # partners.min_level
SUBGROUPS = ("EL", "SWD", "SED")  # besides the lowest race group (school_level.subgroups)


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sqis-goal-support-") as d:
        yield make_root(Path(d) / "data", n_students=6000, n_districts=2, seed=23)


def school_levels(ind: pd.DataFrame, schools: pd.DataFrame, year: str) -> pd.DataFrame:
    """SQII step 1 restated: ½ ALL + ½ mean(lowest race group, EL, SWD, SED) over those with
    a level; ALL alone where none has; indicators that apply to the school's type."""
    m = for_year(year)
    i = ind[(ind["year"] == year) & ind["level"].notna()].copy()
    i["level"] = i["level"].astype(float)
    key = ["school_code", "indicator"]
    all_ = i[i["student_group"] == "ALL"].set_index(key)["level"].rename("all")
    race = i[i["student_group"].isin(codes.RACE_GROUPS)].groupby(key)["level"].min()
    subs = [race] + [
        i[i["student_group"] == g].set_index(key)["level"].rename(g) for g in SUBGROUPS
    ]
    sub = pd.concat(subs, axis=1)
    f = pd.concat([all_, sub.mean(axis=1).rename("sub")], axis=1).loc[all_.index]
    f["level"] = f["all"].where(f["sub"].isna(), 0.5 * f["all"] + 0.5 * f["sub"])
    f = f.reset_index()
    st = f["school_code"].map(schools.set_index("school_code")["school_type"])
    applies = [
        t in m.indicators[ind_].school_types for ind_, t in zip(f["indicator"], st, strict=True)
    ]
    return f[applies]


def met(index: pd.DataFrame) -> dict[str, bool | None]:
    """meets_goal per school: True, False or None (no goal)."""
    g = index.set_index("school_code")["meets_goal"]
    return {str(c): None if pd.isna(v) else bool(v) for c, v in g.items()}


def check_goal_support(store: ResultsStore, out: Path) -> dict[str, int]:
    gs_all, idx_all = store.read("goal_support"), store.read("index_scores")
    des_all, ind, sch_all = (
        store.read("designations"),
        store.read("indicators"),
        store.read("schools"),
    )
    seen = {"pairs": 0, "unmatched": 0}
    for year in YEARS:
        gs = gs_all[gs_all["year"] == year].set_index("school_code")
        d = des_all[des_all["year"] == year].set_index("school_code")["designation"]
        goal = met(idx_all[idx_all["year"] == year])
        sch = sch_all[sch_all["year"] == year]
        stype = sch.set_index("school_code")["school_type"]
        expected = sorted(
            c for c, v in goal.items() if v is False and d[c] not in ("PRIORITY", "FOCUS")
        )
        assert sorted(gs.index) == expected, year
        lv = school_levels(ind, sch, year).set_index(["school_code", "indicator"])["level"]
        # the weakest indicator: the lowest school indicator level, ties by indicator code
        for code, row in gs.iterrows():
            own = lv.xs(code, level="school_code").reset_index()
            own = own.sort_values(["level", "indicator"])
            assert row["weakest_indicator"] == own["indicator"].iloc[0], (year, code)
        # each pair: same type, the supporter met its goal and is at 8+ on the weakest
        paired = gs[gs["support_school_code"].notna()]
        for code, row in paired.iterrows():
            sup = row["support_school_code"]
            assert stype[sup] == stype[code] and goal[sup] is True, (year, code)
            assert lv[(sup, row["weakest_indicator"])] >= SUPPORT_MIN, (year, code)
        load = paired["support_school_code"].value_counts()
        assert (load <= SUPPORT_MAX).all(), year
        # as many paired as possible: no unmatched school has an eligible supporter with a
        # free place (else the assignment would not be maximal)
        supporters = [c for c, v in goal.items() if v is True]
        for code, row in gs[gs["support_school_code"].isna()].iterrows():
            for sup in supporters:
                ok = (
                    stype[sup] == stype[code]
                    and (sup, row["weakest_indicator"]) in lv.index
                    and lv[(sup, row["weakest_indicator"])] >= SUPPORT_MIN
                )
                assert not (ok and load.get(sup, 0) < SUPPORT_MAX), (year, code, sup)
        seen["pairs"] += len(paired)
        seen["unmatched"] += len(gs) - len(paired)
        # goal_support.csv: the contract's model and exactly the stored rows
        data = (out / year / "goal_support.csv").read_bytes()
        assert check_output("goal_support", data).empty
        csv = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        assert csv["school_code"].tolist() == expected
        stored = gs["support_school_code"].reindex(csv["school_code"]).fillna("").tolist()
        assert csv["support_school_code"].tolist() == stored
    return seen


def check_reward_pool(store: ResultsStore, out: Path) -> dict[str, int]:
    des_all, ind, pships = (
        store.read("designations"),
        store.read("indicators"),
        store.read("partnerships"),
    )
    flags_all = store.read("partnership_flags")
    seen = {"partners": 0, "kept": 0, "flags": 0, "from_last_year": 0}
    for k, year in enumerate(YEARS):
        d = des_all[des_all["year"] == year].set_index("school_code")
        pool = set(d.index[d["designation"] == "REWARD"])
        if k >= CHANGED_FROM:
            last = des_all[des_all["year"] == years.shift(year, -1)]
            standing = set(d.index[~d["designation"].isin(["PRIORITY", "FOCUS"])])
            pool |= set(last.loc[last["designation"] == "REWARD", "school_code"]) & standing
        p = pships[pships["year"] == year].set_index("school_code")["partner_school_code"]
        assert set(p) <= pool, year
        seen["partners"] += len(p)
        seen["from_last_year"] += int((~p.isin(d.index[d["designation"] == "REWARD"])).sum())
        need = d[
            ((d["designation"] == "FOCUS") & (d["years_in_status"] >= 3))
            | (d["designation"] == "PRIORITY")
        ]
        missing = sorted(set(need.index) - set(p.index))
        f = flags_all[flags_all["year"] == year]
        assert sorted(f["school_code"]) == missing, year
        assert (f["flag"] == "NO_ELIGIBLE_PARTNER").all()
        seen["flags"] += len(missing)
        data = (out / year / "partnership_flags.csv").read_bytes()
        assert check_output("partnership_flags", data).empty
        assert pd.read_csv(io.BytesIO(data), dtype=str)["school_code"].tolist() == missing
        if k < CHANGED_FROM:
            continue
        # last year's pair is kept while the school needs a partner and the partner is in
        # the pool at partners.min_level on this year's reason
        before = pships[pships["year"] == years.shift(year, -1)]
        lv = ind[(ind["year"] == year) & ind["meets_nsize"].astype(bool)]
        lv = lv.set_index(["school_code", "student_group", "indicator"])["level"]
        for code, partner in zip(before["school_code"], before["partner_school_code"], strict=True):
            if code not in need.index or partner not in pool:
                continue
            reason = (partner, need.loc[code, "reason_group"], need.loc[code, "reason_indicator"])
            if reason in lv.index and lv[reason] >= PARTNER_MIN:
                assert p.get(code) == partner, (year, code)
                seen["kept"] += 1
    return seen


def report(out: Path, year: str, code: str) -> str:
    return (out / year / "reports" / "schools" / f"{code}.html").read_text("utf-8")


def section(html: str) -> str:
    found = re.search(r'<section id="support".*?</section>', html, re.S)
    return found.group(0) if found else ""


def check_reports(store: ResultsStore, out: Path, public: Path) -> None:
    year = YEARS[-1]
    gs = store.read("goal_support", [year])
    for code, sup in zip(gs["school_code"], gs["support_school_code"], strict=True):
        for root in (out, public):
            s = section(report(root, year, code))
            if pd.isna(sup):
                assert "unmatched" in s, code
            else:
                assert f'href="{sup}.html"' in s, code
                assert f'href="{code}.html"' in section(report(root, year, sup))
    for code in store.read("partnership_flags", [year])["school_code"]:
        assert "NO_ELIGIBLE_PARTNER" in section(report(out, year, code))
    m = for_year(year)
    html = oversight.oversight(years.service_year(year), "fall", store, m)
    text = next(iter(html.values())).decode("utf-8")
    s = section(text)
    assert "Districts missing their SQI Goal" in s and "Required partnerships not formed" in s
    di = store.read("district_index", [year])
    for code in di.loc[di["meets_goal"] == False, "district_code"]:  # noqa: E712
        assert f"<td>{code}</td>" in s
    for code in gs["school_code"]:
        assert f"({code})" in s


def published(out: Path, year: str) -> dict[str, str]:
    files = json.loads((out / year / "manifest.json").read_text())["files"]
    return {f["key"]: f["sha256"] for f in files}


def test_five_years_of_support_and_partners(root: str, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = pipeline.RunConfig(data_root=root, out_root=str(out), db_url=db_url, pdf="none")
    pipeline.run_cycle(YEARS, cfg)
    store = ResultsStore(db_url)
    support = check_goal_support(store, out)
    pool = check_reward_pool(store, out)
    assert support["pairs"] > 0 and support["unmatched"] > 0, support
    assert pool["partners"] > 0 and pool["kept"] > 0, pool
    check_reports(store, out, out / "public")
    # the public edition's goal_support.csv and partnership_flags.csv are the staff's
    for name in ("goal_support.csv", "partnership_flags.csv"):
        assert (out / "public" / YEARS[-1] / name).read_bytes() == (
            out / YEARS[-1] / name
        ).read_bytes()
    dd = pd.read_csv(out / "public" / YEARS[-1] / "data-dictionary.csv", dtype=str)
    assert sorted(dd.loc[dd["file"] == "goal_support.csv", "column"]) == sorted(
        ["school_code", "weakest_indicator", "support_school_code"]
    )

    # re-running a core-2013.1 year gives what it gave: designations byte for byte
    year = YEARS[1]
    tables = ("designations", "partnerships", "goal_support", "partnership_flags")
    before = {t: store.read(t, [year]).drop(columns="run_id", errors="ignore") for t in tables}
    sums = published(out, year)
    pipeline.run_year(year, cfg)
    for t in tables:
        after = store.read(t, [year]).drop(columns="run_id", errors="ignore")
        pd.testing.assert_frame_equal(after, before[t])
    again = published(out, year)
    for name in ("designations.csv", "goal_support.csv", "partnership_flags.csv"):
        assert again[name] == sums[name], name
    store.dispose()
