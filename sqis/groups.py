"""Student groups (METHODOLOGY.md "Student groups").

A student is in ``ALL``, in their race/ethnicity group (none for ``NR``) and in every
program group whose flag is set: ``EL`` (el_status ``EL`` in the students file; the
graduation file's own ``el`` flag), ``SWD``, ``SED``, ``FOS`` (foster), ``HOM``
(homeless). Only the groups the methodology lists (``student_groups``) are formed.

Membership is long form: one row per (input row, group). The fast form used by the
indicators is a pair of integer arrays (input row position, group code), built with
boolean masks and ``np.nonzero``, never a loop over students.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sqis import codes
from sqis.methodology import Methodology


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A flag column as a plain bool array (missing counts as not set)."""
    col = frame[column]
    if col.dtype == bool:
        return col.to_numpy()
    return col.fillna(False).astype(bool).to_numpy()


def group_bits(frame: pd.DataFrame, m: Methodology, *, graduation: bool = False) -> np.ndarray:
    """Each row's student groups as a bit mask: bit i set = in ``m.student_groups[i]``.

    ``frame`` is a students-like frame (``race_ethnicity``, ``el_status``, ``swd``, ``sed``,
    ``foster``, ``homeless``) or, with ``graduation=True``, a graduation-like frame whose
    ``el`` flag places a student in ``EL``. A row's bits travel with it to the rows
    linked to it (assessments, surveys), so groups are decided once per enrolment.
    """
    n = len(frame)
    bits = np.zeros(n, dtype=np.int64)
    if n == 0:
        return bits
    race_groups = [g for g in m.student_groups if g in codes.RACE_GROUPS]
    race_code = positions_in(frame["race_ethnicity"], race_groups)
    race_bit = np.array([1 << m.student_groups.index(g) for g in race_groups] + [0], dtype=np.int64)
    bits |= race_bit[race_code]  # code -1 (NR or a group not formed) picks the trailing 0
    for i, g in enumerate(m.student_groups):
        if g == "ALL":
            bits |= np.int64(1 << i)
        elif g == "EL":
            el = _flag(frame, "el") if graduation else is_in(frame["el_status"], ["EL"])
            bits |= np.where(el, np.int64(1 << i), np.int64(0))
        elif g in codes.PROGRAM_GROUPS:
            bits |= np.where(_flag(frame, codes.PROGRAM_GROUPS[g]), np.int64(1 << i), np.int64(0))
        elif g not in codes.RACE_GROUPS:  # the methodology model refuses unknown groups
            raise ValueError(f"unknown student group {g!r}")
    return bits


def membership_from_bits(bits: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, group codes) of every set bit, grouped by group code."""
    rows = [np.flatnonzero(bits & np.int64(1 << i)) for i in range(n_groups)]
    gcodes = [np.full(len(r), i, dtype=np.int64) for i, r in enumerate(rows)]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(gcodes)


def membership(
    frame: pd.DataFrame, m: Methodology, *, graduation: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(row positions, group codes) of every (row, group) membership.

    ``group code`` indexes ``m.student_groups``; see ``group_bits`` for the frames accepted.
    """
    return membership_from_bits(group_bits(frame, m, graduation=graduation), len(m.student_groups))


def _long(frame: pd.DataFrame, m: Methodology, graduation: bool) -> pd.DataFrame:
    rows, gcodes = membership(frame, m, graduation=graduation)
    order = np.lexsort((gcodes, rows))  # by input row, then group in methodology order
    rows, gcodes = rows[order], gcodes[order]
    groups = pd.Categorical.from_codes(gcodes, categories=list(m.student_groups))
    return pd.DataFrame({"student_group": groups}, index=frame.index[rows])


