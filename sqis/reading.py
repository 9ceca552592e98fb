"""Reading a delivered contract file exactly as delivered (DATA_CONTRACT.md, *Inputs*).

``read_contract_file(root, year, name)`` reads ``<root>/<year>/<name>.csv`` or
``<name>.parquet`` (a local folder or ``s3://``, through ``sqis.storage``) with every
column as text, so that nothing is converted, trimmed or guessed before validation
(a CDS code keeps its leading zero, ``1.0`` stays ``1.0``). The frame's index is the row
number as delivered: for CSV the header is row 1 and the first data row is row 2 (the
line number a spreadsheet or editor shows, when no field holds a line break); for
Parquet, the 1-based row position. The SHA-256 of the file's bytes is kept for the
delivery manifest.

A file that cannot be read as a table is a ``DeliveryError`` naming the file and, where
known, the row or column, never a traceback and never the content of a row (rows hold
student IDs). Delivered names (columns, files) appear in messages quoted, with ID-like
digits masked (``schemas.base.quoted_name``). Refused before a row is parsed:

- a row 1 that names none of the file's columns: the header row is missing
  (``file:no_header``; a data row where the header belongs holds student IDs);
- a doubled byte-order mark (``file:encoding``) or a carriage return not followed by a
  line feed (``file:line_ends``: CR-only line ends, or a CR inside a value);
- a Parquet file whose metadata declares more rows × columns than its size allows
  (``file:too_many_rows``, ``schemas.limits.PARQUET_MAX_CELLS_PER_BYTE``) or more columns
  than a CSV header could name (``file:header``).

``year_folder_problems`` lists what else a year folder holds: anything but the contract
files, the educator files and the ``interim/`` folder is refused, naming the file
(``file:unexpected``); ``delivered`` says whether the data root holds a year at all.

Why one module over 500 lines: CSV and Parquet are read under one set of rules
(every column as text, row numbers as delivered, the same ``DeliveryError`` wording);
split by format, each reader would carry a copy of them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from schemas.base import quoted_name, shown_name, visible_text
from sqis import codes, years
from sqis.errors import SqisError
from sqis.storage import ObjectNotFound, StorageError, open_storage

FORMATS: tuple[str, ...] = ("csv", "parquet")
_BOM = b"\xef\xbb\xbf"
# the one folder a year folder may hold besides the contract files (checkpoint deliveries)
INTERIM_FOLDER = "interim"


class DeliveryError(ValueError, SqisError):
    """A delivered file that cannot be read as a table (or is missing, or is ambiguous)."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        row: int | None = None,
        column: str | None = None,
        rule: str = "file:unreadable",
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.file = file
        self.row = row
        self.column = column


@dataclass
class RawFile:
    """One delivered file, every column as text, indexed by the row number as delivered.

    ``release_frame()`` drops the text once it is validated (the row count and the
    columns are kept), so that a year's delivery is not held twice in memory.
    """

    name: str
    year: str
    uri: str
    format: str
    frame: pd.DataFrame
    sha256: str
    size: int
    _shape: tuple[int, tuple[str, ...]] | None = field(default=None, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.frame) if self._shape is None else self._shape[0]

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns) if self._shape is None else list(self._shape[1])

    def release_frame(self) -> None:
        """Free the delivered text (an empty frame with the same columns stays)."""
        if self._shape is None:
            self._shape = (len(self.frame), tuple(self.frame.columns))
            self.frame = self.frame.iloc[:0]


def _join(root: str, *parts: str) -> str:
    return "/".join([str(root).rstrip("/"), *parts])


def delivered(data_root: str, year: str) -> bool:
    """Whether the data root holds a folder for ``year`` with any file in it."""
    return bool(open_storage(data_root).list(year))


