"""Validating a year's delivery against the data contract, lazily (DATA_CONTRACT.md).

``validate_delivery(root, year)`` reads every contract file (``sqis.reading``), checks its
columns (missing, or extra and not listed in the methodology's ``optional_columns``),
parses each value to its column's type, runs the file's pandera model (``schemas/``) and
then the cross-file rules (``schemas.cross_file``). It collects *every* failure, not the
first, into one report a person can work through:

- ``file``: the contract file (``students``);
- ``row``: the row as delivered (CSV: header = 1, first data row = 2; Parquet: 1-based);
  empty for a file- or column-level failure;
- ``column``: the column at fault (a key's columns joined by ``,``);
- ``value``: the value found, student IDs masked (``******1234``);
- ``rule``: a short stable code: a pandera check (``isin(['Y', 'N'])``,
  ``greater_than_or_equal_to(0)``, ``not_nullable``, ``unique(...)``), ``integer``,
  ``number``, ``column_missing``, ``column_unexpected``, ``cross_file:<rule>`` or
  ``file:<problem>``.

The coerced frames (flags ``bool``, integers ``int64``, scores ``float64``, codes ``str``)
come back with the report for ingest; they are complete only when the report is clean.

Before any file is read, the year folder is listed: anything in it but the contract files,
the educator files and the ``interim/`` folder is refused, naming it (``file:unexpected``).
A delivered name (a column, a file) is shown as ``schemas.base.shown_name`` shows it:
quoted where a space or an invisible character would otherwise hide, ID-like digits
masked. The report lists at most ``REPORT_MAX_ROWS_PER_RULE`` failing rows per file, rule
and column, and says how many more there are (``report:truncated``); ``summary()`` counts
every failure.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from schemas import CONTRACT_MODELS
from schemas.base import (
    column_kinds,
    concat_errors,
    contract_schema,
    empty_errors,
    make_errors,
    parse_columns,
    quoted_name,
    schema_errors,
    shown_name,
    visible_text,
)
from schemas.cross_file import CROSS_FILE_COLUMNS, check_cross_file
from schemas.limits import REPORT_MAX_ROWS_PER_RULE
from sqis import codes, educator_files
from sqis.reading import DeliveryError, RawFile, read_contract_file, year_folder_problems
from sqis.storage import is_s3, open_storage
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.methodology import Methodology

COLUMN_MISSING = "column_missing"
COLUMN_UNEXPECTED = "column_unexpected"
TRUNCATED = "report:truncated"
_SUMMARY_COLUMNS = ["file", "rule", "column"]


@dataclass
class ValidationReport:
    """Every failure of a year's delivery, and the coerced frames (complete when ``ok``)."""

    year: str
    data_root: str
    errors: pd.DataFrame
    files: dict[str, RawFile] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)  # file → message
    methodology_version: str = ""
    # failures per file, rule and column, counted before the report was cut
    counts: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return len(self.errors) == 0

    @property
    def failure_count(self) -> int:
        """Every failure, also those the report does not list (``report:truncated``)."""
        return int(self.summary()["count"].sum())

    @property
    def truncated(self) -> bool:
        return bool((self.errors["rule"] == TRUNCATED).any()) if len(self.errors) else False

    def failures_only(self) -> ValidationReport:
        """The report without the delivered rows (``files``, ``frames``): the masked failures
        and what could not be read, safe to carry in an exception or a result."""
        files = {}
        for name, raw in self.files.items():
            kept = replace(raw, frame=raw.frame.iloc[:0])
            kept._shape = (raw.n_rows, ())  # the row count; no header text (it may be data)
            files[name] = kept
        return replace(self, files=files, frames={})

    @property
    def checksums(self) -> dict[str, str]:
        return {name: raw.sha256 for name, raw in self.files.items()}

    def summary(self) -> pd.DataFrame:
        """Failures counted per file, rule and column (the CLI's table): every failure,
        also those a cut report does not list."""
        if self.counts is not None:
            return self.counts
        return _summary(self.errors)

    def to_csv_bytes(self) -> bytes:
        """The report as CSV; delivered values are neutralised against formula injection
        (a value starting with ``=``, ``+``, ``@``, tab, CR, or ``-`` not followed by a
        number, gets a leading ``'``: the report is opened in spreadsheets)."""
        errors = self.errors.copy()
        for c in ("value", "column"):
            if c in errors.columns:
                errors[c] = _neutralise(errors[c])
        buf = io.StringIO()
        errors.to_csv(buf, index=False)
        return buf.getvalue().encode("utf-8")

    def write_to(self, root: str, key: str) -> str:
        """Write the report as CSV at ``key`` under a storage root (the out root: a local
        folder, refused where a symbolic link leads out of it, or ``s3://``)."""
        open_storage(root).write_bytes(key, self.to_csv_bytes(), "text/csv; charset=utf-8")
        return f"{str(root).rstrip('/')}/{key}"

    def write_csv(self, path: str | Path) -> str:
        """Write the full report as CSV to a local path or an ``s3://`` URI; returns where."""
        text = str(path)
        if is_s3(text):
            parent, _, name = text.rpartition("/")
            open_storage(parent).write_bytes(name, self.to_csv_bytes(), "text/csv; charset=utf-8")
        else:
            p = Path(text)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(self.to_csv_bytes())
        return text


