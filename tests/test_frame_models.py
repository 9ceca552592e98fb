"""Every frame between stages has one model (``schemas.outputs.FRAMES``, issue 22): a run of
the small consortium's three years hands each stage frames of exactly the model's columns,
in order, of its types, and holding to its checks; every empty frame a stage makes is the
model's (``empty``); every CSV the run writes holds to its file's model."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from schemas.outputs import FRAMES, OUTPUT_MODELS, check_output, columns, dtypes, empty
from tests.consortium import YEARS, consortium, private_tmp, pseudonym_key, run_config

Seen = dict[str, list[pd.DataFrame]]

# the stored tables (``determinations.YearTables``) and their frames' names in FRAMES
TABLE_FRAMES = {
    "indicators": "year_indicators",
    "index_scores": "index",
    "designations": "designations",
    "partnerships": "partnerships",
    "communities": "communities",
    "district_index": "district_index",
    "educator_results": "educator_results",
    "educator_distribution": "educator_distribution",
    "goal_support": "goal_support",
    "partnership_flags": "partnership_flags",
}


def _recording(seen: Seen, fn: Callable[..., Any], *names: str) -> Callable[..., Any]:
    """``fn``, noting the frame it returns under ``names[0]`` (a tuple: one name each)."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        for name, frame in zip(names, out if len(names) > 1 else (out,), strict=True):
            seen.setdefault(name, []).append(frame)
        return out

    return call


@pytest.fixture(scope="module")
def run() -> Iterator[tuple[Seen, Path]]:
    """The consortium's three years through ``run_cycle``, every stage's frames noted."""
    from sqis import (
        designations,
        determinations,
        educators,
        escalation,
        growth,
        index,
        index_stage,
        indicators,
        levels,
        partners,
        pipeline,
        year_outputs,
    )

    seen: Seen = {}
    patches = [
        (indicators, "compute_indicators", "indicators"),
        (growth, "growth_indicators", "indicators"),
        (levels, "assign_levels", "levelled_indicators"),
        (levels, "add_change", "year_indicators"),
        (index, "compute_index", "index"),
        (index_stage, "educator_measures", "educator_measures"),
        (educators, "evaluate", "educator_results"),
        (index_stage, "educators_stage", "educator_results", "educator_distribution"),
        (designations, "designate", "designations"),
        (escalation, "escalate", "designations"),
        (partners, "assign_partners", "partnerships"),
        (partners, "with_partners", "designations"),
        (determinations, "support", "goal_support", "partnership_flags"),
        (determinations, "communities", "communities"),
        (year_outputs, "schedule", "schedule"),
        (determinations, "district_scores", "district_index"),
    ]
    work = private_tmp("sqis-frame-models-")
    store_results = determinations.store_results

    def stored(store: Any, run_id: Any, tables: Any, m: Any) -> Any:
        for table, name in TABLE_FRAMES.items():
            seen.setdefault(name, []).append(getattr(tables, table))
        return store_results(store, run_id, tables, m)

    with pytest.MonkeyPatch.context() as mp, pseudonym_key():
        for module, attr, *names in patches:
            mp.setattr(module, attr, _recording(seen, getattr(module, attr), *names))
        mp.setattr(determinations, "store_results", stored)
        pipeline.run_cycle(list(YEARS), run_config(work, consortium(), force=None))
    yield seen, work / "out"


def test_every_stored_table_but_the_schools_file_is_a_frame_with_a_model() -> None:
    from sqis.determinations import TABLES

    assert set(TABLE_FRAMES) == set(TABLES) - {"schools"}  # schools: the delivered file's
    assert set(TABLE_FRAMES.values()) <= set(FRAMES)


def _held_to(model: Any, frame: pd.DataFrame) -> None:
    assert list(frame.columns) == columns(model)
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        c: str(t) for c, t in dtypes(model).items()
    }
    assert dict(frame.dtypes) == dtypes(model)
    model.validate(frame, lazy=True)  # codes, ranges, missing values, keys


