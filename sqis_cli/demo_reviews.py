"""`make demo`'s records (docs/synthetic.md): the district peer-review ratings of a service
year and the schools whose escalation has a record behind it.

    python -m sqis_cli.demo_reviews --db sqlite:///var/sqis.db --year 2017-18 --out DIR

writes ``DIR/round1.yaml`` and ``DIR/round2.yaml`` (``sqis.synthetic.reviews.rating_rows``)
and prints shell assignments of the codes the demo needs (``REVISE_DISTRICT``,
``PEER_SCHOOL``, ``STEP_SCHOOL``, ``STEP``; empty when there is none): codes and words only.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from sqis import years
from sqis.synthetic.reviews import rating_rows

_SAFE = re.compile(r"^[A-Z0-9_]*\Z")


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - make demo
    from sqis.methodology import for_year
    from sqis.store import ResultsStore

    ap = argparse.ArgumentParser(description="make demo's review records")
    ap.add_argument("--db", required=True)
    ap.add_argument("--year", required=True, help="the service year of the reviews")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    results = years.results_year(a.year)
    store = ResultsStore(a.db, create=False)
    m = for_year(results)
    districts = sorted(set(store.read("schools", [results])["district_code"].astype(str)))
    one, two = rating_rows(districts, m)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "round1.yaml").write_text(yaml.safe_dump({"ratings": one}, sort_keys=False))
    (out / "round2.yaml").write_text(yaml.safe_dump({"ratings": two}, sort_keys=False))
    des = store.read("designations", [results])
    esc = dict(zip(des["school_code"].astype(str), des["escalation"].astype(str), strict=True))
    peer = sorted(c for c, e in esc.items() if e == "PEER_REVIEW")
    steps = sorted(
        (c, e) for c, e in esc.items() if e in ("DISTRICT_TURNAROUND", "DISTRICT_ACTION")
    )
    values = {
        "REVISE_DISTRICT": districts[0] if one else "",
        "PEER_SCHOOL": peer[0] if peer else "",
        "STEP_SCHOOL": steps[0][0] if steps else "",
        "STEP": steps[0][1] if steps else "",
    }
    for k, v in values.items():
        if not _SAFE.match(v):  # printed for the shell's eval: codes and words only
            raise SystemExit(f"unexpected value for {k}")
        print(f"{k}={v}")
    store.dispose()


if __name__ == "__main__":  # pragma: no cover
    main()
