"""The fast paths of validation and ingest give exactly what the plain definitions give.

Each fast path (integer keys for uniqueness and enrolment, Arrow pseudonyms, the registered
Arrow check of a code's digits and the key check the models declare) is compared on random
data, with the awkward values that could tell them apart (the key separator inside a
value, leading zeros, non-ASCII digits, a trailing line break, very long numbers, missing
values), against the definition it replaces, written here the slow, obvious way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pandera.pandas import Check, DataFrameSchema

import schemas.base as base
import sqis.validation
from schemas import CONTRACT_MODELS
from schemas.base import (
    _uniqueness_errors,
    column_kinds,
    contract_schema,
    mask_student_ids,
    parse_columns,
)
from schemas.cross_file import students_enrolled
from sqis.ingest import _parquet_bytes, pseudonymised_frames
from sqis.pseudonym import pseudonymise, pseudonymise_arrow
from sqis.reading import read_contract_file
from sqis.validation import validate_delivery, validate_file
from tests.conftest import TEST_KEY
from tests.test_validation_corpus import YEAR, valid_year, write_year

AWKWARD = [
    "",
    "7",
    "07",
    "007",
    "1234567890",
    "0123456789",
    "a\x1fb",
    "a",
    "b\x1fa",
    "\x1f",
    "٣",
    "１２３４５６７８９０",
    "1234567890\n",
    "123456789012345678",
    "1234567890123456789012",
]


def _column(rng: np.random.Generator, n: int, vocab: list[str], missing: float = 0.05) -> pd.Series:
    values = rng.choice(np.array(vocab, dtype=object), n)
    values[rng.random(n) < missing] = None
    return pd.Series(values, dtype="str")


def _vocab(rng: np.random.Generator, awkward: bool) -> list[str]:
    plain = [str(int(x)) for x in rng.integers(0, 60, 40)]
    return plain + (AWKWARD if awkward else ["1234567890", "0123456789"])


# ---- uniqueness of a key ------------------------------------------------------------------


def _unique_reference(file: str, keys: list[str], typed: pd.DataFrame) -> pd.DataFrame:
    """The rule's definition: rows whose key, its parts' text joined by ``\\x1f``, repeats."""
    parts = [pa.array(typed[k].astype("str")).cast(pa.large_string()) for k in keys]
    joined = pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()))
    key = pd.Series(joined.to_pandas(types_mapper=pd.ArrowDtype).array, index=typed.index)
    dup = (key.duplicated(keep=False) & key.notna()).to_numpy(dtype=bool)
    if not dup.any():
        return base.empty_errors().iloc[:0]
    sub = typed.loc[dup, keys]
    shown = [
        mask_student_ids(sub[k].astype("str")) if k == "student_id" else sub[k].astype("str")
        for k in keys
    ]
    value = shown[0].fillna("")
    for part in shown[1:]:
        value = value + "|" + part.fillna("")
    return base.make_errors(file, sub.index, ",".join(keys), value, f"unique({', '.join(keys)})")


@pytest.mark.parametrize("seed", range(3))
def test_key_uniqueness_matches_the_joined_text_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(6):
        n = int(rng.integers(1, 800))
        awkward = trial % 2 == 0
        typed = pd.DataFrame(
            {
                "student_id": _column(rng, n, _vocab(rng, awkward)),
                "school_code": _column(rng, n, ["1", "01", "12345678901234", "x\x1f", "x"]),
                "subject": _column(rng, n, ["ELA", "MATH", "SCI"], 0.01),
                "wide": _column(rng, n, [str(x) for x in rng.integers(0, 10**6, 300)]),
                "grade": pd.array(rng.integers(0, 13, n), dtype="Int64"),
            },
            index=pd.RangeIndex(2, n + 2, name="row"),
        )
        if not awkward:  # no separator anywhere: the integer path
            typed["school_code"] = typed["school_code"].str.replace("\x1f", "", regex=False)
        for keys in (
            ["student_id"],
            ["student_id", "school_code"],
            ["student_id", "subject"],
            ["school_code", "subject", "student_id", "wide"],
            ["wide", "grade"],
        ):
            expected = _unique_reference("f", keys, typed)
            got = _uniqueness_errors("f", keys, typed)
            pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_keys_that_only_collide_when_joined_are_still_reported() -> None:
    typed = pd.DataFrame(
        {"student_id": ["1\x1f2", "1", "5"], "school_code": ["3", "2\x1f3", "6"]},
        index=pd.RangeIndex(2, 5),
    ).astype("str")
    got = _uniqueness_errors("students", ["student_id", "school_code"], typed)
    assert got["row"].tolist() == [2, 3]


# ---- enrolment across files ---------------------------------------------------------------


def _enrolled_reference(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows of assessments and SEL whose joined (student, school) text is not in students."""

    def key(f: pd.DataFrame) -> pa.Array:
        parts = [
            pa.array(f[c].astype("str")).cast(pa.large_string())
            for c in ("student_id", "school_code")
        ]
        return pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()))

    known = pc.unique(key(frames["students"])).drop_null()
    parts = []
    for name, rule in (("assessments", "assessment"), ("sel", "sel")):
        f = frames[name]
        present = (f["student_id"].notna() & f["school_code"].notna()).to_numpy(dtype=bool)
        found = pc.fill_null(pc.is_in(key(f), value_set=known), False).to_numpy(
            zero_copy_only=False
        )
        bad = present & ~found
        parts.append(
            base.make_errors(
                name,
                f.index[bad],
                "student_id",
                f["student_id"][bad],
                f"cross_file:{rule}_student_enrolled",
            )
        )
    return base.concat_errors(parts)


