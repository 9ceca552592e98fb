"""``make bench``: the whole annual cycle at consortium and state scale, measured side by side.

    python -m bench.run [--sizes 100000,1000000,6000000] [--keep-data] [--data-dir bench-data]

For each size (students in the first year) it generates a synthetic consortium of two
school years (the prior year and the measured year), validates and stores the prior
year (as last year's cycle would have), then runs ONE year of the whole cycle —
ingest + validate, index, designations, communities, results store, HTML reports for
every school (PDF off), publish — through the real Prefect flow
(``flows.annual_cycle``) on Prefect's temporary local server, and the same year through
``sqis.pipeline.run_year`` without Prefect (up to ``--direct-max`` students), the
indicators in DuckDB over the same validated files, report throughput, and PDF
throughput. Every step runs in a fresh process (``bench.steps``); see ``bench.measure``
for how time, CPU and memory are measured.

Results go to ``<data-dir>/results.json`` and, as Markdown tables, into BENCHMARKS.md
between the ``bench:begin``/``bench:end`` markers: the numbers are never copied by hand.
The file is rewritten after every step, so an interrupted run still leaves what it
measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (100_000, 1_000_000, 6_000_000)
# Districts scale with size: CORE's eight at 100k, then about 25,000–30,000 students a
# district (1M → 40, 6M → 200); other sizes follow size / 30,000, at least two.
DISTRICTS = {100_000: 8, 1_000_000: 40, 6_000_000: 200}
PRIOR_YEAR, YEAR = "2013-14", "2014-15"
POSTGRES_ADMIN = os.environ.get(
    "SQIS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A step is stopped when the machine has less memory than this left (see _watch).
MIN_FREE_GIB = 1.5
LIBRARIES = (
    "pandas",
    "numpy",
    "pyarrow",
    "pandera",
    "sqlalchemy",
    "psycopg",
    "prefect",
    "duckdb",
    "jinja2",
    "matplotlib",
    "weasyprint",
    "psutil",
)


def districts_for(students: int) -> int:
    """Districts of a benchmark consortium of ``students`` (see ``DISTRICTS``)."""
    if students in DISTRICTS:
        return DISTRICTS[students]
    return max(2, min(students // 500, round(students / 30_000)))


# ---- the machine and the commit -------------------------------------------------------
def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    from importlib.metadata import PackageNotFoundError, version

    import psutil

    model = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    libs = {}
    for lib in LIBRARIES:
        try:
            libs[lib] = version(lib)
        except PackageNotFoundError:
            libs[lib] = "-"
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "libraries": libs,
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def commit() -> str:
    """``git rev-parse HEAD``, plus `` (dirty)`` when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git work tree)"
    return head + (" (dirty)" if dirty else "")


# ---- results stores ------------------------------------------------------------------------
@contextmanager
def results_store(kind: str, label: str, folder: Path) -> Iterator[str]:
    """A fresh, empty results store for one run: a PostgreSQL database (dropped after) or
    a SQLite file under ``folder``."""
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{label}.db"
        path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    import sqlalchemy as sa

    name = f"sqis_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def postgres_version() -> str | None:
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(POSTGRES_ADMIN)
        with eng.connect() as c:
            v = c.execute(sa.text("SHOW server_version")).scalar()
        eng.dispose()
        return str(v)
    except Exception:
        return None


