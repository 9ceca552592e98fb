"""Ingest: a validated, pseudonymised copy of a year's delivery in the store (DATA_CONTRACT.md).

``ingest_year(root, year)`` validates the delivery (``sqis.validation``); on any failure
it raises ``DeliveryInvalid`` carrying the report and writes nothing. Otherwise it
replaces every student ID by its pseudonym (``sqis.pseudonym``) and stores::

    <store_root>/validated/<year>/<file>.parquet     one per contract file, typed columns
    <store_root>/validated/<year>/student_keys.parquet  the year's student codes (derived)
    <store_root>/validated/<year>/delivery.json      the manifest, written last
    <store_root>/validated/<year>/versions/<n>/…     earlier deliveries kept by --replace

``delivery.json`` records the year, the SHA-256, size and row count of each delivered
file, where it came from, when, by whom, under which contract schema version, methodology
and pseudonym-key fingerprint, and the SHA-256 of each stored Parquet file. It is written
last, and ``load_year`` checks every stored file against it, so a reader sees a complete
year or an error, never half of a new delivery mixed with the old one.

A year is ingested once: the same files again change nothing (``unchanged``); different
files raise ``DeliveryChanged`` unless ``replace=True``, which first copies the current
version to ``versions/<n>/`` (kept, never deleted).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.cross_file import STUDENT_LEVEL_FILES
from sqis import codes, educator_files, student_keys, years
from sqis.errors import REFUSED, USAGE, SqisError
from sqis.pseudonym import key_id, pseudonymise_arrow
from sqis.reading import DeliveryError, locate, year_folder_problems
from sqis.settings import get_settings
from sqis.storage import Storage, StorageError, is_s3, open_storage
from sqis.validation import ValidationReport, validate_delivery
from sqis.yeardata import YearData
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.methodology import Methodology

SCHEMA_VERSION = "1"  # the data contract's version; bump when a contract file changes shape
log = logging.getLogger(__name__)

MANIFEST = "delivery.json"
KEYS_FILE = "student_keys.parquet"  # the year's student codes (sqis.student_keys)
_VERSION_DIR = re.compile(r"^versions/([0-9]+)/")


class IngestError(RuntimeError, SqisError):
    """Base of ingest's refusals."""

    exit_code = USAGE


class DeliveryInvalid(IngestError):
    """The delivery breaks the data contract; ``report`` lists every failure. Nothing stored.

    The report it carries is ``ValidationReport.failures_only()``: the masked failures,
    never the delivered rows. An exception can outlive the run that raised it (Prefect
    pickles a failed flow's exception into its result storage), so it holds nothing a raw
    student ID could be read from.
    """

    def __init__(self, report: ValidationReport) -> None:
        report = report.failures_only()
        self.report = report
        counts = report.summary().groupby("file", sort=False)["count"].sum()
        detail = ", ".join(f"{f}: {n}" for f, n in counts.items())
        super().__init__(
            f"{report.data_root}/{report.year}: the delivery does not meet the data contract "
            f"({report.failure_count} failures; {detail}); nothing was stored"
        )

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """2 when a file could not be read at all (fix the delivery's form), else 1."""
        return USAGE if self.report.unreadable else REFUSED


class DeliveryChanged(IngestError):
    """The year was ingested from other files; ``replace=True`` keeps the old, stores anew."""


class NotIngested(IngestError, LookupError):
    """No validated delivery for that year in the store."""


class StoreInconsistent(IngestError):
    """A stored file does not match its manifest (a replace in progress, or damage)."""


class KeyMismatch(IngestError):
    """The store holds years pseudonymised under another key: they would not join."""


@dataclass
class IngestResult:
    year: str
    status: str  # "ingested", "unchanged" or "replaced"
    store_uri: str
    manifest: dict[str, Any]
    previous_version: int | None = None  # where --replace kept the previous delivery
    report: ValidationReport | None = None  # failures_only(): no delivered rows or frames
    rows: dict[str, int] = field(default_factory=dict)


def _year_dir(year: str) -> str:
    return f"validated/{year}"


def _store(store_root: str | None) -> Storage:
    return open_storage(store_root or get_settings().store_root)


def _source_uri(data_root: str) -> str:
    return str(data_root) if is_s3(str(data_root)) else str(Path(data_root).resolve())


