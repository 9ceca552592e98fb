"""Links in run artifacts open from the Prefect UI (issue 21): the https base of
SQIS_PUBLIC_BASE_URL, else a presigned https link to an s3:// out root (fetched here from
moto's S3 server on loopback), else file:// for a local out root."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from sqis import links
from sqis.settings import reset_settings_cache
from tests.fixtures_s3 import s3  # noqa: F401


def test_the_public_base_url_serves_every_out_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQIS_PUBLIC_BASE_URL", "https://reports.core.example/staff/")
    reset_settings_cache()
    link = links.out_link("s3://bucket/reports", "2015-16/reports/districts/0161119.html")
    assert link == "https://reports.core.example/staff/2015-16/reports/districts/0161119.html"
    assert links.out_link("/srv/out", "2015-16/a b.html").endswith("/2015-16/a%20b.html")


def test_an_s3_out_root_gets_a_presigned_link_that_opens(s3) -> None:  # noqa: F811
    s3.put("reports/2015-16/index.html", b"<html>the year</html>")
    link = links.out_link(s3.uri("reports"), "2015-16/index.html")
    assert link.startswith("http") and "X-Amz-Signature=" in link and "X-Amz-Expires=" in link
    with urllib.request.urlopen(link, timeout=10) as r:  # a browser's GET, no credentials
        assert r.read() == b"<html>the year</html>"


def test_a_local_out_root_gets_a_file_link(tmp_path: Path) -> None:
    link = links.out_link(str(tmp_path), "2015-16/index.html")
    assert link == (tmp_path / "2015-16" / "index.html").resolve().as_uri()