# ---- running a step in a fresh process ----------------------------------------------------
def step_env(key: str, store_root: Path, out_root: Path, prefect_home: Path | None) -> dict:
    """The environment of a step: a bench pseudonym key, its own store and out root, and
    (for the flow) a private Prefect home so the temporary server, its database and the
    task cache start empty. ``PREFECT_API_URL`` is removed: the temporary server is used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQIS_", "PREFECT_"))}
    env.update(
        SQIS_PSEUDONYM_KEY=key,
        SQIS_STORE_ROOT=str(store_root),
        SQIS_OUT_ROOT=str(out_root),
        SQIS_RUN_BY="bench",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    if prefect_home is not None:
        env.update(
            PREFECT_HOME=str(prefect_home),
            PREFECT_LOGGING_LEVEL="WARNING",
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
        )
    return env


def run_step(
    step: str,
    params: dict[str, Any],
    env: dict[str, str],
    work: Path,
    prefix: list[str] | None = None,
    min_free_gib: float | None = None,
) -> dict:
    """Run one ``bench.steps`` step in a fresh Python process; its result, or an error.

    ``prefix``: a command the step runs under (the profiler)."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"{step}-{uuid.uuid4().hex[:6]}.json"
    t = time.perf_counter()
    log = work / f"{step}.log"
    with log.open("w", encoding="utf-8") as sink:
        cmd = [sys.executable, "-m", "bench.steps", step, json.dumps(params), str(out)]
        proc = subprocess.Popen(
            [*(prefix or []), *cmd],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
        stopped = _watch(proc, MIN_FREE_GIB if min_free_gib is None else min_free_gib)
    took = time.perf_counter() - t
    text = log.read_text(encoding="utf-8", errors="replace")
    if stopped or proc.returncode != 0 or not out.exists():
        tail = text.strip().splitlines()[-12:]
        if stopped:
            tail.append(stopped)
        print(f"  {step}: FAILED after {took:.0f} s", flush=True)
        for line in tail:
            print(f"    {line}", flush=True)
        return {"error": "\n".join(tail) or f"exit code {proc.returncode}", "after_s": round(took)}
    result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    print(f"  {step}: {took:.1f} s (process), {_brief(step, result)}", flush=True)
    return result


def _watch(proc: subprocess.Popen, min_free_gib: float) -> str | None:
    """Wait for the step; stop it (and its children) if the machine runs short of memory.

    The machine is shared: a step that would exhaust memory is stopped before the kernel's
    OOM killer picks a process, maybe someone else's. Returns why it was stopped, or None.
    """
    import psutil

    while proc.poll() is None:
        try:
            proc.wait(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            pass
        avail = psutil.virtual_memory().available / 2**30
        if avail < min_free_gib:
            try:
                tree = psutil.Process(proc.pid)
                rss = tree.memory_info().rss + sum(
                    c.memory_info().rss for c in tree.children(recursive=True)
                )
                for c in tree.children(recursive=True):
                    c.kill()
                tree.kill()
            except psutil.Error:
                rss = 0
            proc.wait()
            return (
                f"stopped by bench.run: the machine had {avail:.1f} GiB of memory left "
                f"(limit {min_free_gib} GiB); the step held {rss / 2**30:.1f} GiB"
            )
    return None


def _brief(step: str, r: dict[str, Any]) -> str:
    parts = [
        f"wall {r.get('wall_s')} s",
        f"cpu {r.get('cpu_s')} s",
        f"peak {r.get('max_rss_mib')} MiB",
    ]
    if step == "flow":
        parts.append(f"{r.get('task_runs')} task runs")
    return ", ".join(parts)


# ---- one size ----------------------------------------------------------------------------------
def bench_size(students: int, a: argparse.Namespace, results: dict[str, Any], save) -> None:
    """Every step for one size; ``save()`` after each so that partial results are kept."""
    n_d = a.districts or districts_for(students)
    key = "bench-" + secrets.token_hex(16)
    root = Path(a.data_dir).resolve() / f"s{students}"
    data, work = root / "data", root / "work"
    if work.exists():
        shutil.rmtree(work)
    res: dict[str, Any] = {"students": students, "districts": n_d}
    results["sizes"][str(students)] = res
    print(f"== {students:,} students, {n_d} districts ({root})", flush=True)
    base_store = work / "store-base"

    def env(store: Path, out: Path, prefect: Path | None = None) -> dict[str, str]:
        return step_env(key, store, out, prefect)

    res["generate"] = run_step(
        "generate",
        {
            "data_root": str(data),
            "years": [PRIOR_YEAR, YEAR],
            "students": students,
            "districts": n_d,
            "seed": a.seed,
            "format": a.format,
        },
        env(base_store, work / "out-none"),
        work,
    )
    save()
    if "error" in res["generate"]:
        return
    res["ingest_prior"] = run_step(
        "ingest",
        {"data_root": str(data), "year": PRIOR_YEAR, "store_root": str(base_store)},
        env(base_store, work / "out-none"),
        work,
    )
    save()
    if "error" in res["ingest_prior"]:
        return

    # the flow: its own copy of the store root (prior year ingested), database, Prefect home
    flow_store, flow_out = work / "store-flow", work / "out-flow"
    shutil.copytree(base_store, flow_store)
    with results_store(a.db, f"flow_{students}", work) as url:
        res["flow"] = run_step(
            "flow",
            {
                "data_root": str(data),
                "year": YEAR,
                "out_root": str(flow_out),
                "db_url": url,
                "store_root": str(flow_store),
                "pdf": "none",
            },
            env(flow_store, flow_out, work / "prefect-home"),
            work,
        )
        save()
        if "error" not in res["flow"]:
            res["duckdb"] = run_step(
                "duckdb",
                {"year": YEAR, "store_root": str(flow_store), "threads": os.cpu_count() or 1},
                env(flow_store, flow_out),
                work,
            )
            save()
            res["same_indicators"] = run_step(
                "same_indicators",
                {"year": YEAR, "store_root": str(flow_store)},
                env(flow_store, flow_out),
                work,
            )
            save()
            if students <= a.html_max:
                res["html"] = run_step(
                    "html", {"year": YEAR, "db_url": url}, env(flow_store, flow_out), work
                )
                save()
            if students == min(a.sizes) and a.pdf_reports > 0:
                res["pdf"] = run_step(
                    "pdf",
                    {
                        "html_dir": str(flow_out / YEAR / "reports" / "schools"),
                        "n": a.pdf_reports,
                        "workers": os.cpu_count() or 1,
                    },
                    env(flow_store, flow_out),
                    work,
                )
                save()

    def direct(label: str, prefix: list[str] | None = None) -> dict[str, Any]:
        """``run_year`` on a fresh copy of the store root and a fresh results store."""
        store, out = work / f"store-{label}", work / f"out-{label}"
        shutil.copytree(base_store, store)
        with results_store(a.db, f"{label}_{students}", work) as url:
            r = run_step(
                "direct",
                {
                    "data_root": str(data),
                    "year": YEAR,
                    "out_root": str(out),
                    "db_url": url,
                    "store_root": str(store),
                    "pdf": "none",
                },
                env(store, out),
                work,
                prefix,
            )
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        return r

    if students <= a.direct_max:
        res["direct"] = direct("direct")
        save()
    if students == a.profile_size:
        from bench.profile import hot_spots, py_spy

        exe = py_spy()
        if exe is None:
            res["profile"] = {"error": "py-spy is not installed (pip install py-spy)"}
        else:
            raw = Path(a.data_dir).resolve() / f"profile-{students}.raw"
            rate = str(a.profile_rate)
            r = direct("profiled", [exe, "record", "-r", rate, "-f", "raw", "-o", str(raw), "--"])
            if "error" in r or not raw.exists():
                res["profile"] = {"error": r.get("error", "py-spy wrote nothing")}
            else:
                res["profile"] = {**hot_spots(raw), "raw": str(raw), "rate_hz": a.profile_rate}
                res["profile"]["wall_s"] = r["wall_s"]
        save()
    if not a.keep_data:
        shutil.rmtree(root, ignore_errors=True)
    else:
        shutil.rmtree(work, ignore_errors=True)


# ---- entry point -----------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="students in the first year, comma separated (default 100000,1000000,6000000)",
    )
    ap.add_argument("--data-dir", default="bench-data", help="where data and runs go")
    ap.add_argument("--keep-data", action="store_true", help="keep the generated data")
    ap.add_argument("--districts", type=int, default=None, help="override districts_for()")
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument(
        "--direct-max",
        type=int,
        default=1_000_000,
        help="also run sqis.pipeline.run_year (no Prefect) up to this many students",
    )
    ap.add_argument(
        "--html-max",
        type=int,
        default=1_000_000,
        help="measure report throughput apart up to this many students",
    )
    ap.add_argument(
        "--profile-size",
        type=int,
        default=1_000_000,
        help="after this size's timed steps, profile one more run_year with py-spy (0: none)",
    )
    ap.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second")
    ap.add_argument("--pdf-reports", type=int, default=12, help="PDFs for the PDF throughput")
    ap.add_argument(
        "--min-free-gib",
        type=float,
        default=MIN_FREE_GIB,
        help="stop a step when the machine has less memory left than this (GiB)",
    )
    ap.add_argument("--markdown", default=str(REPO / "BENCHMARKS.md"))
    ap.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    a = ap.parse_args(argv)
    a.sizes = sorted({int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()})
    return a


def main(argv: list[str] | None = None) -> int:
    from bench.report import render_markdown, write_between_markers

    global MIN_FREE_GIB
    a = parse_args(argv)
    MIN_FREE_GIB = a.min_free_gib
    pg = postgres_version() if a.db == "postgres" else None
    if a.db == "postgres" and pg is None:
        print(f"PostgreSQL is not reachable at {POSTGRES_ADMIN}: using SQLite results stores")
        a.db = "sqlite"
    data_dir = Path(a.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished": None,
        "commit": commit(),
        "machine": machine(),
        "postgres": pg,
        "db": a.db,
        "format": a.format,
        "years": [PRIOR_YEAR, YEAR],
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "sizes": {},
    }

    def save() -> None:
        (data_dir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        if not a.no_markdown:
            write_between_markers(Path(a.markdown), render_markdown(results))

    for n in a.sizes:
        bench_size(n, a, results, save)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    save()
    print(f"results: {data_dir / 'results.json'}" + ("" if a.no_markdown else f", {a.markdown}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
