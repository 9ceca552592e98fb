"""Faults the annual cycle must survive (issue 10): killed in each stage, S3 down, no database,
a full disk.

**Killed in each stage.** The year runs in a forked child process (``sqis.pipeline.run_year``,
the path the flows and the CLI run). The pipeline offers no fault hook, so the child wraps
one function *inside* the stage and sends itself SIGKILL there — a real SIGKILL, so no
``except``/``finally`` of the pipeline runs, exactly as when the machine dies:

| stage | where the process dies |
|---|---|
| ingest | after the first validated Parquet file of the year is written (no ``delivery.json``) |
| compute | when the second district's indicators start (the first district is done) |
| designate | after designations, before escalation and partners |
| store | inside the results transaction, after the first table's rows are inserted |
| reports | when the second district's reports start |
| publish | in the middle of the switch: after three files were renamed into place |

The same run is then started again (same out root, store root and results store). Its
outputs must equal a clean run's: the manifest's checksums, the files under the out root
(no staging leftovers), the validated store's files and the results store's tables; the
dead run is marked FAILED and its lock taken over.

``tests/test_kill_restart.py`` kills ``sqis run`` (the Prefect flow) from the outside once
the results are stored; this module covers every stage.
"""

from __future__ import annotations

import errno
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sqis import publish as publication
from tests.consortium import (
    KEY,
    RESULT_TABLES,
    YEAR,
    clean_run,
    out_files,
    private_tmp,
    run_config,
    verify_manifest,
    year_tables,
)
from tests.fixtures_s3 import s3  # noqa: F401
from tests.prefect_home import migrated_prefect_home

pytestmark = [pytest.mark.slow]

STAGES = ("ingest", "compute", "designate", "store", "reports", "publish")


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqis.settings import reset_settings_cache

    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_on_call(obj: Any, name: str, nth: int, when: str = "before") -> None:
    """Replace ``obj.name`` by a wrapper that SIGKILLs the process at its ``nth`` call."""
    real = getattr(obj, name)
    calls = [0]

    def wrapper(*a: Any, **kw: Any) -> Any:
        calls[0] += 1
        if calls[0] == nth and when == "before":
            _die()
        out = real(*a, **kw)
        if calls[0] == nth and when == "after":
            _die()
        return out

    setattr(obj, name, wrapper)


def _arm(stage: str, work: Path) -> None:
    """In the child: make the process die in the middle of ``stage``."""
    from sqis import escalation, index_stage, storage, year_outputs
    from sqis.store import bulk

    if stage == "ingest":
        real = storage.LocalStorage.write_bytes

        def write(self: Any, key: str, data: bytes, content_type: str | None = None) -> None:
            real(self, key, data, content_type)
            if key.startswith(f"validated/{YEAR}/") and key.endswith(".parquet"):
                _die()

        storage.LocalStorage.write_bytes = write  # type: ignore[method-assign]
    elif stage == "compute":
        _kill_on_call(index_stage, "district_index", 2)
    elif stage == "designate":
        _kill_on_call(escalation, "escalate", 1)
    elif stage == "store":
        _kill_on_call(bulk, "insert_frame", 2)
    elif stage == "reports":
        _kill_on_call(year_outputs, "reports", 2)
    elif stage == "publish":
        real_replace = os.replace
        out = str(work / "out")
        n = [0]

        def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
            real_replace(src, dst, *a, **kw)
            if str(dst).startswith(out):
                n[0] += 1
                if n[0] == 3:
                    _die()

        os.replace = replace  # type: ignore[assignment]
    else:  # pragma: no cover
        raise AssertionError(stage)


def _child(stage: str, work: Path) -> None:
    from sqis import pipeline

    _arm(stage, work)
    pipeline.run_year(YEAR, run_config(work))
    os._exit(3)  # the run completed: the fault never fired