def _neutralise(values: pd.Series) -> pd.Series:
    """A leading ``'`` on text a spreadsheet would run as a formula; numbers left alone."""
    s = values.astype("str")
    numeric = pd.to_numeric(s, errors="coerce").notna()
    risky = s.str.startswith(("=", "+", "-", "@", "\t", "\r")).fillna(False).astype(bool)
    risky &= ~(numeric & s.str.startswith("-").fillna(False).astype(bool))
    return s.where(~risky, "'" + s).where(values.notna(), values)


def _summary(errors: pd.DataFrame) -> pd.DataFrame:
    cols = _SUMMARY_COLUMNS
    if not len(errors):
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in cols}).assign(
            count=pd.Series([], dtype="int64")
        )
    e = errors.assign(column=errors["column"].fillna(""))
    out = e.groupby(cols, sort=False, dropna=False).size().reset_index(name="count")
    order = {n: i for i, n in enumerate(codes.CONTRACT_FILES)}
    out = out.assign(_o=out["file"].map(order).fillna(-1)).sort_values(["_o", "rule", "column"])
    return out.drop(columns="_o").reset_index(drop=True)


def _file_error(name: str, e: DeliveryError) -> pd.DataFrame:
    """One row for a file that cannot be read: the message is ours (delivered names in it
    are quoted and masked already), so it is shown whole, never masked as if it were an ID
    (a Parquet ``student_id`` of the wrong type is named, not shown as ``******ring``)."""
    return pd.DataFrame(
        {
            "file": pd.Series([visible_text(e.file or name)], dtype="str"),
            "row": pd.array([e.row], dtype="Int64"),
            "column": pd.Series([e.column or ""], dtype="str"),
            "value": pd.Series([visible_text(str(e))], dtype="str"),
            "rule": pd.Series([e.rule], dtype="str"),
        }
    )


