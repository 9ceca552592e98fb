"""Publishing to S3 on moto's server (tests/fixtures_s3.py): content types, SSE, manifest last."""

from __future__ import annotations

import hashlib
import json

import pytest

from sqis import storage
from sqis.publish import PublishError, publish_year, read_manifest
from sqis.storage import StorageError
from tests.fixtures_s3 import s3  # noqa: F401

pytestmark = pytest.mark.s3
YEAR = "2015-16"


def files_v(version: str) -> dict[str, bytes]:
    return {
        "reports/schools/01611190130001.html": f"<p>school {version}</p>".encode(),
        "reports/schools/01611190130001.pdf": b"%PDF-1.7 " + version.encode(),
        "reports/districts/0161119.html": f"<p>district {version}</p>".encode(),
        "communities/2015-16-EL-ES-1.ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        "indicators.csv": b"school_code,value\n",
    }


def test_publish_s3_content_types_sse_and_manifest_last(s3, monkeypatch) -> None:  # noqa: F811
    writes: list[str] = []
    real = storage.S3Storage.write_bytes

    def spy(self, key, data, content_type=None):  # type: ignore[no-untyped-def]
        writes.append(key)
        return real(self, key, data, content_type)

    monkeypatch.setattr(storage.S3Storage, "write_bytes", spy)
    files = files_v("v1")
    m = publish_year(YEAR, files, s3.uri("out"))
    assert writes[-1] == f"{YEAR}/manifest.json"  # the manifest is the last object written
    assert m.run_prefix == f"{YEAR}/.runs/{m.run_id}"

    expected_types = {
        ".html": "text/html; charset=utf-8",
        ".pdf": "application/pdf",
        ".ics": "text/calendar; charset=utf-8",
        ".csv": "text/csv; charset=utf-8",
    }
    manifest = json.loads(
        s3.client.get_object(Bucket=s3.bucket, Key=f"out/{YEAR}/manifest.json")["Body"].read()
    )
    assert manifest["run_prefix"] == m.run_prefix
    assert {f["key"] for f in manifest["files"]} == {*files, "index.html"}
    for f in manifest["files"]:
        for key in (f"out/{YEAR}/{f['key']}", f"out/{m.run_prefix}/{f['key']}"):
            head = s3.client.head_object(Bucket=s3.bucket, Key=key)
            assert head["ServerSideEncryption"] == "AES256", key
            suffix = "." + f["key"].rsplit(".", 1)[1]
            if suffix in expected_types:
                assert head["ContentType"] == expected_types[suffix], key
            body = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
            assert hashlib.sha256(body).hexdigest() == f["sha256"], key
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"out/{YEAR}/manifest.json")
    assert head["ContentType"] == "application/json" and head["ServerSideEncryption"] == "AES256"
    assert read_manifest(s3.uri("out"), YEAR).run_id == m.run_id


def test_republish_keeps_the_previous_run_and_drops_older(s3) -> None:  # noqa: F811
    m1 = publish_year(YEAR, files_v("v1"), s3.uri("out"))
    m2 = publish_year(YEAR, files_v("v2"), s3.uri("out"))
    v3 = files_v("v3")
    del v3["reports/schools/01611190130001.pdf"]
    m3 = publish_year(YEAR, v3, s3.uri("out"))
    runs = {k.split("/")[3] for k in s3.keys(f"out/{YEAR}/.runs/")}
    assert runs == {m2.run_id, m3.run_id}  # the run the previous manifest names is kept
    assert m1.run_id not in runs
    body = s3.client.get_object(
        Bucket=s3.bucket, Key=f"out/{YEAR}/reports/schools/01611190130001.html"
    )["Body"].read()
    assert body == b"<p>school v3</p>"
    assert f"out/{YEAR}/reports/schools/01611190130001.pdf" not in s3.keys(f"out/{YEAR}/reports")


def test_failed_publish_leaves_the_previous_manifest(s3, monkeypatch) -> None:  # noqa: F811
    m1 = publish_year(YEAR, files_v("v1"), s3.uri("out"))
    real = storage.S3Storage.write_bytes
    calls = {"n": 0}

    def failing(self, key, data, content_type=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise StorageError(f"s3://bucket/{key}: cannot write (SlowDown)")
        return real(self, key, data, content_type)

    monkeypatch.setattr(storage.S3Storage, "write_bytes", failing)
    with pytest.raises(PublishError, match="readers still see the previous publication"):
        publish_year(YEAR, files_v("v2"), s3.uri("out"))
    monkeypatch.setattr(storage.S3Storage, "write_bytes", real)
    assert read_manifest(s3.uri("out"), YEAR).run_id == m1.run_id
    body = s3.client.get_object(Bucket=s3.bucket, Key=f"out/{YEAR}/reports/districts/0161119.html")[
        "Body"
    ].read()
    assert body == b"<p>district v1</p>"


def test_unsafe_key_writes_nothing_to_s3(s3) -> None:  # noqa: F811
    with pytest.raises(PublishError):
        publish_year(YEAR, {"reports/schools/../../x.html": b"evil"}, s3.uri("out"))
    assert s3.keys() == []