@pytest.mark.parametrize("seed", range(6))
def test_enrolment_matches_the_joined_text_definition(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for trial in range(15):
        ids = _vocab(rng, awkward=trial % 3 == 0)
        if trial % 3 == 1:  # digits of one width, with leading zeros
            ids = [f"{int(x):010d}" for x in rng.integers(0, 10**4, 50)]
        elif trial % 3 == 2:  # digits only, the same number at several widths
            ids = [*ids[:40], "7", "07", "007", "0", "00", "0123456789", "123456789"]
        schools = ["s1", "0001", "1", "b", "\x1fb", "12345678901234"][: int(rng.integers(1, 7))]
        n1, n2 = int(rng.integers(1, 400)), int(rng.integers(1, 400))
        st = pd.DataFrame(
            {"student_id": _column(rng, n1, ids), "school_code": _column(rng, n1, schools)}
        )
        other = pd.DataFrame(
            {"student_id": _column(rng, n2, ids), "school_code": _column(rng, n2, [*schools, "zz"])}
        )
        frames = {
            "students": st.set_axis(pd.RangeIndex(2, n1 + 2), axis=0),
            "assessments": other.set_axis(pd.RangeIndex(2, n2 + 2), axis=0),
            "sel": other.iloc[::-1].set_axis(pd.RangeIndex(2, n2 + 2), axis=0),
        }
        expected = _enrolled_reference(frames)
        pd.testing.assert_frame_equal(students_enrolled(frames, YEAR), expected)


# ---- pseudonyms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [b"k", TEST_KEY.encode(), b"x" * 64, b"y" * 65, bytes(range(200)), "é".encode() * 40]
)
def test_pseudonyms_are_the_hmac_of_each_id(key: bytes) -> None:
    rng = np.random.default_rng(len(key))
    cases = [
        [f"{int(x):010d}" for x in rng.integers(0, 10**10, 500)],  # one width: the number path
        [str(int(x)) for x in rng.integers(0, 10**6, 500)],  # mixed widths
        [*AWKWARD, "ünïcode"] * 3,
        [f"{int(x):018d}" for x in rng.integers(0, 10**17, 50)],
    ]
    for values in cases:
        ids = pd.Series(values + [None], dtype="str")
        got = pseudonymise(ids, key)
        expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]
        assert got.iloc[:-1].tolist() == expected
        assert pd.isna(got.iloc[-1]) and str(got.dtype) == "str"
        arrow = pseudonymise_arrow(pa.array(values, pa.large_string()), key)
        assert arrow.type == pa.large_string() and arrow.to_pylist() == expected


