"""CSV exports of a year's results, exactly as DATA_CONTRACT.md "Outputs" lays them out.

``write_exports(year, tables, out)`` writes ``<year>/indicators.csv``, ``index.csv``,
``designations.csv``, ``communities.csv``, ``districts.csv``, ``goal_support.csv`` and
``partnership_flags.csv``: the contract's columns
in the contract's order, UTF-8, header row, comma separated, ``\\n`` line ends, rows
sorted by their key.
Flags are ``Y``/``N``, levels and counts whole numbers, rates unrounded (shortest
round-trip text), missing values empty.

Text fields are neutralised against CSV formula injection (a spreadsheet would run
``=HYPERLINK(…)``): a text value starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``. Numeric columns are never touched (``-3.5`` stays a number).

Why one module over 500 lines: DATA_CONTRACT.md "Outputs" is one layout
(columns, order, text of flags and numbers, formula neutralising) for every CSV of both
editions; it is kept whole so the files cannot drift apart.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from schemas.base import column_kinds
from schemas.outputs import OUTPUT_MODELS, empty
from sqis.errors import SqisError
from sqis.storage import Storage

# file → (columns with kinds, sort key). kinds: text, flag, int, count, float, date
Layout = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]
# a column's kind by its type in the file's model (schemas.base.column_kinds)
_KIND_OF = {"str": "text", "flag": "flag", "int": "int", "float": "float"}


def _layout(name: str, key: tuple[str, ...], **kinds: str) -> Layout:
    """A contract file's columns, in order, as its model declares them
    (``schemas.outputs.OUTPUT_MODELS``), each with its CSV kind: by the model's type, or
    ``kinds`` where the text says more (a count written whole, a date)."""
    model = OUTPUT_MODELS[name]
    return tuple((c, kinds.get(c, _KIND_OF[k])) for c, k in column_kinds(model).items()), key


CONTRACT: dict[str, Layout] = {
    "indicators": _layout(
        "indicators",
        ("school_code", "student_group", "indicator"),
        numerator="count",
        denominator="count",
    ),
    "index": _layout("index", ("school_code",)),
    "designations": _layout("designations", ("school_code",)),
    "communities": _layout(
        "communities", ("community_id", "school_code", "checkpoint"), date="date"
    ),
    # METHODOLOGY.md "District index" (sqis.districts)
    "districts": _layout("districts", ("district_code",)),
    # METHODOLOGY.md "Support for schools missing their goal" (sqis.goal_support)
    "goal_support": _layout("goal_support", ("school_code",)),
    # METHODOLOGY.md "Escalation": required partnerships not formed (sqis.partners)
    "partnership_flags": _layout("partnership_flags", ("school_code", "flag")),
}
# the contract files a caller of ``write_exports`` may leave out (written empty)
OPTIONAL: tuple[str, ...] = ("goal_support", "partnership_flags")
# METHODOLOGY.md "Educator effectiveness": the two educator files, written only for a year
# whose delivery holds the educator files; ``educators.csv`` in the staff edition only
EDUCATOR_CONTRACT: dict[str, Layout] = {
    "educators": _layout("educators", ("school_code", "role", "educator_key")),
    "educator-distribution": _layout(
        "educator-distribution", ("entity_type", "entity_code", "role")
    ),
    # the districts' actions on a TRIGGER (staff edition only; not in DATA_CONTRACT.md's
    # educators.csv, whose columns are fixed: a file beside it, docs/data-contract.md)
    "educator-actions": (
        (
            ("year", "text"),
            ("educator_key", "text"),
            ("school_code", "text"),
            ("action", "text"),
            ("reason", "text"),
            ("recorded_by", "text"),
            ("recorded_at", "text"),
            ("in_force_until", "text"),
        ),
        ("year", "school_code", "educator_key"),
    ),
}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError, SqisError):
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
    columns, key = CONTRACT[name] if name in CONTRACT else EDUCATOR_CONTRACT[name]
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
    """Write the contract CSVs under ``<year>/``; returns ``{key: sha256}``.

    ``tables``: ``indicators``, ``index``, ``designations``, ``communities``, ``districts``
    frames (``index_scores`` is accepted for ``index``, ``district_index`` for
    ``districts``). A year without FOCUS schools passes an empty communities frame with
    the contract columns.
    """
    given = dict(tables)
    if "index" not in given and "index_scores" in given:
        given["index"] = given.pop("index_scores")
    if "districts" not in given and "district_index" in given:
        given["districts"] = given.pop("district_index")
    for name in OPTIONAL:  # a year without them writes the header only
        given.setdefault(name, empty(OUTPUT_MODELS[name]))
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


# ---- the public edition (DATA_CONTRACT.md "Outputs", METHODOLOGY.md "Two editions") -------
DICTIONARY = "data-dictionary.csv"
PUBLIC_FILES: tuple[str, ...] = (
    "indicators",
    "index",
    "designations",
    "communities",
    "districts",
    # school codes and indicator codes, no student count (docs/reports.md "Two editions")
    "goal_support",
    "partnership_flags",
)

# file → column → meaning (DATA_CONTRACT.md "Outputs"); the coding is added per column
_MEANINGS: dict[str, dict[str, str]] = {
    "indicators": {
        "school_code": "14-digit CDS code of the school",
        "student_group": "student group code (ALL; AA AI AS FI HI PI WH MR; EL SWD SED FOS HOM)",
        "indicator": "indicator code (METHODOLOGY.md Indicators)",
        "numerator": "students counted in the indicator's value (e.g. met standard)",
        "denominator": "students the indicator is computed over (n)",
        "value": "the indicator's value: a percentage 0–100, a mean 1–5, a percentile 0–100 "
        "or a ratio, unrounded",
        "level": "index level 1–10 (8–10 above average, 4–7 average, 1–3 below average)",
        "meets_nsize": "Y where the denominator meets the n-size and the value counts for a level",
    },
    "index": {
        "school_code": "14-digit CDS code of the school",
        "academic": "academic domain score (mean of school indicator levels)",
        "social_emotional": "social-emotional domain score",
        "culture_climate": "culture-climate domain score",
        "sqii": "School Quality Improvement Index, 10–100",
        "prior_sqii": "last year's SQII",
        "goal": "SQI Goal: last year's SQII + 10% of (100 − last year's SQII)",
        "meets_goal": "Y where the SQII reaches the goal",
    },
    "designations": {
        "school_code": "14-digit CDS code of the school",
        "designation": "PRIORITY, FOCUS, REWARD or NONE, for the service year after the results",
        "reason_group": "the student group a Focus school was identified for",
        "reason_indicator": "the indicator of its largest gap",
        "years_in_status": "consecutive years in the designation",
        "escalation": "NONE, PEER_REVIEW, REWARD_PARTNERSHIP, DISTRICT_TURNAROUND, DISTRICT_ACTION",
        "partner_school_code": "the Reward partner school's CDS code",
        "exited": "Y for a school that left Priority or Focus status this year",
    },
    "districts": {
        "district_code": "7-digit district code",
        "academic": "academic domain score, the schools' weighted by enrolment",
        "social_emotional": "social-emotional domain score, weighted likewise",
        "culture_climate": "culture-climate domain score, weighted likewise",
        "sqii": "the district's SQII: its schools' SQII weighted by enrolment",
        "prior_sqii": "last year's district SQII",
        "goal": "the district's SQI Goal",
        "meets_goal": "Y where the district's SQII reaches its goal",
    },
    "goal_support": {
        "school_code": "14-digit CDS code of a school that missed its SQI Goal and is neither "
        "Priority nor Focus",
        "weakest_indicator": "the indicator of its lowest school indicator level",
        "support_school_code": "the support partner's CDS code: a school of the same type that "
        "met its goal and is strong on that indicator; empty where none qualifies",
    },
    "partnership_flags": {
        "school_code": "14-digit CDS code of a school required to have a Reward partner",
        "flag": "NO_ELIGIBLE_PARTNER: no school of the Reward pool qualified",
    },
    "communities": {
        "community_id": "community of practice of Focus schools",
        "school_code": "14-digit CDS code of the school",
        "reason_group": "the student group the community is formed around",
        "checkpoint": "checkpoint number, 1–4",
        "date": "checkpoint date in the service year (YYYY-MM-DD)",
        "status": "SCHEDULED or HELD",
    },
}


def _codings(m: Any) -> dict[str, str]:
    s = m.suppression
    star, under, mx = s.suppressed_label, s.under_nsize_label, s.max_count
    return {
        "count": (
            f"whole number; '{star}' suppressed to protect student privacy (a group of "
            f"{s.min_count}–{mx} students, a count of {mx} or fewer, or a cell that would give "
            f"another away); '{under}' fewer than {m.n_size} students (the n-size)"
        ),
        "value": (
            f"number; '<X' or '>Y' where the exact rate would show that {mx} or fewer "
            f"students did or did not meet it (the range holds at least {mx + 1} possible "
            f"counts); '{star}' suppressed; '{under}' under the n-size; empty where the "
            "indicator has no value"
        ),
        "level": f"1–10; '{star}' where it would narrow a suppressed count; empty where "
        "the group is under the n-size",
        "flag": "Y or N",
        "text": "text",
        "float": "number, unrounded; empty where missing",
        "int": "whole number; empty where missing",
        "date": "YYYY-MM-DD",
    }


def data_dictionary(m: Any) -> bytes:
    """``data-dictionary.csv`` of the public files: ``file, column, meaning, coding``."""
    codings = _codings(m)
    special = {"numerator": "count", "denominator": "count", "value": "value", "level": "level"}
    rows = []
    for name in PUBLIC_FILES:
        columns, _ = CONTRACT[name]
        for col, kind in columns:
            coding = codings[special.get(col, kind)] if name == "indicators" else codings[kind]
            rows.append((f"{name}.csv", col, _MEANINGS[name][col], coding))
    frame = pd.DataFrame(rows, columns=["file", "column", "meaning", "coding"])
    lines = [",".join(frame.columns)]
    body = None
    for c in frame.columns:
        t = _quote(frame[c].astype(str))
        body = t if body is None else body + "," + t
    lines += body.tolist()
    return ("\n".join(lines) + "\n").encode("utf-8")


def _coded_text(
    num: pd.Series, code: pd.Series, labels: dict[int, str], as_float: bool = False
) -> pd.Series:
    """A public column as CSV text: the number where shown, else its code's label."""
    from sqis import disclosure as dc

    n = pd.to_numeric(num, errors="coerce").astype("float64")
    text = _float_text(n) if as_float else n.astype("Int64").astype("str").where(n.notna(), "")
    c = code.to_numpy(dtype="int64")
    out = text.to_numpy(dtype=object).copy()
    for k, label in labels.items():
        out[c == k] = label
    out[(c == dc.SHOWN) & n.isna().to_numpy()] = ""
    return pd.Series(out, index=num.index, dtype="object")