def student_groups(students: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Every student group of every enrolment row, long form (METHODOLOGY "Student groups").

    Returns one row per (enrolment, group): the index is the input's row index (repeated
    once per group), the column ``student_group`` (categorical, the methodology's groups).
    ``EL`` is el_status ``EL`` on census day.
    """
    return _long(students, m, graduation=False)


def graduation_groups(graduation: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Student groups of graduation-cohort rows, from the graduation file's own flags.

    As ``student_groups``, but ``EL`` is the file's ``el`` flag (held at any time in high
    school, California's cohort rule) and race is the file's ``race_ethnicity``.
    """
    return _long(graduation, m, graduation=True)


def arrow_strings(values: pd.Series | np.ndarray | list) -> pa.Array:
    """Values as an Arrow large_string array (zero-copy for pandas' Arrow-backed ``str``)."""
    arr = pa.array(values, from_pandas=True) if not isinstance(values, pa.Array) else values
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr


def _categorical(values: object) -> pd.Categorical | None:
    """``values`` as a ``pd.Categorical`` when they are one (a Series or the array)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return values.array  # type: ignore[return-value]
    return values if isinstance(values, pd.Categorical) else None


def categorical(values: pd.Series, dtype: pd.CategoricalDtype | None = None) -> pd.Categorical:
    """Text as a ``pd.Categorical`` by one Arrow hash pass (pandas would convert every value
    to a Python string first): categories ``dtype``'s (a value outside them is missing),
    else the distinct values, sorted."""
    enc = arrow_strings(values).dictionary_encode()
    codes_ = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    seen = enc.dictionary.to_pylist()
    if dtype is None:
        dtype = pd.CategoricalDtype(sorted(seen))
    remap = np.append(pd.Index(dtype.categories).get_indexer(seen), -1)
    return pd.Categorical.from_codes(remap[codes_], dtype=dtype)


def positions_in(values: pd.Series | np.ndarray, universe: pd.Series | np.ndarray) -> np.ndarray:
    """For each value, its position in ``universe`` (-1 where absent), by Arrow hashing
    (categorical values: their few categories are looked up, the codes taken)."""
    cat = _categorical(values)
    if cat is not None:
        at = np.append(positions_in(np.asarray(cat.categories, dtype=object), universe), -1)
        return at[cat.codes]  # code -1 (missing) picks the trailing -1
    idx = pc.index_in(arrow_strings(values), value_set=arrow_strings(universe))
    return pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def is_in(values: pd.Series | np.ndarray, universe: pd.Series | np.ndarray) -> np.ndarray:
    """Whether each value occurs in ``universe``, by Arrow hashing."""
    cat = _categorical(values)
    if cat is not None:
        return np.append(is_in(np.asarray(cat.categories, dtype=object), universe), False)[
            cat.codes
        ]
    out = pc.is_in(arrow_strings(values), value_set=arrow_strings(universe))
    return out.to_numpy(zero_copy_only=False).astype(bool)


def lookup(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> np.ndarray:
    """For each row of ``left``, the position of the row of ``right`` with the same ``on``
    values (-1 where none). ``right`` must be unique on ``on`` (the contract's keys are).

    Links an assessment, survey or later-year row to its enrolment row by integer codes
    (Arrow dictionary encoding, then one hash lookup), which is what keeps the indicators
    fast at a million students. A column that is already an integer code on both sides
    (``shared_codes``) is used as it is.
    """
    n_left = len(left)
    key_l = np.zeros(n_left, dtype=np.int64)
    key_r = np.zeros(len(right), dtype=np.int64)
    for c in on:
        cat_l, cat_r = _categorical(left[c]), _categorical(right[c])
        if pd.api.types.is_integer_dtype(left[c]) and pd.api.types.is_integer_dtype(right[c]):
            codes_l = left[c].to_numpy(dtype=np.int64)
            codes_r = right[c].to_numpy(dtype=np.int64)
            width = int(max(codes_l.max(initial=-1), codes_r.max(initial=-1))) + 2
        elif (
            cat_l is not None
            and cat_r is not None
            and cat_l.categories.equals(cat_r.categories)  # in the same order: equal codes
        ):
            codes_l = cat_l.codes.astype(np.int64)  # one dtype: one code per value
            codes_r = cat_r.codes.astype(np.int64)
            width = len(cat_l.categories) + 2
        else:
            codes_l, codes_r = shared_codes(left[c], right[c])
            width = int(max(codes_l.max(initial=-1), codes_r.max(initial=-1))) + 2
        key_l = key_l * width + codes_l
        key_r = key_r * width + codes_r
    index = pd.Index(key_r)
    if not index.is_unique:
        raise ValueError(
            f"rows to link to are not unique on ({', '.join(on)}): the contract requires it "
            "(is this a validated delivery? see DATA_CONTRACT.md)"
        )
    return index.get_indexer(key_l)


def shared_codes(*columns: pd.Series | np.ndarray) -> list[np.ndarray]:
    """The columns' strings as integer codes from one dictionary (equal strings, equal
    codes, across all of them; missing values -1), by one Arrow hash pass."""
    if not columns:
        return []
    # one hash table over the chunks, without concatenating them (6M students: GBs)
    arrays = [arrow_strings(c) for c in columns]
    enc = pa.chunked_array(arrays, pa.large_string()).dictionary_encode()
    codes_ = np.concatenate(
        [
            np.zeros(0, dtype=np.int64),
            *(
                pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                for chunk in enc.chunks
            ),
        ]
    )
    bounds = np.cumsum([0, *(len(a) for a in arrays)])  # empty chunks are not kept
    return [codes_[bounds[i] : bounds[i + 1]] for i in range(len(arrays))]


def first_positions(values: np.ndarray, universe: np.ndarray) -> np.ndarray:
    """For each integer value, the position of its first occurrence in ``universe`` (-1
    where absent): what ``positions_in`` gives for strings, for integer codes."""
    uniq, first = np.unique(universe, return_index=True)
    if len(uniq) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(uniq, values), len(uniq) - 1)
    return np.where(uniq[at] == values, first[at], -1).astype(np.int64)