def year_folder_problems(data_root: str, year: str) -> list[DeliveryError]:
    """Everything in ``<data_root>/<year>/`` that is not a contract or educator file
    (``<name>.csv`` or ``<name>.parquet``, names in lower case) or under ``interim/``: each a
    ``DeliveryError``
    (``file:unexpected``) naming it. DATA_CONTRACT.md: "Any other file in a year folder …
    is refused, naming the file". A year folder that cannot be listed is one error."""
    years.start_of(year)
    folder = _join(data_root, year)
    try:
        keys = open_storage(data_root).list(year)
    except StorageError as e:
        return [DeliveryError(f"{folder}: cannot list the year folder ({e})", file=year)]
    except Exception as e:  # botocore's own (no credentials, no endpoint, …)
        return [
            DeliveryError(
                f"{folder}: cannot list the year folder ({type(e).__name__}: {e})", file=year
            )
        ]
    # the contract files and the optional educator files (METHODOLOGY.md "Educator
    # effectiveness"; sqis.educator_files says when these may come)
    named = (*codes.CONTRACT_FILES, *codes.EDUCATOR_FILES)
    expected = {f"{n}.{fmt}" for n in named for fmt in FORMATS}
    out = []
    for key in keys:
        rel = key[len(year) + 1 :] if key.startswith(f"{year}/") else key
        if not rel or rel in expected or rel.startswith(f"{INTERIM_FOLDER}/"):
            continue
        shown = visible_text(rel)
        if rel.lower() in expected:
            why = f"contract file names are lower case: rename it {rel.lower()}"
        elif rel.split(".", 1)[0] in codes.CONTRACT_FILES or rel.split("/", 1)[0] in (
            codes.CONTRACT_FILES
        ):
            why = "a copy, backup or variant of a contract file: remove it from the year folder"
        elif rel.split(".", 1)[0] in codes.EDUCATOR_FILES:
            why = "a copy, backup or variant of an educator file: remove it from the year folder"
        else:
            why = (
                "not a file of the data contract: a year folder holds only "
                f"{', '.join(codes.CONTRACT_FILES)} (each .csv or .parquet) and the "
                f"{INTERIM_FOLDER}/ folder of checkpoint deliveries"
            )
        out.append(
            DeliveryError(
                f"{folder}/{shown}: unexpected file ({why})",
                file=shown,
                rule="file:unexpected",
            )
        )
    return out


def locate(data_root: str, year: str, name: str) -> tuple[str, str]:
    """The key (``<year>/<name>.<fmt>``) and format of a delivered file; errors if none or both."""
    years.start_of(year)
    storage = open_storage(data_root)
    try:
        found = [fmt for fmt in FORMATS if storage.exists(f"{year}/{name}.{fmt}")]
    except Exception as e:  # StorageError, or botocore's (no credentials, no endpoint, …)
        raise DeliveryError(
            f"{_join(data_root, year, name)}: cannot look for the file ({type(e).__name__}: {e})",
            file=name,
            rule="file:unreadable",
        ) from None
    if not found:
        raise DeliveryError(
            f"{_join(data_root, year)}: {name}.csv (or {name}.parquet) is missing",
            file=name,
            rule="file:missing",
        )
    if len(found) > 1:
        raise DeliveryError(
            f"{_join(data_root, year, name)}: both {name}.csv and {name}.parquet are present; "
            "deliver exactly one",
            file=name,
            rule="file:ambiguous",
        )
    return f"{year}/{name}.{found[0]}", found[0]