def validate_file(
    raw: RawFile, optional_columns: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """One contract file: its failures, its typed frame (nullable) and its coerced frame.

    The coerced frame (``None`` where the file has failures) has the model's dtypes and
    the optional columns as text. DATA_CONTRACT.md, the file's section.
    """
    name = raw.name
    model = CONTRACT_MODELS[name]
    kinds = column_kinds(model)
    present = [c for c in raw.columns if c in kinds]
    parts: list[pd.DataFrame] = []
    for c in kinds:
        if c not in raw.columns:
            parts.append(_column_error(name, c, COLUMN_MISSING))
    extra = [c for c in raw.columns if c not in kinds and c not in optional_columns]
    for c in extra:
        parts.append(_column_error(name, shown_name(c), COLUMN_UNEXPECTED, _unexpected(c, kinds)))
    typed, parse_errors = parse_columns(name, raw.frame, kinds)
    schema = contract_schema(model, present)
    coerced, check_errors = schema_errors(name, schema, typed, parse_errors, raw.frame)
    parts += [parse_errors, check_errors]
    errors = concat_errors(parts)
    if len(errors) or coerced is None:
        return errors, typed, None
    kept = [c for c in raw.columns if c in optional_columns]
    if kept:
        coerced = coerced.join(raw.frame[kept])
    return errors, typed, coerced


def _column_error(name: str, column: str, rule: str, value: str = "") -> pd.DataFrame:
    err = make_errors(name, [0], "", value, rule)
    err["row"] = pd.array([pd.NA], dtype="Int64")
    err["column"] = column
    return err


def _unexpected(column: str, kinds: dict[str, str]) -> str:
    """What the report says of an unexpected column: its name, visibly quoted, and the
    contract column it was probably meant to be (``'school_code '``: a trailing space)."""
    meant = [k for k in kinds if k == column.strip().lower() or k == column.strip(" \t\ufeff")]
    hint = f"; did you mean {meant[0]!r}? (names must match exactly)" if meant else ""
    return f"column {quoted_name(column)} is not a column of the contract{hint}"


def validate_delivery(
    data_root: str, year: str, methodology: Methodology | None = None
) -> ValidationReport:
    """Validate every contract file of ``<data_root>/<year>/`` and the rules across them.

    Lazy: a file that cannot be read is reported (rule ``file:…``) and the others are still
    checked; every failing value is reported, not the first. ``methodology`` (default: the
    one for ``year``) says which extra columns are allowed and which graduation cohorts
    are measured.
    """
    year = SchoolYear(year)
    if methodology is None:
        from sqis.methodology import for_year
        from sqis.settings import get_settings

        methodology = for_year(year, None, get_settings().methodology_dir)
    report = ValidationReport(
        year=year,
        data_root=str(data_root),
        errors=empty_errors(),
        methodology_version=methodology.version,
    )
    parts: list[pd.DataFrame] = []
    typed_frames: dict[str, pd.DataFrame] = {}
    folder = year_folder_problems(data_root, year)
    for e in folder:
        report.unreadable[visible_text(e.file)] = visible_text(str(e))
        parts.append(_file_error(e.file, e))
    names = codes.CONTRACT_FILES
    if any(e.rule != "file:unexpected" for e in folder):
        names = ()  # the year folder itself cannot be read: its files cannot either
    for name in names:
        try:
            raw = read_contract_file(data_root, year, name)
        except DeliveryError as e:
            report.unreadable[name] = visible_text(str(e))
            parts.append(_file_error(name, e))
            continue
        report.files[name] = raw
        optional = tuple(methodology.optional_columns.get(name, ()))
        errors, typed, coerced = validate_file(raw, optional)
        raw.release_frame()  # validated: only the typed and coerced frames are needed now
        parts.append(errors)
        if all(c in typed.columns for c in column_kinds(CONTRACT_MODELS[name])):
            typed_frames[name] = typed[list(CROSS_FILE_COLUMNS.get(name, ()))]
        del typed
        if coerced is not None:
            report.frames[name] = coerced
    # the optional educator files (METHODOLOGY.md "Educator effectiveness"), before the
    # cross-file rules that read them (not when the year folder itself cannot be listed)
    if names:
        educator_files.validate(data_root, year, methodology, report, parts, typed_frames)
    offsets = dict(methodology.rules.grad_cohort_offsets)
    parts.append(check_cross_file(typed_frames, year, offsets))
    errors = concat_errors(parts)
    report.counts = _summary(errors)
    report.errors = _sorted(_capped(errors))
    return report


def _capped(errors: pd.DataFrame, cap: int = REPORT_MAX_ROWS_PER_RULE) -> pd.DataFrame:
    """At most ``cap`` rows per file, rule and column (the first, by row), and for each cut
    group one ``report:truncated`` row saying how many more there are."""
    if len(errors) <= cap:
        return errors
    key = errors[_SUMMARY_COLUMNS].fillna("")
    size = key.groupby(_SUMMARY_COLUMNS, sort=False)["file"].transform("size")
    if not (size > cap).any():
        return errors
    ordered = errors.assign(_r=errors["row"].fillna(-1)).sort_values("_r", kind="stable")
    keep = ordered.groupby(_SUMMARY_COLUMNS, sort=False, dropna=False).cumcount() < cap
    kept = ordered[keep].drop(columns="_r")
    over = _summary(errors)
    over = over[over["count"] > cap]
    notes = pd.DataFrame(
        {
            "file": over["file"].astype("str").to_numpy(),
            "row": pd.array([pd.NA] * len(over), dtype="Int64"),
            "column": over["column"].astype("str").to_numpy(),
            "value": [
                f"{n - cap:,} more failures of rule {rule} are not listed: this report lists the "
                f"first {cap:,} of each file, rule and column ({n:,} in all; fix these and "
                "validate again)"
                for rule, n in zip(over["rule"], over["count"], strict=True)
            ],
            "rule": TRUNCATED,
        }
    ).astype({"file": "str", "column": "str", "value": "str", "rule": "str"})
    return concat_errors([notes, kept])


def _sorted(errors: pd.DataFrame) -> pd.DataFrame:
    if not len(errors):
        return errors
    order = {n: i for i, n in enumerate(codes.CONTRACT_FILES)}
    e = errors.assign(_o=errors["file"].map(order).fillna(-1))  # the year folder's first
    e = e.sort_values(["_o", "row", "column", "rule"], na_position="first", kind="stable")
    return e.drop(columns="_o").reset_index(drop=True)


def default_report_path(year: str, out_root: str | None = None) -> str:
    """Where ``sqis validate`` writes its report: ``<out_root>/validation/validation-<year>.csv``.

    Beside the other human-facing outputs (``SQIS_OUT_ROOT``), never in the store, which
    a refused delivery must leave untouched.
    """
    from sqis.settings import get_settings

    root = str(out_root or get_settings().out_root).rstrip("/")
    return f"{root}/validation/validation-{year}.csv"
