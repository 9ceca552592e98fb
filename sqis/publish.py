"""Publishing a year's files (exports, reports) under ``<out_root>/<year>/``, local or S3.

A reader never sees half a publication (docs/reports.md, *Publishing*):

- **Local.** Every file is first written (and fsynced) under the run's folder
  ``<year>/.runs/<run_id>/``. Only when all are written does the switch start: each file
  is put in place at ``<year>/<key>`` by renaming a hard link to the run's copy over it
  (atomic per file, no extra disk space), the file it replaces kept as a hard link under
  ``<year>/.previous-<run_id>/`` until the end, so a failure mid-switch restores every
  replaced file. ``manifest.json``, naming the run folder (``run_prefix``), is renamed in
  last: a reader who follows the manifest reads one complete run, as on S3. The previous
  manifest's run folder is kept, older ones removed; files listed by the previous manifest
  and absent from this one are removed. A disk that fills up while staging (``ENOSPC``)
  stops the publication with a clear error; the previous reports are untouched and the
  run folder is removed.
- **S3.** Objects are written under a run prefix ``<year>/.runs/<run_id>/`` (content
  type and server-side encryption on every PUT), then copied server-side to their
  canonical keys ``<year>/<key>``, and ``<year>/manifest.json`` is written LAST, naming the
  run prefix and every file's SHA-256. A reader who follows the manifest reads a complete,
  consistent run; the previous run's prefix is kept (it is what the previous manifest
  names) and older runs are removed.

Keys come from school and district codes: every key passes ``sqis.storage.safe_key`` and
may not start with a dot, so a code containing ``../`` is refused before anything is
written.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from sqis import years
from sqis.errors import USAGE, SqisError
from sqis.storage import StorageError, content_type, is_s3, open_storage, safe_key

MANIFEST = "manifest.json"
INDEX = "index.html"


class PublishError(RuntimeError, SqisError):
    """A publication that could not complete; the previous one is intact."""

    exit_code = USAGE


@dataclass
class ManifestEntry:
    key: str
    sha256: str
    bytes: int
    content_type: str


@dataclass
class Manifest:
    """What a publication wrote: every file with its SHA-256 (``<year>/manifest.json``)."""

    year: str
    run_id: str
    created: str
    out_root: str
    run_prefix: str = ""  # where this run's complete copy is, relative to the out root
    files: list[ManifestEntry] = field(default_factory=list)
    # the results store the publication was made from (``ResultsStore.identity``): a run
    # from another store may not replace it unforced (sqis.run_control)
    store_id: str = ""

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        raw["files"] = [ManifestEntry(**f) for f in raw.get("files", [])]
        return cls(**raw)

    def keys(self) -> list[str]:
        return [f.key for f in self.files]


PUBLIC_DIR = "public"  # the public root's default: <out>/public (not a year's name)


def public_root_for(out_root: str, public_root: str | None = None) -> str:
    """The public edition's root (METHODOLOGY.md "Two editions"): ``public_root`` if given,
    else ``<out_root>/public``.

    Refused (:class:`PublishError`): a public root that is the out root, or inside one of
    its year folders (the staff edition would link or list it), or that holds the out root
    (the public site would serve the staff edition).
    """
    out = str(out_root).rstrip("/")
    pub = str(public_root).rstrip("/") if public_root else f"{out}/{PUBLIC_DIR}"
    if not is_s3(out):
        out = str(Path(out).resolve())
    if not is_s3(pub):
        pub = str(Path(pub).resolve())
    if pub == out:
        raise PublishError(f"the public root {pub} is the out root: give it a folder of its own")
    if out.startswith(pub + "/"):
        raise PublishError(
            f"the out root {out} is inside the public root {pub}: the public site would serve "
            "the staff edition"
        )
    if pub.startswith(out + "/"):
        first = pub[len(out) + 1 :].split("/", 1)[0]
        if first.startswith(".") or _is_year(first):
            raise PublishError(
                f"the public root {pub} is inside the out root's {first!r}: use <out>/"
                f"{PUBLIC_DIR} or a root of its own"
            )
    return pub


def _is_year(name: str) -> bool:
    try:
        years.start_of(name)
    except Exception:
        return False
    return True


def _check_keys(files: dict[str, bytes]) -> None:
    for key in files:
        try:
            safe_key(key)
        except StorageError as e:
            raise PublishError(f"{e}: refusing to publish (no file written)") from None
        if any(part.startswith(".") for part in key.split("/")):
            raise PublishError(f"refusing to publish {key!r}: names starting with '.' are reserved")
        if key == MANIFEST:
            raise PublishError(f"{MANIFEST} is written by publish_year itself")


def year_index(year: str, keys: list[str]) -> bytes:
    """``<year>/index.html``: links to every district index and Oversight report of the year."""
    districts = sorted(
        k for k in keys if k.startswith("reports/districts/") and k.endswith(".html")
    )
    oversight = sorted(
        k for k in keys if k.startswith("reports/oversight-") and k.endswith(".html")
    )
    exports = sorted(k for k in keys if "/" not in k and k.endswith(".csv"))

    def li(k: str, label: str) -> str:
        return f'<li><a href="{escape(k, quote=True)}">{escape(label)}</a></li>'

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>School Quality Improvement System {escape(year)}</title>",
        "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:50rem;margin:1rem auto;"
        "padding:0 1rem;line-height:1.5}h1{color:#0b4f8a}a{color:#0b4f8a}</style>",
        "</head><body>",
        f"<h1>School Quality Improvement System, {escape(year)}</h1>",
        "<h2>District school reports</h2><ul>",
        *[li(k, "District " + k.rsplit("/", 1)[1][:-5]) for k in districts],
        "</ul>",
    ]
    if oversight:
        parts += ["<h2>Oversight Panel</h2><ul>"]
        parts += [li(k, k.rsplit("/", 1)[1][:-5].replace("-", " ")) for k in oversight]
        parts += ["</ul>"]
    if exports:
        parts += ["<h2>Data files</h2><ul>", *[li(k, k) for k in exports], "</ul>"]
    parts += [f'<p><a href="{MANIFEST}">manifest.json</a> lists every file with its SHA-256.</p>']
    parts += ["</body></html>", ""]
    return "\n".join(parts).encode("utf-8")


def _entries(files: dict[str, bytes]) -> list[ManifestEntry]:
    return [
        ManifestEntry(
            key=k, sha256=hashlib.sha256(v).hexdigest(), bytes=len(v), content_type=content_type(k)
        )
        for k, v in sorted(files.items())
    ]


def publish_year(
    year: str,
    files: dict[str, bytes],
    out_root: str,
    run_id: str | None = None,
    store_id: str = "",
) -> Manifest:
    """Publish ``files`` (``{key relative to <year>/: bytes}``) under ``<out_root>/<year>/``.

    Adds ``index.html`` (unless given) and writes ``manifest.json`` last. Local or
    ``s3://``; see the module docstring for how readers never see half a publication.
    Raises ``PublishError`` (previous publication intact) on a bad key or a failed write.
    """
    years.start_of(year)
    _check_keys(files)
    files = dict(files)
    if INDEX not in files:
        files[INDEX] = year_index(year, sorted(files))
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    manifest = Manifest(
        year=year,
        run_id=run_id,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        out_root=str(out_root),
        files=_entries(files),
        store_id=store_id,
    )
    if is_s3(str(out_root)):
        return _publish_s3(year, files, str(out_root), manifest)
    return _publish_local(year, files, Path(out_root), manifest)


# ---- local ------------------------------------------------------------------------------
def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _disk_error(e: OSError, where: Path, year: str, stage: str) -> PublishError:
    why = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
    return PublishError(
        f"publishing {year} to {where}: {why} while {stage} ({e.filename or where}); nothing "
        "was published and the previous reports are intact"
    )


def _previous_manifest(ydir: Path) -> Manifest | None:
    try:
        return Manifest.from_json((ydir / MANIFEST).read_bytes())
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _publish_local(year: str, files: dict[str, bytes], root: Path, manifest: Manifest) -> Manifest:
    ydir = root / year
    run_rel = f"{year}/.runs/{manifest.run_id}"
    run = root / run_rel
    previous = ydir / f".previous-{manifest.run_id}"
    old = _previous_manifest(ydir)
    manifest.run_prefix = run_rel
    # 0. no file may land outside the out root through a symbolic link on its way (a linked
    #    reports/schools, say): checked for every key before anything is written
    from sqis.storage import local_path_inside

    for key in [*files, MANIFEST]:
        for where in (f"{year}/{key}", f"{run_rel}/{key}"):
            try:
                local_path_inside(root, where)
            except StorageError as e:
                raise PublishError(
                    f"publishing {year} to {root}: {e}; nothing was published"
                ) from None
    # 1. stage everything in the run's folder; the published files are not touched
    try:
        for key, data in files.items():
            _write(run / key, data)
        _write(run / f".{MANIFEST}", manifest.to_json())
        for key in files:  # folders of the switch exist before it starts
            (ydir / key).parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        shutil.rmtree(run, ignore_errors=True)
        raise _disk_error(e, ydir, year, "staging the files") from e

    # 2. switch: each file into place (a hard link to the run's copy: no extra space),
    #    keeping each replaced file until the end; the manifest last
    done: list[tuple[str, bool]] = []
    tmp: Path | None = None
    try:
        for key in files:
            dst = ydir / key
            had = dst.exists()
            if had:
                (previous / key).parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(dst, previous / key)
            tmp = dst.parent / f".tmp-{manifest.run_id}-{dst.name}"
            _link_or_copy(run / key, tmp)
            os.replace(tmp, dst)
            done.append((key, had))
        os.replace(run / f".{MANIFEST}", ydir / MANIFEST)
    except OSError as e:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        for key, had in reversed(done):  # roll back: the previous publication again
            try:
                if had:
                    os.replace(previous / key, ydir / key)
                else:
                    (ydir / key).unlink(missing_ok=True)
            except OSError:
                pass
        shutil.rmtree(run, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)
        raise _disk_error(e, ydir, year, "switching to the new files") from e

    # 3. tidy: replaced files; runs no manifest names any more (the previous manifest's run
    #    is kept: a reader who opened it a moment ago is still reading it); files of the
    #    previous publication that are not in this one
    shutil.rmtree(previous, ignore_errors=True)
    # what a publication killed in its switch left behind: its copies of the files it
    # replaced and its link temporaries (the run folders are tidied just below)
    for leftover in ydir.glob(".previous-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in ydir.rglob(".tmp-????????T??????Z-*"):
        if ".runs" not in leftover.relative_to(ydir).parts:
            leftover.unlink(missing_ok=True)
    keep = {manifest.run_id, old.run_id if old else ""}
    runs = ydir / ".runs"
    for d in runs.iterdir() if runs.is_dir() else []:
        if d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
    if old is not None:
        for key in set(old.keys()) - set(files):
            with contextlib.suppress(OSError, StorageError):
                (ydir / safe_key(key)).unlink(missing_ok=True)
    return manifest


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# ---- S3 ---------------------------------------------------------------------------------
def _publish_s3(year: str, files: dict[str, bytes], out_root: str, manifest: Manifest) -> Manifest:
    store = open_storage(out_root)
    run_prefix = f"{year}/.runs/{manifest.run_id}"
    manifest.run_prefix = run_prefix
    old: Manifest | None = None
    try:
        if store.exists(f"{year}/{MANIFEST}"):
            old = Manifest.from_json(store.read_bytes(f"{year}/{MANIFEST}"))
    except (StorageError, ValueError, TypeError, KeyError):
        old = None
    try:
        for key, data in files.items():
            store.write_bytes(f"{run_prefix}/{key}", data, content_type(key))
        for key in files:
            store.copy(f"{run_prefix}/{key}", f"{year}/{key}")
        store.write_bytes(f"{year}/{MANIFEST}", manifest.to_json(), content_type(MANIFEST))
    except StorageError as e:
        raise PublishError(
            f"publishing {year} to {out_root}: {e}; the manifest was not switched, so readers "
            "still see the previous publication"
        ) from e
    # older runs than the previous one are no longer named by any manifest
    keep = {run_prefix, old.run_prefix if old else ""}
    try:
        for key in store.list(f"{year}/.runs"):
            parts = key.split("/")
            if len(parts) > 3 and "/".join(parts[:3]) not in keep:
                store.delete(key)
        if old is not None:
            for key in set(old.keys()) - set(files):
                store.delete(f"{year}/{key}")
    except (StorageError, Exception):  # tidying is best effort: the publication is complete
        pass
    return manifest


def read_manifest(out_root: str, year: str) -> Manifest:
    """The manifest of the year's current publication."""
    return Manifest.from_json(open_storage(out_root).read_bytes(f"{year}/{MANIFEST}"))


