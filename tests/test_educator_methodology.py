"""METHODOLOGY.md "Educator effectiveness": the ``educators:`` section of every methodology
file, and what the loader refuses (option 2 under the seeds' 20% floor above all)."""

from pathlib import Path

import pytest
import yaml

from sqis import methodology


def _files() -> list[Path]:
    return sorted(methodology.BUILTIN_DIR.glob("*.yaml"))


def _data(name: str = "core-2015.yaml") -> dict:
    return yaml.safe_load((methodology.BUILTIN_DIR / name).read_text())


def _load(tmp_path: Path, data: dict) -> methodology.Methodology:
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    return methodology.load_file(p)


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_every_methodology_file_has_the_educator_section(path):
    m = methodology.load_file(path)
    e = m.educators
    assert e is not None
    assert (e.pilot_year, e.first_year) == ("2014-15", "2015-16")
    assert e.min_students == 10
    assert e.shrinkage == "empirical_bayes"
    assert e.level_cut_points == (1.75, 2.5, 3.25)
    assert e.rating_cut_points == (25, 50, 75)
    assert e.trigger_difference == 2
    assert (e.default_option.option, e.default_option.growth_weight) == (2, 0.20)
    assert e.public.min_rated == 6 and e.public.max_small_count == 5


def test_each_district_takes_its_option_else_the_default():
    e = methodology.for_year("2015-16").educators
    assert e.option_for("1910001").option == 1
    assert e.option_for("3410003").growth_weight == 0.30
    assert e.option_for("1010000") == e.default_option


def test_pilot_and_implementation_years():
    e = methodology.for_year("2015-16").educators
    assert e.stage("2013-14") == "none"
    assert e.stage("2014-15") == "pilot"
    assert e.stage("2015-16") == "implementation"
    assert e.stage("2017-18") == "implementation"


@pytest.mark.parametrize("where", ["default", "district"])
def test_a_growth_weight_under_20_percent_is_refused_at_load(tmp_path, where):
    data = _data()
    if where == "default":
        data["educators"]["default_option"] = {"option": 2, "growth_weight": 0.19}
    else:
        data["educators"]["districts"]["1010000"] = {"option": 2, "growth_weight": 0.15}
    with pytest.raises(methodology.MethodologyError, match=r"at least 20% of the evaluation"):
        _load(tmp_path, data)


def test_exactly_20_percent_loads(tmp_path):
    data = _data()
    data["educators"]["districts"]["1010000"] = {"option": 2, "growth_weight": 0.2}
    assert _load(tmp_path, data).educators.option_for("1010000").growth_weight == 0.2


def test_option_2_without_a_weight_and_option_1_with_one_are_refused(tmp_path):
    data = _data()
    data["educators"]["default_option"] = {"option": 2}
    with pytest.raises(methodology.MethodologyError, match="option 2 needs growth_weight"):
        _load(tmp_path, data)
    data = _data()
    data["educators"]["default_option"] = {"option": 1, "growth_weight": 0.5}
    with pytest.raises(methodology.MethodologyError, match="option 1"):
        _load(tmp_path, data)


def test_an_unknown_option_is_refused(tmp_path):
    data = _data()
    data["educators"]["default_option"] = {"option": 3}
    with pytest.raises(methodology.MethodologyError):
        _load(tmp_path, data)


def test_public_suppression_cannot_go_under_massachusetts_rule(tmp_path):
    data = _data()
    data["educators"]["public"]["min_rated"] = 5
    with pytest.raises(methodology.MethodologyError, match="fewer than 6 educators"):
        _load(tmp_path, data)
    data = _data()
    data["educators"]["public"]["max_small_count"] = 4
    with pytest.raises(methodology.MethodologyError, match="counts of 1-5"):
        _load(tmp_path, data)


def test_descending_level_cut_points_and_bad_years_are_refused(tmp_path):
    data = _data()
    data["educators"]["level_cut_points"] = [2.5, 1.75, 3.25]
    with pytest.raises(methodology.MethodologyError, match="strictly ascend"):
        _load(tmp_path, data)
    data = _data()
    data["educators"]["first_year"] = "2013-14"
    with pytest.raises(methodology.MethodologyError, match="before pilot_year"):
        _load(tmp_path, data)
    data = _data()
    data["educators"]["districts"]["19100"] = {"option": 1}
    with pytest.raises(methodology.MethodologyError, match="7-digit"):
        _load(tmp_path, data)


def test_a_methodology_without_the_section_still_loads(tmp_path):
    data = _data()
    del data["educators"]
    assert _load(tmp_path, data).educators is None