def test_stored_frames_are_byte_identical_to_pseudonymising_each_id(tmp_path: Path) -> None:
    """Ingest stores the same Parquet bytes as pseudonymising each ID one by one would."""
    write_year(tmp_path / "data", valid_year())
    report = validate_delivery(str(tmp_path / "data"), YEAR)
    assert report.ok
    key = TEST_KEY.encode()
    frames = pseudonymised_frames(report, key)
    for name, coerced in report.frames.items():
        expected = coerced.reset_index(drop=True)
        if "student_id" in expected.columns and name != "climate":
            digests = [
                hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
                for v in expected["student_id"]
            ]
            expected = expected.assign(
                student_id=pd.Series(np.array(digests, dtype=object), dtype="str")
            )
        assert _parquet_bytes(frames[name]) == _parquet_bytes(expected), name


# ---- the registered checks: what the plain definitions say ---------------------------------


def _with_regex_digit_checks(schema: DataFrameSchema) -> DataFrameSchema:
    """``schema`` with pandera's own ``str_matches(digits(n))`` wherever a model declares
    ``ascii_digits`` (the definition the fast check stands for)."""
    updates = {}
    for name, col in schema.columns.items():
        checks = [
            Check.str_matches(base.digits(c.statistics["n"])) if c.name == base.DIGITS_CHECK else c
            for c in col.checks
        ]
        if any(c.name == base.DIGITS_CHECK for c in col.checks):
            updates[name] = {"checks": checks}
    return schema.update_columns(updates) if updates else schema


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_digit_check_reports_what_the_regular_expression_reports(
    seed: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rng = np.random.default_rng(200 + seed)
    frames = valid_year()
    st = frames["students"]
    odd = ["１２３４５６７８９０", "1234567890\n", "123456789", "12345678901", "123456789a", ""]
    for _ in range(int(rng.integers(0, 4))):
        row = int(rng.integers(len(st)))
        column = ["student_id", "school_code"][int(rng.integers(2))]
        st.loc[row, column] = odd[int(rng.integers(len(odd)))]
    write_year(tmp_path, frames)
    raw = read_contract_file(str(tmp_path), YEAR, "students")
    fast = validate_file(raw)
    plain = sqis.validation.contract_schema
    monkeypatch.setattr(
        sqis.validation,
        "contract_schema",
        lambda model, present: _with_regex_digit_checks(plain(model, present)),
    )
    slow = validate_file(raw)
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])
    assert (fast[2] is None) == (slow[2] is None)
    if fast[2] is not None:
        pd.testing.assert_frame_equal(fast[2], slow[2])


@pytest.mark.parametrize("n", [7, 10, 14])
def test_ascii_digits_agrees_with_str_matches_on_awkward_values(n: int) -> None:
    rng = np.random.default_rng(n)
    values = [
        *AWKWARD,
        "1" * n,
        "0" * n,
        "1" * (n - 1),
        "1" * (n + 1),
        "1" * n + "\n",
        "１" * n,
        "٣" * n,
        " " + "1" * (n - 1),
        "+" + "1" * (n - 1),
        "-" + "1" * (n - 1),
        *[f"{int(x):0{n}d}" for x in rng.integers(0, 10**n - 1, 50, dtype=np.int64)],
    ]
    s = pd.Series([*values, None], dtype="str", index=pd.RangeIndex(2, len(values) + 3))
    fast = Check.ascii_digits(**base.n_digits(n))
    regex = Check.str_matches(base.digits(n))
    assert fast.error == regex.error == f"str_matches('^[0-9]{{{n}}}\\Z')"
    assert fast.statistics == {"n": n}
    got, expected = fast(s), regex(s)
    pd.testing.assert_series_equal(
        got.check_output.astype(bool), expected.check_output.astype(bool), check_names=False
    )
    assert got.failure_cases.tolist() == expected.failure_cases.tolist()
    assert got.failure_cases.index.tolist() == expected.failure_cases.index.tolist()


