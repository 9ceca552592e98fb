"""A year's student IDs as integer codes (sqis/student_keys.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqis.student_keys import student_keys, student_keys_linking
from sqis.yeardata import YearData
from tests.builders import assessment, make_year, school, student


def _year() -> YearData:
    return make_year(
        "2015-16",
        schools=[school("A"), school("B")],
        students=[student("s1", "A"), student("s2", "A"), student("s3", "B")],
        assessments=[assessment("s2", "A"), assessment("s3", "B"), assessment("s2", "A", "MATH")],
    )


def test_one_code_per_student_across_the_years_files() -> None:
    keys = student_keys(_year())
    st, a = keys["students"], keys["assessments"]
    assert len(set(st.tolist())) == 3
    assert a.tolist() == [st[1], st[2], st[1]]  # s2, s3, s2: the enrolment rows' codes
    assert len(keys["sel"]) == 0


def test_linking_another_year_codes_its_ids_in_the_same_dictionary() -> None:
    yd = _year()
    alone = student_keys(yd)
    keys, other = student_keys_linking(yd, pd.Series(["s3", "gone", "s1", "gone"], dtype="str"))
    for name in alone:  # the year's codes are the same with or without the other year
        np.testing.assert_array_equal(keys[name], alone[name])
    st = keys["students"]
    assert other[0] == st[2] and other[2] == st[0]
    assert other[1] == other[3] and other[1] not in set(st.tolist())


def test_year_keys_are_computed_once_and_linking_fills_them() -> None:
    """``YearKeys``: growth's linking pass gives the year's keys the districts reuse."""
    from sqis.student_keys import YearKeys

    yd = _year()
    shared = YearKeys(yd)
    keys, _ = shared.linking(pd.Series(["s3"], dtype="str"))
    assert shared.keys() is keys  # the linking pass is kept, not redone
    for name, codes in student_keys(yd).items():
        np.testing.assert_array_equal(codes, keys[name])


# ---- the codes ingest stores (student_keys.parquet) ------------------------------------


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic years with educator files, ingested into one store."""
    from sqis import ingest
    from sqis.synthetic import generate
    from tests.conftest import TEST_KEY

    root = tmp_path_factory.mktemp("keys")
    generate(root / "data", ["2013-14", "2014-15"], 2000, 2, 2013, "csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SQIS_PSEUDONYM_KEY", TEST_KEY)
        for year in ("2013-14", "2014-15"):
            ingest.ingest_year(str(root / "data"), year, store_root=str(root / "store"))
    return root / "store"