def _read_manifest(store: Storage, year: str) -> dict[str, Any] | None:
    key = f"{_year_dir(year)}/{MANIFEST}"
    if not store.exists(key):
        return None
    try:
        return json.loads(store.read_bytes(key))
    except json.JSONDecodeError as e:
        raise StoreInconsistent(f"{store.uri}/{key}: not valid JSON ({e.msg})") from None


def _delivered_checksums(data_root: str, year: str) -> dict[str, str] | None:
    """SHA-256 of each delivered file, or ``None`` when one is missing or ambiguous, or the
    year folder holds anything else (validation then says what)."""
    if year_folder_problems(data_root, year):
        return None
    storage = open_storage(data_root)
    out = {}
    for name in codes.CONTRACT_FILES:
        try:
            key, _ = locate(data_root, year, name)
            out[name] = hashlib.sha256(storage.read_bytes(key)).hexdigest()
        except (DeliveryError, StorageError):
            return None
    try:  # the optional educator files, where delivered
        for name in educator_files.delivered(data_root, year):
            key, _ = locate(data_root, year, name)
            out[name] = hashlib.sha256(storage.read_bytes(key)).hexdigest()
    except (DeliveryError, StorageError):
        return None
    return out


def _check_key(store: Storage, year: str, kid: str) -> None:
    for other in ingested_years(store.uri):
        if other == year:
            continue
        m = _read_manifest(store, other) or {}
        if m.get("pseudonym_key_id") not in (None, kid):
            raise KeyMismatch(
                f"{store.uri}: {other} was pseudonymised under another key "
                f"(fingerprint {m.get('pseudonym_key_id')}, now {kid}); pseudonyms would not "
                "join across years. Use the consortium's key, or a new store root."
            )


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def pseudonymised_frames(report: ValidationReport, key: bytes) -> dict[str, pd.DataFrame]:
    """The validated frames with ``student_id`` replaced by its pseudonym, row numbers dropped.

    The IDs of every student-level file are pseudonymised together, so that each distinct
    student is hashed once. The pseudonyms stay Arrow text end to end (no Python strings).
    """
    frames = {n: report.frames[n].reset_index(drop=True) for n in codes.CONTRACT_FILES}
    ids = pa.chunked_array(
        [_arrow_text(frames[n]["student_id"]) for n in STUDENT_LEVEL_FILES], pa.large_string()
    )
    pseudonyms = pseudonymise_arrow(ids, key)
    start = 0
    for name in STUDENT_LEVEL_FILES:
        n = len(frames[name])
        part = pseudonyms.slice(start, n).to_pandas(types_mapper=pd.ArrowDtype).array
        column = pd.Series(part, index=frames[name].index).astype("str")
        frames[name] = frames[name].assign(student_id=column)
        start += n
    frames.update(educator_files.pseudonymised(report, key))  # educators, rosters if delivered
    return frames


