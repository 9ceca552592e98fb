"""Benchmark ``sqis generate``: 1,000,000 students over two years, CSV.

Run by hand (never part of the test suite)::

    .venv/bin/python -m bench.generate_bench [--students 1000000] [--districts 8] [--format csv]

Prints the wall time, the rows written and the peak resident memory of the process
(``resource.getrusage``): the generator holds one district at a time, so the peak grows
with the largest district, not with the consortium.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqis.synthetic import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--districts", type=int, default=8)  # CORE: eight districts
    ap.add_argument("--years", default="2013-14,2014-15")
    ap.add_argument("--format", default="csv", choices=["csv", "parquet"])
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--out", default=None, help="folder to write (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the files written")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sqis-bench-"))
    year_list = [y.strip() for y in args.years.split(",")]
    t0 = time.perf_counter()
    summary = generate(
        out, year_list, args.students, args.districts, args.seed, args.format, overwrite=True
    )
    wall = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    rows = sum(summary.rows.values())
    print(
        f"students={args.students:,} districts={args.districts} years={len(year_list)} "
        f"format={args.format} schools={summary.n_schools:,}"
    )
    print(
        f"wall_seconds={wall:.1f} rows={rows:,} bytes={size:,} peak_rss_mib={peak_kib / 1024:.0f}"
    )
    for (year, name), n in sorted(summary.rows.items()):
        print(f"  {year} {name:12s} {n:>12,}")
    if not args.keep and not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
