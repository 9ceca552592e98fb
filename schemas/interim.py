"""Interim deliveries at a checkpoint (METHODOLOGY.md, *Communities of practice and
checkpoints*: "where interim data is delivered, the school's indicators so far against its
identification values").

Optional files, delivered before a checkpoint under the data root::

    <data_root>/<year>/interim/checkpoint-<n>/attendance.csv
    <data_root>/<year>/interim/checkpoint-<n>/interim_assessments.csv
    <data_root>/<year>/interim/checkpoint-<n>/participation.csv

Each is UTF-8 CSV with a header row; columns by name, order free, no extra columns
(a new column fails loudly rather than being silently ignored). They are validated like
the yearly contract files, with the same machinery (``schemas.base``): every problem of a
file is reported at once, in the validation report's format (``file, row, column, value,
rule``; the header is row 1). Student IDs in messages are masked as in the yearly report
(``******1234``); after validation, IDs are pseudonymised with the consortium key
(``sqis.pseudonym``) before anything else sees them.

| file | column | rule |
|---|---|---|
| attendance | student_id | 10-digit state student ID |
| | school_code | 14-digit CDS code |
| | days_enrolled | integer 0–200, days enrolled so far this year |
| | days_absent | integer, 0 ≤ days_absent ≤ days_enrolled, so far |
| | | (student_id, school_code) unique |
| interim_assessments | student_id, school_code | as above |
| | subject | ``ELA`` or ``MATH`` |
| | performance_level | 1 not met, 2 nearly met, 3 met, 4 exceeded |
| | | (student_id, school_code, subject) unique: the latest interim result |
| participation | school_code | 14-digit CDS code, unique |
| | attended | ``Y``/``N``: the school was represented at the checkpoint |
| | attendees | free text (roles or names of staff who attended), may be empty |
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import (
    CONTROL_RULE,
    ContractModel,
    column_kinds,
    concat_errors,
    contract_schema,
    digits,
    key_columns,
    listed_errors,
    make_errors,
    n_digits,
    no_control_characters,
    parse_columns,
    schema_errors,
    shown_name,
)
from schemas.limits import DAYS_ENROLLED_RANGE, SCHOOL_CODE_DIGITS, STUDENT_ID_DIGITS
from sqis import codes
from sqis.errors import SqisError

INTERIM_FILES: tuple[str, ...] = ("attendance", "interim_assessments", "participation")
INTERIM_SUBJECTS: tuple[str, ...] = ("ELA", "MATH")
SCHOOL_CODE_PATTERN = digits(SCHOOL_CODE_DIGITS)
# rule names as the yearly validation report writes them
COLUMN_MISSING = "column_missing"
COLUMN_UNEXPECTED = "column_unexpected"
ABSENT_RULE = "days_absent_le_days_enrolled"
NO_HEADER_RULE = "file:no_header"


class InterimError(ValueError, SqisError):
    """An interim file that breaks its layout.

    ``errors`` has the validation report's columns (``file, row, column, value, rule``;
    student IDs masked); the message lists the first problems, one per line.
    """

    def __init__(self, file: str, errors: pd.DataFrame, shown: int = 20):
        self.file = file
        self.errors = errors
        listed = listed_errors(
            errors,
            lambda r: (f": value {r.value!r}" if r.value else "") + f" breaks rule {r.rule}",
            shown,
        )
        super().__init__(f"{file}: {len(errors)} problem(s){listed}")


class InterimAttendance(ContractModel):
    """``attendance.csv``: days enrolled and absent so far, per student per school."""

    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    days_enrolled: Series[int] = pa.Field(ge=DAYS_ENROLLED_RANGE[0], le=DAYS_ENROLLED_RANGE[1])
    days_absent: Series[int] = pa.Field(ge=DAYS_ENROLLED_RANGE[0], le=DAYS_ENROLLED_RANGE[1])

    class Config:
        unique_key = key_columns("student_id", "school_code")


class InterimAssessments(ContractModel):
    """``interim_assessments.csv``: the latest interim result per student and subject."""

    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    subject: Series[str] = pa.Field(isin=list(INTERIM_SUBJECTS))
    performance_level: Series[int] = pa.Field(isin=list(codes.PERFORMANCE_LEVELS))

    class Config:
        unique_key = key_columns("student_id", "school_code", "subject")


class Participation(ContractModel):
    """``participation.csv``: which schools attended the checkpoint, and who came."""

    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    attended: Series[bool]
    attendees: Series[str] = pa.Field(nullable=True)

    # stored in the results store (checkpoints.attendees): no NUL or other control character
    @pa.check("attendees", name=CONTROL_RULE, error=CONTROL_RULE)
    def _printable(cls, values: Series[str]) -> Series[bool]:
        return no_control_characters(values)


MODELS: dict[str, type[ContractModel]] = {
    "attendance": InterimAttendance,
    "interim_assessments": InterimAssessments,
    "participation": Participation,
}


def _column_error(file: str, column: str, rule: str) -> pd.DataFrame:
    err = make_errors(file, [0], column, "", rule)
    err["row"] = pd.array([pd.NA], dtype="Int64")
    return err


def interim_errors(
    name: str, raw: pd.DataFrame, file: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One interim file read as text (index = row as delivered): its failures in the
    validation report's format, and the typed frame (``None`` where it fails)."""
    if name not in MODELS:
        raise KeyError(f"unknown interim file {name!r} (one of {', '.join(INTERIM_FILES)})")
    file = file or f"{name}.csv"
    model = MODELS[name]
    kinds = column_kinds(model)
    header = [str(c) for c in raw.columns]
    if header and not any(c in kinds for c in header):  # a data row where the header belongs
        err = make_errors(
            file,
            [1],
            "",
            f"row 1 names none of the columns of {name} ({', '.join(kinds)}): "
            "is the header row missing?",
            NO_HEADER_RULE,
        )
        return err, None
    parts = [_column_error(file, c, COLUMN_MISSING) for c in kinds if c not in header]
    parts += [
        _column_error(file, shown_name(c), COLUMN_UNEXPECTED) for c in header if c not in kinds
    ]
    present = [c for c in header if c in kinds]
    typed, parse_errors = parse_columns(file, raw, kinds)
    coerced, check_errors = schema_errors(
        file, contract_schema(model, present), typed, parse_errors, raw
    )
    parts += [parse_errors, check_errors]
    if name == "attendance" and {"days_absent", "days_enrolled"} <= set(typed.columns):
        bad = (typed["days_absent"] > typed["days_enrolled"]).fillna(False).astype(bool)
        parts.append(
            make_errors(
                file, typed.index[bad], "days_absent", typed["days_absent"][bad], ABSENT_RULE
            )
        )
    errors = concat_errors(parts)
    if len(errors):
        order = errors["row"].fillna(0).astype("int64")
        errors = errors.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
        return errors.reset_index(drop=True), None
    return errors, coerced


