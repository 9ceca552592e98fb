"""Reading delivered files exactly as delivered: text columns, row numbers, clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sqis.reading import DeliveryError, read_contract_file

YEAR = "2015-16"


def _put(root: Path, name: str, data: bytes) -> Path:
    p = root / YEAR / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_csv_columns_stay_text_with_row_numbers_and_checksum(tmp_path: Path) -> None:
    data = b"school_code,grade,score\n01123450000001,3,1.0\n01123450000002,11,4.50\n"
    _put(tmp_path, "t.csv", data)
    raw = read_contract_file(str(tmp_path), YEAR, "t")
    assert raw.format == "csv"
    assert raw.columns == ["school_code", "grade", "score"]
    assert raw.frame.index.tolist() == [2, 3]
    assert raw.frame.loc[2, "school_code"] == "01123450000001"  # leading zero kept
    assert raw.frame.loc[2, "score"] == "1.0" and raw.frame.loc[3, "score"] == "4.50"
    assert raw.sha256 == hashlib.sha256(data).hexdigest()
    assert raw.n_rows == 2 and raw.size == len(data)


def test_bom_crlf_and_quoted_fields(tmp_path: Path) -> None:
    data = (
        b'\xef\xbb\xbfschool_name,district_name\r\n"Alder, the ""Old"" one",LA\r\n'
        b'"two\r\nlines",SF\r\nplain,"x"\r\n'
    )
    _put(tmp_path, "t.csv", data)
    f = read_contract_file(str(tmp_path), YEAR, "t").frame
    assert list(f.columns) == ["school_name", "district_name"]  # no BOM in the first name
    assert f.loc[2, "school_name"] == 'Alder, the "Old" one'
    assert f.loc[3, "school_name"] == "two\r\nlines"
    assert f.loc[4].tolist() == ["plain", "x"]
    assert f.index.tolist() == [2, 3, 4]


def test_empty_fields_are_empty_text_not_nan(tmp_path: Path) -> None:
    _put(tmp_path, "t.csv", b"a,b\n,NA\nnull,\n")
    f = read_contract_file(str(tmp_path), YEAR, "t").frame
    assert f["a"].tolist() == ["", "null"]
    assert f["b"].tolist() == ["NA", ""]


@pytest.mark.parametrize(
    ("data", "rule", "row", "words"),
    [
        (b"", "file:empty", None, "empty"),
        (b"\xef\xbb\xbf\n", "file:empty", None, "empty"),
        (b"grade,b\n", "file:no_rows", None, "no data rows"),
        (b"grade,b\n1,2\n3,4\n5\n", "file:field_count", 4, "truncated"),
        (b"grade,b\n1,2\n3,4,5\n6,7\n", "file:field_count", 3, "3 fields"),
        (b"grade,b\n1,2\n3,\xe9t\xe9\n", "file:encoding", 3, "offset 14"),
        (b"grade,grade\n1,2\n", "file:duplicate_column", 1, "'grade'"),
        (b"grade,,c\n1,2,3\n", "file:header", 1, "column 2"),
        (b'grade,b\n1,"2\n3,4\n', "file:csv_syntax", 2, "unterminated"),
        (b"1000000001,01123450000001,3\n", "file:no_header", 1, "header row is missing"),
        (b"\xef\xbb\xbf\xef\xbb\xbfgrade\n1\n", "file:encoding", 1, "two byte-order marks"),
        (b"grade,b\r1,2\r", "file:line_ends", 1, "carriage return"),
        (b"grade,b\n1,2\n3,4\r5,6\n", "file:line_ends", None, "line 3"),
    ],
    ids=["empty", "bom_only", "header_only", "truncated", "too_many", "latin1", "dup", "noname",
         "quote", "no_header", "double_bom", "cr_only", "bare_cr"],
)  # fmt: skip
def test_unreadable_csv_is_a_clear_delivery_error(
    tmp_path: Path, data: bytes, rule: str, row: int | None, words: str
) -> None:
    _put(tmp_path, "students.csv", data)
    with pytest.raises(DeliveryError) as e:
        read_contract_file(str(tmp_path), YEAR, "students")
    err = e.value
    assert err.rule == rule
    assert err.row == row
    assert err.file == "students"
    assert "students.csv" in str(err)
    assert words in str(err)


def test_error_messages_never_quote_row_content(tmp_path: Path) -> None:
    _put(tmp_path, "students.csv", b"student_id,school_code\n1000000001,011\n1000000002\n")
    with pytest.raises(DeliveryError) as e:
        read_contract_file(str(tmp_path), YEAR, "students")
    assert "1000000002" not in str(e.value) and e.value.row == 3


def test_missing_and_ambiguous_files(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError) as e:
        read_contract_file(str(tmp_path), YEAR, "sel")
    assert e.value.rule == "file:missing" and "sel.csv" in str(e.value)
    _put(tmp_path, "sel.csv", b"a\n1\n")
    pd.DataFrame({"a": ["1"]}).to_parquet(tmp_path / YEAR / "sel.parquet")
    with pytest.raises(DeliveryError) as e:
        read_contract_file(str(tmp_path), YEAR, "sel")
    assert e.value.rule == "file:ambiguous"


def test_parquet_is_read_as_text_with_one_based_rows(tmp_path: Path) -> None:
    table = pa.table(
        {
            "school_code": pa.array(["01123450000001", "01123450000002"]),
            "low_grade": pa.array([0, 6], pa.int32()),
            "title_i": pa.array([True, None]),
            "school_type": pa.array(["ES", "MS"]).dictionary_encode(),
        }
    )
    (tmp_path / YEAR).mkdir()
    pq.write_table(table, tmp_path / YEAR / "schools.parquet")
    raw = read_contract_file(str(tmp_path), YEAR, "schools")
    assert raw.format == "parquet"
    assert raw.frame.index.tolist() == [1, 2]
    assert raw.frame["low_grade"].tolist() == ["0", "6"]
    assert raw.frame["title_i"].tolist() == ["Y", ""]
    assert raw.frame["school_type"].tolist() == ["ES", "MS"]


def test_parquet_with_a_wrong_type_is_refused(tmp_path: Path) -> None:
    (tmp_path / YEAR).mkdir()
    pq.write_table(pa.table({"low_grade": pa.array([1.5])}), tmp_path / YEAR / "schools.parquet")
    with pytest.raises(DeliveryError) as e:
        read_contract_file(str(tmp_path), YEAR, "schools")
    assert e.value.rule == "file:parquet_type" and e.value.column == "low_grade"
    assert "double" in str(e.value)


def test_damaged_parquet_is_refused(tmp_path: Path) -> None:
    _put(tmp_path, "sel.parquet", b"PAR1 this is not parquet")
    with pytest.raises(DeliveryError) as e:
        read_contract_file(str(tmp_path), YEAR, "sel")
    assert e.value.rule == "file:parquet_unreadable"
