"""The benchmark's steps, each run by ``bench.run`` in a fresh Python process.

    python -m bench.steps STEP PARAMS_JSON OUT_JSON

A fresh process per step makes each step's peak memory its own (``ru_maxrss`` is the
process's high-water mark) and keeps one step's caches out of the next one's timings.
Every step writes a JSON result; none prints a student ID (the frames hold pseudonyms
only, and only counts and timings are written).

- ``generate``  the synthetic consortium (``sqis.synthetic.generate``): prior + measured year
- ``ingest``    validate + pseudonymise + store one year (``sqis.ingest.ingest_year``)
- ``flow``      the annual cycle through ``flows.annual_cycle`` on Prefect's temporary
                local server; stages cut from the task runs read back from the API
- ``direct``    the same year through ``sqis.pipeline.run_year`` (no Prefect)
- ``duckdb``    the indicators in SQL (``tests.test_duckdb_crosscheck.duckdb_indicators``)
                over the validated Parquet files the flow read
- ``same_indicators``  the same indicators in pandas from the same files (like for like)
- ``html``      school-report rendering throughput from the results store, one core
- ``pdf``       PDF throughput (WeasyPrint) on school reports the flow wrote
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.measure import (
    Sampler,
    StageClock,
    flow_stage_records,
    max_rss_mib,
    task_runs_of,
    union_seconds,
)

MIB = 1024 * 1024


def _whole(sampler: Sampler, t0: float, t1: float) -> dict[str, Any]:
    r = sampler.record("all", t0, t1)
    return {
        "wall_s": r.wall_s,
        "cpu_s": r.cpu_s,
        "peak_rss_mib": r.peak_rss_mib,
        "peak_tree_rss_mib": r.peak_tree_rss_mib,
        "max_rss_mib": max_rss_mib(),
    }


# ---- generate ---------------------------------------------------------------------------
def step_generate(p: dict[str, Any]) -> dict[str, Any]:
    """The synthetic consortium, every contract file of ``p['years']``."""
    from sqis.synthetic import generate

    with Sampler(p.get("interval", 0.1)) as s:
        t0 = s.mark().t
        summary = generate(
            p["data_root"],
            p["years"],
            p["students"],
            p["districts"],
            p.get("seed", 2013),
            p.get("format", "csv"),
            overwrite=True,
        )
        t1 = s.mark().t
    root = Path(p["data_root"])
    size = sum(f.stat().st_size for y in p["years"] for f in (root / y).glob("*") if f.is_file())
    rows = {f"{y}/{n}": int(v) for (y, n), v in sorted(summary.rows.items())}
    return {
        **_whole(s, t0, t1),
        "rows": rows,
        "rows_total": sum(rows.values()),
        "bytes": size,
        "schools": int(summary.n_schools),
        "title_i": int(summary.n_title_i),
    }


# ---- ingest one year -------------------------------------------------------------------
def step_ingest(p: dict[str, Any]) -> dict[str, Any]:
    """Validate, pseudonymise and store one year (issue 3's measurement)."""
    from sqis.ingest import ingest_year

    with Sampler(p.get("interval", 0.1)) as s:
        t0 = s.mark().t
        res = ingest_year(p["data_root"], p["year"], store_root=p["store_root"])
        t1 = s.mark().t
    return {**_whole(s, t0, t1), "status": res.status, "rows": dict(res.rows or {})}


# ---- the annual cycle without Prefect -----------------------------------------------------
def _config(p: dict[str, Any]) -> Any:
    from sqis import pipeline

    return pipeline.RunConfig(
        data_root=p["data_root"],
        out_root=p["out_root"],
        db_url=p["db_url"],
        store_root=p["store_root"],
        pdf=p.get("pdf", "none"),
        # the bench runs the last generated year alone, on a fresh store
        force="bench: the last year alone on a fresh store",
    )


def step_direct(p: dict[str, Any]) -> dict[str, Any]:
    """``sqis.pipeline.run_year``: every stage, timed at its ``on_stage`` boundary."""
    from sqis import pipeline

    with Sampler(p.get("interval", 0.1)) as s:
        clock = StageClock(s)
        t0 = clock.start()
        res = pipeline.run_year(p["year"], _config(p), on_stage=clock.end)
        t1 = s.mark().t
    return {
        **_whole(s, t0, t1),
        "stages": [r.as_dict() for r in clock.records()],
        "counts": {k: int(v) for k, v in res.counts.items()},
        "files": len(res.output_checksums),
    }


# ---- the annual cycle through Prefect ---------------------------------------------------
def _start_prefect() -> float:
    """Start (or reach) the API before the clock runs: returns the seconds it took."""
    from prefect.client.orchestration import get_client

    t = time.perf_counter()
    with get_client(sync_client=True) as c:
        c.hello()
    return time.perf_counter() - t


def step_flow(p: dict[str, Any]) -> dict[str, Any]:
    """``flows.annual_cycle.annual_cycle`` with the default task runner.

    The temporary local server is started first (its start-up is reported apart); the
    stages are cut from the task runs (``bench.measure.flow_stage_bounds``).
    """
    startup = _start_prefect()
    import os

    from flows.annual_cycle import annual_cycle
    from flows.params import AnnualCycleParams
    from sqis.settings import reset_settings_cache

    os.environ["SQIS_DATABASE_URL"] = p["db_url"]  # a setting, never a flow parameter
    reset_settings_cache()
    params = AnnualCycleParams(
        year=p["year"],
        data_root=p["data_root"],
        out_root=p["out_root"],
        pdf=p.get("pdf", "none"),
        force="bench: the last year alone on a fresh store",
    )
    with Sampler(p.get("interval", 0.1)) as s:
        t_call = s.mark().t
        state = annual_cycle(params, return_state=True)
        t_return = s.mark().t
    if not state.is_completed():
        raise RuntimeError(f"the annual-cycle flow did not complete: {state.message}")
    summary = state.result()
    flow_run_id = state.state_details.flow_run_id
    spans = task_runs_of(flow_run_id)
    records = flow_stage_records(s, spans, t_call, t_return)
    busy = union_seconds((x.start, x.end) for x in spans)
    wall = t_return - t_call
    states: dict[str, int] = {}
    for x in spans:
        states[x.state] = states.get(x.state, 0) + 1
    return {
        **_whole(s, t_call, t_return),
        "prefect_startup_s": round(startup, 2),
        "stages": [r.as_dict() for r in records],
        "task_runs": len(spans),
        "task_run_states": states,
        "task_seconds_sum": round(sum(x.seconds for x in spans), 3),
        "task_busy_s": round(busy, 3),
        "outside_tasks_s": round(wall - busy, 3),
        "files": len(summary["output_checksums"]),
        "designations": {k: int(v) for k, v in summary["designations"].items()},
    }


# ---- DuckDB over the same files -----------------------------------------------------------
def step_duckdb(p: dict[str, Any]) -> dict[str, Any]:
    """The cross-checked indicators in SQL over the year's validated Parquet files.

    The SQL is ``tests.test_duckdb_crosscheck.duckdb_indicators`` (the independent
    implementation the tests compare the pandas code with); here its tables are the store's
    Parquet files, read by DuckDB itself, so the time includes reading them.
    """
    import duckdb

    from sqis import codes
    from sqis.methodology import for_year
    from tests.test_duckdb_crosscheck import CROSSCHECKED, duckdb_indicators

    m = for_year(p["year"])
    folder = Path(p["store_root"]) / "validated" / p["year"]
    threads = int(p.get("threads", os.cpu_count() or 1))
    with Sampler(p.get("interval", 0.1)) as s:
        t0 = s.mark().t
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        y = SimpleNamespace(
            year=p["year"],
            **{n: con.read_parquet(str(folder / f"{n}.parquet")) for n in codes.CONTRACT_FILES},
        )
        ind = duckdb_indicators(y, m, con)  # type: ignore[arg-type]
        t1 = s.mark().t
    return {
        **_whole(s, t0, t1),
        "threads": threads,
        "rows": len(ind),
        "indicators": sorted(CROSSCHECKED),
    }


def step_same_indicators(p: dict[str, Any]) -> dict[str, Any]:
    """The same indicators as ``step_duckdb``, in pandas, from the same Parquet files.

    Like for like: ``sqis.ingest.load_year`` reads the year (the time includes reading,
    as DuckDB's does), then ``compute_indicators`` without growth and MS_PERSIST (the
    indicators the SQL computes), the whole consortium at once, one thread.
    """
    from sqis.indicators import compute_indicators, empty_indicators
    from sqis.ingest import load_year
    from sqis.methodology import for_year
    from tests.test_duckdb_crosscheck import CROSSCHECKED

    m = for_year(p["year"])
    with Sampler(p.get("interval", 0.1)) as s:
        t0 = s.mark().t
        cur = load_year(p["year"], p["store_root"])
        ind = compute_indicators(cur, None, None, m, growth=empty_indicators())
        t1 = s.mark().t
    if set(ind["indicator"]) != set(CROSSCHECKED):
        raise RuntimeError("pandas computed another indicator set than the DuckDB SQL")
    return {**_whole(s, t0, t1), "rows": len(ind)}


# ---- report throughput ---------------------------------------------------------------------
def step_html(p: dict[str, Any]) -> dict[str, Any]:
    """School reports rendered per CPU second (one process, one core), PDF off.

    The frames are read from the results store once and split by district, as the flow
    does (``report_frames`` + ``split_by_district``, timed apart); then per district every
    school report, data report and district index is rendered (``sqis.year_outputs.reports``);
    the rate counts school reports only. Then the public edition from the same frames, as
    the flow makes it (``sqis.disclosure.public_frames`` once, then every public school
    report, district page and CSV: ``render_public_edition``), timed apart.
    """
    from sqis import report_reads, year_outputs
    from sqis.methodology import for_year
    from sqis.store import open_store
    from sqis.years import SchoolYear

    m = for_year(p["year"])
    store = open_store(p["db_url"])
    districts = sorted(store.read("schools", [p["year"]])["district_code"].unique())
    n_school = n_files = 0
    read_wall = read_cpu = render_wall = render_cpu = 0.0
    with Sampler(p.get("interval", 0.1)) as s:
        t0 = s.mark().t
        a = s.mark()
        whole = report_reads.report_frames(store, SchoolYear(p["year"]))
        by_district = report_reads.split_by_district(whole, districts)
        b = s.mark()
        read_wall += b.t - a.t
        read_cpu += b.cpu - a.cpu
        for d in districts:
            b = s.mark()
            frames = by_district.pop(d)
            files = year_outputs.reports(frames, m, pdf="none", produced="benchmark")
            c = s.mark()
            render_wall += c.t - b.t
            render_cpu += c.cpu - b.cpu
            n_school += sum(k.startswith("reports/schools/") for k in files)
            n_files += len(files)
        # the public edition (METHODOLOGY.md "Two editions"): suppression, then rendering
        from sqis.disclosure import public_frames
        from sqis.reports.public import render_public_edition

        c = s.mark()
        pf = public_frames(whole, m)
        d = s.mark()
        public = render_public_edition(pf, m, "benchmark")
        e = s.mark()
        del whole, pf
        t1 = s.mark().t
    n_public = sum(k.startswith("reports/schools/") for k in public)
    public_cpu = e.cpu - c.cpu
    return {
        **_whole(s, t0, t1),
        "districts": len(districts),
        "school_reports": n_school,
        "files": n_files,
        "read_wall_s": round(read_wall, 3),
        "read_cpu_s": round(read_cpu, 3),
        "render_wall_s": round(render_wall, 3),
        "render_cpu_s": round(render_cpu, 3),
        "reports_per_cpu_s": round(n_school / render_cpu, 1) if render_cpu else None,
        "reports_per_cpu_s_with_reads": (
            round(n_school / (render_cpu + read_cpu), 1) if render_cpu + read_cpu else None
        ),
        "public_files": len(public),
        "public_suppress_wall_s": round(d.t - c.t, 3),
        "public_suppress_cpu_s": round(d.cpu - c.cpu, 3),
        "public_render_wall_s": round(e.t - d.t, 3),
        "public_render_cpu_s": round(e.cpu - d.cpu, 3),
        "public_reports_per_cpu_s": round(n_public / public_cpu, 1) if public_cpu else None,
    }


def step_pdf(p: dict[str, Any]) -> dict[str, Any]:
    """PDF throughput: ``sqis.reports.pdf.render_pdfs`` on school reports the flow wrote."""
    from sqis.reports.pdf import render_pdfs

    folder = Path(p["html_dir"])
    paths = sorted(folder.glob("*.html"))[: int(p.get("n", 24))]
    if not paths:
        raise RuntimeError(f"{folder}: no school report to render")
    htmls = {f"{x.stem}.pdf": x.read_text(encoding="utf-8") for x in paths}
    workers = int(p.get("workers", os.cpu_count() or 1))
    with Sampler(p.get("interval", 0.1)) as s:
        t0 = s.mark().t
        pdfs = render_pdfs(htmls, workers=workers)
        t1 = s.mark().t
    out = _whole(s, t0, t1)
    return {
        **out,
        "reports": len(pdfs),
        "workers": workers,
        "bytes": sum(len(b) for b in pdfs.values()),
        "reports_per_s": round(len(pdfs) / out["wall_s"], 2) if out["wall_s"] else None,
        "reports_per_cpu_s": round(len(pdfs) / out["cpu_s"], 2) if out["cpu_s"] else None,
    }


STEPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "generate": step_generate,
    "ingest": step_ingest,
    "flow": step_flow,
    "direct": step_direct,
    "duckdb": step_duckdb,
    "same_indicators": step_same_indicators,
    "html": step_html,
    "pdf": step_pdf,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in STEPS:
        print(f"usage: python -m bench.steps {{{','.join(STEPS)}}} PARAMS_JSON OUT_JSON")
        return 2
    name, params, out = args
    result = STEPS[name](json.loads(params))
    Path(out).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