def validate_interim(name: str, raw: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """Validate one interim file read as text; the typed frame, or :class:`InterimError`
    listing every problem (file, row, column, masked value, rule)."""
    errors, coerced = interim_errors(name, raw, file)
    if coerced is None:
        raise InterimError(file or f"{name}.csv", errors)
    out = coerced.reset_index(drop=True)
    if name == "participation":
        out["attendees"] = out["attendees"].fillna("")
        out["attended"] = out["attended"].astype(bool)
    return out


def read_csv_text(data: bytes, name: str, file: str | None = None) -> pd.DataFrame:
    """A CSV file's cells as text, exactly as delivered (no NA guessing, no trimming),
    indexed by the row as delivered (the header is row 1)."""
    file = file or f"{name}.csv"
    if data.startswith(b"\xef\xbb\xbf" * 2):
        raise InterimError(file, _column_error(file, "", "file:encoding (two byte-order marks)"))
    if data.count(b"\r") != data.count(b"\r\n"):  # CR-only line ends, or a CR in a value
        raise InterimError(file, _column_error(file, "", "file:line_ends (a CR without LF)"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InterimError(
            file, _column_error(file, "", f"file:not_utf8 (byte {e.start})")
        ) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        # the parser's message may quote a row (student IDs): say only what is wrong
        raise InterimError(file, _column_error(file, "", "file:csv_syntax")) from None
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    return frame


def interim_prefix(year: str, number: int) -> str:
    """Where a checkpoint's interim files live under the data root."""
    return f"{year}/interim/checkpoint-{number}"


@dataclass
class InterimDelivery:
    """The interim files delivered for one checkpoint (None where not delivered).

    ``attendance`` and ``interim_assessments`` carry pseudonymised ``student_id``s.
    """

    year: str
    number: int
    attendance: pd.DataFrame | None = None
    interim_assessments: pd.DataFrame | None = None
    participation: pd.DataFrame | None = None
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def delivered(self) -> bool:
        return any(getattr(self, n) is not None for n in INTERIM_FILES)


def load_interim(storage: object, year: str, number: int, key: bytes) -> InterimDelivery:
    """Read, validate and pseudonymise the interim files of checkpoint ``number`` of ``year``
    from a data root (``sqis.storage.Storage``). Missing files are simply not delivered."""
    from sqis.pseudonym import pseudonymise

    out = InterimDelivery(year=year, number=number)
    prefix = interim_prefix(year, number)
    for name in INTERIM_FILES:
        k = f"{prefix}/{name}.csv"
        if not storage.exists(k):  # type: ignore[attr-defined]
            continue
        data: bytes = storage.read_bytes(k)  # type: ignore[attr-defined]
        out.checksums[name] = hashlib.sha256(data).hexdigest()
        frame = validate_interim(name, read_csv_text(data, name, k), k)
        if "student_id" in frame.columns:
            frame["student_id"] = pseudonymise(frame["student_id"], key)
        setattr(out, name, frame)
    return out
