"""A consortium's district peer-review ratings, imported at once (METHODOLOGY.md "District
peer review"; ``sqis review district import FILE``).

A CSV file (UTF-8, header row; the header is row 1) or a YAML file (a list of mappings,
or a mapping with the list under ``ratings``; entry *n* is row *n*), one row per district
and rubric item:

| column | rule |
|---|---|
| district_code | 7-digit district code, a district of the results the year follows from |
| item | an item code of the methodology's rubric (``district_review.items``) |
| self_rating | whole number on the rubric's scale (1–4), or empty (peer ratings only) |
| narrative, evidence | free text, required with a self-rating |
| peer_district_code | 7-digit code of ANOTHER district, required with a peer rating |
| peer_rating | whole number on the scale, or empty |
| comments | free text, required with a peer rating |
| | (district_code, item) unique; a district's rows self-rate every row or none, |
| | and then every item of the rubric |
| | every row gives a self-rating or a peer rating (``a_rating_is_required``); |
| | narrative/evidence only with a self-rating, peer code/comments only with a peer |
| | rating (``only_with_…``); white space alone is no text; text holds no control |
| | character but line breaks and tabs (``no_control_characters``) and at most |
| | 20,000 characters (``max_length(20000)``); a YAML cell is text |
| | (``value_must_be_text``); a CSV row has the header's number of fields |

Checked with the pandera model :class:`DistrictRatings` and the rules below it, every
problem at once (``file, row, column, value, rule``, as the validation report writes
them); the import stores nothing unless every row passes (``sqis.reviews``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import (
    ContractModel,
    column_kinds,
    concat_errors,
    contract_schema,
    key_columns,
    listed_errors,
    make_errors,
    n_digits,
    parse_columns,
    schema_errors,
    shown_name,
)
from schemas.limits import DISTRICT_CODE_DIGITS
from sqis.errors import SqisError
from sqis.methodology import DistrictReviewSpec

TEXT_RULE = "no_control_characters"
# free text may hold line breaks and tabs, never another control character
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
TEXT_MAX_CHARS = 20_000
LENGTH_RULE = f"max_length({TEXT_MAX_CHARS})"
TEXT_COLUMNS: tuple[str, ...] = ("narrative", "evidence", "comments")
NOT_TEXT_RULE = "value_must_be_text"


class RatingsImportInvalid(ValueError, SqisError):
    """An import file that does not pass: ``errors`` lists every problem (one per row)."""

    def __init__(self, file: str, errors: pd.DataFrame, shown: int = 20):
        self.file = file
        self.errors = errors
        listed = listed_errors(
            errors,
            lambda r: (f" (value {r.value!r})" if r.value else "") + f": rule {r.rule}",
            shown,
        )
        super().__init__(f"{file}: {len(errors)} problem(s), nothing imported{listed}")


class DistrictRatings(ContractModel):
    """One district × rubric item: self-rating, narrative, evidence; peer rating, comments."""

    district_code: Series[str] = pa.Field(ascii_digits=n_digits(DISTRICT_CODE_DIGITS))
    item: Series[str] = pa.Field(str_matches=r"^[A-Z][A-Z0-9_]{1,31}\Z")
    self_rating: Series[int] = pa.Field(nullable=True)
    narrative: Series[str] = pa.Field(nullable=True)
    evidence: Series[str] = pa.Field(nullable=True)
    peer_district_code: Series[str] = pa.Field(
        nullable=True, ascii_digits=n_digits(DISTRICT_CODE_DIGITS)
    )
    peer_rating: Series[int] = pa.Field(nullable=True)
    comments: Series[str] = pa.Field(nullable=True)

    class Config:
        unique_key = key_columns("district_code", "item")

    @pa.check(*TEXT_COLUMNS, name=TEXT_RULE, error=TEXT_RULE)
    def _printable(cls, values: Series[str]) -> Series[bool]:
        return ~values.str.contains(_CONTROL, regex=True)

    @pa.check(*TEXT_COLUMNS, name=LENGTH_RULE, error=LENGTH_RULE)
    def _not_too_long(cls, values: Series[str]) -> Series[bool]:
        return values.str.len() <= TEXT_MAX_CHARS


COLUMNS: tuple[str, ...] = tuple(column_kinds(DistrictRatings))
OPTIONAL: frozenset[str] = frozenset(
    {"narrative", "evidence", "peer_district_code", "peer_rating", "comments", "self_rating"}
)


def read_rows(path: str | Path) -> pd.DataFrame:
    """The file's cells as text, indexed by the row as delivered (CSV: the header is row 1;
    YAML: entry n is row n). :class:`RatingsImportInvalid` when it cannot be read at all."""
    p = Path(path)
    name = p.name
    try:
        data = p.read_bytes()
    except OSError as e:
        raise RatingsImportInvalid(
            name, _file_error(name, f"file:unreadable ({e.strerror})")
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RatingsImportInvalid(
            name, _file_error(name, f"file:not_utf8 (byte {e.start})")
        ) from None
    if not text.strip():
        raise RatingsImportInvalid(name, _file_error(name, "file:empty"))
    if p.suffix.lower() in (".yaml", ".yml"):
        frame = _yaml_rows(name, text)
    else:
        frame = _csv_rows(name, text)
    if frame.empty:
        raise RatingsImportInvalid(name, _file_error(name, "file:no_rows"))
    return frame


# a cell's problem found while reading (row, column, value as delivered, rule): listed with
# the other rows' errors by validate_ratings
_PROBLEMS = "problems"


def _yaml_rows(name: str, text: str) -> pd.DataFrame:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise RatingsImportInvalid(name, _file_error(name, "file:yaml_syntax")) from None
    if isinstance(doc, dict) and "ratings" in doc:
        doc = doc["ratings"]
    if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
        raise RatingsImportInvalid(name, _file_error(name, "file:expected_a_list_of_mappings"))
    problems: list[tuple[int, str, str, str]] = []
    records = []
    for n, x in enumerate(doc, start=1):
        rec = {}
        for k, v in x.items():
            if isinstance(v, list | dict | set | tuple):
                # a list or mapping is not a cell's text: never stored as Python's repr
                # (its cell is not blank: the row is not also one without that value)
                problems.append((n, str(k), type(v).__name__, NOT_TEXT_RULE))
                v = f"({type(v).__name__})"
            rec[str(k)] = _cell(v)
        records.append(rec)
    frame = pd.DataFrame(records).fillna("")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    frame.attrs[_PROBLEMS] = problems
    return frame


def _csv_rows(name: str, text: str) -> pd.DataFrame:
    import csv

    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        raise RatingsImportInvalid(name, _file_error(name, "file:csv_syntax")) from None
    header = lines[0] if lines else []
    if not any(h.strip() for h in header):
        raise RatingsImportInvalid(name, _file_error(name, "file:no_header"))
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise RatingsImportInvalid(
            name, concat_errors([_file_error(name, "column_duplicated", h) for h in twice])
        )
    problems: list[tuple[int, str, str, str]] = []
    rows, index = [], []
    width = len(header)
    for n, cells in enumerate(lines[1:], start=2):  # the header is row 1
        if len(cells) <= 1 and not "".join(cells).strip():
            continue  # a blank line (a row of empty fields is a row: it has the commas)
        if len(cells) != width:
            # never shift a row's cells into other columns: the row is an error
            why = f"fields_match_the_header (row {n} has {len(cells)} fields, the header {width})"
            problems.append((n, "", "", why))
            cells = (cells + [""] * width)[:width]
        rows.append(cells)
        index.append(n)
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(index, name="row"), dtype=str)
    frame.attrs[_PROBLEMS] = problems
    return frame


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "Y" if v else "N"
    return str(v)


def _given(raw: pd.DataFrame, column: str) -> pd.Series:
    """Rows whose cell in ``column`` holds more than white space."""
    if column not in raw.columns:
        return pd.Series(False, index=raw.index)
    return raw[column].astype(str).str.strip() != ""


def _file_error(file: str, rule: str, column: str = "") -> pd.DataFrame:
    err = make_errors(file, [0], column, "", rule)
    err["row"] = pd.array([pd.NA], dtype="Int64")
    return err


def validate_ratings(
    raw: pd.DataFrame, file: str, spec: DistrictReviewSpec, districts: set[str]
) -> pd.DataFrame:
    """The typed rows, or :class:`RatingsImportInvalid` listing every failing row (file, row,
    column, value, rule): the model's checks, then the rubric's and the districts'."""
    header = [str(c) for c in raw.columns]
    problems = list(raw.attrs.get(_PROBLEMS, []))
    parts = [
        _file_error(file, "column_missing", c)
        for c in COLUMNS
        if c not in header and c not in OPTIONAL
    ]
    parts += [
        _file_error(file, "column_unexpected", shown_name(c)) for c in header if c not in COLUMNS
    ]
    if any(c not in header for c in COLUMNS if c not in OPTIONAL):
        raise RatingsImportInvalid(file, concat_errors(parts))
    raw = raw.copy()
    for c in COLUMNS:
        if c not in raw.columns and c in OPTIONAL:
            raw[c] = ""
    kinds = column_kinds(DistrictRatings)
    present = [c for c in COLUMNS if c in raw.columns]
    typed, parse_errors = parse_columns(file, raw, kinds)
    coerced, check_errors = schema_errors(
        file, contract_schema(DistrictRatings, present), typed, parse_errors, raw
    )
    parts += [parse_errors, check_errors]
    t = typed
    lo, hi = spec.scale

    def rule(mask: Any, column: str, name: str) -> None:
        mask = pd.Series(mask, index=t.index).fillna(False).astype(bool)
        values = raw[column][mask] if column in raw.columns else ""
        parts.append(make_errors(file, t.index[mask], column, values, name))

    if "item" in t:
        rule(t["item"].notna() & ~t["item"].isin(spec.item_codes()), "item",
             f"isin({list(spec.item_codes())})")  # fmt: skip
    for col in ("self_rating", "peer_rating"):
        if col in t:
            v = t[col]
            rule(v.notna() & ((v < lo) | (v > hi)), col, f"in_range({lo}, {hi})")
    for col in ("district_code", "peer_district_code"):
        if col in t:
            rule(t[col].notna() & ~t[col].isin(sorted(districts)), col, "known_district")
    # a rating given, even one that does not parse (its own error says why): the rules
    # below follow what the row says, so "three" is not also a row without a rating
    has_self, has_peer = _given(raw, "self_rating"), _given(raw, "peer_rating")
    blank = {
        c: ~_given(raw, c) for c in ("narrative", "evidence", "peer_district_code", "comments")
    }
    rule(~has_self & ~has_peer, "self_rating", "a_rating_is_required (self_rating or peer_rating)")
    for col in ("narrative", "evidence"):
        rule(has_self & blank[col], col, "required_with_self_rating")
        rule(~has_self & ~blank[col], col, "only_with_self_rating")
    for col in ("peer_district_code", "comments"):
        rule(has_peer & blank[col], col, "required_with_peer_rating")
        rule(~has_peer & ~blank[col], col, "only_with_peer_rating")
    rule(
        t["peer_district_code"].notna() & (t["peer_district_code"] == t["district_code"]),
        "peer_district_code",
        "not_own_district (a district cannot peer-review itself)",
    )
    for row, column, value, why in problems:
        parts.append(make_errors(file, [row], column, value, why))
    if "district_code" in t and "item" in t:
        d = t["district_code"]
        some = has_self.groupby(d).transform("any")
        rule(
            some & ~has_self & has_peer,
            "self_rating",
            "self_rating_on_every_row_of_the_district_or_none",
        )
        items = t["item"].groupby(d).agg(lambda s: set(s.dropna()))
        for code, got in items.items():
            rows = t.index[(d == code) & has_self]
            missing = [i for i in spec.item_codes() if i not in got]
            if len(rows) and missing:
                parts.append(
                    make_errors(file, rows[:1], "item", ", ".join(missing), "every_item_self_rated")
                )
    errors = concat_errors(parts)
    if len(errors):
        order = errors["row"].fillna(0).astype("int64")
        errors = errors.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
        raise RatingsImportInvalid(file, errors.reset_index(drop=True))
    assert coerced is not None
    return coerced.reset_index(drop=False)
