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


# ---- SchoolYear: a year parsed once, handed down (issue 22) ---------------------------------
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("2015/16", "school year '2015/16' is not of the form YYYY-YY (e.g. 2015-16)"),
        ("", "school year '' is not of the form YYYY-YY (e.g. 2015-16)"),
        (None, "school year None is not of the form YYYY-YY (e.g. 2015-16)"),
        ("2015-17", "school year '2015-17': the second part must be the year after the first"),
    ],
)
def test_a_school_year_refuses_bad_text_with_the_message_of_start_of(bad, message):
    with pytest.raises(years.YearError) as made:
        years.SchoolYear(bad)
    with pytest.raises(years.YearError) as parsed:
        years.start_of(bad)
    assert str(made.value) == str(parsed.value) == message
    assert made.value.exit_code == 2


@pytest.mark.parametrize(
    "bad", ["２０１５-１６", "٢٠١٥-١٦", "2015-16\n", " 2015-16", "2015-16\x00"]
)
def test_a_school_year_in_other_digits_or_with_extra_characters_is_refused(bad):
    with pytest.raises(years.YearError, match="not of the form YYYY-YY"):
        years.SchoolYear(bad)


def test_a_school_year_is_its_label_with_the_start_parsed():
    y = years.SchoolYear("2015-16")
    assert y == "2015-16" and isinstance(y, str) and str(y) == "2015-16"
    assert y.start == 2015
    assert {"2015-16": 1}[y] == 1 and hash(y) == hash("2015-16")
    assert f"validated/{y}/schools.parquet" == "validated/2015-16/schools.parquet"
    assert repr(y) == "'2015-16'"
    assert years.SchoolYear(y) is y  # a parsed year is not parsed again


def test_school_year_arithmetic():
    y = years.SchoolYear("2015-16")
    assert y.next == y.service_year == "2016-17"
    assert y.previous == y.results_year == "2014-15"
    assert y.shift(-2) == "2013-14" and y.shift(0) == y
    assert years.SchoolYear("1999-00").next == "2000-01"
    assert years.SchoolYear.from_start(2099) == "2099-00"
    assert y.both == "2015-16 results · service year 2016-17"
    for made in (y.next, y.shift(3), years.from_start(2015), years.shift("2015-16", 1)):
        assert isinstance(made, years.SchoolYear)
    assert all(isinstance(v, years.SchoolYear) for v in years.parse_range("2013-14..2015-16"))


def test_a_school_year_travels_as_text():
    import json
    import pickle

    import pandas as pd

    y = years.SchoolYear("2015-16")
    assert pickle.loads(pickle.dumps(y)) == y
    assert isinstance(pickle.loads(pickle.dumps(y)), years.SchoolYear)
    assert json.dumps({"year": y}) == '{"year": "2015-16"}'
    assert pd.DataFrame({"a": [1]}).assign(year=y).to_csv(index=False) == "a,year\n1,2015-16\n"


def test_a_pydantic_field_of_a_school_year_is_checked_and_written_as_text():
    from pydantic import BaseModel, ValidationError

    class M(BaseModel):
        year: years.SchoolYear

    m = M(year="2015-16")
    assert isinstance(m.year, years.SchoolYear) and m.year.start == 2015
    assert m.model_dump(mode="json") == {"year": "2015-16"}
    assert type(m.model_dump(mode="json")["year"]) is str
    with pytest.raises(ValidationError, match="not of the form YYYY-YY"):
        M(year="2015/16")


def test_arithmetic_makes_years_without_parsing_and_keeps_four_digits():
    import copy

    y = years.SchoolYear("2015-16")
    assert copy.copy(y) is y and copy.deepcopy(y) is y
    assert years.SchoolYear.from_start(9999) == "9999-00"
    with pytest.raises(years.YearError, match="'10000-01' is not of the form YYYY-YY"):
        years.SchoolYear.from_start(10000)
    with pytest.raises(years.YearError, match="'999-00' is not of the form YYYY-YY"):
        years.SchoolYear("1000-01").shift(-1)
