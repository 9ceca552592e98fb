"""Write the synthetic consortium as a data root: ``ROOT/<year>/<file>.csv|.parquet``.

``generate`` plans the consortium, then simulates one district at a time (each with its
own child seed from ``SeedSequence.spawn``, so districts are independent) and appends
the district's rows of every year to every file: memory holds one district, never the
consortium. Columns are converted to the contract's text with Arrow compute (codes by
``take`` from their vocabulary, IDs by integer → string cast), and streamed with
``pyarrow.csv.CSVWriter`` or ``pyarrow.parquet.ParquetWriter``: the same arguments give
byte-identical files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sqis import codes, years
from sqis.storage import content_type, is_s3, open_storage
from sqis.synthetic.district import simulate_district
from sqis.synthetic.educators import EducatorSim
from sqis.synthetic.model import ConsortiumPlan, SyntheticParams, plan_consortium

Format = Literal["csv", "parquet"]
# bumped whenever the same arguments would give different files (2: the educator files;
# the other files are as version 1 wrote them)
GENERATOR_VERSION = "2"
# what the last `generate` wrote into a data root (hidden: not a year folder)
STAMP_FILE = ".sqis-generate.json"
FORMATS: tuple[str, ...] = ("csv", "parquet")

# Each contract column and how its encoded array becomes the contract's value:
# "str" text as is; "id" integer → digits; "school" local index → CDS code;
# "flag" bool → Y/N; "int"; "float"; "year" start year → YYYY-YY (empty where < 0);
# a tuple: integer index into that vocabulary.
_SPEC: dict[str, tuple[tuple[str, object], ...]] = {
    "schools": (
        ("school_code", "school"), ("district_code", "str"), ("school_name", "str"),
        ("district_name", "str"), ("school_type", "str"), ("title_i", "flag"),
        ("low_grade", "int"), ("high_grade", "int"),
    ),
    "students": (
        ("student_id", "id"), ("school_code", "school"), ("grade", "int"),
        ("race_ethnicity", codes.RACE_CODES), ("gender", codes.GENDERS),
        ("el_status", codes.EL_STATUSES), ("redesignated", "flag"), ("swd", "flag"),
        ("sed", "flag"), ("foster", "flag"), ("homeless", "flag"), ("days_enrolled", "int"),
        ("days_absent", "int"), ("suspensions", "int"), ("expelled", "flag"),
        ("promoted", "flag"),
    ),
    "assessments": (
        ("student_id", "id"), ("school_code", "school"), ("subject", codes.SUBJECTS),
        ("grade", "int"), ("scale_score", "float"), ("performance_level", "int"),
    ),
    "graduation": (
        ("student_id", "id"), ("school_code", "school"), ("cohort", "year"),
        ("outcome", codes.GRAD_OUTCOMES), ("grad_year", "year"),
        ("race_ethnicity", codes.RACE_CODES), ("el", "flag"), ("swd", "flag"), ("sed", "flag"),
        ("foster", "flag"), ("homeless", "flag"),
    ),
    "sel": (
        ("student_id", "id"), ("school_code", "school"), ("construct", codes.SEL_CONSTRUCTS),
        ("score", "float"),
    ),
    "climate": (
        ("respondent_id", "rid"), ("school_code", "school"),
        ("respondent_type", codes.RESPONDENT_TYPES), ("construct", codes.CLIMATE_CONSTRUCTS),
        ("score", "float"),
    ),
    # the optional educator files (sqis.synthetic.educators), from the first educator year
    "educators": (
        ("educator_id", "str"), ("school_code", "school"), ("role", codes.EDUCATOR_ROLES),
        ("practice", "float"),
    ),
    "rosters": (
        ("student_id", "id"), ("educator_id", "str"), ("school_code", "school"),
        ("subject", codes.ROSTER_SUBJECTS),
    ),
}  # fmt: skip

_TYPES = {
    "str": pa.string(), "id": pa.string(), "school": pa.string(), "flag": pa.string(),
    "int": pa.int64(), "float": pa.float64(), "year": pa.string(), "rid": pa.string(),
}  # fmt: skip


def schema(name: str) -> pa.Schema:
    """The Arrow schema of a generated contract file (contract column order)."""
    return pa.schema(
        [(c, _TYPES[k] if isinstance(k, str) else pa.string()) for c, k in _SPEC[name]]
    )


_FLAGS = pa.array(["N", "Y"])


def _column(kind: object, values: np.ndarray, school_codes: pa.Array) -> pa.Array:
    if kind == "str":
        return pa.array(values.astype(str), type=pa.string())
    if kind == "id":
        return pa.array(values.astype(np.int64)).cast(pa.string())
    if kind == "school":
        return school_codes.take(pa.array(values.astype(np.int64)))
    if kind == "flag":
        return _FLAGS.take(pa.array(values.astype(np.int8)))
    if kind == "int":
        return pa.array(values.astype(np.int64))
    if kind == "float":
        return pa.array(values.astype(np.float64))
    if kind == "year":
        v = values.astype(np.int64)
        known = v >= 0
        lo = int(v[known].min()) if known.any() else 0
        hi = int(v[known].max()) if known.any() else 0
        vocab = pa.array([years.from_start(y) for y in range(lo, hi + 1)], type=pa.string())
        return vocab.take(pa.array(np.where(known, v - lo, 0), mask=~known))
    if kind == "rid":
        # anonymous survey IDs: "R" + nine digits
        digits = pa.array(values.astype(np.int64) + 1_000_000_000).cast(pa.string())
        return pc.utf8_replace_slice(digits, 0, 1, "R")
    vocab = pa.array(list(kind), type=pa.string())  # type: ignore[arg-type]
    return vocab.take(pa.array(values.astype(np.int64)))


def to_table(name: str, frame: dict[str, np.ndarray], school_codes: pa.Array) -> pa.Table:
    """An encoded frame as an Arrow table with the contract's columns and values."""
    cols = [_column(kind, frame[c], school_codes) for c, kind in _SPEC[name]]
    return pa.Table.from_arrays(cols, schema=schema(name))


