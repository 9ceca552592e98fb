"""The shared base of every contract model, and the step from delivered text to typed columns.

Why the design is so: a delivered file is read with every column as text
(``sqis.reading``), so that nothing is changed before it is checked. Each column is
then *parsed* to the type its model declares (``str``, ``int64``, ``float64``, flags
``Y``/``N`` → ``bool``); a value that does not parse is an error of its own (rule
``integer``, ``number`` or ``isin(['Y', 'N'])``) and becomes missing. The pandera model
then checks codes, ranges, nullability and key uniqueness on the typed frame, lazily
(every failure, not the first), with the frame's index holding the row number as
delivered, so that every failure names the row a person can find in the file.

Two of the models' checks are registered pandera checks (``pandera.extensions``) with a
vectorised Arrow implementation, because the plain ones are slow on millions of rows: a
code or an ID of exactly ``n`` ASCII digits (``pa.Field(ascii_digits=n_digits(14))``, rule
``str_matches('^[0-9]{14}\\Z')``, as the regular expression it replaces) and the uniqueness
of a file's key (``unique_key = key_columns("student_id", "school_code")`` in the model's
``Config``, rule ``unique(student_id, school_code)``). The models declare them; nothing
edits a schema at run time.

Errors are a DataFrame with the columns of ``ERROR_COLUMNS``: ``file, row, column, value,
rule``. Student IDs in ``value`` are masked (``mask_student_ids``): the validation report
is shared with operations staff and must not carry raw IDs. So is any run of ten or more
digits elsewhere in a value, a column name or a message (a shifted row, a file delivered
without its header row), except a 14-digit school code; control characters are shown
escaped and very long values cut (``shown_values``, ``shown_name``).

Digits are ASCII digits: a pattern says ``[0-9]``, never ``\\d`` (which takes ``１２３``),
and ends with ``\\Z`` (``$`` also matches before a trailing line break).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc
from pandera import extensions

from schemas.limits import CONTROL_CHARACTERS, REPORT_MAX_VALUE_CHARS

ERROR_COLUMNS: tuple[str, ...] = ("file", "row", "column", "value", "rule")

# Columns that hold a raw student ID in the delivered files.
# Educator IDs (DATA_CONTRACT.md `educators`, `rosters`) are masked the same way.
STUDENT_ID_COLUMNS: frozenset[str] = frozenset({"student_id", "educator_id"})

# A run of ten or more digits (any script) inside a value, a name or a message: it may be a
# student ID, or hold one. A run of exactly 14 (a school code, not secret) is shown.
_DIGIT_RUN = re.compile(r"\d{10,}")
_SCHOOL_CODE_RUN = 14
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

FLAG_RULE = "isin(['Y', 'N'])"
INTEGER_RULE = "integer"
NUMBER_RULE = "number"
MISSING_RULE = "not_nullable"

# Arrow regular expressions (RE2: ``$`` is the end of the text, ``[0-9]`` ASCII digits).
# An integer: an optional sign and ASCII digits, as many as written (a value beyond the
# column's range is refused by the range rule, with the value as delivered).
_INT_RE = r"^[+-]?[0-9]+$"
# a decimal number, optionally with an exponent; not inf, nan or hexadecimal
_FLOAT_RE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"
# An integer with more significant digits than this parses as ±10**18: beyond every
# column's range (so it is refused as out of range, never wrapped or dropped).
_INT_DIGITS = 18


class ContractModel(pa.DataFrameModel):
    """Base of every contract model: exact columns (``strict``), types coerced on validation."""

    class Config:
        strict = True
        coerce = True


def column_kinds(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Each column of a model and its kind: ``str``, ``int``, ``float`` or ``flag``."""
    return dict(_column_kinds(model))


