"""A year's reports appear all at once: staged first, ``manifest.json`` last, and a reader
polling during a publication never sees a mix of two runs (issue 10).

The reader follows the manifest, as docs/reports.md tells readers to: it reads
``<year>/manifest.json``, then every file it lists (under the manifest's ``run_prefix``
when it names one, else under ``<year>/``) and checks each against its SHA-256. Publication
B runs in a thread while the reader polls; every read must be entirely run A's or entirely
run B's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_s3 import s3  # noqa: F401

YEAR = "2015-16"


def _files(tag: str, n: int, size: int) -> dict[str, bytes]:
    """``n`` report files whose every byte says which run wrote them."""
    out = {f"reports/schools/{i:014d}.html": (tag * size)[:size].encode() for i in range(n)}
    out["indicators.csv"] = f"school_code,run\n1,{tag}\n".encode()
    return out


def _read(storage: Any) -> tuple[str, str] | None:
    """One reader pass: ``(run tag of every file, problem)``; ``None`` before any manifest."""
    from sqis.storage import ObjectNotFound

    try:
        manifest = json.loads(storage.read_bytes(f"{YEAR}/manifest.json"))
    except ObjectNotFound:
        return None
    base = manifest.get("run_prefix") or YEAR
    tags = set()
    for f in manifest["files"]:
        try:
            body = storage.read_bytes(f"{base}/{f['key']}")
        except ObjectNotFound:
            return "", f"{f['key']} listed by manifest {manifest['run_id']} is missing"
        if hashlib.sha256(body).hexdigest() != f["sha256"]:
            return "", f"{f['key']} does not match manifest {manifest['run_id']}"
        if f["key"].startswith("reports/schools/"):
            tags.add(body[:1].decode())
    if len(tags) != 1:
        return "", f"a mix of runs {sorted(tags)} under one manifest"
    return tags.pop(), ""


def _race(out_root: str, n: int, size: int) -> tuple[list[str], list[str]]:
    """Publish A; publish B in a thread while reading; returns (tags seen, problems)."""
    from sqis.publish import publish_year
    from sqis.storage import open_storage

    publish_year(YEAR, _files("A", n, size), out_root)
    storage = open_storage(out_root)
    seen: list[str] = []
    problems: list[str] = []
    done = threading.Event()

    def publish_b() -> None:
        try:
            publish_year(YEAR, _files("B", n, size), out_root)
        finally:
            done.set()

    t = threading.Thread(target=publish_b)
    t.start()
    while not done.is_set():
        r = _read(storage)
        if r is not None:
            (problems.append(r[1]) if r[1] else seen.append(r[0]))
    t.join()
    r = _read(storage)
    assert r is not None and r == ("B", ""), r
    return seen, problems


def test_local_reader_never_sees_a_mix_of_two_runs(tmp_path: Path) -> None:
    seen, problems = _race(str(tmp_path / "out"), n=300, size=20_000)
    assert not problems, problems[:3]
    assert seen and set(seen) <= {"A", "B"}


@pytest.mark.s3
def test_s3_reader_never_sees_a_mix_of_two_runs(s3: Any) -> None:  # noqa: F811
    seen, problems = _race(s3.uri("out"), n=60, size=5_000)
    assert not problems, problems[:3]
    assert seen and set(seen) <= {"A", "B"}


def test_local_files_are_all_staged_before_any_is_switched_and_the_manifest_is_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from sqis import publish as pub

    out = tmp_path / "out"
    pub.publish_year(YEAR, _files("A", 20, 100), str(out))
    files = _files("B", 20, 100)
    real = os.replace
    switched: list[str] = []
    staged_at_first_switch: list[int] = []

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        d = Path(dst)
        if d.is_relative_to(out / YEAR) and not any(
            p.startswith(".") for p in d.relative_to(out / YEAR).parts
        ):
            if not switched:  # the first file switched into view: everything is staged
                staged = [
                    p
                    for p in (out / YEAR).rglob("*")
                    if p.is_file()
                    and p.relative_to(out / YEAR).parts[0].startswith(".")
                    and p.read_bytes() in files.values()
                ]
                staged_at_first_switch.append(len(staged))
            switched.append(d.relative_to(out / YEAR).as_posix())
        real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", replace)
    pub.publish_year(YEAR, files, str(out))
    monkeypatch.undo()
    assert staged_at_first_switch and staged_at_first_switch[0] >= len(files)
    assert switched[-1] == "manifest.json"
    assert switched.count("manifest.json") == 1


@pytest.mark.s3
def test_s3_manifest_is_written_last(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from sqis import publish as pub
    from sqis.storage import S3Storage

    order: list[str] = []
    real_write, real_copy = S3Storage.write_bytes, S3Storage.copy

    def write(self: Any, key: str, data: bytes, content_type: str | None = None) -> None:
        order.append(key)
        real_write(self, key, data, content_type)

    def copy(self: Any, src: str, dst: str) -> None:
        order.append(dst)
        real_copy(self, src, dst)

    monkeypatch.setattr(S3Storage, "write_bytes", write)
    monkeypatch.setattr(S3Storage, "copy", copy)
    files = _files("A", 10, 100)
    pub.publish_year(YEAR, files, s3.uri("out"))
    assert order[-1] == f"{YEAR}/manifest.json"
    assert order.count(f"{YEAR}/manifest.json") == 1
    # every object was written and encrypted before the manifest named it
    for key in files:
        head = s3.client.head_object(Bucket=s3.bucket, Key=f"out/{YEAR}/{key}")
        assert head["ServerSideEncryption"] == "AES256"


def test_a_failed_publication_leaves_the_previous_one_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails while staging (an I/O error on the 5th file): PublishError, and a
    reader still reads run A completely; no staging folder is left behind."""
    from sqis import publish as pub
    from sqis.storage import open_storage

    out = tmp_path / "out"
    pub.publish_year(YEAR, _files("A", 20, 100), str(out))
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    real = pub._write
    n = [0]

    def failing(path: Path, data: bytes) -> None:
        n[0] += 1
        if n[0] == 5:
            raise OSError(5, "Input/output error", str(path))
        real(path, data)

    monkeypatch.setattr(pub, "_write", failing)
    t0 = time.monotonic()
    with pytest.raises(pub.PublishError, match="previous reports are intact"):
        pub.publish_year(YEAR, _files("B", 20, 100), str(out))
    assert time.monotonic() - t0 < 10
    assert _read(open_storage(str(out))) == ("A", "")
    after = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert after == before
