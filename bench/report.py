"""The benchmark's results as Markdown (BENCHMARKS.md), and whether each target holds.

``render_markdown(results)`` turns ``bench.run``'s results into tables;
``write_between_markers`` puts them into BENCHMARKS.md between ``<!-- bench:begin -->`` and
``<!-- bench:end -->``, leaving the prose around them alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqis.year_stages import STAGES

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
GB = 1e9  # the memory target is in GB (10^9 bytes), the stricter reading
MIB = 2**20

STAGE_NAMES = {s.name: s.label for s in STAGES}  # sqis.year_stages: the year's stages


def _ok(r: Any) -> bool:
    return isinstance(r, dict) and "error" not in r and bool(r)


def _f(v: Any, nd: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, int | float):
        return f"{v:,.{nd}f}"
    return str(v)


def _i(v: Any) -> str:
    return "–" if v is None else f"{int(v):,}"


def _students(res: dict[str, Any], year: str) -> int | None:
    g = res.get("generate") or {}
    rows = g.get("rows") or {}
    n = rows.get(f"{year}/students")
    return int(n) if n is not None else None


def _stage(res: dict[str, Any], run: str, stage: str) -> dict[str, Any] | None:
    r = res.get(run)
    if not _ok(r):
        return None
    for s in r.get("stages", []):
        if s["stage"] == stage:
            return s
    return None


def _peak_mib(r: dict[str, Any]) -> float:
    """A step's peak memory: the larger of the exact high-water mark of the process and
    the sampled peak of the process with its children (the Prefect server, PDF workers)."""
    return max(r.get("max_rss_mib") or 0.0, r.get("peak_tree_rss_mib") or 0.0)


def prefect_overhead(res: dict[str, Any]) -> dict[str, float | None]:
    """Prefect's share of the flow's wall time, two ways.

    - ``vs_direct``: (flow wall − ``run_year`` wall) / flow wall, same data, fresh stores;
    - ``outside_tasks``: time no task was running (flow-run set-up, task submission,
      the flow's own code between tasks) / flow wall.
    """
    flow, direct = res.get("flow"), res.get("direct")
    out: dict[str, float | None] = {"vs_direct": None, "outside_tasks": None}
    if _ok(flow) and flow.get("wall_s"):
        out["outside_tasks"] = flow["outside_tasks_s"] / flow["wall_s"]
        if _ok(direct) and direct.get("wall_s"):
            out["vs_direct"] = (flow["wall_s"] - direct["wall_s"]) / flow["wall_s"]
    return out


def task_run_shape(res: dict[str, Any]) -> tuple[int, int, int] | None:
    """The flow's task runs beyond one per district in each per-district stage:
    ``(compute_index runs − districts, reports runs − districts, runs of every other
    stage)`` — the educators stage, one task run per district where the year has educator
    files, counts with the per-district stages. Task runs grow with districts and stages
    only if this is the same at every size."""
    flow = res.get("flow")
    if not _ok(flow):
        return None
    by = {s["stage"]: int(s.get("task_runs") or 0) for s in flow.get("stages", [])}
    d = int(res["districts"])
    idx, rep = by.get("compute_index", 0), by.get("reports", 0)
    edu = by.get("educators", 0)  # METHODOLOGY.md "Educator effectiveness": 0 or d
    other = int(flow.get("task_runs") or 0) - idx - rep - edu
    return idx - d, rep - d, other + (edu - d if edu else 0)


def targets(results: dict[str, Any]) -> list[dict[str, str]]:
    """Each target of issue 9 (and issues 2, 3, 7) with what was measured and whether it holds."""
    sizes = results.get("sizes", {})
    one, six = sizes.get("1000000"), sizes.get("6000000")
    rows: list[dict[str, str]] = []

    def add(target: str, measured: str, holds: bool | None) -> None:
        verdict = "not measured" if holds is None else ("holds" if holds else "**does not hold**")
        rows.append({"target": target, "measured": measured, "verdict": verdict})

    # 1M: whole year within 15× DuckDB's indicators; indicator+index stage within 2×
    if one and _ok(one.get("flow")) and _ok(one.get("duckdb")):
        fw, dw = one["flow"]["wall_s"], one["duckdb"]["wall_s"]
        add(
            "1M students: whole year (HTML reports for every school, PDF off) ≤ 15 × DuckDB "
            "indicators",
            f"{fw:,.1f} s vs DuckDB {dw:,.1f} s = {fw / dw:.1f}×",
            fw <= 15 * dw,
        )
        st = _stage(one, "flow", "compute_index")
        if st:
            add(
                "1M students: indicator + index stage ≤ 2 × DuckDB indicators",
                f"{st['wall_s']:,.1f} s vs {dw:,.1f} s = {st['wall_s'] / dw:.1f}×",
                st["wall_s"] <= 2 * dw,
            )
    else:
        add("1M students: whole year ≤ 15 × DuckDB indicators", "–", None)
        add("1M students: indicator + index stage ≤ 2 × DuckDB indicators", "–", None)

    # issue 20: the educator stage within 20% of the index stage's time (its growth
    # measures are computed in the growth task, from the same fit: they count with the index)
    edu = _stage(one, "flow", "educators") if one and _ok(one.get("flow")) else None
    idx = _stage(one, "flow", "compute_index") if one and _ok(one.get("flow")) else None
    if edu and idx:
        add(
            "1M students: educator stage ≤ 20 % of the index stage (issue 20)",
            f"{edu['wall_s']:,.1f} s vs {idx['wall_s']:,.1f} s = "
            f"{100 * edu['wall_s'] / idx['wall_s']:.0f} % (peak {edu['peak_rss_mib']:,.0f} MiB; "
            "the educators' growth measures ride in the growth task)",
            edu["wall_s"] <= 0.2 * idx["wall_s"],
        )
    else:
        add("1M students: educator stage ≤ 20 % of the index stage (issue 20)", "–", None)

    # 6M: completes; peak ≤ 3 GB per million; time within 7× the 1M run
    if six and _ok(six.get("flow")):
        n = _students(six, results["years"][1]) or six["students"]
        peak = _peak_mib(six["flow"]) * MIB
        per_m = peak / GB / (n / 1e6)
        add("6M students: the cycle completes", "completed", True)
        add(
            "6M students: peak memory ≤ 3 GB per million students",
            f"{peak / GB:,.1f} GB for {n / 1e6:.2f}M enrolments = {per_m:.2f} GB per million",
            per_m <= 3.0,
        )
        if one and _ok(one.get("flow")):
            r = six["flow"]["wall_s"] / one["flow"]["wall_s"]
            add(
                "6M students: time grows linearly (6M run ≤ 7 × the 1M run)",
                f"{six['flow']['wall_s']:,.0f} s vs {one['flow']['wall_s']:,.0f} s = {r:.1f}×",
                r <= 7.0,
            )
        else:
            add("6M students: 6M run ≤ 7 × the 1M run", "1M run missing", None)
    elif six:
        err = (six.get("flow") or six.get("ingest_prior") or six.get("generate") or {}).get(
            "error", "did not get that far"
        )
        add("6M students: the cycle completes", f"no: {err.splitlines()[-1][:120]}", False)
        add("6M students: peak memory ≤ 3 GB per million students", "cycle incomplete", None)
        add("6M students: 6M run ≤ 7 × the 1M run", "cycle incomplete", None)
    else:
        add("6M students: the cycle completes", "–", None)

    # the memory target of 6M, read at 1M too: the cycle, and run_year without Prefect
    if one and _ok(one.get("flow")):
        n = _students(one, results["years"][1]) or one["students"]
        for run, label in (("flow", "through Prefect"), ("direct", "run_year, no Prefect")):
            if _ok(one.get(run)):
                peak = _peak_mib(one[run]) * MIB / GB / (n / 1e6)
                add(
                    f"1M students ({label}): peak memory ≤ 3 GB per million students "
                    "(the 6M target, read at 1M)",
                    f"{peak:.2f} GB per million",
                    peak <= 3.0,
                )

    # Prefect overhead at 1M; task runs with districts and stages
    if one and _ok(one.get("flow")):
        ov = prefect_overhead(one)
        if ov["vs_direct"] is not None:
            add(
                "1M students: Prefect overhead < 10 % of wall time (flow vs run_year)",
                f"{100 * ov['vs_direct']:.1f} % (time outside any task: "
                f"{100 * (ov['outside_tasks'] or 0):.1f} %)",
                ov["vs_direct"] < 0.10,
            )
        else:
            add(
                "1M students: Prefect overhead < 10 % (time outside any task)",
                f"{100 * (ov['outside_tasks'] or 0):.1f} %",
                (ov["outside_tasks"] or 0) < 0.10,
            )
    shapes = {k: task_run_shape(v) for k, v in sizes.items() if task_run_shape(v)}
    if shapes:
        desc = "; ".join(
            f"{int(k):,} students, {sizes[k]['districts']} districts: "
            f"{sizes[k]['flow']['task_runs']} = "
            f"{(sizes[k]['flow']['task_runs'] - sum(c)) // sizes[k]['districts']} × "
            f"{sizes[k]['districts']} + {sum(c)}"
            for k, c in shapes.items()
        )
        same = len(set(shapes.values())) == 1
        one_each = all(c[0] >= 0 and c[1] >= 0 for c in shapes.values())
        add(
            "Task runs grow with districts and stages, not schools or students",
            f"one index, one reports (and, with educator files, one educators) task run per "
            f"district, the rest fixed ({desc})",
            (same and one_each) if len(shapes) > 1 else None,
        )

    # issue 3: a 1M year validates and ingests well under 30 s
    if one and _ok(one.get("ingest_prior")):
        w = one["ingest_prior"]["wall_s"]
        add(
            "1M-student year: validation + ingest well under 30 s (issue 3)",
            f"{w:,.1f} s, peak {_peak_mib(one['ingest_prior']):,.0f} MiB",
            w < 30,
        )
    # issue 7: HTML ≥ 100 reports per second per core on a ~1,500-school year
    if one and _ok(one.get("html")):
        h = one["html"]
        schools = h["school_reports"]
        add(
            f"HTML reports ≥ 100 per second per core ({schools:,}-school year): rendering",
            f"{_f(h['reports_per_cpu_s'])} per CPU-second of rendering",
            (h["reports_per_cpu_s"] or 0) >= 100,
        )
        add(
            f"HTML reports ≥ 100 per second per core ({schools:,}-school year): with the "
            "reads from the results store (`report_frames`)",
            f"{_f(h['reports_per_cpu_s_with_reads'])} per CPU-second",
            (h["reports_per_cpu_s_with_reads"] or 0) >= 100,
        )
    return rows


def render_markdown(results: dict[str, Any]) -> str:
    """The generated part of BENCHMARKS.md."""
    m = results.get("machine", {})
    libs = ", ".join(f"{k} {v}" for k, v in m.get("libraries", {}).items())
    year = results.get("years", ["", ""])[1]
    sizes = results.get("sizes", {})
    L: list[str] = []
    state = "finished " + results["finished"] if results.get("finished") else "IN PROGRESS"
    L += [
        f"Run started {results.get('started')} ({state}), `{results.get('command')}`.",
        "",
        f"- commit: `{results.get('commit')}`",
        f"- machine: {m.get('nproc')} CPU ({m.get('cpu_model')}), {m.get('memory_gib')} GiB "
        f"memory, {m.get('os')}; load average at start {m.get('load_avg_at_start')}",
        f"- Python {m.get('python')}; {libs}",
        f"- results store: {results.get('db')}"
        + (f" (PostgreSQL {results['postgres']})" if results.get("postgres") else "")
        + f"; delivered files: {results.get('format')}; years {', '.join(results.get('years', []))}"
        f" (measured: {year})",
        "",
        "### Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    for t in targets(results):
        L.append(f"| {t['target']} | {t['measured']} | {t['verdict']} |")

    L += [
        "",
        "### Per size",
        "",
        "| | " + " | ".join(f"{int(k):,}" for k in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]

    def row(label: str, fn) -> None:
        cells = []
        for res in sizes.values():
            try:
                cells.append(fn(res))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        L.append(f"| {label} | " + " | ".join(cells) + " |")

    def step(res: dict[str, Any], name: str) -> dict[str, Any]:
        r = res.get(name)
        if not _ok(r):
            raise KeyError(name)
        return r

    row("districts", lambda r: _i(r["districts"]))
    row("schools", lambda r: _i(step(r, "generate")["schools"]))
    row(f"enrolment rows {year}", lambda r: _i(_students(r, year)))
    row("rows delivered, both years", lambda r: _i(step(r, "generate")["rows_total"]))
    row("CSV size, both years (MB)", lambda r: _f(step(r, "generate")["bytes"] / 1e6, 0))
    row("generate both years: wall s", lambda r: _f(step(r, "generate")["wall_s"]))
    row("generate: peak RSS MiB", lambda r: _f(_peak_mib(step(r, "generate")), 0))
    row("ingest one year (prior): wall s", lambda r: _f(step(r, "ingest_prior")["wall_s"]))
    row("ingest one year: CPU s", lambda r: _f(step(r, "ingest_prior")["cpu_s"]))
    row("ingest one year: peak RSS MiB", lambda r: _f(_peak_mib(step(r, "ingest_prior")), 0))
    row("**cycle through Prefect: wall s**", lambda r: "**" + _f(step(r, "flow")["wall_s"]) + "**")
    row("cycle through Prefect: CPU s", lambda r: _f(step(r, "flow")["cpu_s"]))
    row("cycle: peak RSS MiB (process)", lambda r: _f(step(r, "flow")["max_rss_mib"], 0))
    row(
        "cycle: peak RSS MiB (with Prefect server)",
        lambda r: _f(step(r, "flow")["peak_tree_rss_mib"], 0),
    )
    row("cycle: task runs", lambda r: _i(step(r, "flow")["task_runs"]))
    row("cycle: time outside any task s", lambda r: _f(step(r, "flow")["outside_tasks_s"]))
    row(
        "Prefect server start-up s (not in wall)",
        lambda r: _f(step(r, "flow")["prefect_startup_s"]),
    )
    row("cycle via run_year, no Prefect: wall s", lambda r: _f(step(r, "direct")["wall_s"]))
    row("run_year: peak RSS MiB", lambda r: _f(step(r, "direct")["max_rss_mib"], 0))
    row(
        "Prefect overhead (flow − run_year) / flow",
        lambda r: _f(100 * prefect_overhead(r)["vs_direct"]) + " %",
    )
    row("DuckDB indicators (from Parquet): wall s", lambda r: _f(step(r, "duckdb")["wall_s"], 2))
    row("DuckDB: peak RSS MiB", lambda r: _f(_peak_mib(step(r, "duckdb")), 0))
    row(
        "pandas, the same indicators from the same files: wall s",
        lambda r: _f(step(r, "same_indicators")["wall_s"], 2),
    )
    row(
        "pandas / DuckDB, same indicators (like for like)",
        lambda r: _f(step(r, "same_indicators")["wall_s"] / step(r, "duckdb")["wall_s"], 2) + "×",
    )
    row(
        "cycle / DuckDB",
        lambda r: _f(step(r, "flow")["wall_s"] / step(r, "duckdb")["wall_s"]) + "×",
    )
    row(
        "index stage / DuckDB",
        lambda r: (
            _f(_stage(r, "flow", "compute_index")["wall_s"] / step(r, "duckdb")["wall_s"]) + "×"
        ),
    )
    row(
        "index stage in run_year / DuckDB",
        lambda r: (
            _f(_stage(r, "direct", "compute_index")["wall_s"] / step(r, "duckdb")["wall_s"]) + "×"
        ),
    )
    row("HTML school reports rendered", lambda r: _i(step(r, "html")["school_reports"]))
    row("HTML: reports per CPU-second", lambda r: _f(step(r, "html")["reports_per_cpu_s"]))
    row(
        "HTML: per CPU-second incl. store reads",
        lambda r: _f(step(r, "html")["reports_per_cpu_s_with_reads"]),
    )
    row(
        "public edition: suppression CPU-s",
        lambda r: _f(step(r, "html").get("public_suppress_cpu_s"), 2),
    )
    row(
        "public edition: reports and CSVs CPU-s",
        lambda r: _f(step(r, "html").get("public_render_cpu_s"), 2),
    )
    L.append("")

    for k, res in sizes.items():
        flow = res.get("flow")
        if not _ok(flow):
            continue
        L += [
            f"### Stages at {int(k):,} students ({res['districts']} districts)",
            "",
            "Through Prefect (`flows.annual_cycle`); the last column is the same stage in "
            "`sqis.pipeline.run_year` without Prefect where it ran.",
            "",
            "| stage | wall s | CPU s | peak RSS MiB | task runs | Σ task-run s "
            "| run_year wall s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for s in flow["stages"]:
            d = _stage(res, "direct", s["stage"])
            L.append(
                f"| {STAGE_NAMES.get(s['stage'], s['stage'])} | {_f(s['wall_s'])} | "
                f"{_f(s['cpu_s'])} | {_f(s['peak_rss_mib'], 0)} | {_i(s.get('task_runs'))} | "
                f"{_f(s.get('task_seconds'))} | {_f(d['wall_s']) if d else '–'} |"
            )
        d_all = res.get("direct")
        L.append(
            f"| **whole year** | **{_f(flow['wall_s'])}** | {_f(flow['cpu_s'])} | "
            f"{_f(flow['max_rss_mib'], 0)} | {_i(flow['task_runs'])} | "
            f"{_f(flow['task_seconds_sum'])} | "
            f"{_f(d_all['wall_s']) if _ok(d_all) else '–'} |"
        )
        L.append("")

    pdf = [(k, r["pdf"]) for k, r in sizes.items() if _ok(r.get("pdf"))]
    for k, p in pdf:
        L += [
            "### PDF throughput (WeasyPrint, `sqis.reports.pdf.render_pdfs`)",
            "",
            f"{p['reports']} school reports of the {int(k):,}-student run on {p['workers']} "
            f"worker processes: {_f(p['wall_s'], 2)} s wall, {_f(p['cpu_s'], 2)} CPU-s → "
            f"**{_f(p['reports_per_s'], 2)} PDFs per second**, "
            f"{_f(p['reports_per_cpu_s'], 2)} per CPU-second; "
            f"{_f(p['bytes'] / max(p['reports'], 1) / 1024, 0)} KiB per PDF.",
            "",
        ]
    for k, res in sizes.items():
        prof = res.get("profile")
        if not _ok(prof):
            continue
        L += [
            f"### Hot spots at {int(k):,} students (py-spy, `run_year` without Prefect)",
            "",
            f"{_i(prof['samples'])} samples at {prof.get('rate_hz')} Hz over a "
            f"{_f(prof.get('wall_s'))} s run (profiled apart from the timed runs). Share of "
            "samples with the function on the stack (inclusive) and on top (self, with the "
            "project function that called it).",
            "",
            "| inclusive % | function | | self % | function (← caller in sqis) |",
            "|---:|---|---|---:|---|",
        ]
        inc, own = prof["inclusive"][:20], prof["self"][:20]
        for i in range(max(len(inc), len(own))):
            a = inc[i] if i < len(inc) else ["", None]
            b = own[i] if i < len(own) else ["", None]
            L.append(
                f"| {_f(a[1]) if a[1] is not None else ''} | `{a[0]}` | | "
                f"{_f(b[1]) if b[1] is not None else ''} | `{b[0]}` |"
            )
        L.append("")
    errors = [
        (k, name, r["error"])
        for k, res in sizes.items()
        for name, r in res.items()
        if isinstance(r, dict) and "error" in r
    ]
    if errors:
        L += ["### Steps that failed", ""]
        for k, name, e in errors:
            last = e.strip().splitlines()[-1] if e.strip() else "?"
            L.append(f"- {int(k):,} students, `{name}`: {last[:300]}")
        L.append("")
    return "\n".join(L).rstrip() + "\n"


HEADER = """# Benchmarks

Generated by `make bench` (`python -m bench.run`); see the end of this file for the method.

"""


def write_between_markers(path: Path, text: str) -> None:
    """Replace what lies between the markers in ``path`` (created, with markers, if absent)."""
    doc = path.read_text(encoding="utf-8") if path.exists() else HEADER + f"{BEGIN}\n{END}\n"
    if BEGIN not in doc or END not in doc:
        doc = doc.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")