def read_contract_file(
    data_root: str, year: str, name: str, kinds: dict[str, str] | None = None
) -> RawFile:
    """Read ``<data_root>/<year>/<name>.csv`` or ``.parquet``, all columns as text.

    ``kinds`` (column → ``str``/``int``/``float``/``flag``) says which Parquet types are
    acceptable for each column; by default the contract model's, where ``name`` is a
    contract file.
    """
    key, fmt = locate(data_root, year, name)
    uri = _join(data_root, key)
    storage = open_storage(data_root)
    try:
        data = storage.read_bytes(key)
    except ObjectNotFound as e:
        raise DeliveryError(f"{uri}: missing", file=name, rule="file:missing") from e
    except StorageError as e:
        raise DeliveryError(f"{uri}: cannot read: {e}", file=name) from e
    if kinds is None:
        kinds = _contract_kinds(name)
    if fmt == "csv":
        frame = _read_csv(data, uri, name, tuple(kinds))
    else:
        frame = _read_parquet(data, uri, name, kinds)
    return RawFile(
        name=name,
        year=year,
        uri=uri,
        format=fmt,
        frame=frame,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def _contract_kinds(name: str) -> dict[str, str]:
    from schemas import CONTRACT_MODELS
    from schemas.base import column_kinds

    model = CONTRACT_MODELS.get(name)
    return column_kinds(model) if model is not None else {}


# ---- CSV -------------------------------------------------------------------------------


def _no_header(
    uri: str, name: str, n_fields: int, expected: tuple[str, ...], parquet: bool = False
) -> DeliveryError:
    """Row 1 (a Parquet file's column names) names none of the file's columns: most likely
    a data row, which holds a student ID: say so without echoing any of it."""
    if parquet:
        return DeliveryError(
            f"{uri}: the header row is missing: none of the file's {n_fields} column names is "
            f"a column of {name} ({', '.join(expected)}); the names are not shown (they may "
            "be a data row: was the file written from a CSV without its header row?)",
            file=name,
            rule="file:no_header",
        )
    return DeliveryError(
        f"{uri}: the header row is missing: row 1 names none of the columns of {name} "
        f"({', '.join(expected)}), in any order; its {n_fields} field(s) are not shown (they "
        f"may be a data row). Add the header row as the first line (or is this not the {name} "
        "file?)",
        file=name,
        row=1,
        rule="file:no_header",
    )


def _header(body: bytes, uri: str, name: str, expected: tuple[str, ...] = ()) -> list[str]:
    from schemas.limits import HEADER_MAX_BYTES

    end = body.find(b"\n", 0, HEADER_MAX_BYTES + 1)
    if end == -1 and len(body) > HEADER_MAX_BYTES:  # never copy or parse a huge first line
        raise DeliveryError(
            f"{uri}: row 1 (the header) runs past {HEADER_MAX_BYTES:,} bytes without a line "
            "break: not a contract file (is it the right file, saved as CSV with one row "
            "per line?)",
            file=name,
            row=1,
            rule="file:header",
        )
    first = body[:end] if end != -1 else body
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DeliveryError(
            f"{uri}: row 1 (the header) is not UTF-8 (byte offset {e.start})",
            file=name,
            row=1,
            rule="file:encoding",
        ) from None
    if '"' in text:  # a quoted header may span lines: let the csv module find its end
        text = body[:HEADER_MAX_BYTES].decode("utf-8", errors="replace")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as e:
        raise DeliveryError(
            f"{uri}: row 1 (the header) is not valid CSV ({e})",
            file=name,
            row=1,
            rule="file:header",
        ) from None
    header = [h.rstrip("\r") for h in header]
    if not header or all(h.strip() == "" for h in header):
        raise DeliveryError(
            f"{uri}: row 1 (the header) is empty", file=name, row=1, rule="file:header"
        )
    if expected and not set(header) & set(expected):
        raise _no_header(uri, name, len(header), expected)
    for i, h in enumerate(header, start=1):
        if h.strip() == "":
            raise DeliveryError(
                f"{uri}: row 1 (the header): column {i} has no name",
                file=name,
                row=1,
                rule="file:header",
            )
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DeliveryError(
                f"{uri}: row 1 (the header): column {quoted_name(h)} appears more than once",
                file=name,
                row=1,
                column=shown_name(h),
                rule="file:duplicate_column",
            )
        seen.add(h)
    return header


def _read_csv(data: bytes, uri: str, name: str, expected: tuple[str, ...] = ()) -> pd.DataFrame:
    offset = len(_BOM) if data.startswith(_BOM) else 0
    body = data[offset:]
    if not body or body.isspace():  # (not .strip(): that would copy a huge file)
        raise DeliveryError(f"{uri}: the file is empty", file=name, rule="file:empty")
    if body.startswith(_BOM):
        raise DeliveryError(
            f"{uri}: the file starts with two byte-order marks (EF BB BF twice): save it as "
            "UTF-8 with at most one",
            file=name,
            row=1,
            rule="file:encoding",
        )
    _check_line_ends(body, uri, name)
    header = _header(body, uri, name, expected)
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=b'"' in body),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.large_string() for h in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # pyarrow's messages quote row content (student IDs): find the fault ourselves
        _diagnose_csv(body, offset, uri, name)
        raise DeliveryError(
            f"{uri}: cannot be read as CSV", file=name, rule="file:csv_syntax"
        ) from None
    if body.count(b'"') % 2:  # an odd number of quotes: a quoted field never ends
        _diagnose_csv(body, offset, uri, name)
        raise DeliveryError(
            f"{uri}: a quoted field is never closed", file=name, rule="file:csv_syntax"
        )
    if table.num_rows == 0:
        raise DeliveryError(
            f"{uri}: has a header row but no data rows", file=name, rule="file:no_rows"
        )
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(2, table.num_rows + 2, name="row")
    return frame.astype("str")


