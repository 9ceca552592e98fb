"""Local publishing: staged, switched into place, manifest last, previous kept on failure."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest

from sqis import publish
from sqis.publish import PublishError, publish_year, read_manifest

YEAR = "2015-16"


def files_v(version: str) -> dict[str, bytes]:
    return {
        "reports/schools/01611190130001.html": f"<p>school 1 {version}</p>".encode(),
        "reports/schools/01611190130002.html": f"<p>Niños {version}</p>".encode(),
        "reports/districts/0161119.html": f"<p>district {version}</p>".encode(),
        "reports/oversight-2015-16-fall.html": b"<p>oversight</p>",
        "indicators.csv": b"school_code,value\n",
    }


def test_publish_writes_files_index_and_manifest(tmp_path: Path) -> None:
    files = files_v("v1")
    m = publish_year(YEAR, files, str(tmp_path))
    ydir = tmp_path / YEAR
    for key, data in files.items():
        assert (ydir / key).read_bytes() == data
    manifest = json.loads((ydir / "manifest.json").read_bytes())
    listed = {f["key"]: f for f in manifest["files"]}
    assert set(listed) == {*files, "index.html"}
    for key, f in listed.items():
        data = (ydir / key).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data)
    assert listed["reports/districts/0161119.html"]["content_type"] == "text/html; charset=utf-8"
    assert manifest["run_id"] == m.run_id and manifest["year"] == YEAR
    index = (ydir / "index.html").read_text(encoding="utf-8")
    assert 'href="reports/districts/0161119.html"' in index
    assert 'href="reports/oversight-2015-16-fall.html"' in index
    assert 'href="indicators.csv"' in index
    assert sorted(p.name for p in ydir.iterdir() if p.name.startswith(".")) == [".runs"]
    assert read_manifest(str(tmp_path), YEAR).keys() == m.keys()
    # the run's complete copy, where a reader following the manifest reads
    assert manifest["run_prefix"] == f"{YEAR}/.runs/{m.run_id}"
    for key, f in listed.items():
        data = (tmp_path / manifest["run_prefix"] / key).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    # the published file is the run's copy, hard-linked: no second copy on disk
    a, b = ydir / "indicators.csv", tmp_path / manifest["run_prefix"] / "indicators.csv"
    assert a.stat().st_ino == b.stat().st_ino


def test_manifest_is_switched_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real = os.replace

    def spy(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        order.append(Path(dst).relative_to(tmp_path / YEAR).as_posix())
        real(src, dst)

    monkeypatch.setattr(publish.os, "replace", spy)
    publish_year(YEAR, files_v("v1"), str(tmp_path))
    assert order[-1] == "manifest.json"
    assert set(order[:-1]) == {*files_v("v1"), "index.html"}


def test_republish_replaces_and_removes_what_is_gone(tmp_path: Path) -> None:
    m1 = publish_year(YEAR, files_v("v1"), str(tmp_path))
    (tmp_path / YEAR / "communities.csv").write_bytes(b"kept: not ours")
    v2 = files_v("v2")
    del v2["reports/schools/01611190130002.html"]  # the school closed
    m2 = publish_year(YEAR, v2, str(tmp_path))
    ydir = tmp_path / YEAR
    assert (ydir / "reports/schools/01611190130001.html").read_bytes() == b"<p>school 1 v2</p>"
    assert not (ydir / "reports/schools/01611190130002.html").exists()
    assert (ydir / "communities.csv").read_bytes() == b"kept: not ours"  # not in any manifest
    assert [p.name for p in ydir.iterdir() if p.name.startswith(".")] == [".runs"]
    # the previous manifest's run is kept for readers mid-way; older runs go
    assert {p.name for p in (ydir / ".runs").iterdir()} == {m1.run_id, m2.run_id}
    m3 = publish_year(YEAR, files_v("v3"), str(tmp_path))
    assert {p.name for p in (ydir / ".runs").iterdir()} == {m2.run_id, m3.run_id}
    assert (ydir / "reports/schools/01611190130002.html").read_bytes() == "<p>Niños v3</p>".encode()


def test_disk_full_while_staging_keeps_the_previous_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_year(YEAR, files_v("v1"), str(tmp_path))
    ydir = tmp_path / YEAR
    before = {p: p.read_bytes() for p in ydir.rglob("*") if p.is_file()}
    real_write = publish._write
    calls = {"n": 0}

    def full(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(publish, "_write", full)
    with pytest.raises(PublishError, match="the disk is full") as e:
        publish_year(YEAR, files_v("v2"), str(tmp_path))
    assert "previous reports are intact" in str(e.value)
    after = {p: p.read_bytes() for p in ydir.rglob("*") if p.is_file()}
    assert after == before
    assert len(list((ydir / ".runs").iterdir())) == 1  # the failed run's folder is gone


def test_failure_mid_switch_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_year(YEAR, files_v("v1"), str(tmp_path))
    ydir = tmp_path / YEAR
    before = {p: p.read_bytes() for p in ydir.rglob("*") if p.is_file()}
    real = os.replace
    calls = {"n": 0}

    def flaky(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.EIO, "Input/output error", str(dst))
        real(src, dst)

    monkeypatch.setattr(publish.os, "replace", flaky)
    with pytest.raises(PublishError, match="Input/output error"):
        publish_year(YEAR, files_v("v2"), str(tmp_path))
    after = {p: p.read_bytes() for p in ydir.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize(
    "key",
    [
        "reports/schools/../../escape.html",
        "../escape.html",
        "/etc/passwd",
        "reports//x.html",
        ".staging-x/a.html",
        "manifest.json",
    ],
)
def test_unsafe_keys_are_refused_before_writing(tmp_path: Path, key: str) -> None:
    with pytest.raises(PublishError):
        publish_year(YEAR, {"ok.html": b"x", key: b"evil"}, str(tmp_path))
    assert not (tmp_path / YEAR).exists()
    assert not (tmp_path / "escape.html").exists()


def test_bad_year_is_refused(tmp_path: Path) -> None:
    from sqis.years import YearError

    with pytest.raises(YearError):
        publish_year("2015-17", files_v("v1"), str(tmp_path))


def test_public_root_is_the_out_roots_public_folder_or_a_root_of_its_own(tmp_path: Path) -> None:
    """METHODOLOGY.md "Two editions": the public edition's root (issue 18)."""
    from sqis.publish import public_root_for

    out = tmp_path / "out"
    assert public_root_for(str(out)) == str((out / "public").resolve())
    assert public_root_for(str(out), str(tmp_path / "www")) == str((tmp_path / "www").resolve())
    assert public_root_for("s3://bucket/out") == "s3://bucket/out/public"
    assert (
        public_root_for("s3://bucket/out", "s3://public-bucket/sqis") == "s3://public-bucket/sqis"
    )
    for bad in (out, out / "2015-16" / "public", out / ".runs", tmp_path):
        with pytest.raises(PublishError):
            public_root_for(str(out), str(bad))


def test_cli_refuses_a_public_root_inside_a_year_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sqis_cli.app import app

    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["run", "--data", str(tmp_path), "--year", "2015-16", "--out", str(out),
         "--public-out", str(out / "2015-16")],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "public root" in res.output