@functools.cache
def _column_kinds(model: type[pa.DataFrameModel]) -> tuple[tuple[str, str], ...]:
    kinds: list[tuple[str, str]] = []
    for name, col in model.to_schema().columns.items():
        dtype = str(col.dtype).lower()
        if dtype.startswith("int"):
            kinds.append((name, "int"))
        elif dtype.startswith("float"):
            kinds.append((name, "float"))
        elif dtype in ("bool", "boolean"):
            kinds.append((name, "flag"))
        else:
            kinds.append((name, "str"))
    return tuple(kinds)


def empty_errors() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": pd.Series([], dtype="str"),
            "row": pd.Series([], dtype="Int64"),
            "column": pd.Series([], dtype="str"),
            "value": pd.Series([], dtype="str"),
            "rule": pd.Series([], dtype="str"),
        }
    )


_EMPTY = empty_errors()


def make_errors(
    file: str, rows: pd.Index | np.ndarray | list, column: str, values: object, rule: str
) -> pd.DataFrame:
    """Error rows for one rule: the same file, column and rule, one row per failing row."""
    rows = pd.Index(rows)
    n = len(rows)
    if n == 0:
        return _EMPTY  # shared and never mutated: callers concatenate, never edit it
    if isinstance(values, pd.Series | pd.Index | np.ndarray | list):
        vals = pd.Series(list(values) if isinstance(values, list) else np.asarray(values))
    else:
        vals = pd.Series([values] * n)
    vals = shown_values(vals, column in STUDENT_ID_COLUMNS)
    return pd.DataFrame(
        {
            "file": pd.Series([file] * n, dtype="str"),
            "row": pd.array(np.asarray(rows, dtype="int64"), dtype="Int64"),
            "column": pd.Series([column] * n, dtype="str"),
            "value": vals.reset_index(drop=True),
            "rule": pd.Series([rule] * n, dtype="str"),
        }
    )


def shown_values(values: pd.Series, student_id: bool = False) -> pd.Series:
    """Values as a report shows them: student IDs masked (the whole value in a student ID
    column; elsewhere any run of ten or more digits, in any script, but a school code's 14:
    a student ID in the wrong column, a shifted row), control characters escaped
    (``\\x00``), and a value over ``REPORT_MAX_VALUE_CHARS`` cut, with its length. A few
    Arrow passes; the per-value work runs only on the values that need it (usually none)."""
    vals = values.astype("str").fillna("")
    if student_id:
        vals = mask_student_ids(vals)
    arr = _one_array(pa_.array(vals.array, pa_.large_string()))
    need = np.zeros(len(vals), dtype=bool) if student_id else _has_digit_run(arr)
    need |= np.asarray(pc.fill_null(pc.match_substring_regex(arr, CONTROL_CHARACTERS), False))
    longer = pc.greater(pc.utf8_length(arr), REPORT_MAX_VALUE_CHARS)
    need |= np.asarray(pc.fill_null(longer, False))
    if need.any():
        shown = [_shown_one(v, not student_id) for v in vals[need]]  # the few that need it
        vals = vals.copy()
        vals[need] = pd.Series(shown, index=vals.index[need], dtype="str")
    return vals


def _shown_one(text: str, mask: bool, cut: bool = True) -> str:
    n = len(text)
    if mask:
        text = mask_text(text)
    text = re.sub(CONTROL_CHARACTERS, lambda m: repr(m.group())[1:-1], text)
    if cut and n > REPORT_MAX_VALUE_CHARS:
        text = text[:REPORT_MAX_VALUE_CHARS] + f"… ({n:,} characters)"
    return text


def _has_digit_run(arr: pa_.Array) -> np.ndarray:
    """Which values hold a run of ten digits (any script) and are not exactly a school code
    (14 ASCII digits): the few ``mask_text`` must look at. The regular expression runs
    only on the values that are not plain school codes (in a large report, few)."""
    code = pc.and_(pc.ascii_is_decimal(arr), pc.equal(pc.binary_length(arr), _SCHOOL_CODE_RUN))
    rest = np.flatnonzero(~np.asarray(pc.fill_null(code, False), dtype=bool))
    out = np.zeros(len(arr), dtype=bool)
    if len(rest):
        sub = arr.take(pa_.array(rest))
        run = np.asarray(pc.fill_null(pc.match_substring_regex(sub, r"\p{Nd}{10}"), False))
        out[rest[run]] = True
    return out


