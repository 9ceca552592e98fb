"""How far a running ``make bench`` has got: ``python -m bench.progress [--data-dir bench-data]``.

Prints the steps finished per size (from ``results.json``) and, for a flow still running,
its task runs read straight from the temporary Prefect server's SQLite database (read-only)
under the size's private ``PREFECT_HOME``: which stages are done, how many district tasks
of the running stage have finished, and for how long it has been running.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import stage_of_task


def flow_progress(prefect_db: Path) -> list[str]:
    """Lines describing the task runs in a Prefect server database (read-only)."""
    con = sqlite3.connect(f"file:{prefect_db}?mode=ro", uri=True, timeout=5)
    try:
        rows = con.execute(
            "SELECT name, state_type, start_time, end_time FROM task_run ORDER BY start_time"
        ).fetchall()
    finally:
        con.close()
    by_stage: dict[str, Counter[str]] = {}
    first: dict[str, str] = {}
    for name, state, start, _end in rows:
        st = stage_of_task(name) or "?"
        by_stage.setdefault(st, Counter())[str(state)] += 1
        if start and st not in first:
            first[st] = str(start)
    return [
        f"  {st:<14} {dict(c)}  (first task started {first.get(st, '?')})"
        for st, c in by_stage.items()
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="bench-data")
    a = ap.parse_args(argv)
    root = Path(a.data_dir)
    print(f"now {datetime.now(UTC).isoformat(timespec='seconds')}")
    res_file = root / "results.json"
    if res_file.exists():
        res = json.loads(res_file.read_text(encoding="utf-8"))
        for size, r in res.get("sizes", {}).items():
            done = [
                f"{k}{' (FAILED)' if isinstance(v, dict) and 'error' in v else ''}"
                for k, v in r.items()
                if isinstance(v, dict)
            ]
            print(f"{int(size):,}: {', '.join(done) or 'started'}")
    for db in sorted(root.glob("s*/work/prefect-home/prefect.db")):
        print(f"flow under {db.parent}:")
        try:
            for line in flow_progress(db):
                print(line)
        except sqlite3.Error as e:
            print(f"  (cannot read {db}: {e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