def _killed_run(stage: str, work: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_child, args=(stage, work))
    p.start()
    p.join(timeout=400)
    if p.is_alive():
        p.kill()
        p.join()
        pytest.fail(f"the run killed in {stage} did not end")
    assert p.exitcode == -signal.SIGKILL, f"the child ended with {p.exitcode}, not SIGKILL"


def _store_files(store_root: Path) -> list[str]:
    return sorted(
        p.relative_to(store_root).as_posix() for p in store_root.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize("stage", STAGES)
def test_killed_in_each_stage_then_rerun_equals_a_clean_run(stage: str) -> None:
    from sqis import pipeline
    from sqis.store import ResultsStore

    clean = clean_run()
    work = private_tmp(f"sqis-kill-{stage}-")
    cfg = run_config(work)

    _killed_run(stage, work)

    # what the dead run left: never a publication, never half the results
    assert not (work / "out" / YEAR / "manifest.json").exists()
    store = ResultsStore(cfg.db_url)
    # the dead run holds the year's lock in every stage: it takes it before it ingests
    assert list(store.locks()["year"]) == [YEAR]
    if stage == "ingest":
        assert not (work / "store" / "validated" / YEAR / "delivery.json").exists()
    elif stage in ("compute", "designate", "store"):  # the transaction never committed
        assert store.read("indicators", [YEAR]).empty

    res = pipeline.run_year(YEAR, cfg)

    runs = store.runs(YEAR)
    assert list(runs["status"]) == ["FAILED", "SUCCEEDED"]
    assert res.took_over == int(runs["id"].iloc[0])
    assert store.locks().empty
    store.dispose()

    assert verify_manifest(work / "out") == clean.manifest
    assert out_files(work / "out") == clean.files  # no staging left behind, nothing twice
    assert _store_files(work / "store") == _store_files(clean.work / "store")
    got = year_tables(cfg.db_url)
    for t in RESULT_TABLES:
        pd.testing.assert_frame_equal(got[t], clean.tables[t], obj=t)


def test_killed_while_switching_over_a_previous_publication_then_rerun() -> None:
    """Run A's reports are published; run B dies in the middle of switching its files in.
    Readers who follow the manifest still get A, complete; the re-run publishes B's files
    and leaves nothing of the dead run behind (no ``.previous-*``, ``.tmp-*``, run folder)."""
    from sqis import pipeline
    from sqis.publish import read_manifest
    from sqis.storage import open_storage

    clean = clean_run()
    work = private_tmp("sqis-kill-switch-")
    a_files = {
        k: (clean.work / "out" / YEAR / k).read_bytes() + b"\n<!-- run A -->\n"
        for k in clean.manifest
        if k != "index.html"
    }
    publication.publish_year(YEAR, a_files, str(work / "out"))
    a_run = read_manifest(str(work / "out"), YEAR).run_id

    _killed_run("publish", work)

    m = read_manifest(str(work / "out"), YEAR)
    assert m.run_id == a_run  # the dead run never switched the manifest
    storage = open_storage(str(work / "out"))
    for e in m.files:  # and a reader following it reads A, complete
        body = storage.read_bytes(f"{m.run_prefix}/{e.key}")
        assert hashlib.sha256(body).hexdigest() == e.sha256, e.key

    pipeline.run_year(YEAR, run_config(work))
    assert verify_manifest(work / "out") == clean.manifest
    visible = [f for f in out_files(work / "out") if "/." not in f]
    assert visible == [f for f in clean.files if "/." not in f]
    hidden = {
        next(p for p in f.split("/") if p.startswith("."))
        for f in out_files(work / "out")
        if "/." in f
    }
    assert hidden <= {".runs"}, hidden  # no .previous-*, .tmp-* or staging of the dead run
    assert len(list((work / "out" / YEAR / ".runs").iterdir())) <= 2  # this run and A's


# ---- S3 unavailable while publishing ------------------------------------------------------
def test_s3_down_while_publishing_retries_through_or_fails_cleanly(s3: Any) -> None:  # noqa: F811
    """moto is stopped as publishing starts and restarted ~1 s later (empty: moto keeps state
    in memory, so the bucket is re-created). boto's retries carry the run through, or the
    run fails with a clear error, the lock released, and a re-run publishes completely."""
    from sqis import pipeline
    from sqis.publish import read_manifest
    from sqis.storage import open_storage
    from sqis.store import ResultsStore

    work = private_tmp("sqis-s3-down-")
    out = s3.uri("out")
    cfg = run_config(work, out_root=out)
    timers: list[threading.Timer] = []

    def on_stage(name: str, info: dict[str, Any]) -> None:
        if name == "reports":  # publishing comes next
            s3.stop()
            t = threading.Timer(1.0, s3.start, kwargs={"recreate_bucket": True})
            t.start()
            timers.append(t)

    error: BaseException | None = None
    try:
        pipeline.run_year(YEAR, cfg, on_stage=on_stage)
    except Exception as e:  # a clear failure is acceptable; a half publication is not
        error = e
    finally:
        for t in timers:
            t.join()
    store = ResultsStore(cfg.db_url)
    if error is not None:
        text = str(error)
        assert "s3://" in text and YEAR in text, text
        assert "Traceback" not in text
        assert list(store.runs(YEAR)["status"]) == ["FAILED"]
        assert store.locks().empty
        assert not s3.keys(f"out/{YEAR}/manifest.json")
        pipeline.run_year(YEAR, cfg)  # the server is back: the re-run completes
    assert store.runs(YEAR)["status"].iloc[-1] == "SUCCEEDED"
    _verify_s3(out, read_manifest(out, YEAR), open_storage(out))


def test_s3_down_for_the_whole_publish_fails_clearly_with_no_manifest(s3: Any) -> None:  # noqa: F811
    from sqis import pipeline
    from sqis.publish import read_manifest
    from sqis.storage import open_storage
    from sqis.store import ResultsStore

    work = private_tmp("sqis-s3-gone-")
    out = s3.uri("out")
    cfg = run_config(work, out_root=out)
    written: list[str] = []

    def on_stage(name: str, info: dict[str, Any]) -> None:
        if name == "reports":
            written.extend(s3.keys())
            s3.stop()

    t0 = time.monotonic()
    with pytest.raises(Exception) as ei:
        pipeline.run_year(YEAR, cfg, on_stage=on_stage)
    took = time.monotonic() - t0
    text = str(ei.value)
    assert "s3://" in text and "previous publication" in text, text
    store = ResultsStore(cfg.db_url)
    assert list(store.runs(YEAR)["status"]) == ["FAILED"]
    assert store.locks().empty
    assert written == []  # nothing had been published before the outage
    s3.start(recreate_bucket=True)
    assert not s3.keys(f"out/{YEAR}/")
    pipeline.run_year(YEAR, cfg)
    _verify_s3(out, read_manifest(out, YEAR), open_storage(out))
    assert took < 300


def _verify_s3(out: str, manifest: Any, storage: Any) -> None:
    import hashlib

    assert manifest.year == YEAR and manifest.files
    for e in manifest.files:
        body = storage.read_bytes(f"{YEAR}/{e.key}")
        assert hashlib.sha256(body).hexdigest() == e.sha256, e.key
    assert {e.key for e in manifest.files} == set(clean_run().manifest)


# ---- the database unreachable ---------------------------------------------------------------
def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed once the block ends: nothing listens


def test_database_unreachable_is_a_clear_error_before_any_work() -> None:
    from sqis import pipeline

    work = private_tmp("sqis-nodb-")
    url = f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{_closed_port()}/sqis"
    cfg = run_config(work, db_url=url)
    t0 = time.monotonic()
    with pytest.raises(Exception) as ei:
        pipeline.run_year(YEAR, cfg)
    assert time.monotonic() - t0 < 30
    text = str(ei.value)
    assert "cannot be reached" in text and "127.0.0.1" in text, text
    assert "s3cret" not in text  # the password is masked
    # nothing was written anywhere: not the out root, not the validated store
    for root in (work / "out", work / "store"):
        assert not root.exists() or not any(p.is_file() for p in root.rglob("*")), root


def test_database_unreachable_from_the_command_line_is_one_line() -> None:
    """`sqis run` against a dead database: exit non-zero, one `error:` line, no traceback."""
    work = private_tmp("sqis-nodb-cli-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQIS_", "PREFECT_"))}
    env.update(
        SQIS_PSEUDONYM_KEY=KEY,
        SQIS_STORE_ROOT=str(work / "store"),
        PREFECT_HOME=str(migrated_prefect_home(work / "prefect")),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/sqis"
    from tests.consortium import consortium

    sqis = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sqis"
    done = subprocess.run(
        [
            str(sqis),
            "run",
            "--data",
            str(consortium()),
            "--year",
            YEAR,
            "--out",
            str(work / "out"),
            "--db",
            url,
            "--pdf",
            "none",
        ],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "error:" in done.stderr and "cannot be reached" in done.stderr, done.stderr[-2000:]
    for root in (work / "out", work / "store"):
        assert not root.exists() or not any(p.is_file() for p in root.rglob("*")), root


# ---- the disk fills up while the reports are written ---------------------------------------
def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


def test_disk_full_while_writing_reports_keeps_the_previous_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The out root is a tmpfs that holds one publication (~0.4 MB) but not two: the run's
    staging fills it. Where mounting is not permitted, the write fails with ENOSPC instead
    (``sqis.publish._write`` patched) once the previous publication's size is exceeded."""
    from sqis import pipeline
    from sqis import publish as pub
    from sqis.store import ResultsStore

    clean = clean_run()
    work = private_tmp("sqis-full-")
    out = work / "out"
    manifest = clean.work / "out" / YEAR / "manifest.json"
    size = manifest.stat().st_size + sum(
        f["bytes"] for f in json.loads(manifest.read_text())["files"]
    )
    mounted = _mount_tmpfs(out, f"{int(size * 1.6) // 1024}k")
    try:
        if not mounted:
            budget = [int(size * 0.6)]
            real = pub._write

            def write(path: Path, data: bytes) -> None:
                budget[0] -= len(data)
                if budget[0] < 0:
                    raise OSError(errno.ENOSPC, "No space left on device", str(path))
                real(path, data)

            monkeypatch.setattr(pub, "_write", write)
        # the previous reports, hard links kept (a publication's files share their run's)
        subprocess.run(["cp", "-a", str(clean.work / "out" / YEAR), str(out)], check=True)
        before = out_files(out)
        cfg = run_config(work)
        with pytest.raises(pub.PublishError) as ei:
            pipeline.run_year(YEAR, cfg)
        text = str(ei.value)
        assert "disk is full" in text and "previous reports are intact" in text, text
        assert verify_manifest(out) == clean.manifest  # the previous reports, untouched
        assert out_files(out) == before  # no staging left to fill the disk further
        store = ResultsStore(cfg.db_url)
        assert list(store.runs(YEAR)["status"]) == ["FAILED"]
        assert store.locks().empty
        store.dispose()
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(out)], check=False)