def public_indicators_csv(pf: Any, m: Any) -> bytes:
    """The public ``indicators.csv`` (the contract's columns, the year's rows): suppressed
    cells ``*``, groups under the n-size ``n<20``, coded rates ``<X`` / ``>Y``."""
    from sqis import disclosure as dc

    s = m.suppression
    star, under = s.suppressed_label, s.under_nsize_label
    ind = pf.indicators
    ind = ind[ind["year"].astype(str) == pf.year]
    ind = ind.sort_values(list(CONTRACT["indicators"][1]), kind="stable").reset_index(drop=True)
    header = ",".join(c for c, _ in CONTRACT["indicators"][0])
    if ind.empty:
        return (header + "\n").encode("utf-8")
    hidden = {dc.SMALL: star, dc.HIDDEN: star, dc.UNDER: under, dc.NONE: ""}
    bound = pd.to_numeric(ind["value_bound"], errors="coerce")
    value = _coded_text(ind["value"], ind["value_code"], hidden, as_float=True)
    vc = ind["value_code"].to_numpy(dtype="int64")
    btxt = bound.map(lambda b: "" if pd.isna(b) else f"{b:.0f}").to_numpy(dtype=object)
    value = value.to_numpy(dtype=object).copy()
    value[vc == dc.BOTTOM] = "<" + btxt[vc == dc.BOTTOM]
    value[vc == dc.TOP] = ">" + btxt[vc == dc.TOP]
    cols = [
        _column(ind["school_code"], "text"),
        _column(ind["student_group"], "text"),
        _column(ind["indicator"], "text"),
        _coded_text(ind["numerator"], ind["numerator_code"], hidden),
        _coded_text(ind["n"], ind["n_code"], hidden),
        pd.Series(value, index=ind.index, dtype="object"),
        _coded_text(
            ind["level"],
            ind["level_code"],
            {dc.HIDDEN: star, dc.SMALL: "", dc.UNDER: "", dc.NONE: ""},
        ),
        _column(ind["meets_nsize"], "flag"),
    ]
    line = cols[0].astype(str)
    for c in cols[1:]:
        line = line + "," + c.astype(str)
    return (header + "\n" + "\n".join(line.tolist()) + "\n").encode("utf-8")