def summary(m: Manifest) -> dict[str, Any]:
    return {
        "year": m.year,
        "run_id": m.run_id,
        "files": len(m.files),
        "bytes": sum(f.bytes for f in m.files),
    }


# ---- a year's publication across runs (sqis.pipeline, tasks.stages, the flows) ----
# What a year's publication gains between annual runs (METHODOLOGY.md "Oversight Panel":
# "re-running a results year never removes a report of a meeting already held"):
# checkpoint briefs and Oversight reports of the service year.
CALENDAR_KEYS: tuple[str, ...] = ("checkpoints/", "reports/oversight-")


def publish_run(year: str, files: dict[str, bytes], out_root: str, store_id: str = "") -> Any:
    """Publish an annual run's files, keeping the calendar's files already published for
    the year (``CALENDAR_KEYS``: checkpoint briefs and Oversight reports of meetings held),
    so a re-run of a results year loses nothing of its service year. ``store_id``: the
    results store it was made from (the manifest names it)."""
    try:
        before = published_files(year, out_root)
    except StorageError as e:  # the out root cannot be read (S3 down): nothing is written
        raise PublishError(
            f"publishing {year} to {out_root}: the previous publication cannot be read to keep "
            f"its checkpoint briefs and Oversight reports ({e}); nothing was published and the "
            "previous publication is intact"
        ) from e
    kept = {k: v for k, v in before.items() if k.startswith(CALENDAR_KEYS)}
    return publish_year(year, {**kept, **files}, out_root, store_id=store_id)