def _linking(
    yd: YearData, other: pd.Series
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    from sqis.student_keys import YearKeys

    shared = YearKeys(yd)
    keys, codes = shared.linking(other)
    return keys, shared.rosters(), codes


def test_stored_codes_are_the_codes_hashing_the_pseudonyms_gives(
    ingested: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest numbers the delivered IDs once (students, assessments, sel, rosters) and
    ``load_year`` hands the codes back; linking last year's IDs through them (and IDs new
    to the year, missing ones) gives every code hashing every pseudonym gives — without
    hashing the year's rows."""
    from sqis import groups as groups_mod
    from sqis import ingest

    cur = ingest.load_year("2014-15", str(ingested))
    prior = ingest.load_year("2013-14", str(ingested), only=("assessments",))
    assert cur.stored_keys is not None and cur.stored_keys.serves(cur)
    assert cur.rosters is not None and len(cur.rosters) > 0
    assert prior.stored_keys is None  # not every keyed file read: no codes
    other = pd.concat(
        [
            prior.assessments["student_id"],
            pd.Series(["new-1", None, cur.sel["student_id"].iloc[5], "new-1"], dtype="str"),
        ],
        ignore_index=True,
    )
    hashed = _linking(replace(cur, stored_keys=None), other)
    calls: list[int] = []
    real = groups_mod.shared_codes
    monkeypatch.setattr(
        groups_mod, "shared_codes", lambda *c: calls.append(sum(map(len, c))) or real(*c)
    )
    stored = _linking(cur, other)
    assert calls == []  # the year's pseudonyms were not hashed again
    for name in hashed[0]:
        np.testing.assert_array_equal(stored[0][name], hashed[0][name])
    np.testing.assert_array_equal(stored[1], hashed[1])  # the rosters'
    np.testing.assert_array_equal(stored[2], hashed[2])
    assert stored[2][-3] == -1 and stored[2][-4] == stored[2][-1] > stored[0]["students"].max()
    # last year's pseudonyms alone: linked by their 64-bit prefixes, the same codes
    from sqis import student_keys

    by_prefix = student_keys._linked_by_prefix
    answered: list[bool] = []
    monkeypatch.setattr(
        student_keys,
        "_linked_by_prefix",
        lambda y, t: answered.append((got := by_prefix(y, t)) is not None) or got,
    )
    last_year = prior.assessments["student_id"]
    np.testing.assert_array_equal(
        _linking(cur, last_year)[2], _linking(replace(cur, stored_keys=None), last_year)[2]
    )
    assert answered == [True]


def test_a_frame_replaced_since_is_hashed_not_given_the_stored_codes(ingested: Path) -> None:
    from sqis import ingest
    from sqis.student_keys import YearKeys

    cur = ingest.load_year("2014-15", str(ingested))
    moved = replace(cur, students=cur.students.iloc[::-1].reset_index(drop=True))
    assert moved.stored_keys is cur.stored_keys and not moved.stored_keys.serves(moved)
    keys = YearKeys(moved).keys()
    fresh = YearKeys(replace(moved, stored_keys=None)).keys()
    for name in fresh:
        np.testing.assert_array_equal(keys[name], fresh[name])
    assert not np.array_equal(keys["students"], cur.stored_keys.codes["students"])


def test_stored_codes_read_in_their_order_and_a_bad_codes_file_costs_a_hash_pass(
    ingested: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The codes file's rows are read in the files' order, whatever the order of the
    manifest's keys (found attacking: ``jq -S`` on delivery.json gave every file another's
    codes). A codes file missing, altered or of other rows is derived data: the year loads,
    its IDs are hashed, and a warning names the file. A year ingested before the codes
    were stored (no manifest entry) loads without them."""
    import json
    import shutil

    from sqis import ingest
    from sqis.student_keys import YearKeys

    store = tmp_path / "store"
    shutil.copytree(ingested, store)
    ydir = store / "validated" / "2014-15"
    manifest_file = ydir / "delivery.json"
    manifest = json.loads(manifest_file.read_text())
    assert list(manifest["student_keys"]["rows"]) == ["students", "assessments", "sel", "rosters"]
    manifest_file.write_text(json.dumps(manifest, sort_keys=True))  # rows: a, r, sel, s
    cur = ingest.load_year("2014-15", str(store))
    assert cur.stored_keys is not None
    hashed = YearKeys(replace(cur, stored_keys=None))
    for name, codes in YearKeys(cur).keys().items():
        np.testing.assert_array_equal(codes, hashed.keys()[name])
    np.testing.assert_array_equal(YearKeys(cur).rosters(), hashed.rosters())

    keys_file = ydir / "student_keys.parquet"
    blob = keys_file.read_bytes()
    for damage in (blob + b"x", None):
        if damage is None:
            keys_file.unlink()
        else:
            keys_file.write_bytes(damage)
        caplog.clear()
        with caplog.at_level("WARNING", logger="sqis.ingest"):
            damaged = ingest.load_year("2014-15", str(store))
        assert damaged.stored_keys is None
        assert "student_keys.parquet" in caplog.text and "hashed instead" in caplog.text
        np.testing.assert_array_equal(
            YearKeys(damaged).keys()["students"], hashed.keys()["students"]
        )
    del manifest["student_keys"]
    manifest_file.write_text(json.dumps(manifest))
    caplog.clear()
    old = ingest.load_year("2014-15", str(store))
    assert old.stored_keys is None and "student_keys" not in caplog.text
    assert len(_linking(old, old.students["student_id"])[2]) == len(old.students)


def _by_text(year: list[str], theirs: list[str]) -> np.ndarray:
    """The single hash pass ``_linked`` stands for: the year's distinct IDs, then theirs."""
    import pyarrow as pa

    enc = pa.chunked_array([pa.array(year, pa.large_string()), pa.array(theirs, pa.large_string())])
    return enc.dictionary_encode().chunk(1).indices.to_numpy().astype(np.int64)


def test_linking_by_64_bit_prefixes_is_the_text_pass_or_declines() -> None:
    """Last year's pseudonyms link by their first 16 hex digits, every match confirmed byte
    for byte; two IDs sharing a prefix (the year's, or one of theirs with one of the
    year's), or text that is not a 64-digit pseudonym, and the text decides instead."""
    import hashlib

    import pyarrow as pa

    from sqis.student_keys import _linked_by_prefix

    def pseudonym(i: int) -> str:
        return hashlib.sha256(str(i).encode()).hexdigest()

    year = [pseudonym(i) for i in range(500)]
    theirs = [pseudonym(i) for i in (3, 900, 7, 900, 499, 901, 0)]

    def linked(y: list[str], t: list[str]) -> np.ndarray | None:
        return _linked_by_prefix(pa.array(y, pa.large_string()), pa.array(t, pa.large_string()))

    got = linked(year, theirs)
    assert got is not None
    np.testing.assert_array_equal(got, _by_text(year, theirs))
    assert got.tolist() == [3, 500, 7, 500, 499, 501, 0]

    twin = year[3][:16] + year[4][16:]  # year 3's key, another ID
    assert linked(year, [*theirs, twin]) is None
    assert linked([*year, twin], theirs) is None
    assert linked(year, ["s1", *theirs]) is None  # not a pseudonym
    assert linked(year, [year[1].upper()]) is None  # not lower-case hex