def public_csv_files(pf: Any, m: Any) -> dict[str, bytes]:
    """Every public CSV of the year (``sqis.disclosure.PublicFrames`` only) and the data
    dictionary: ``{name.csv: bytes}``, the contract's file names."""
    from sqis import disclosure as dc

    pf = dc.require_public(pf)

    def this_year(frame: pd.DataFrame) -> pd.DataFrame:
        if "year" in frame.columns:
            return frame[frame["year"].astype(str) == pf.year]
        return frame

    out = {"indicators.csv": public_indicators_csv(pf, m)}
    out["index.csv"] = to_csv_bytes("index", this_year(pf.index))
    out["designations.csv"] = to_csv_bytes("designations", this_year(pf.designations))

    def or_empty(name: str, frame: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c, _ in CONTRACT[name][0]]
        return frame if set(cols) <= set(frame.columns) else empty(OUTPUT_MODELS[name])

    out["communities.csv"] = to_csv_bytes("communities", or_empty("communities", pf.communities))
    out["districts.csv"] = to_csv_bytes("districts", or_empty("districts", pf.districts))
    for name in ("goal_support", "partnership_flags"):
        out[f"{name}.csv"] = to_csv_bytes(name, or_empty(name, getattr(pf, name)))
    out[DICTIONARY] = data_dictionary(m)
    return out


