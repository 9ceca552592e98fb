import pytest

from sqis import years


def test_start_and_shift():
    assert years.start_of("2015-16") == 2015
    assert years.shift("2015-16", -2) == "2013-14"
    assert years.shift("1999-00", 1) == "2000-01"
    assert years.from_start(2099) == "2099-00"


@pytest.mark.parametrize("bad", ["2015-17", "2015/16", "15-16", "", "2015-1"])
def test_bad_years_are_refused(bad):
    with pytest.raises(years.YearError):
        years.start_of(bad)


def test_ranges():
    assert years.parse_range("2013-14..2015-16") == ["2013-14", "2014-15", "2015-16"]
    assert years.parse_range("2013-14") == ["2013-14"]
    with pytest.raises(years.YearError):
        years.parse_range("2015-16..2013-14")


def test_results_year_and_service_year():
    assert years.service_year("2015-16") == "2016-17"
    assert years.results_year("2016-17") == "2015-16"
    assert years.results_year(years.service_year("1999-00")) == "1999-00"
    assert years.both("2015-16") == "2015-16 results · service year 2016-17"
