"""Ingest from and into S3, against moto's server on loopback (tests/fixtures_s3.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sqis.ingest import delivery_manifest, ingest_year, ingested_years, load_year
from sqis.reading import DeliveryError, read_contract_file
from sqis.storage import ObjectNotFound, open_storage
from sqis.validation import validate_delivery
from tests.fixtures_s3 import s3  # noqa: F401
from tests.test_validation_corpus import YEAR, valid_year, write_year

pytestmark = pytest.mark.s3


def _upload_year(s3, prefix: str, tmp_path: Path) -> str:  # noqa: F811
    folder = write_year(tmp_path / "local", valid_year())
    for p in sorted(folder.iterdir()):
        s3.put(f"{prefix}/{YEAR}/{p.name}", p.read_bytes())
    return s3.uri(prefix)


def test_fixture_gives_a_working_bucket(s3) -> None:  # noqa: F811
    st = open_storage(s3.uri("pre"))
    st.write_bytes("a/b.txt", b"hello")
    assert st.read_bytes("a/b.txt") == b"hello"
    assert s3.keys() == ["pre/a/b.txt"]
    with pytest.raises(ObjectNotFound):
        st.read_bytes("a/missing.txt")


def test_ingest_from_s3_into_s3(s3, tmp_path: Path) -> None:  # noqa: F811
    root = _upload_year(s3, "deliveries", tmp_path)
    store = s3.uri("store")
    result = ingest_year(root, YEAR, store_root=store)
    assert result.status == "ingested"
    keys = s3.keys("store/")
    assert f"store/validated/{YEAR}/delivery.json" in keys
    assert f"store/validated/{YEAR}/students.parquet" in keys
    manifest = delivery_manifest(YEAR, store)
    assert manifest["source"] == root
    assert manifest["files"]["students"]["source"] == f"{root}/{YEAR}/students.csv"
    assert ingested_years(store) == [YEAR]
    y = load_year(YEAR, store)
    assert len(y.students) == 9 and y.students["grade"].dtype == "int64"
    for key in keys:  # no raw student ID in any stored object
        blob = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        assert b"1000000001" not in blob
    assert ingest_year(root, YEAR, store_root=store).status == "unchanged"


def test_a_missing_object_is_a_clear_error(s3, tmp_path: Path) -> None:  # noqa: F811
    root = _upload_year(s3, "d", tmp_path)
    s3.client.delete_object(Bucket=s3.bucket, Key=f"d/{YEAR}/sel.csv")
    with pytest.raises(DeliveryError) as e:
        read_contract_file(root, YEAR, "sel")
    assert f"{root}/{YEAR}" in str(e.value) and "sel.csv" in str(e.value)
    assert e.value.rule == "file:missing"
    report = validate_delivery(root, YEAR)
    assert report.unreadable.keys() == {"sel"}
    assert report.errors["rule"].tolist() == ["file:missing"]


def test_ingest_survives_a_transient_outage(s3, tmp_path: Path, monkeypatch) -> None:  # noqa: F811
    """The server stops; a thread restarts it after ~1 s; boto3's retries carry the ingest.

    moto keeps its state in memory, so the restart re-creates the (empty) bucket; the
    delivery is read from a local folder and written to the S3 store.
    """
    from botocore.config import Config

    import sqis.storage

    def patient_client():  # production's retry mode, with room for a slow restart
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=s3.endpoint,
            region_name="us-west-2",
            config=Config(retries={"max_attempts": 10, "mode": "standard"}, connect_timeout=2),
        )

    monkeypatch.setattr(sqis.storage, "s3_client", patient_client)
    data = write_year(tmp_path / "data", valid_year()).parent
    s3.stop()
    restarted = threading.Event()

    def restart() -> None:
        time.sleep(1.0)
        s3.start(recreate_bucket=True)
        restarted.set()

    t = threading.Thread(target=restart)
    t.start()
    began = time.monotonic()
    try:
        result = ingest_year(str(data), YEAR, store_root=s3.uri("store"))
    finally:
        t.join()
    assert restarted.is_set()
    assert time.monotonic() - began >= 1.0  # it really waited for the server
    assert result.status == "ingested"
    assert f"store/validated/{YEAR}/delivery.json" in s3.keys("store/")
