"""Bulk writes of DataFrames into the results store: no row-by-row ORM inserts.

- ``normalise`` turns a frame into exactly the table's columns with the table's types
  (integers as nullable ``Int64``, flags as booleans, missing values as NULL) and names
  the table and column of anything that does not fit.
- ``insert_frame`` writes it: on PostgreSQL through ``COPY … FROM STDIN`` (psycopg 3's
  ``cursor.copy``, CSV in chunks) for tables without JSON columns; elsewhere (SQLite,
  JSON columns) through ``insert(table)`` executed over lists of dicts in chunks
  (DBAPI ``executemany``). Both run on the caller's connection, inside its transaction.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from sqis.errors import USAGE, SqisError

CHUNK_ROWS = 20_000  # rows per executemany batch or COPY write
COPY_MIN_ROWS = 1_000
COPY_CHUNK_ROWS = 100_000  # below this, COPY's set-up is not worth it


class BulkWriteError(ValueError, SqisError):
    """A frame that does not fit its table (missing column, wrong type)."""

    exit_code = USAGE


_FLAG_TEXT = {"Y": True, "N": False, "y": True, "n": False, "True": True, "False": False}


def _as_bool(s: pd.Series, where: str) -> pd.Series:
    if s.dtype == bool:
        return s
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean")
    out = s.map(lambda v: v if isinstance(v, bool | np.bool_) else _FLAG_TEXT.get(v, v))
    bad = out.notna() & ~out.map(lambda v: isinstance(v, bool | np.bool_))
    if bad.any():
        first = s[bad].iloc[0]
        raise BulkWriteError(f"{where}: {first!r} is not a flag (Y/N or true/false)")
    return out.astype("boolean")


def _as_int(s: pd.Series, where: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("Int64")
    num = pd.to_numeric(s, errors="coerce")
    bad = (s.notna() & num.isna()) | (num.notna() & (num != np.round(num)))
    if bad.any():
        raise BulkWriteError(f"{where}: {s[bad].iloc[0]!r} is not a whole number")
    return num.astype("Float64").round().astype("Int64")


def _as_float(s: pd.Series, where: str) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & num.isna()
    if bad.any():
        raise BulkWriteError(f"{where}: {s[bad].iloc[0]!r} is not a number")
    return num.astype("float64")


def _as_text(s: pd.Series) -> pd.Series:
    if not pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        s = s.map(
            lambda v: v if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)
        )
    return s.astype(object).where(s.notna(), None)


def normalise(table: sa.Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's columns for ``table``, typed for it; missing nullable columns become NULL.

    Raises ``BulkWriteError`` naming the table and column for a missing required column
    or a value of the wrong type.
    """
    out: dict[str, pd.Series] = {}
    n = len(frame)
    for col in table.columns:
        where = f"{table.name}.{col.name}"
        if col.name not in frame.columns:
            if col.primary_key and col.autoincrement is True:
                continue
            if not col.nullable:
                raise BulkWriteError(f"{where}: the column is missing from the frame")
            out[col.name] = pd.Series([None] * n, index=frame.index, dtype=object)
            continue
        s = frame[col.name]
        t = col.type
        if isinstance(t, sa.Boolean):
            out[col.name] = _as_bool(s, where)
        elif isinstance(t, sa.Integer):
            out[col.name] = _as_int(s, where)
        elif isinstance(t, sa.Float):
            out[col.name] = _as_float(s, where)
        elif isinstance(t, sa.String | sa.Text):
            out[col.name] = _as_text(s)
        else:  # JSON, dates: Python objects, NULL for missing
            out[col.name] = (
                s.astype(object).where(s.notna(), None)
                if not isinstance(t, sa.JSON)
                else s.astype(object)
            )
    result = pd.DataFrame(out, index=frame.index).reset_index(drop=True)
    for col in table.columns:
        if col.name in result.columns and not col.nullable:
            missing = result[col.name].isna()
            if missing.any():
                raise BulkWriteError(
                    f"{table.name}.{col.name}: empty in {int(missing.sum())} row(s) "
                    f"(first at row {first_row(missing)} of the frame); "
                    "the column is required"
                )
    return result


def first_row(mask: pd.Series) -> int:
    """The 1-based position of the first true value of a mask."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, ``None`` for missing (what DBAPIs accept)."""
    obj = frame.astype(object)
    return obj.where(frame.notna(), None).to_dict("records")