def mask_text(text: str) -> str:
    """``text`` with every run of ten or more digits masked to its last four
    (``******1234``), except a run of exactly 14 (a school code)."""

    def one(m: re.Match[str]) -> str:
        run = m.group()
        return run if len(run) == _SCHOOL_CODE_RUN else "******" + run[-4:]

    return _DIGIT_RUN.sub(one, text)


def visible_text(text: str) -> str:
    """A message or a delivered file name for a report or the console: ID-like digits
    masked (``mask_text``), control characters escaped; never cut."""
    return _shown_one(text, mask=True, cut=False)


def shown_name(name: object) -> str:
    """A delivered column (or file) name as a report shows it: as is when it is a plain
    name (``nickname``); otherwise quoted with ``repr`` so that a space, a byte-order mark
    or a control character is visible (``'school_code '``). ID-like digits are masked and
    a very long name is cut."""
    text = mask_text(str(name))
    if _PLAIN_NAME.fullmatch(text) and len(text) <= REPORT_MAX_VALUE_CHARS:
        return text
    return quoted_name(name)


def quoted_name(name: object) -> str:
    """A delivered name for a message: always quoted (``'school_code '``), masked and cut."""
    text = mask_text(str(name))
    if len(text) > REPORT_MAX_VALUE_CHARS:
        return repr(text[:REPORT_MAX_VALUE_CHARS]) + f"… ({len(text):,} characters)"
    return repr(text)