def test_the_models_declare_their_checks_and_nothing_removes_them() -> None:
    """Every key is a declared ``unique_key`` check (pandera's ``unique`` is never set), and
    the schema that validates a file is the model's, less only the columns it lacks."""
    for name, model in CONTRACT_MODELS.items():
        schema = model.to_schema()
        assert schema.unique is None, name
        keys = [c for c in schema.checks if c.name == base.KEY_CHECK]
        assert len(keys) == (0 if name == "schools" else 1), name  # schools: the code alone
        for k in keys:
            assert k.error == f"unique({', '.join(k.statistics['columns'])})"
        digit_columns = {
            c for c, col in schema.columns.items()
            if any(ch.name == base.DIGITS_CHECK for ch in col.checks)
        }  # fmt: skip
        assert "school_code" in digit_columns, name
        assert not any(
            ch.name == "str_matches"
            and re.fullmatch(r"\^\[0-9\]\{[0-9]+\}\\Z", ch.statistics["pattern"])
            for col in schema.columns.values()
            for ch in col.checks
        ), name
    students = CONTRACT_MODELS["students"]
    reduced = contract_schema(students, [c for c in column_kinds(students) if c != "school_code"])
    assert [c.error for c in reduced.checks] == ["unique(student_id, school_code)"]


def test_a_key_is_not_checked_without_all_its_columns() -> None:
    """``student_id`` repeats, but the key is (student, school) and the school column is
    missing: only ``column_missing`` (reported by validation) can be said."""
    students = CONTRACT_MODELS["students"]
    present = ["student_id", "grade"]
    raw = pd.DataFrame(
        {"student_id": ["1234567890", "1234567890"], "grade": ["3", "4"]},
        index=pd.RangeIndex(2, 4, name="row"),
    ).astype("str")
    typed, parse_errors = parse_columns("students", raw, column_kinds(students))
    coerced, errors = base.schema_errors(
        "students", contract_schema(students, present), typed, parse_errors, raw
    )
    assert len(errors) == 0 and coerced is not None
    full = raw.assign(school_code="12345678901234")
    typed, parse_errors = parse_columns("students", full, column_kinds(students))
    present = [*present, "school_code"]
    _, errors = base.schema_errors(
        "students", contract_schema(students, present), typed, parse_errors, full
    )
    assert errors[["row", "column", "value", "rule"]].values.tolist() == [
        [
            r,
            "student_id,school_code",
            "******7890|12345678901234",
            "unique(student_id, school_code)",
        ]
        for r in (2, 3)
    ]


# ---- memory: the delivered text is released once validated ------------------------------


def test_validated_files_keep_their_row_count_and_columns_without_their_text(
    tmp_path: Path,
) -> None:
    write_year(tmp_path, valid_year())
    report = validate_delivery(str(tmp_path), YEAR)
    students = report.files["students"]
    assert students.n_rows == 9 and len(students.frame) == 0
    assert students.columns == list(valid_year()["students"].columns)


def test_duplicated_keys_on_columns_read_in_several_chunks() -> None:
    """A large CSV comes back as chunked Arrow columns (a 6M-student year did): the fast
    path must read every chunk, and agree with the joined-text definition."""
    import pyarrow as pa
    from pandas.arrays import ArrowStringArray

    from schemas.base import _duplicated_keys

    def chunked(*parts: list[str]) -> pd.Series:
        return pd.Series(
            ArrowStringArray(pa.chunked_array([pa.array(p, pa.large_string()) for p in parts]))
        )

    frame = pd.DataFrame(
        {
            "student_id": chunked(["1", "2", "3"], ["1", "3"], ["2"]),
            "school_code": chunked(["x", "y", "y"], ["x", "x"], ["x"]),
        }
    )
    assert _duplicated_keys(frame, ["student_id", "school_code"]).tolist() == [
        True,
        False,
        False,
        True,
        False,
        False,
    ]
    # one key column, and a separator inside a part (the joined-text path)
    assert _duplicated_keys(frame, ["student_id"]).tolist() == [True, True, True, True, True, True]
    sep = pd.DataFrame(
        {"a": chunked(["p\x1f", "p"], ["p\x1f"]), "b": chunked(["q", "\x1fq"], ["q"])}
    )
    # the rule's definition is the joined text, and all three join to the same text
    parts = zip(["p\x1f", "p", "p\x1f"], ["q", "\x1fq", "q"], strict=True)
    joined = pd.Series([a + "\x1f" + b for a, b in parts]).duplicated(keep=False)
    assert _duplicated_keys(sep, ["a", "b"]).tolist() == joined.tolist() == [True, True, True]
