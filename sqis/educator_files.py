"""The optional educator files of a delivery: ``educators`` and ``rosters``
(DATA_CONTRACT.md; METHODOLOGY.md "Educator effectiveness").

Every year must deliver the six contract files (``sqis.codes.CONTRACT_FILES``); the two
educator files (``sqis.codes.EDUCATOR_FILES``) come together or not at all, and only from
the methodology's pilot year (``educators.pilot_year``) on. ``sqis.validation`` validates
them here, like the others: each failure with its file, row, column and rule (rules
``file:educator_files_together`` and ``file:educator_year`` for the two above), the
columns by their pandera models (``schemas.educators``, ``schemas.rosters``), the rules
across files in ``schemas.cross_file`` (a roster's student enrolled at that school, its
educator a teacher there, one principal per school). ``sqis.ingest`` pseudonymises them
(:func:`pseudonymised`): ``student_id`` in the students' key domain (the same pseudonym as
in ``students``), ``educator_id`` in the educators' own (``sqis.pseudonym.educator_key``);
a raw educator ID is never stored, logged or shown (validation masks it as it masks
student IDs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from schemas.base import (
    column_kinds,
    concat_errors,
    contract_schema,
    make_errors,
    parse_columns,
    schema_errors,
)
from schemas.cross_file import CROSS_FILE_COLUMNS
from schemas.educators import Educators
from schemas.rosters import Rosters
from sqis import codes
from sqis.pseudonym import pseudonymise_arrow, pseudonymise_educators
from sqis.reading import FORMATS, DeliveryError, read_contract_file
from sqis.storage import open_storage

if TYPE_CHECKING:
    from sqis.methodology import Methodology
    from sqis.validation import ValidationReport

MODELS = {"educators": Educators, "rosters": Rosters}
TOGETHER = "file:educator_files_together"
BEFORE_PILOT = "file:educator_year"


def delivered(data_root: str, year: str) -> list[str]:
    """The educator files the year folder holds (in either format), in contract order."""
    keys = set(open_storage(data_root).list(year))
    return [
        name
        for name in codes.EDUCATOR_FILES
        if any(f"{year}/{name}.{fmt}" in keys for fmt in FORMATS)
    ]


def _file_error(name: str, rule: str, message: str) -> pd.DataFrame:
    err = make_errors(name, [0], "", message, rule)
    err["row"] = pd.array([pd.NA], dtype="Int64")
    return err


def _validate(raw: Any, name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """One educator file: failures, typed frame, coerced frame (``None`` when failing)."""
    model = MODELS[name]
    kinds = column_kinds(model)
    parts = []
    for c in kinds:
        if c not in raw.columns:
            err = make_errors(name, [0], "", "", "column_missing")
            err["row"] = pd.array([pd.NA], dtype="Int64")
            err["column"] = c
            parts.append(err)
    for c in raw.columns:
        if c not in kinds:
            err = make_errors(name, [0], "", f"column {c!r} is not a column of the contract", "")
            err["row"] = pd.array([pd.NA], dtype="Int64")
            err["column"] = str(c)
            err["rule"] = "column_unexpected"
            parts.append(err)
    typed, parse_errors = parse_columns(name, raw.frame, kinds)
    present = [c for c in raw.columns if c in kinds]
    schema = contract_schema(model, present)
    coerced, check_errors = schema_errors(name, schema, typed, parse_errors)
    errors = concat_errors([*parts, parse_errors, check_errors])
    return errors, typed, (None if len(errors) else coerced)


def validate(
    data_root: str,
    year: str,
    methodology: Methodology,
    report: ValidationReport,
    parts: list[pd.DataFrame],
    typed_frames: dict[str, pd.DataFrame],
) -> None:
    """Validate the year's educator files into ``validate_delivery``'s state, in place:
    their failures to ``parts``, their typed key columns to ``typed_frames`` (for the
    cross-file rules), the raw files and coerced frames to ``report``.

    Nothing happens for a year that delivers neither file.
    """
    present = delivered(data_root, year)
    if not present:
        return
    e = methodology.educators
    if e is None or e.stage(year) == "none":
        since = f"from {e.pilot_year}" if e is not None else "under no educator methodology"
        for name in present:
            parts.append(
                _file_error(
                    name,
                    BEFORE_PILOT,
                    f"{name}: educator files are delivered {since} (methodology "
                    f"{methodology.version}); remove it from {year}",
                )
            )
        return
    for name in codes.EDUCATOR_FILES:
        if name not in present:
            other = next(n for n in present if n != name)
            parts.append(
                _file_error(
                    name,
                    TOGETHER,
                    f"{name}.csv (or .parquet) is missing: {other} and {name} come together "
                    "or not at all",
                )
            )
    for name in present:
        try:
            raw = read_contract_file(data_root, year, name, column_kinds(MODELS[name]))
        except DeliveryError as err:
            report.unreadable[name] = str(err)
            parts.append(_file_error(name, err.rule, str(err)))
            continue
        report.files[name] = raw
        errors, typed, coerced = _validate(raw, name)
        raw.release_frame()
        parts.append(errors)
        if all(c in typed.columns for c in CROSS_FILE_COLUMNS[name]):
            typed_frames[name] = typed[list(CROSS_FILE_COLUMNS[name])]
        if coerced is not None:
            report.frames[name] = coerced


def pseudonymised(report: ValidationReport, key: bytes) -> dict[str, pd.DataFrame]:
    """The validated educator frames with every ID pseudonymised (none when not delivered):
    ``educator_id`` in the educators' key domain, ``rosters.student_id`` in the students'."""
    out: dict[str, pd.DataFrame] = {}
    for name in codes.EDUCATOR_FILES:
        frame = report.frames.get(name)
        if frame is None:
            continue
        frame = frame.reset_index(drop=True)
        columns = {"educator_id": pseudonymise_educators(_text(frame["educator_id"]), key)}
        if "student_id" in frame.columns:
            columns["student_id"] = pseudonymise_arrow(_text(frame["student_id"]), key)
        out[name] = frame.assign(
            **{
                c: pd.Series(
                    v.to_pandas(types_mapper=pd.ArrowDtype).array, index=frame.index
                ).astype("str")
                for c, v in columns.items()
            }
        )
    return out


def stored(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The educator files an ingested year's manifest lists (``sqis.ingest.load_year``)."""
    return tuple(n for n in codes.EDUCATOR_FILES if n in manifest.get("files", {}))


def _text(values: pd.Series) -> pa.Array:
    arr = pa.array(values.astype("str").array, pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
