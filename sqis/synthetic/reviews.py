"""Demo records for `make demo` (docs/synthetic.md): the district peer-review ratings of a
service year (``python -m sqis_cli.demo_reviews`` writes them and names the codes).

``rating_rows`` gives the rows of ``round1.yaml`` (every district self-rates every rubric
item and is peer-rated by the next district; the first district gets a peer rating below
``meets`` on one item, so it is asked to revise) and ``round2.yaml`` (that district's
revised self-ratings: imported, its review is RESUBMITTED). Codes only: no student or
educator ID is read or written.
"""

from __future__ import annotations

from typing import Any

from sqis.methodology import Methodology


def rating_rows(districts: list[str], m: Methodology) -> tuple[list[dict], list[dict]]:
    """The two import files' rows (see the module's docstring)."""
    spec = m.district_review
    if spec is None or len(districts) < 2:
        return [], []
    items = spec.item_codes()
    low = spec.meets - 1
    first, last_item = districts[0], items[-1]
    one: list[dict[str, Any]] = []
    for k, d in enumerate(districts):
        peer = districts[(k + 1) % len(districts)]
        for n, i in enumerate(items):
            one.append(
                {
                    "district_code": d,
                    "item": i,
                    "self_rating": spec.meets + (1 if n % 2 == 0 else 0),
                    "narrative": f"What district {d} put in place for {i.lower()} this year.",
                    "evidence": "Board minutes, implementation timeline, survey results.",
                    "peer_district_code": peer,
                    "peer_rating": low if (d == first and i == last_item) else spec.meets,
                    "comments": "Rated against the common rubric after a site visit."
                    if not (d == first and i == last_item)
                    else "No plan yet for the data collection the rubric asks for.",
                }
            )
    two = [
        {k: v for k, v in r.items() if k not in ("peer_district_code", "peer_rating", "comments")}
        for r in one
        if r["district_code"] == first
    ]
    for r in two:
        if r["item"] == last_item:
            r["narrative"] = "Revised: a data-collection calendar and an owner for each file."
    return one, two