@pytest.mark.parametrize("name", sorted(set(FRAMES) - {"interim_indicators"}))
def test_each_stage_hands_on_its_frame_as_the_model_declares_it(
    run: tuple[Seen, Path], name: str
) -> None:
    seen, _ = run
    frames = seen.get(name, [])
    assert frames, f"no stage handed on a {name} frame"
    assert any(len(f) for f in frames), f"every {name} frame was empty: nothing was checked"
    for frame in frames:
        _held_to(FRAMES[name], frame)


def test_the_interim_indicators_are_their_models() -> None:
    from sqis.checkpoints.rules import interim_indicators
    from tests.test_checkpoints import A, M, _attendance, _tests

    attendance = _attendance(A, chronic=6, fine=18, short=5)
    got = interim_indicators(attendance, _tests(A, "ELA", met=5, not_met=15), None, M)
    assert len(got) == 2
    _held_to(FRAMES["interim_indicators"], got)
    pd.testing.assert_frame_equal(
        interim_indicators(None, None, None, M), empty(FRAMES["interim_indicators"])
    )


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_an_empty_frame_is_the_models_columns_of_its_types(name: str) -> None:
    frame = empty(FRAMES[name])
    assert frame.empty
    _held_to(FRAMES[name], frame)


def test_the_stages_empty_frames_are_the_models() -> None:
    """Where a stage has nothing to hand on, it hands on its model's empty frame."""
    from sqis import communities, determinations, educators, growth, partners
    from sqis.goal_support import assign_goal_support
    from sqis.methodology import for_year

    m = for_year(YEARS[-1])
    school = "01123450000001"
    des = pd.DataFrame(
        {
            "school_code": pd.array([school], dtype="str"),
            "designation": pd.array(["NONE"], dtype="str"),
            "reason_group": pd.array([None], dtype="str"),
            "reason_indicator": pd.array([None], dtype="str"),
            "years_in_status": [0],
            "partner_school_code": pd.array([None], dtype="str"),
            "meets_goal": pd.array([True], dtype="boolean"),
        }
    )
    schools = pd.DataFrame(
        {"school_code": [school], "school_type": ["ES"], "district_code": [school[:7]]}
    )
    ind = empty(FRAMES["levelled_indicators"])
    shares = pd.DataFrame({"school_code": [school], "SED": [0.5], "EL": [0.1], "SWD": [0.1]})
    results = empty(FRAMES["educator_results"])
    got = {
        "indicators": growth.growth_indicators(pd.DataFrame(), schools, m),
        "communities": communities.form_communities(des, schools, "2016-17", m),
        "schedule": communities.schedule(empty(FRAMES["communities"]), "2016-17", m),
        "partnerships": partners.assign_partners(des, ind, schools, shares, None, m),
        "partnership_flags": partners.partnership_flags(des, m),
        "goal_support": assign_goal_support(des, ind, schools, shares, m),
        "educator_results": educators.evaluate(empty(FRAMES["educator_measures"]), schools, m),
        "educator_distribution": educators.distribution(results, schools),
    }
    support, staff = determinations._no_support(), determinations._no_educators()
    got |= {"goal_support ": support[0], "partnership_flags ": support[1]}
    got |= {"educator_results ": staff[0], "educator_distribution ": staff[1]}
    for name, frame in got.items():
        pd.testing.assert_frame_equal(frame, empty(FRAMES[name.strip()]), obj=name)


def test_every_csv_of_the_run_holds_to_its_files_model(run: tuple[Seen, Path]) -> None:
    _, out = run
    checked = 0
    for year in YEARS:
        for name in OUTPUT_MODELS:
            path = out / year / f"{name}.csv"
            if path.exists():
                errors = check_output(name, path.read_bytes())
                assert errors.empty, (year, name, errors.head().to_dict("records"))
                checked += 1
    assert checked >= len(YEARS) * 7  # the seven contract files, and the educator files
