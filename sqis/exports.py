"""CSV exports of a year's results, exactly as DATA_CONTRACT.md "Outputs" lays them out.

``write_exports(year, tables, out)`` writes ``<year>/indicators.csv``, ``index.csv``,
``designations.csv`` and ``communities.csv``: the contract's columns in the contract's
order, UTF-8, header row, comma separated, ``\\n`` line ends, rows sorted by their key.
Flags are ``Y``/``N``, levels and counts whole numbers, rates unrounded (shortest
round-trip text), missing values empty.

Text fields are neutralised against CSV formula injection (a spreadsheet would run
``=HYPERLINK(…)``): a text value starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``. Numeric columns are never touched (``-3.5`` stays a number).
"""

from __future__ import annotations

import hashlib

import pandas as pd

from sqis.storage import Storage

# file → (columns with kinds, sort key). kinds: text, flag, int, count, float, date
CONTRACT: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "indicators": (
        (
            ("school_code", "text"),
            ("student_group", "text"),
            ("indicator", "text"),
            ("numerator", "count"),
            ("denominator", "count"),
            ("value", "float"),
            ("level", "int"),
            ("meets_nsize", "flag"),
        ),
        ("school_code", "student_group", "indicator"),
    ),
    "index": (
        (
            ("school_code", "text"),
            ("academic", "float"),
            ("social_emotional", "float"),
            ("culture_climate", "float"),
            ("sqii", "float"),
            ("prior_sqii", "float"),
            ("goal", "float"),
            ("meets_goal", "flag"),
        ),
        ("school_code",),
    ),
    "designations": (
        (
            ("school_code", "text"),
            ("designation", "text"),
            ("reason_group", "text"),
            ("reason_indicator", "text"),
            ("years_in_status", "int"),
            ("escalation", "text"),
            ("partner_school_code", "text"),
            ("exited", "flag"),
        ),
        ("school_code",),
    ),
    "communities": (
        (
            ("community_id", "text"),
            ("school_code", "text"),
            ("reason_group", "text"),
            ("checkpoint", "int"),
            ("date", "date"),
            ("status", "text"),
        ),
        ("community_id", "school_code", "checkpoint"),
    ),
}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """A results table that lacks a contract column."""


def neutralise(text: pd.Series) -> pd.Series:
    """Prefix ``'`` to text values that a spreadsheet would read as a formula."""
    s = text.astype("str")
    risky = s.str.startswith(_DANGEROUS).fillna(False).astype(bool)
    return s.where(~risky, "'" + s)


def _quote(s: pd.Series) -> pd.Series:
    """CSV quoting (RFC 4180) of values holding a comma, quote, CR or LF."""
    needs = s.str.contains(r'[,"\r\n]', regex=True)
    return s.where(~needs, '"' + s.str.replace('"', '""', regex=False) + '"')


def _float_text(num: pd.Series) -> pd.Series:
    """The shortest text that reads back as the same float (Python's ``repr``)."""
    return num.map(repr).astype("str").where(num.notna(), "")


def _column(s: pd.Series, kind: str) -> pd.Series:
    """A column as CSV text: empty for missing."""
    if kind == "flag":
        b = s.astype("boolean")
        return b.map({True: "Y", False: "N"}).astype("str").where(b.notna(), "")
    if kind == "int":
        return pd.to_numeric(s).astype("Int64").astype("str").where(s.notna(), "")
    if kind == "float":
        return _float_text(pd.to_numeric(s).astype("float64"))
    if kind == "count":  # whole numbers as such; a fractional count stays a float
        num = pd.to_numeric(s).astype("float64")
        if bool(((num.dropna() % 1) == 0).all()):
            return num.astype("Int64").astype("str").where(num.notna(), "")
        return _float_text(num)
    if kind == "date":
        d = pd.to_datetime(s)
        return d.dt.strftime("%Y-%m-%d").astype("str").where(d.notna(), "")
    text = s.astype("str")
    return _quote(neutralise(text)).where(s.notna(), "")


def to_csv_bytes(name: str, frame: pd.DataFrame) -> bytes:
    """One contract file's bytes from a results frame (extra columns are left out)."""
    columns, key = CONTRACT[name]
    missing = [c for c, _ in columns if c not in frame.columns]
    if missing:
        raise ExportError(f"{name}.csv: the results lack the column(s) {', '.join(missing)}")
    body = frame.sort_values(list(key), kind="stable")
    header = ",".join(c for c, _ in columns)
    if body.empty:
        return (header + "\n").encode("utf-8")
    line = None
    for c, kind in columns:
        text = _column(body[c], kind).astype("str").fillna("")
        line = text if line is None else line + "," + text
    return (header + "\n" + "\n".join(line.tolist()) + "\n").encode("utf-8")


def write_exports(year: str, tables: dict[str, pd.DataFrame], out: Storage) -> dict[str, str]:
    """Write the four contract CSVs under ``<year>/``; returns ``{key: sha256}``.

    ``tables``: ``indicators``, ``index``, ``designations``, ``communities`` frames
    (``index_scores`` is accepted for ``index``). A year without FOCUS schools passes an
    empty communities frame with the contract columns.
    """
    given = dict(tables)
    if "index" not in given and "index_scores" in given:
        given["index"] = given.pop("index_scores")
    missing = [n for n in CONTRACT if n not in given]
    if missing:
        raise ExportError(f"exports of {year}: no {', '.join(missing)} table given")
    written: dict[str, str] = {}
    for name in CONTRACT:
        data = to_csv_bytes(name, given[name])
        key = f"{year}/{name}.csv"
        out.write_bytes(key, data, "text/csv; charset=utf-8")
        written[key] = hashlib.sha256(data).hexdigest()
    return written