def published_files(year: str, out_root: str) -> dict[str, bytes]:
    """The files of the year's current publication (by its manifest), read back."""
    from sqis.storage import ObjectNotFound

    try:
        previous = read_manifest(out_root, year)
    except (ObjectNotFound, FileNotFoundError):
        return {}
    if previous is None:
        return {}
    out = open_storage(out_root)
    return {f.key: out.read_bytes(f"{year}/{f.key}") for f in previous.files if f.key != INDEX}


def checksum_of(files: dict[str, bytes]) -> dict[str, str]:
    """``{key: sha256}`` of files, by key."""
    return {k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())}


PUBLIC_PREFIX = "public/"  # the public edition's files in a run's output checksums


def public_checksums(manifest: Any, files: dict[str, bytes]) -> dict[str, str]:
    """The public edition's output checksums, keyed ``public/<key>`` beside the staff's."""
    return {PUBLIC_PREFIX + k: v for k, v in manifest_checksums(manifest, files).items()}


def manifest_checksums(manifest: Any, files: dict[str, bytes] | None = None) -> dict[str, str]:
    """``{key: sha256}`` of every file a publication wrote (``sqis.publish.Manifest``)."""
    entries = getattr(manifest, "files", None)
    if entries is None:
        return checksum_of(files or {})
    return {e.key: e.sha256 for e in entries}


def publish_more(year: str, files: dict[str, bytes], out_root: str) -> dict[str, str]:
    """Add files (checkpoint briefs, a spring Oversight report) to a year's publication.

    The year is re-published whole with the files it already had plus these (a new
    file of the same key replaces the old one), so the manifest still lists every file
    and readers still never see half a publication. Returns the added files' checksums.
    """
    from sqis.storage import ObjectNotFound

    try:
        store_id = read_manifest(out_root, year).store_id
    except (ObjectNotFound, FileNotFoundError):
        store_id = ""
    merged = {**published_files(year, out_root), **files}
    sums = manifest_checksums(publish_year(year, merged, out_root, store_id=store_id))
    return {k: v for k, v in sums.items() if k in files}