def _arrow_text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow ``large_string`` array (no copy when already Arrow-backed)."""
    arr = pa.array(values.astype("str").array, pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def ingest_year(
    data_root: str,
    year: str,
    *,
    store_root: str | None = None,
    replace: bool = False,
    methodology: Methodology | None = None,
) -> IngestResult:
    """Validate, pseudonymise and store a year's delivery (see the module docstring).

    ``methodology``: the run's, handed down (default: the year's, chosen by
    ``validate_delivery``). Raises ``DeliveryInvalid`` (nothing stored), ``DeliveryChanged``
    (a different delivery for an ingested year, without ``replace``), ``KeyMismatch`` or
    ``MissingKeyError``.
    """
    year = SchoolYear(year)
    settings = get_settings()
    key = settings.require_pseudonym_key()  # refuse before reading anything
    kid = key_id(key)
    store = _store(store_root)
    ydir = _year_dir(year)
    previous = _read_manifest(store, year)
    _check_key(store, year, kid)

    if previous is not None:
        delivered = _delivered_checksums(data_root, year)
        stored = {n: f.get("sha256") for n, f in previous.get("files", {}).items()}
        if delivered == stored and previous.get("pseudonym_key_id") == kid:
            return IngestResult(year, "unchanged", store.uri, previous)
        if delivered is not None and not replace:  # (unreadable: validation says why)
            raise DeliveryChanged(
                f"{year} is already ingested in {store.uri} from different files "
                f"(ingested {previous.get('ingested_at')}); re-run with --replace to keep "
                f"that version under {ydir}/versions/ and store this one"
            )

    report = validate_delivery(data_root, year, methodology)
    if not report.ok:
        raise DeliveryInvalid(report)

    keys_blob, keys_rows = student_keys.encode(
        student_keys.ingest_codes(
            {
                n: _arrow_text(report.frames[n]["student_id"])
                for n in student_keys.KEYED_FILES
                if report.frames.get(n) is not None
            }
        )
    )
    frames = pseudonymised_frames(report, key)
    # each frame is held once from here: the coerced copies go, and each pseudonymised
    # frame goes once it is Parquet (a 1M-student year is ~1 GB of frames; BENCHMARKS.md)
    report = report.failures_only()
    rows = {n: len(f) for n, f in frames.items()}
    blobs = {name: _parquet_bytes(frames.pop(name)) for name in list(frames)}

    version = 1
    kept: int | None = None
    if previous is not None:
        kept = _keep_previous(store, year)
        version = kept + 1
    for name, blob in blobs.items():
        store.write_bytes(f"{ydir}/{name}.parquet", blob)
    store.write_bytes(f"{ydir}/{KEYS_FILE}", keys_blob)
    manifest = {
        "year": year,
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "source": _source_uri(data_root),
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ingested_by": settings.run_by,
        "methodology_version": report.methodology_version,
        "pseudonym_key_id": kid,
        "files": {
            name: {
                "source": raw.uri if is_s3(raw.uri) else str(Path(raw.uri).resolve()),
                "format": raw.format,
                "sha256": raw.sha256,
                "bytes": raw.size,
                "rows": raw.n_rows,
                "stored": f"{name}.parquet",
                "stored_sha256": hashlib.sha256(blobs[name]).hexdigest(),
            }
            for name, raw in report.files.items()
        },
        # the year's student codes (sqis.student_keys): derived, so that no run hashes the
        # pseudonyms again; rows per file, in the order stored
        "student_keys": {
            "stored": KEYS_FILE,
            "stored_sha256": hashlib.sha256(keys_blob).hexdigest(),
            "rows": keys_rows,
        },
    }
    store.write_bytes(
        f"{ydir}/{MANIFEST}", json.dumps(manifest, indent=2).encode("utf-8"), "application/json"
    )
    return IngestResult(
        year=year,
        status="replaced" if previous is not None else "ingested",
        store_uri=store.uri,
        manifest=manifest,
        previous_version=kept,
        report=report,
        rows=rows,
    )


def _keep_previous(store: Storage, year: str) -> int:
    """Copy the current version to ``versions/<n>/`` (manifest last); returns ``n``."""
    ydir = _year_dir(year)
    current, numbers = [], []
    for key in store.list(ydir):
        rel = key[len(ydir) + 1 :]
        m = _VERSION_DIR.match(rel)
        if m:
            numbers.append(int(m.group(1)))
        else:
            current.append(rel)
    n = max(numbers, default=0) + 1
    for rel in sorted(current, key=lambda r: r == MANIFEST):
        store.copy(f"{ydir}/{rel}", f"{ydir}/versions/{n}/{rel}")
    return n


def delivery_manifest(year: str, store_root: str | None = None) -> dict[str, Any]:
    """The ``delivery.json`` of an ingested year (``NotIngested`` when there is none)."""
    store = _store(store_root)
    m = _read_manifest(store, year)
    if m is None:
        raise NotIngested(
            f"{year} is not ingested in {store.uri}: "
            f"run `sqis ingest --data DATA_ROOT --year {year}`"
        )
    return m


def ingested_years(store_root: str | None = None) -> list[str]:
    """Every year with a validated delivery in the store, in order."""
    store = _store(store_root)
    found = set()
    for key in store.list("validated"):
        parts = key.split("/")
        if len(parts) == 3 and parts[2] == MANIFEST and years.is_year(parts[1]):
            found.add(parts[1])
    return sorted(found, key=years.start_of)


def load_year(
    year: str, store_root: str | None = None, only: tuple[str, ...] | None = None
) -> YearData:
    """The validated frames of an ingested year (``NotIngested`` when there is none).

    Each stored file is checked against the manifest's SHA-256 first. ``only``: the
    contract files to read rows of; the others come back empty, with their columns and
    types (a later year's run reads one or two files of the years before).
    """
    store = _store(store_root)
    manifest = delivery_manifest(year, store_root)
    ydir = _year_dir(year)
    frames: dict[str, Any] = {}  # the contract's frames, by file name (YearData's fields)
    for name in (*codes.CONTRACT_FILES, *educator_files.stored(manifest)):
        entry = manifest["files"].get(name)
        if entry is None:
            raise StoreInconsistent(f"{store.uri}/{ydir}/{MANIFEST}: no entry for {name}")
        blob = store.read_bytes(f"{ydir}/{entry['stored']}")
        if hashlib.sha256(blob).hexdigest() != entry["stored_sha256"]:
            raise StoreInconsistent(
                f"{store.uri}/{ydir}/{entry['stored']} does not match {MANIFEST} "
                "(a replace in progress, or the store was altered); try again or re-ingest"
            )
        if only is not None and name not in only:
            frames[name] = pq.read_schema(io.BytesIO(blob)).empty_table().to_pandas()
            continue
        # one chunk per column: a row take of a many-chunked Arrow column concatenates
        # it first, so every district's take would cost the whole year (BENCHMARKS.md)
        frames[name] = pq.read_table(io.BytesIO(blob)).combine_chunks().to_pandas()
    yd = YearData(
        year=year,
        checksums={n: f["sha256"] for n, f in manifest["files"].items()},
        **frames,
    )
    keyed = manifest.get("student_keys")  # a year ingested before the codes were stored: none
    if keyed is not None and (only is None or set(keyed["rows"]) <= set(only)):
        stored = _stored_keys(store, ydir, keyed, yd)
        if stored is not None:
            yd = dataclasses.replace(yd, stored_keys=stored)
    return yd


def _stored_keys(
    store: Storage, ydir: str, keyed: dict[str, Any], yd: YearData
) -> student_keys.StoredKeys | None:
    """The year's stored student codes for ``yd``'s frames. They are derived, so a codes
    file that is missing, altered or not the year's rows costs the run a hash pass, not
    the year: it is reported (a warning naming the file) and ``None`` returned."""
    where = f"{store.uri}/{ydir}/{keyed.get('stored')}"
    try:
        blob = store.read_bytes(f"{ydir}/{keyed['stored']}")
        if hashlib.sha256(blob).hexdigest() != keyed["stored_sha256"]:
            raise ValueError(f"it does not match {MANIFEST}")
        stored = student_keys.StoredKeys.of(yd, student_keys.decode(blob, keyed["rows"]))
        if stored is None:
            raise ValueError(f"its rows are not the year's ({keyed['rows']})")
        return stored
    except (StorageError, ValueError, KeyError, OSError, pa.ArrowException) as e:
        log.warning(
            "%s: %s; the year's student IDs are hashed instead (as for a year ingested "
            "before the codes were stored)",
            where,
            e,
        )
        return None


def undo_ingest(result: IngestResult, store_root: str | None = None) -> None:
    """Put the store root back as it was before ``result``'s ingest, when the run that
    ingested it fails later (the results store refused, the out root is full): the
    validated store, the results store and the publication change together or not at all.

    ``ingested``: the year's files go. ``replaced``: the version kept under
    ``versions/<n>/`` is put back (manifest last) and its copy removed. ``unchanged``:
    nothing was written.
    """
    if result.status == "unchanged":
        return
    store = _store(store_root)
    ydir = _year_dir(result.year)
    current = [k for k in store.list(ydir) if not _VERSION_DIR.match(k[len(ydir) + 1 :])]
    # the manifest first: a reader never takes half a version for the year
    for key in sorted(current, key=lambda k: not k.endswith(MANIFEST)):
        store.delete(key)
    if result.status == "replaced" and result.previous_version is not None:
        kept = f"{ydir}/versions/{result.previous_version}"
        saved = store.list(kept)
        for key in sorted(saved, key=lambda k: k.endswith(MANIFEST)):
            store.copy(key, f"{ydir}/{key[len(kept) + 1 :]}")
        for key in saved:
            store.delete(key)
