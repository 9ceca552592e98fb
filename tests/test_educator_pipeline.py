"""Issue 20 end to end: a generated consortium (educators and rosters from the pilot year)
through ``sqis.pipeline.run_cycle`` — one growth fit a year shared by schools and
educators, the engineered educators' known outcomes, the pilot (staff only) and the first
implementation year (the public distribution, attacked), the results store, the trigger
follow-up with ``sqis educator action`` kept across a re-run."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from sqis import pipeline
from sqis.pseudonym import pseudonymise_educators
from sqis.synthetic.educators import ENGINEERED
from tests.consortium import KEY, YEARS, private_tmp, run_config
from tests.test_educator_suppression import attack

PILOT, FIRST = "2014-15", "2015-16"


@pytest.fixture(scope="module")
def cycle():
    """The three years run in order; the number of growth fits counted."""
    import os

    from sqis import growth
    from sqis.settings import reset_settings_cache

    work = private_tmp("sqis-educators-")
    cfg = run_config(work, force=None)
    saved = os.environ.get("SQIS_PSEUDONYM_KEY")
    os.environ["SQIS_PSEUDONYM_KEY"] = KEY
    reset_settings_cache()
    fits: list[str] = []
    real = growth.fit_growth
    stages: dict[str, dict] = {}

    def counted(cur, *args, **kwargs):
        fits.append(cur.year)
        return real(cur, *args, **kwargs)

    growth.fit_growth = counted
    try:
        for y in YEARS:
            pipeline.run_year(
                y,
                cfg,
                on_stage=lambda n, i, y=y: stages.__setitem__(y, i) if n == "educators" else None,
            )
    finally:
        growth.fit_growth = real
        if saved is None:
            os.environ.pop("SQIS_PSEUDONYM_KEY", None)
        else:
            os.environ["SQIS_PSEUDONYM_KEY"] = saved
        reset_settings_cache()
    yield work, cfg, fits, stages


def _key(raw: str) -> str:
    return pseudonymise_educators(pa.array([raw]), KEY.encode()).to_pylist()[0]


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_one_growth_fit_a_year_serves_schools_and_educators(cycle):
    _, _, fits, stages = cycle
    assert fits == list(YEARS)  # once per year: no second model for the educators
    assert stages["2013-14"]["note"] == "no educator files delivered"
    assert stages[PILOT]["stage"] == "pilot" and stages[PILOT]["educators"] > 50
    assert stages[FIRST]["stage"] == "implementation"


def test_the_engineered_educators_have_their_known_outcomes(cycle):
    from sqis.store import ResultsStore

    _, cfg, _, _ = cycle
    res = ResultsStore(cfg.db_url).read("educator_results", [PILOT, FIRST])
    for year in (PILOT, FIRST):
        r = res[res["year"] == year].set_index("educator_key")
        high = r.loc[_key(ENGINEERED["high_growth"])]
        assert (high["growth_rating"], high["level"], high["flag"]) == (4, 4, "NONE")
        assert high["option"] == 2 and high["summative"] == pytest.approx(0.8 * 3.7 + 0.2 * 4)
        trig = r.loc[_key(ENGINEERED["trigger"])]
        assert (trig["growth_rating"], trig["flag"], trig["option"]) == (1, "TRIGGER", 1)
        assert trig["summative"] == 3.6 and trig["level"] == 4
        under = r.loc[_key(ENGINEERED["under_minimum"])]
        assert under["n_students"] == 6 and under["flag"] == "NO_GROWTH"
        assert pd.isna(under["growth_rating"])


def test_ratings_are_quartiles_per_role_and_practice_correlates_with_growth(cycle):
    _, cfg, _, _ = cycle
    e = _csv(Path(cfg.out_root) / FIRST / "educators.csv")
    rated = e[e["growth_rating"] != ""]
    for _role, g in rated.groupby("role"):
        counts = g["growth_rating"].astype(int).value_counts(normalize=True)
        if len(g) >= 40:
            assert counts.between(0.15, 0.35).all(), counts
    t = rated[rated["role"] == "TEACHER"]
    r = np.corrcoef(t["practice"].astype(float), t["growth"].astype(float))[0, 1]
    assert r > 0  # teacher effects show in both (sqis.synthetic.educators; few teachers here)


def test_the_pilot_reports_to_staff_only(cycle):
    _, cfg, _, _ = cycle
    staff = Path(cfg.out_root) / PILOT
    public = Path(cfg.public_root or Path(cfg.out_root) / "public") / PILOT
    assert (staff / "educators.csv").exists() and (staff / "educator-distribution.csv").exists()
    assert not (public / "educator-distribution.csv").exists()
    assert not (public / "educators.csv").exists()
    assert b"educator" not in (public / "data-dictionary.csv").read_bytes()
    assert not (Path(cfg.out_root) / "2013-14" / "educators.csv").exists()


def test_staff_files_follow_the_contract(cycle):
    from schemas.outputs import check_output

    _, cfg, _, _ = cycle
    for year in (PILOT, FIRST):
        for name in ("educators", "educator-distribution"):
            data = (Path(cfg.out_root) / year / f"{name}.csv").read_bytes()
            assert check_output(name, data).empty, (year, name)
    e = _csv(Path(cfg.out_root) / FIRST / "educators.csv")
    assert list(e.columns) == [
        "educator_key", "school_code", "role", "practice", "growth", "growth_rating",
        "summative", "level", "flag",
    ]  # fmt: skip
    assert e["educator_key"].str.fullmatch("[0-9a-f]{64}").all()
    assert set(e["flag"]) == {"NONE", "NO_GROWTH", "TRIGGER"}
    assert set(e["level"]) <= {"1", "2", "3", "4"}
    d = _csv(Path(cfg.out_root) / FIRST / "educator-distribution.csv")
    assert list(d.columns) == ["entity_type", "entity_code", "role", "rated", "level_1",
                               "level_2", "level_3", "level_4"]  # fmt: skip
    teachers = d[(d["entity_type"] == "CONSORTIUM") & (d["role"] == "TEACHER")]
    assert int(teachers["rated"].iloc[0]) == int((e["role"] == "TEACHER").sum())


def test_the_first_implementation_year_publishes_the_suppressed_distribution(cycle):
    _, cfg, _, _ = cycle
    public_root = Path(cfg.public_root or Path(cfg.out_root) / "public") / FIRST
    pub = _csv(public_root / "educator-distribution.csv")
    staff = _csv(Path(cfg.out_root) / FIRST / "educator-distribution.csv")
    keys = ["entity_type", "entity_code", "role"]
    assert pub[keys].equals(staff[keys])
    cols = ["rated", "level_1", "level_2", "level_3", "level_4"]
    shown = pub[cols].to_numpy()
    numbers = pd.to_numeric(pd.Series(shown.ravel()), errors="coerce")
    assert not numbers.between(1, 5).any(), "a count of 1-5 published"
    assert (shown == "*").any()
    hidden = shown == "*"
    assert (staff[cols].to_numpy()[~hidden] == shown[~hidden]).all()  # shown cells are true
    counts = staff.astype({c: int for c in cols})
    for role in ("TEACHER", "PRINCIPAL"):
        at = (counts["role"] == role).to_numpy()
        assert attack(counts[at].reset_index(drop=True), hidden[at]) == [], role
    assert b"educator-distribution.csv" in (public_root / "data-dictionary.csv").read_bytes()
    manifest = (public_root / "manifest.json").read_text()
    assert "educator-distribution.csv" in manifest and "educators.csv" not in manifest


@pytest.fixture(scope="module")
def acted(cycle):
    """The district's action on the trigger case, recorded through the command (after a
    refused one on an educator who is not a trigger), then the year run again: what the
    staff pages show. A fixture, so that every test reading it has it on any xdist worker."""
    import os

    from sqis.settings import reset_settings_cache
    from sqis_cli import app

    work, cfg, _, _ = cycle
    key = _key(ENGINEERED["trigger"])
    other = _key(ENGINEERED["high_growth"])
    cli = CliRunner()
    base = ["--year", FIRST, "--db", cfg.db_url, "--out", cfg.out_root]
    env = {"SQIS_PSEUDONYM_KEY": KEY}
    refused = cli.invoke(app, ["educator", "action", *base, "--educator-key", other,
                               "--action", "ADDENDUM", "--reason", "x"], env=env)  # fmt: skip
    why = "growth and practice disagree; a plan for 2016-17"
    args = ["--educator-key", key, "--action", "IMPROVEMENT_PLAN", "--reason", why]
    done = cli.invoke(app, ["educator", "action", *base, *args, "--by", "Director, HR"], env=env)
    path = Path(cfg.out_root) / FIRST / "educator-actions.csv"
    written = _csv(path) if path.exists() else None
    # a re-run of the year keeps the action and writes the file again
    os.environ["SQIS_PSEUDONYM_KEY"] = KEY
    reset_settings_cache()
    try:
        pipeline.run_year(FIRST, cfg)
    finally:
        os.environ.pop("SQIS_PSEUDONYM_KEY", None)
        reset_settings_cache()
    return {"key": key, "base": base, "env": env, "refused": refused, "done": done,
            "written": written, "path": path}  # fmt: skip


def test_a_district_records_its_action_on_a_trigger_and_a_rerun_keeps_it(acted):
    from sqis_cli import app

    key, base, env = acted["key"], acted["base"], acted["env"]
    assert acted["refused"].exit_code == 1 and "not a TRIGGER" in acted["refused"].output
    assert acted["done"].exit_code == 0, acted["done"].output
    assert "in force through 2016-17" in acted["done"].output
    no_action = ["--educator-key", key, "--action", "NO_ACTION", "--reason", "y"]
    again = CliRunner().invoke(app, ["educator", "action", *base, *no_action], env=env)
    assert again.exit_code == 1 and "already recorded" in again.output
    acts = acted["written"]
    assert acts[["educator_key", "action", "in_force_until", "recorded_by"]].values.tolist() == [
        [key, "IMPROVEMENT_PLAN", "2016-17", "Director, HR"]
    ]
    assert _csv(acted["path"])["educator_key"].tolist() == [key]  # after the re-run


def test_public_distribution_function_is_the_disclosure_modules(cycle):
    """The public CSV is exactly what sqis.disclosure.public_educator_distribution gives."""
    from sqis import exports
    from sqis.disclosure import public_educator_distribution
    from sqis.methodology import for_year
    from sqis.store import ResultsStore

    _, cfg, _, _ = cycle
    dist = ResultsStore(cfg.db_url).read("educator_distribution", [FIRST])
    dist = dist.drop(columns=["year", "run_id"])
    m = for_year(FIRST)
    got = exports.public_educator_distribution_csv(public_educator_distribution(dist, m))
    public_root = Path(cfg.public_root or Path(cfg.out_root) / "public") / FIRST
    assert got == (public_root / "educator-distribution.csv").read_bytes()
    assert pd.read_csv(io.BytesIO(got)).shape[0] == len(dist)


def test_staff_pages_for_principals_districts_and_the_oversight_panel(cycle, acted):
    from sqis.store import ResultsStore

    _, cfg, _, _ = cycle
    staff = Path(cfg.out_root) / FIRST / "reports" / "educators"
    public = Path(cfg.public_root or Path(cfg.out_root) / "public") / FIRST
    res = ResultsStore(cfg.db_url).read("educator_results", [FIRST])
    trig = res[res["educator_key"] == _key(ENGINEERED["trigger"])].iloc[0]
    page = (staff / f"{trig['school_code']}.html").read_text()
    assert "Staff edition" in page and _key(ENGINEERED["trigger"])[:16] in page
    assert "TRIGGER" in page and "IMPROVEMENT_PLAN" in page  # the action (``acted``)
    district = (staff / f"{trig['district_code']}.html").read_text()
    assert "Educators by level" in district and "Trend" in district
    consortium = (staff / "consortium.html").read_text()
    assert PILOT in consortium and FIRST in consortium  # the trend over the years on record
    assert not (public / "reports" / "educators").exists()
    assert not any("educators/" in p.as_posix() for p in public.rglob("*"))