# ---- the educator files (METHODOLOGY.md "Educator effectiveness") ------------------------
_EDUCATOR_MEANINGS: dict[str, str] = {
    "entity_type": "CONSORTIUM, DISTRICT or SCHOOL",
    "entity_code": "ALL for the consortium, else the 7-digit district or 14-digit CDS code",
    "role": "TEACHER or PRINCIPAL",
    "rated": "educators rated (an educator at two schools counts at each)",
    "level_1": "educators rated Ineffective (level 1)",
    "level_2": "educators rated Developing (level 2)",
    "level_3": "educators rated Effective (level 3)",
    "level_4": "educators rated Highly effective (level 4)",
}


def educator_files(results: pd.DataFrame, distribution: pd.DataFrame) -> dict[str, bytes]:
    """The staff edition's ``educators.csv`` and ``educator-distribution.csv`` (unsuppressed)."""
    return {
        "educators.csv": to_csv_bytes("educators", results),
        "educator-distribution.csv": to_csv_bytes("educator-distribution", distribution),
    }


def public_educator_distribution_csv(public: pd.DataFrame) -> bytes:
    """The public ``educator-distribution.csv`` from the suppressed distribution
    (``sqis.disclosure.public_educator_distribution``: counts as text, ``*`` where hidden)."""
    columns, key = EDUCATOR_CONTRACT["educator-distribution"]
    body = public.sort_values(list(key), kind="stable")
    header = ",".join(c for c, _ in columns)
    if body.empty:
        return (header + "\n").encode("utf-8")
    line = None
    for c, _ in columns:
        text = _quote(neutralise(body[c].astype("str")))
        line = text if line is None else line + "," + text
    return (header + "\n" + "\n".join(line.tolist()) + "\n").encode("utf-8")


def educator_dictionary_rows(m: Any) -> bytes:
    """The public ``educator-distribution.csv``'s rows of ``data-dictionary.csv`` (without
    its header line), to append where the year publishes the distribution."""
    p = m.educators.public
    coding = (
        f"whole number; '{p.suppressed_label}' suppressed: a row of fewer than {p.min_rated} "
        f"educators or of one level shows nothing, a count of 1–{p.max_small_count} is "
        f"'{p.suppressed_label}', and so is any count that would give one away"
    )
    rows = []
    for col, kind in EDUCATOR_CONTRACT["educator-distribution"][0]:
        rows.append(
            ("educator-distribution.csv", col, _EDUCATOR_MEANINGS[col], coding if kind == "int"
             else "text")
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=["file", "column", "meaning", "coding"])
    body = None
    for c in frame.columns:
        q = _quote(frame[c].astype(str))
        body = q if body is None else body + "," + q
    return ("\n".join(body.tolist()) + "\n").encode("utf-8")
