"""The fast paths of validation and ingest give exactly what the plain definitions give.

Each fast path (integer keys for uniqueness and enrolment, Arrow pseudonyms, skipping a
digit check that cannot fail) is compared on random data, with the awkward values that
could tell them apart (the key separator inside a value, leading zeros, non-ASCII digits,
a trailing line break, very long numbers, missing values), against the definition it
replaces, written here the slow, obvious way.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import schemas.base as base
from schemas import CONTRACT_MODELS
from schemas.base import _uniqueness_errors, mask_student_ids, parse_columns
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


# ---- the digit checks ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_skipping_digit_checks_that_cannot_fail_changes_no_failure(
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
    monkeypatch.setattr(base, "_without_passing_digit_checks", lambda schema, typed: schema)
    slow = validate_file(raw)
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])
    assert (fast[2] is None) == (slow[2] is None)
    if fast[2] is not None:
        pd.testing.assert_frame_equal(fast[2], slow[2])


def test_digit_check_is_skipped_only_when_every_value_is_plain_digits() -> None:
    schema = CONTRACT_MODELS["students"].to_schema()
    kinds = {"student_id": "str", "school_code": "str"}

    def checks(ids: list[str]) -> list[str]:
        raw = pd.DataFrame({"student_id": ids, "school_code": ["12345678901234"] * len(ids)})
        typed, _ = parse_columns("students", raw.astype("str"), kinds)
        reduced = base._without_passing_digit_checks(schema, typed)
        return [c.name for c in reduced.columns["student_id"].checks]

    assert checks(["1234567890", ""]) == []
    assert checks(["1234567890", "１２３４５６７８９０"]) == ["str_matches"]
    assert checks(["1234567890", "1234567890\n"]) == ["str_matches"]
    assert checks(["123456789"]) == ["str_matches"]


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