def _plain_column(s: pd.Series) -> list[Any]:
    """A column as a list of plain Python values, ``None`` for missing."""
    values = (
        s.to_numpy(dtype=object, na_value=None)
        if s.hasnans or s.dtype == object
        else (s.to_numpy(dtype=object))
    )
    return values.tolist()


def tuples(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as tuples of plain Python values, column by column (no per-row pandas work)."""
    return list(zip(*(_plain_column(frame[c]) for c in frame.columns), strict=True))


def _plain_types(table: sa.Table, columns: list[str]) -> bool:
    """Only text, numbers and flags: values the DBAPI binds without SQLAlchemy's help."""
    plain = (sa.String, sa.Text, sa.Integer, sa.Float, sa.Boolean)
    return all(isinstance(table.c[c].type, plain) for c in columns)


def _has_json(table: sa.Table, columns: list[str]) -> bool:
    return any(isinstance(table.c[c].type, sa.JSON) for c in columns)


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> int:
    """Insert an already normalised frame; returns the number of rows written.

    A row the database refuses (a repeated key, say) raises ``BulkWriteError`` naming
    the table; the caller's transaction then rolls back, keeping what was there.
    """
    if frame.empty:
        return 0
    try:
        _insert(conn, table, frame)
    except (sa.exc.DBAPIError, conn.dialect.loaded_dbapi.Error) as e:
        orig = getattr(e, "orig", None) or e
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        raise BulkWriteError(
            f"{table.name}: the database refused the new rows ({reason}); nothing was written"
        ) from e
    return len(frame)


def _insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    cols = list(frame.columns)
    if (
        conn.dialect.name == "postgresql"
        and len(frame) >= COPY_MIN_ROWS
        and not _has_json(table, cols)
    ):
        _copy(conn, table, frame)
    elif conn.dialect.name == "sqlite" and _plain_types(table, cols):
        # the DBAPI's own executemany over tuples: SQLAlchemy's per-row bind processing
        # is the slow part of a large insert, and these types need none
        names = ", ".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(cols))})'
        rows = tuples(frame)
        cur = conn.connection.dbapi_connection.cursor()
        try:
            for start in range(0, len(rows), CHUNK_ROWS):
                cur.executemany(sql, rows[start : start + CHUNK_ROWS])
        finally:
            cur.close()
    else:
        for start in range(0, len(frame), CHUNK_ROWS):
            conn.execute(sa.insert(table), records(frame.iloc[start : start + CHUNK_ROWS]))


def _copy(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    """PostgreSQL ``COPY table (cols) FROM STDIN`` in CSV, written in pieces.

    The CSV text comes from Arrow's C++ writer (shortest round-trip floats, ``true``/
    ``false``, missing values as unquoted empty fields: COPY's CSV NULL), ten times
    faster than ``DataFrame.to_csv`` on a large frame.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = ", ".join(f'"{c}"' for c in frame.columns)
    sql = f'COPY "{table.name}" ({cols}) FROM STDIN WITH (FORMAT csv)'
    dbapi = conn.connection.dbapi_connection
    with dbapi.cursor() as cur, cur.copy(sql) as copy:
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            part = frame.iloc[start : start + COPY_CHUNK_ROWS]
            buf = io.BytesIO()
            pacsv.write_csv(
                pa.Table.from_pandas(part, preserve_index=False),
                buf,
                pacsv.WriteOptions(include_header=False, quoting_style="needed"),
            )
            copy.write(buf.getbuffer())


def digest(table: sa.Table, frame: pd.DataFrame) -> str:
    """SHA-256 of a normalised frame's content (key-sorted; ``year`` and ``run_id`` left out).

    Two runs that stored the same results get the same digest, whatever their run ids.
    Rows are hashed with pandas' fixed-key row hash (``hash_pandas_object``), column by
    column, in table order; JSON values are hashed as their sorted JSON text.
    """
    import hashlib

    keys = [c.name for c in table.primary_key.columns if c.name in frame.columns]
    cols = [
        c.name
        for c in table.columns
        if c.name in frame.columns and c.name not in ("year", "run_id")
    ]
    body = frame.sort_values(keys, kind="stable")[cols] if keys else frame[cols]
    h = hashlib.sha256()
    h.update(",".join(cols).encode("utf-8"))
    for c in cols:
        s = body[c]
        if isinstance(table.c[c].type, sa.JSON | sa.Date | sa.DateTime):
            s = s.map(lambda v: json.dumps(v, sort_keys=True, default=str))
        h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    return h.hexdigest()