class _Sinks:
    """One open writer per (year, file), appended to district after district."""

    def __init__(self, root: Path, fmt: Format) -> None:
        self.root, self.fmt = root, fmt
        self.writers: dict[tuple[str, str], object] = {}
        self.rows: dict[tuple[str, str], int] = {}

    def write(self, year: str, name: str, table: pa.Table) -> None:
        key = (year, name)
        w = self.writers.get(key)
        if w is None:
            path = self.root / year / f"{name}.{self.fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            if self.fmt == "csv":
                opts = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
                w = pacsv.CSVWriter(str(path), table.schema, write_options=opts)
            else:
                w = pq.ParquetWriter(str(path), table.schema, compression="zstd")
            self.writers[key] = w
            self.rows[key] = 0
        w.write_table(table)  # type: ignore[attr-defined]
        self.rows[key] += table.num_rows

    def close(self) -> None:
        for w in self.writers.values():
            w.close()  # type: ignore[attr-defined]
        self.writers.clear()


@dataclass
class GenerateSummary:
    """What ``generate`` wrote: rows per (year, file), the plan, the wall time."""

    root: str
    years: list[str]
    format: str
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    n_schools: int = 0
    n_title_i: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: bool = False  # the same arguments had already written these years


def generate(
    out: str | Path,
    year_list: list[str],
    n_students: int,
    n_districts: int,
    seed: int,
    fmt: Format = "csv",
    params: SyntheticParams | None = None,
    overwrite: bool = False,
) -> GenerateSummary:
    """Generate a synthetic consortium and write every contract file of every year.

    ``out`` is a local folder or ``s3://bucket/prefix`` (written locally, then uploaded
    with ``sqis.storage``); year folders already in it are refused unless
    ``overwrite`` (then they are replaced), or unless they were written by the same
    arguments (recorded in ``.sqis-generate.json``): then nothing is done. Files are
    written under a staging folder and the year folders moved into place at the end, so
    an interrupted run leaves no half-written year. Deterministic for a seed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use csv or parquet")
    if n_students < 100 or n_districts < 1:
        raise ValueError("at least 100 students and one district are needed")
    if n_students < 500 * n_districts:
        raise ValueError(
            f"{n_students} students are too few for {n_districts} districts "
            "(each district needs at least 500 students for one ES, one MS and one HS)"
        )
    for y in year_list:
        years.start_of(y)
    if is_s3(str(out)):
        return _generate_to_s3(
            str(out), year_list, n_students, n_districts, seed, fmt, params, overwrite
        )
    t0 = time.perf_counter()
    root = Path(out)
    stamp = {
        "generator": GENERATOR_VERSION,
        "years": list(year_list),
        "students": n_students,
        "districts": n_districts,
        "seed": seed,
        "format": fmt,
    }
    existing = [y for y in year_list if (root / y).exists()]
    if existing and not overwrite:
        if len(existing) == len(year_list) and params is None and _stamp(root) == stamp:
            # the same arguments give the same bytes: nothing to do (re-running `make demo`)
            return GenerateSummary(str(root), list(year_list), fmt, skipped=True)
        raise FileExistsError(
            f"{root / existing[0]} already exists: choose another --out or pass --overwrite"
        )
    root.mkdir(parents=True, exist_ok=True)
    # write under a staging folder; year folders move into place only when complete
    staging = root / f".generating-{seed}"
    shutil.rmtree(staging, ignore_errors=True)
    seq = np.random.SeedSequence(seed)
    plan_seq, *district_seqs = seq.spawn(n_districts + 1)
    # the educator files' own child seeds, spawned after the others: those files' random
    # streams, and so their bytes, are as they were without educators
    educator_seqs = seq.spawn(n_districts)
    plan = plan_consortium(
        n_students, n_districts, year_list, np.random.default_rng(plan_seq), params
    )
    sinks = _Sinks(staging, fmt)
    try:
        for d in range(n_districts):
            rng = np.random.default_rng(district_seqs[d])
            school_codes = pa.array(plan.district_schools(d)["school_code"].tolist())
            staff = EducatorSim(plan, d, np.random.default_rng(educator_seqs[d]))
            for year, frames in simulate_district(plan, d, rng):
                extra = staff.year(year, frames)  # reads students and assessments
                for name in codes.CONTRACT_FILES:  # pop: free each frame once written
                    sinks.write(year, name, to_table(name, frames.pop(name), school_codes))
                for name, frame in extra.items():  # educators, rosters
                    sinks.write(year, name, to_table(name, frame, school_codes))
        sinks.close()
        for y in year_list:
            if (root / y).exists():
                shutil.rmtree(root / y)
            (staging / y).rename(root / y)
    finally:
        sinks.close()
        shutil.rmtree(staging, ignore_errors=True)
    if params is None:
        (root / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    roles = plan.schools["role"].value_counts().to_dict()
    return GenerateSummary(
        root=str(root),
        years=list(year_list),
        format=fmt,
        rows=dict(sinks.rows),
        n_schools=len(plan.schools),
        n_title_i=int(plan.schools["title_i"].sum()),
        roles={str(k): int(v) for k, v in roles.items()},
        seconds=time.perf_counter() - t0,
    )


def _generate_to_s3(
    uri: str,
    year_list: list[str],
    n_students: int,
    n_districts: int,
    seed: int,
    fmt: Format,
    params: SyntheticParams | None,
    overwrite: bool,
) -> GenerateSummary:
    """``generate`` into ``s3://bucket/prefix``: written locally first, then uploaded.

    Year prefixes that already hold objects are refused unless ``overwrite`` (their
    objects are then deleted before the upload). The stamp file is uploaded last.
    """
    storage = open_storage(uri)
    existing = [y for y in year_list if storage.list(y)]
    if existing and not overwrite:
        raise FileExistsError(
            f"{uri.rstrip('/')}/{existing[0]} already exists: choose another --out or pass "
            "--overwrite"
        )
    with tempfile.TemporaryDirectory(prefix="sqis-generate-") as tmp:
        local = Path(tmp) / "data"
        summary = generate(local, year_list, n_students, n_districts, seed, fmt, params)
        for y in existing:
            for key in storage.list(y):
                storage.delete(key)
        files = sorted(p for p in local.rglob("*") if p.is_file())
        for path in sorted(files, key=lambda p: p.name == STAMP_FILE):
            key = path.relative_to(local).as_posix()
            storage.write_bytes(key, path.read_bytes(), content_type(key))
    summary.root = uri
    return summary


def _stamp(root: Path) -> dict | None:
    try:
        return json.loads((root / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def plan_only(
    n_students: int, n_districts: int, year_list: list[str], seed: int,
    params: SyntheticParams | None = None,
) -> ConsortiumPlan:  # fmt: skip
    """The consortium plan ``generate`` would use (schools, Title I, roles), without writing."""
    seq = np.random.SeedSequence(seed)
    plan_seq = seq.spawn(n_districts + 1)[0]
    return plan_consortium(
        n_students, n_districts, year_list, np.random.default_rng(plan_seq), params
    )