def concat_errors(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return empty_errors()
    out = pd.concat(parts, ignore_index=True)
    return out[list(ERROR_COLUMNS)]


def listed_errors(errors: pd.DataFrame, describe: Callable[[Any], str], shown: int = 20) -> str:
    """The first ``shown`` errors of an error frame, one indented line each — ``<file> row
    <n>, column <c>`` (``header`` for a file-level one) followed by ``describe(row)``, the
    value and rule as the message words them — and how many more there are."""
    lines = []
    for r in errors.head(shown).itertuples(index=False):
        where = f"row {r.row}" if not pd.isna(r.row) else "header"
        col = f", column {r.column}" if r.column else ""
        lines.append(f"{r.file} {where}{col}{describe(r)}")
    more = f"\n  … and {len(errors) - shown} more" if len(errors) > shown else ""
    return "\n  " + "\n  ".join(lines) + more


def mask_student_ids(values: pd.Series) -> pd.Series:
    """Show only the last four characters of an ID (``******1234``); short values fully masked."""
    v = values.astype("str").fillna("")
    n = v.str.len()
    keep = v.str[-4:].where(n > 4, "")
    stars = pd.Series(np.where(n > 4, "******", np.where(n > 0, "****", "")), index=v.index)
    return (stars + keep).astype("str")


def _cast_if_all_valid(arr: pa_.Array, to: pa_.DataType) -> pa_.Array | None:
    """``arr`` cast to ``to`` when every value is a plain decimal number, else ``None``.

    Arrow's cast is stricter than Python's (no blanks, no ``_``) but reads ``0x10`` as an
    integer and ``inf``/``nan`` as floats: those are excluded here, so the result is the
    same as the regular-expression path below, only faster.
    """
    if arr.null_count:
        return None
    try:
        out = pc.cast(arr, to)
    except (pa_.ArrowInvalid, pa_.ArrowNotImplementedError):
        return None
    if pa_.types.is_integer(to):
        digits_only = pc.ascii_is_decimal(pc.utf8_ltrim(arr, characters="-"))
        return out if pc.all(digits_only).as_py() else None
    return out if pc.all(pc.is_finite(out)).as_py() else None


def _integer_text(text: pa_.Array) -> pa_.Array:
    """Integer text (``_INT_RE``, or null) as Arrow's cast reads it: without a ``+`` sign,
    and ``±10**18`` where more than ``_INT_DIGITS`` significant digits are written."""
    text = pc.utf8_ltrim(text, characters="+")
    significant = pc.utf8_ltrim(pc.utf8_ltrim(text, characters="-"), characters="0")
    huge = pc.fill_null(pc.greater(pc.utf8_length(significant), _INT_DIGITS), False)
    if not pc.any(huge).as_py():
        return text
    negative = pc.fill_null(pc.starts_with(text, "-"), False)
    bound = pc.if_else(negative, "-1" + "0" * _INT_DIGITS, "1" + "0" * _INT_DIGITS)
    return pc.if_else(huge, pc.cast(bound, text.type), text)


def _arrow_numbers(s: pd.Series, pattern: str, to: pa_.DataType) -> tuple[pd.Series, pd.Series]:
    """Which values match ``pattern``, and those values cast to ``to`` (nullable), via Arrow.

    pyarrow's regex and cast kernels are an order of magnitude faster than
    ``pd.to_numeric`` on millions of strings.
    """
    arr = pa_.array(s.astype("str"))
    mapper = {pa_.int64(): pd.Int64Dtype(), pa_.float64(): pd.Float64Dtype()}.get
    fast = _cast_if_all_valid(arr, to)  # the usual case: every value is fine
    if fast is not None:
        ok_all = pd.Series(True, index=s.index)
        return ok_all, pd.Series(fast.to_pandas(types_mapper=mapper).array, index=s.index)
    ok = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    text = pc.if_else(ok, arr, pa_.scalar(None, arr.type))
    if pa_.types.is_integer(to):
        text = _integer_text(text)
    num = pc.cast(text, to)  # the pattern admits only what the cast reads (a fuzz test)
    ok_s = pd.Series(ok.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)
    return ok_s, pd.Series(num.to_pandas(types_mapper=mapper).array, index=s.index)


def parse_columns(
    file: str, raw: pd.DataFrame, kinds: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Delivered text → typed columns (nullable while unchecked), and the parse failures.

    An empty field is missing (NA). A field that does not parse as its column's kind is
    a failure (rules ``integer``, ``number``, ``isin(['Y', 'N'])``) and becomes missing,
    so the model's own checks do not report it twice.
    """
    out: dict[str, pd.Series] = {}
    errors: list[pd.DataFrame] = []
    for name, kind in kinds.items():
        if name not in raw.columns:
            continue
        s = raw[name].astype("str")
        empty = s.fillna("") == ""
        if kind == "str":
            out[name] = s.where(~empty)
        elif kind == "flag":
            is_y = s == "Y"
            ok = is_y | (s == "N")
            bad = ~ok & ~empty
            errors.append(make_errors(file, s.index[bad], name, s[bad], FLAG_RULE))
            out[name] = pd.Series(
                pd.array(is_y.to_numpy(dtype=bool), dtype="boolean"), index=s.index
            ).where(ok)
        elif kind == "int":
            ok, num = _arrow_numbers(s, _INT_RE, pa_.int64())
            bad = ~ok & ~empty
            errors.append(make_errors(file, s.index[bad], name, s[bad], INTEGER_RULE))
            out[name] = num
        else:  # float
            ok, num = _arrow_numbers(s, _FLOAT_RE, pa_.float64())
            bad = ~ok & ~empty
            errors.append(make_errors(file, s.index[bad], name, s[bad], NUMBER_RULE))
            out[name] = num.astype("float64")
    frame = pd.DataFrame(out, index=raw.index)
    return frame, concat_errors(errors)


def contract_schema(
    model: type[pa.DataFrameModel], present: list[str] | None = None
) -> pa.DataFrameSchema:
    """A model's schema, reduced to the columns ``present`` (a missing column is reported
    apart; a key with a missing column is not checked, ``unique_key``)."""
    schema = model.to_schema()
    if present is None:
        return schema
    absent = [c for c in schema.columns if c not in present]
    return schema.remove_columns(absent) if absent else schema


def schema_errors(
    file: str,
    schema: pa.DataFrameSchema,
    typed: pd.DataFrame,
    parse_errors: pd.DataFrame,
    raw: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Run a schema lazily; its failures in the error format (coercion noise dropped).

    Returns the coerced frame when it validates, else ``None``, and the failures. With
    ``raw`` (the delivered text, same index), a failing value is shown as delivered
    (``1e999``, ``-0.0``, ``+7``), not as parsed (``inf``, ``0``, ``7``). A key that
    repeats (``unique_key``) is reported once per row, naming the key's columns and
    showing its parts (``******1234|12345678901234``).
    """
    try:
        return schema.validate(typed, lazy=True), empty_errors()
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        key_checks = [err for err in e.schema_errors if _is_key_check(err.check)]
    parts: list[pd.DataFrame] = [
        _key_errors(file, err.check.statistics["columns"], typed, err.check_output)
        for err in key_checks
    ]
    key_rules = {err.check.error for err in key_checks}
    fc = fc[~fc["check"].astype("str").str.match(r"^(coerce_dtype|dtype)\(")]
    fc = fc[fc["index"].notna()]
    wide = (fc["schema_context"] == "DataFrameSchema").to_numpy()
    for check, g in fc[wide].groupby("check", sort=False):  # a row-wise check: once per row
        if check in key_rules:
            continue  # its rows are in its output (``_key_errors``); pandera lists one
        rows = pd.Index(sorted(set(g["index"].astype("int64"))))
        parts.append(make_errors(file, rows, "", "", str(check)))
    for (column, check), g in fc[~wide].groupby(["column", "check"], sort=False):
        rule = "unique" if check == "field_uniqueness" else str(check)
        rows = g["index"].astype("int64")
        values = g["failure_case"]
        if raw is not None and column in raw.columns:
            values = raw[column].reindex(pd.Index(rows.to_numpy())).reset_index(drop=True)
        parts.append(make_errors(file, rows, str(column), values, rule))
    errors = concat_errors(parts)
    if len(parse_errors) and len(errors):
        seen = pd.MultiIndex.from_frame(parse_errors[["row", "column"]].astype({"row": "int64"}))
        where = pd.MultiIndex.from_frame(errors[["row", "column"]].astype({"row": "int64"}))
        errors = errors[~(where.isin(seen) & (errors["rule"] == MISSING_RULE).to_numpy())]
    return None, errors


# ---- the registered checks ----------------------------------------------------------------
# pandera's extension API (``pandera.extensions.register_check_method``): each is a check
# method of ``pa.Check``, with its statistics, that a model declares like a built-in one.

DIGITS_CHECK = "ascii_digits"
KEY_CHECK = "unique_key"


def ascii_digits(values: pd.Series, *, n: int) -> pd.Series:
    """True where a text value is exactly ``n`` ASCII digits: what ``str_matches`` with
    ``digits(n)`` (``^[0-9]{n}\\Z``) says, in one Arrow pass instead of a regular
    expression per value (millions of IDs and codes). Not ``１２３``, not a trailing line
    break: a byte beyond ASCII is not a decimal digit, and ``n`` digits are ``n`` bytes."""
    arr = _one_array(pa_.array(values.astype("str").array, pa_.large_string()))
    ok = pc.and_(pc.ascii_is_decimal(arr), pc.equal(pc.binary_length(arr), n))
    return pd.Series(np.asarray(pc.fill_null(ok, False), dtype=bool), index=values.index)


def n_digits(n: int) -> dict[str, object]:
    """A field of exactly ``n`` ASCII digits: ``pa.Field(ascii_digits=n_digits(14))``.

    The rule (the check's ``error``) is the one pandera's ``str_matches(digits(n))`` has,
    ``str_matches('^[0-9]{14}\\Z')``: the report reads as before the check was fast.
    """
    return {"n": n, "error": f"str_matches('{digits(n)}')"}


def unique_key(frame: pd.DataFrame, *, columns: list[str]) -> pd.Series:
    """True where a row's key (``columns``) is not repeated: every part present and no
    other row with the same parts (``_duplicated_keys``: one hashed key, not pandera's
    ``unique``). A key with a column the file lacks is not checked: the missing column is
    reported (``column_missing``) and the key cannot be told."""
    if any(c not in frame.columns for c in columns):
        return pd.Series(True, index=frame.index)
    return pd.Series(~_duplicated_keys(frame, list(columns)), index=frame.index)


def key_columns(*columns: str) -> dict[str, object]:
    """A model's key: ``unique_key = key_columns("student_id", "school_code")`` in its ``Config``.

    Rule ``unique(student_id, school_code)``. Its failing rows are read from the check's
    output (``schema_errors``), so pandera lists one example only (``n_failure_cases``)
    rather than every column of every repeated row; a row with a missing part is never a
    repeat (``not_nullable`` reports it), so pandera's own handling of missing values is
    not needed (``ignore_na``).
    """
    return {
        "columns": list(columns),
        "error": f"unique({', '.join(columns)})",
        "n_failure_cases": 1,
        "ignore_na": False,
    }


def _is_key_check(check: object) -> bool:
    return isinstance(check, pa.Check) and check.name == KEY_CHECK


if not hasattr(pa.Check, DIGITS_CHECK):  # registered once per process
    extensions.register_check_method(ascii_digits, statistics=["n"], supported_types=pd.Series)
if not hasattr(pa.Check, KEY_CHECK):
    extensions.register_check_method(
        unique_key, statistics=["columns"], supported_types=pd.DataFrame
    )


def _uniqueness_errors(file: str, keys: list[str], typed: pd.DataFrame) -> pd.DataFrame:
    """Every row whose key (``keys``) repeats, rule ``unique(k1, k2, …)``; keys with a missing
    part are left to ``not_nullable``."""
    dup = _duplicated_keys(typed, keys)
    if not dup.any():
        return _EMPTY
    return _key_errors(file, keys, typed, pd.Series(~dup, index=typed.index))


def _key_errors(
    file: str, keys: list[str], typed: pd.DataFrame, passed: pd.Series | None
) -> pd.DataFrame:
    """The rows where ``passed`` (``unique_key``'s output) is False, rule ``unique(k1, k2, …)``,
    column ``k1,k2,…``, value the key's parts joined by ``|`` (student IDs masked)."""
    if passed is None:  # the check itself failed to run: never let that pass as valid
        raise RuntimeError(f"{file}: the key's uniqueness could not be checked")
    keys = list(keys)
    rows = passed.index[~passed.to_numpy(dtype=bool)]
    if not len(rows):
        return _EMPTY
    sub = typed.loc[rows, keys]
    shown = [
        mask_student_ids(sub[k].astype("str")) if k in STUDENT_ID_COLUMNS else sub[k].astype("str")
        for k in keys
    ]
    value = shown[0].fillna("")
    for part in shown[1:]:
        value = value + "|" + part.fillna("")
    return make_errors(file, sub.index, ",".join(keys), value, f"unique({', '.join(keys)})")


_KEY_SEP = "\x1f"


def _duplicated_keys(typed: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Which rows share their key (every part present, as text) with another row.

    The key is the parts' text joined by ``\\x1f`` (``_joined_duplicates``). That is exact
    but hashes millions of strings; instead each row gets a 64-bit hash of its parts (a
    code per text value: the number itself for digit codes and IDs) and the hashes are
    sorted: rows whose hash is unique cannot repeat their key, and the few others (in a
    valid file, none) are compared by their joined text. Where a part holds the separator
    itself (two different keys could join to the same text) the joined text is compared
    throughout.
    """
    texts = [_one_array(pa_.array(typed[k].astype("str").array, pa_.large_string())) for k in keys]
    if len(keys) > 1 and any(_may_hold_separator(t) for t in texts):
        return _joined_duplicates(texts, typed.index)
    present = np.ones(len(typed), dtype=bool)
    hashed = np.zeros(len(typed), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for t in texts:
            present &= ~np.asarray(t.is_null(), dtype=bool)
            hashed = hashed * np.uint64(0x9E3779B97F4A7C15) + _text_codes(t)
    candidates = hashed[present]
    candidates.sort()
    repeated = candidates[1:][candidates[1:] == candidates[:-1]]
    if not len(repeated):
        return np.zeros(len(typed), dtype=bool)
    maybe = present & np.isin(hashed, np.unique(repeated))
    out = np.zeros(len(typed), dtype=bool)
    rows = np.flatnonzero(maybe)
    out[rows] = _joined_duplicates([t.take(pa_.array(rows)) for t in texts], None)
    return out


def _one_array(text: pa_.Array | pa_.ChunkedArray) -> pa_.Array:
    """One contiguous array (a large file is read in several chunks)."""
    return text.combine_chunks() if isinstance(text, pa_.ChunkedArray) else text


def _text_codes(text: pa_.LargeStringArray) -> np.ndarray:
    """A ``uint64`` per value, equal for equal text (nulls: any value; they are excluded)."""
    if len(text) and pc.all(pc.ascii_is_decimal(text), skip_nulls=True).as_py() is not False:
        longest = pc.max(pc.binary_length(text)).as_py() or 0
        if longest <= 18:  # fits int64
            return pc.fill_null(pc.cast(text, pa_.int64()), 0).to_numpy().view(np.uint64)
    codes = pc.fill_null(pc.dictionary_encode(text).indices, 0)
    return codes.to_numpy().astype(np.uint64)


def _joined_duplicates(texts: list[pa_.Array], index: pd.Index | None) -> np.ndarray:
    """Duplicated keys by their joined text (null where a part is missing: never a duplicate)."""
    joined = pc.binary_join_element_wise(*texts, pa_.scalar(_KEY_SEP, pa_.large_string()))
    key = pd.Series(joined.to_pandas(types_mapper=pd.ArrowDtype).array, index=index)
    return (key.duplicated(keep=False) & key.notna()).to_numpy(dtype=bool)


def _may_hold_separator(text: pa_.LargeStringArray) -> bool:
    """Whether the key separator byte occurs in the array's character data (a quick scan)."""
    data = text.buffers()[2]
    return data is not None and bool((np.frombuffer(data, np.uint8) == 0x1F).any())


# Free text (names, survey IDs): no control characters, and no longer than the results
# store can hold (``schemas.limits``). Models attach these with ``@pa.check``.
CONTROL_RULE = "no_control_characters"


def max_length_rule(n: int) -> str:
    return f"max_length({n})"


def no_control_characters(values: pd.Series) -> pd.Series:
    """True where a text value holds no control character (C0, DEL, C1)."""
    return ~values.str.contains(CONTROL_CHARACTERS, regex=True)


def at_most(values: pd.Series, n: int) -> pd.Series:
    """True where a text value has at most ``n`` characters."""
    return values.str.len() <= n


def year_pattern() -> str:
    """The regular expression of a school year as the contract writes it (``2015-16``)."""
    return r"^[0-9]{4}-[0-9]{2}\Z"


def digits(n: int) -> str:
    """Exactly ``n`` ASCII digits and nothing after (not ``１２３``, not a trailing ``\\n``)."""
    return rf"^[0-9]{{{n}}}\Z"