# ---- S3 unreachable for a while, its data kept (a network outage) ---------------------------
class _Outage:
    """A TCP proxy in front of moto that can drop off the network and come back.

    ``down()`` closes the listening socket and every open connection (clients get
    ``connection refused``); ``up()`` listens again on the same port. moto keeps running, so
    objects written before the outage are still there afterwards.
    """

    def __init__(self, target_port: int) -> None:
        import socket

        self.target = ("127.0.0.1", target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.on_request: Any = None
        self._lock = threading.Lock()
        self._conns: list[Any] = []
        self._listener: Any = None
        self.up()

    def up(self) -> None:
        import socket

        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self) -> None:
        import contextlib

        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        for c in [listener, *conns]:
            with contextlib.suppress(OSError):
                c.close()

    def _accept(self, listener: Any) -> None:
        import socket

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: Any, dst: Any, upstream: bool) -> None:
        import contextlib

        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream and data[:4] in (b"PUT ", b"GET ", b"HEAD", b"POST", b"DELE"):
                    self.requests += 1
                    if self.on_request is not None:
                        self.on_request(self.requests)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()


def test_s3_network_outage_mid_publish_never_leaves_a_mixed_publication(
    s3: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run A is published; run B loses S3 for 2 s after its first few requests of publishing
    (moto keeps its data: only the network goes). Either boto's retries carry B through, or
    B fails clearly and readers still get A, complete; a re-run then publishes B."""
    import hashlib

    from sqis import pipeline
    from sqis.publish import read_manifest
    from sqis.settings import reset_settings_cache
    from sqis.storage import open_storage

    clean = clean_run()
    proxy = _Outage(int(s3.endpoint.rsplit(":", 1)[1]))
    monkeypatch.setenv("SQIS_S3_ENDPOINT_URL", proxy.endpoint)
    reset_settings_cache()
    out = s3.uri("out")
    a_files = {
        k: (clean.work / "out" / YEAR / k).read_bytes() + b"\n<!-- run A -->\n"
        for k in clean.manifest
        if k != "index.html"
    }
    publication.publish_year(YEAR, a_files, out)
    a_run = read_manifest(out, YEAR).run_id

    work = private_tmp("sqis-s3-outage-")
    cfg = run_config(work, out_root=out)
    timers: list[threading.Timer] = []

    def arm(name: str, info: dict[str, Any]) -> None:
        if name != "reports":
            return
        start = proxy.requests

        def on_request(n: int) -> None:
            if n == start + 6 and not timers:
                proxy.down()
                t = threading.Timer(2.0, proxy.up)
                t.start()
                timers.append(t)

        proxy.on_request = on_request

    error: Exception | None = None
    try:
        pipeline.run_year(YEAR, cfg, on_stage=arm)
    except Exception as e:
        error = e
    finally:
        for t in timers:
            t.join()
        proxy.on_request = None
    assert timers, "the outage never happened"

    storage = open_storage(out)
    m = read_manifest(out, YEAR)
    for e in m.files:  # the reader follows the manifest: one run, complete
        body = storage.read_bytes(f"{m.run_prefix}/{e.key}")
        assert hashlib.sha256(body).hexdigest() == e.sha256, e.key
    if error is not None:
        assert "s3://" in str(error) and "previous publication" in str(error), str(error)
        assert m.run_id == a_run  # B never switched: readers still get A
        pipeline.run_year(YEAR, cfg)
        m = read_manifest(out, YEAR)
    assert m.run_id != a_run
    assert {e.key: e.sha256 for e in m.files} == clean.manifest
    proxy.down()


def test_the_prefect_publish_task_retries_a_publication_s3_interrupted() -> None:
    """Under Prefect, a publication that failed because S3 was unreachable is retried (the
    publish task's retry condition sees the storage error behind ``PublishError``); one
    refused for a bad key is not."""
    from sqis.publish import PublishError
    from sqis.storage import StorageError
    from tasks.stages import publish, transient

    def state_raising(make: Any) -> Any:
        class State:
            def result(self) -> Any:
                make()

        return State()

    def s3_down() -> None:
        try:
            raise StorageError("s3://bucket/out/2015-16/index.html: cannot write (refused)")
        except StorageError as e:
            raise PublishError("publishing 2015-16 to s3://bucket/out: …") from e

    def bad_key() -> None:
        raise PublishError("refusing to publish '../x.html'")

    assert publish.retries >= 1
    assert transient(publish, None, state_raising(s3_down)) is True
    assert transient(publish, None, state_raising(bad_key)) is False
