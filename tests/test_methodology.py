"""The methodology file loads, validates, and refuses what it must."""

from pathlib import Path

import pytest
import yaml

from sqis import codes, methodology


def _default() -> dict:
    return yaml.safe_load((methodology.BUILTIN_DIR / "core-2013.yaml").read_text())


def _write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_default_loads_with_every_indicator_and_a_checksum():
    m = methodology.for_year("2015-16")
    assert set(m.indicators) == set(codes.INDICATORS)
    assert len(m.checksum) == 64
    assert m.n_size == 20
    assert sum(d.weight for d in m.domains) == 100
    for code, spec in m.indicators.items():
        for st in spec.school_types:
            assert len(m.cuts(code, st)) == 9


def test_year_before_any_methodology_is_refused():
    with pytest.raises(methodology.MethodologyError, match="no methodology applies"):
        methodology.for_year("1999-00")


def test_checkpoint_dates_span_the_school_year():
    m = methodology.for_year("2015-16")
    dates = m.checkpoint_dates("2015-16")
    assert [d.isoformat() for d in dates.values()] == [
        "2015-10-15",
        "2016-01-15",
        "2016-04-15",
        "2016-06-15",
    ]
    assert m.oversight_date("2015-16", "fall").isoformat() == "2015-11-01"
    assert m.oversight_date("2015-16", "spring").isoformat() == "2016-05-01"


def test_descending_cut_points_are_refused(tmp_path):
    data = _default()
    data["cut_points"]["ELA_MET"]["ES"] = [9, 8, 7, 6, 5, 4, 3, 2, 1]
    with pytest.raises(methodology.MethodologyError, match="ELA_MET/ES.*ascend"):
        methodology.load_file(_write(tmp_path, data))


def test_missing_indicator_is_refused(tmp_path):
    data = _default()
    del data["indicators"]["SEL"]
    with pytest.raises(methodology.MethodologyError, match="SEL"):
        methodology.load_file(_write(tmp_path, data))


def test_unknown_setting_is_refused(tmp_path):
    data = _default()
    data["n_sise"] = 20
    with pytest.raises(methodology.MethodologyError, match="n_sise"):
        methodology.load_file(_write(tmp_path, data))


def test_domains_must_cover_each_methodology_domain_once(tmp_path):
    data = _default()
    data["domains"] = [{"name": "academic", "weight": 60, "pools": ["academic"]}]
    with pytest.raises(methodology.MethodologyError, match="domains"):
        methodology.load_file(_write(tmp_path, data))


def test_pooled_domains_validate(tmp_path):
    data = _default()
    data["version"] = "pooled-test"
    data["domains"] = [
        {"name": "academic", "weight": 60, "pools": ["academic"]},
        {"name": "non_academic", "weight": 40, "pools": ["social_emotional", "culture_climate"]},
    ]
    m = methodology.load_file(_write(tmp_path, data))
    assert [d.name for d in m.domains] == ["academic", "non_academic"]


def test_choice_by_path_and_version(tmp_path):
    data = _default()
    data["version"] = "custom-1"
    p = _write(tmp_path, data)
    assert methodology.for_year("2015-16", choice=str(p)).version == "custom-1"
    assert methodology.for_year("2015-16", choice="core-2013.1").version == "core-2013.1"
    with pytest.raises(methodology.MethodologyError, match="no methodology with version"):
        methodology.for_year("2015-16", choice="nope")


def test_unreadable_file_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("version: [unclosed")
    with pytest.raises(methodology.MethodologyError, match="not valid YAML"):
        methodology.load_file(p)