_BARE_CR = re.compile(rb"\r(?!\n)")


def _check_line_ends(body: bytes, uri: str, name: str) -> None:
    """Refuse a carriage return not followed by a line feed: CR-only line ends (an old Mac
    export), which a CSV reader may split differently, or a CR inside a value. Line ends
    are LF or CR LF (DATA_CONTRACT.md). Two fast scans; the slow search only on failure."""
    if b"\r" not in body or body.count(b"\r") == body.count(b"\r\n"):
        return
    m = _BARE_CR.search(body)
    line = body.count(b"\n", 0, m.start()) + 1 if m else 1
    raise DeliveryError(
        f"{uri}: line {line:,} holds a carriage return (CR) without a line feed: line ends "
        "must be LF or CR LF (was the file saved with old Mac line ends?), and a value may "
        "not hold a CR",
        file=name,
        row=1 if line == 1 else None,
        rule="file:line_ends",
    )


def _diagnose_csv(body: bytes, offset: int, uri: str, name: str) -> None:
    """Raise a ``DeliveryError`` that names where a CSV file goes wrong (slow path, errors only)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        line = body[: e.start].count(b"\n") + 1
        raise DeliveryError(
            f"{uri}: not UTF-8: undecodable byte at offset {e.start + offset} (line {line}); "
            "save the file as UTF-8",
            file=name,
            row=line,
            rule="file:encoding",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    width = len(header)
    row = 1
    try:
        for fields in reader:
            if not fields:
                continue
            row += 1
            if len(fields) != width:
                is_last = next(reader, None) is None
                hint = " (the last row: is the file truncated?)" if is_last else ""
                raise DeliveryError(
                    f"{uri}: row {row} (line {reader.line_num}) has {len(fields)} fields, "
                    f"the header has {width}{hint}",
                    file=name,
                    row=row,
                    rule="file:field_count",
                )
    except csv.Error as e:
        raise DeliveryError(
            f"{uri}: row {row + 1} is not valid CSV ({e}); "
            "is a quoted field unterminated or the file truncated?",
            file=name,
            row=row + 1,
            rule="file:csv_syntax",
        ) from None


# ---- Parquet ---------------------------------------------------------------------------

_PARQUET_OK = {
    "str": (pa.types.is_string, pa.types.is_large_string),
    "int": (pa.types.is_integer, pa.types.is_string, pa.types.is_large_string),
    "float": (
        pa.types.is_floating,
        pa.types.is_integer,
        pa.types.is_decimal,
        pa.types.is_string,
        pa.types.is_large_string,
    ),
    "flag": (pa.types.is_boolean, pa.types.is_string, pa.types.is_large_string),
}
_PARQUET_EXPECTED = {
    "str": "string",
    "int": "integer or string",
    "float": "floating point, integer or string",
    "flag": "boolean or string Y/N",
}


def _parquet_bounds(meta: pq.FileMetaData, size: int, uri: str, name: str) -> None:
    """Refuse, from the metadata alone, a file that would expand far beyond its size: the
    bounds a CSV file has by its nature (``schemas.limits``)."""
    from schemas.limits import (
        MAX_COLUMNS,
        PARQUET_MAX_CELLS_PER_BYTE,
        PARQUET_MIN_CELLS,
    )

    if meta.num_columns > MAX_COLUMNS:
        raise DeliveryError(
            f"{uri}: declares {meta.num_columns:,} columns (at most {MAX_COLUMNS:,}): not a "
            "contract file",
            file=name,
            rule="file:header",
        )
    cells = meta.num_rows * max(meta.num_columns, 1)
    allowed = max(PARQUET_MIN_CELLS, PARQUET_MAX_CELLS_PER_BYTE * size)
    if cells > allowed:
        raise DeliveryError(
            f"{uri}: declares {meta.num_rows:,} rows × {meta.num_columns} columns in "
            f"{size:,} bytes: more than {PARQUET_MAX_CELLS_PER_BYTE} values per byte of file "
            f"(at most {allowed:,} values here), refused before reading (a delivered "
            "Parquet file holds 1-2 per byte; is it a file of repeated rows?)",
            file=name,
            rule="file:too_many_rows",
        )


def _read_parquet(data: bytes, uri: str, name: str, kinds: dict[str, str]) -> pd.DataFrame:
    if not data:
        raise DeliveryError(f"{uri}: the file is empty", file=name, rule="file:empty")
    try:
        pf = pq.ParquetFile(io.BytesIO(data))
        meta = pf.metadata
        names = list(pf.schema_arrow.names)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise DeliveryError(
            f"{uri}: not a readable Parquet file ({type(e).__name__})",
            file=name,
            rule="file:parquet_unreadable",
        ) from None
    _parquet_bounds(meta, len(data), uri, name)
    if kinds and names and not set(names) & set(kinds):
        raise _no_header(uri, name, len(names), tuple(kinds), parquet=True)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DeliveryError(
            f"{uri}: column {quoted_name(dupes[0])} appears more than once",
            file=name,
            column=shown_name(dupes[0]),
            rule="file:duplicate_column",
        )
    if meta.num_rows == 0:
        raise DeliveryError(f"{uri}: has columns but no data rows", file=name, rule="file:no_rows")
    try:
        table = pf.read()
    except Exception as e:  # a damaged row group
        raise DeliveryError(
            f"{uri}: not a readable Parquet file ({type(e).__name__})",
            file=name,
            rule="file:parquet_unreadable",
        ) from None
    names = table.column_names
    out: dict[str, pd.Series] = {}
    for col_name, col in zip(names, table.columns, strict=True):
        arr = col
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.cast(t.value_type)
            t = t.value_type
        if pa.types.is_null(t):
            arr = pa.chunked_array([pa.array([""] * len(arr), pa.string())])
            t = pa.string()
        kind = kinds.get(col_name)
        if kind is not None and not any(ok(t) for ok in _PARQUET_OK[kind]):
            raise DeliveryError(
                f"{uri}: column {quoted_name(col_name)} has Parquet type {t}; expected "
                f"{_PARQUET_EXPECTED[kind]}",
                file=name,
                column=shown_name(col_name),
                rule="file:parquet_type",
            )
        if pa.types.is_boolean(t):
            values = pd.Series(arr.to_numpy(zero_copy_only=False), dtype="object")
            text = values.map({True: "Y", False: "N"}).fillna("")
        else:
            try:
                casted = arr.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise DeliveryError(
                    f"{uri}: column {quoted_name(col_name)} has Parquet type {t}, "
                    "which cannot be read as text",
                    file=name,
                    column=shown_name(col_name),
                    rule="file:parquet_type",
                ) from None
            text = casted.to_pandas().fillna("")
        out[col_name] = pd.Series(text.to_numpy(), dtype="str")
    frame = pd.DataFrame(out)
    frame.index = pd.RangeIndex(1, table.num_rows + 1, name="row")
    return frame
