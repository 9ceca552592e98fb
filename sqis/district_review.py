"""District peer review (METHODOLOGY.md "District peer review"): the rubric's ratings and
the cycle DRAFT → SUBMITTED → PEER_REVIEWED → MEETS | REVISE → RESUBMITTED → PEER_REVIEWED …

Pure domain, no database and no Prefect: a :class:`Review` is a district's review of one
service year (its state, round, ratings per round and the steps taken); each step
(:func:`self_rate`, :func:`submit`, :func:`peer_rate`, :func:`resubmit`) returns a new
review or raises :class:`ReviewRefused` with one line naming the current state and the
steps allowed in it. The rubric, the scale and ``meets`` are the methodology's
(``district_review``); ``sqis.store`` keeps reviews, ``sqis_cli.reviews`` is the command.

The outcome follows the peer ratings: when the peer has rated every item of the round the
review is PEER_REVIEWED, and at once MEETS when every peer rating is at least ``meets``,
else REVISE (both steps are in the history). REVISE opens the next round with the
district's self-ratings, narratives and evidence carried over, for it to revise and
resubmit; each round keeps its own ratings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqis.errors import SqisError
from sqis.methodology import DistrictReviewSpec, Methodology

DRAFT, SUBMITTED, PEER_REVIEWED = "DRAFT", "SUBMITTED", "PEER_REVIEWED"
MEETS, REVISE, RESUBMITTED = "MEETS", "REVISE", "RESUBMITTED"
STATES: tuple[str, ...] = (DRAFT, SUBMITTED, PEER_REVIEWED, MEETS, REVISE, RESUBMITTED)
# the steps each state allows (None: no review recorded yet)
ALLOWED: dict[str | None, tuple[str, ...]] = {
    None: ("self-rate",),
    DRAFT: ("self-rate", "submit"),
    SUBMITTED: ("peer-rate",),
    PEER_REVIEWED: (),
    MEETS: (),
    REVISE: ("self-rate", "resubmit"),
    RESUBMITTED: ("peer-rate",),
}
SELF_FIELDS = ("self_rating", "narrative", "evidence")
PEER_FIELDS = ("peer_district_code", "peer_rating", "comments")
ITEM_FIELDS = (*SELF_FIELDS, *PEER_FIELDS)


class ReviewRefused(ValueError, SqisError):
    """A step the review's state, the rubric or the districts do not allow (one line)."""


@dataclass
class Review:
    """A district's peer review of service ``year``: ``items[round][item]`` holds the
    ratings (``ITEM_FIELDS``), ``history`` every step (at, by, step, status, round)."""

    year: str
    district_code: str
    methodology_version: str
    status: str | None = None
    round: int = 1
    items: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def current(self) -> dict[str, dict[str, Any]]:
        """The ratings of the current round, by item."""
        return self.items.get(self.round, {})


def spec_of(m: Methodology) -> DistrictReviewSpec:
    """The methodology's rubric, or :class:`ReviewRefused` when it has none."""
    if m.district_review is None:
        raise ReviewRefused(f"methodology {m.version} has no district_review rubric")
    return m.district_review


def _refuse_step(r: Review, step: str) -> None:
    allowed = ALLOWED[r.status]
    if step in allowed:
        return
    state = r.status or "not started"
    can = ", ".join(allowed) if allowed else "none (the review is complete)"
    raise ReviewRefused(
        f"district {r.district_code}'s peer review of {r.year} is {state}: "
        f"{step} is not allowed (allowed: {can})"
    )


def _moved(r: Review, step: str, status: str, by: str, at: datetime) -> None:
    r.history.append(
        {"at": at.isoformat(), "by": by, "step": step, "status": status, "round": r.round}
    )
    r.status = status


def _rating(value: int, spec: DistrictReviewSpec, what: str) -> int:
    lo, hi = spec.scale
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ReviewRefused(f"{what} {value!r} is not a whole number from {lo} to {hi}")
    return value


def _item(spec: DistrictReviewSpec, item: str) -> str:
    if item not in spec.item_codes():
        raise ReviewRefused(
            f"{item!r} is not an item of the rubric (one of {', '.join(spec.item_codes())})"
        )
    return item


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ReviewRefused(f"{what} is required")
    return text


def new_review(year: str, district_code: str, m: Methodology) -> Review:
    """A review not started yet (state None) under the methodology's rubric."""
    spec_of(m)
    return Review(year, district_code, m.version)


def self_rate(
    r: Review,
    item: str,
    rating: int,
    narrative: str,
    evidence: str,
    m: Methodology,
    by: str,
    at: datetime,
) -> Review:
    """The district's self-rating of one item (with narrative and evidence): starts the
    review (DRAFT), or revises it in DRAFT or REVISE."""
    _refuse_step(r, "self-rate")
    spec = spec_of(m)
    out = copy.deepcopy(r)
    row = out.items.setdefault(out.round, {}).setdefault(_item(spec, item), {})
    row.update(
        self_rating=_rating(rating, spec, "the self-rating"),
        narrative=_text(narrative, "a narrative"),
        evidence=_text(evidence, "the evidence"),
    )
    if out.status is None:
        _moved(out, "self-rate", DRAFT, by, at)
    return out


def _all_self_rated(r: Review, spec: DistrictReviewSpec, step: str) -> None:
    cur = r.current()
    missing = [i for i in spec.item_codes() if cur.get(i, {}).get("self_rating") is None]
    if missing:
        raise ReviewRefused(
            f"district {r.district_code}'s peer review of {r.year} cannot {step}: no "
            f"self-rating yet for {', '.join(missing)}"
        )


def submit(r: Review, m: Methodology, by: str, at: datetime) -> Review:
    """DRAFT → SUBMITTED, once every item is self-rated."""
    _refuse_step(r, "submit")
    _all_self_rated(r, spec_of(m), "be submitted")
    out = copy.deepcopy(r)
    _moved(out, "submit", SUBMITTED, by, at)
    return out


def resubmit(r: Review, m: Methodology, by: str, at: datetime) -> Review:
    """REVISE → RESUBMITTED (the revised self-ratings go to a peer again)."""
    _refuse_step(r, "resubmit")
    _all_self_rated(r, spec_of(m), "be resubmitted")
    out = copy.deepcopy(r)
    _moved(out, "resubmit", RESUBMITTED, by, at)
    return out


def peer_rate(
    r: Review,
    peer_district: str,
    item: str,
    rating: int,
    comments: str,
    m: Methodology,
    by: str,
    at: datetime,
) -> Review:
    """Another district's rating and comments on one item of a SUBMITTED or RESUBMITTED
    review. One peer district per round; when every item is rated the review becomes
    PEER_REVIEWED and then MEETS (every peer rating ≥ ``meets``) or REVISE."""
    _refuse_step(r, "peer-rate")
    spec = spec_of(m)
    if peer_district == r.district_code:
        raise ReviewRefused(f"district {peer_district} cannot peer-review itself")
    cur = r.current()
    others = {
        str(v["peer_district_code"])
        for v in cur.values()
        if v.get("peer_district_code") not in (None, peer_district)
    }
    if others:
        raise ReviewRefused(
            f"round {r.round} of district {r.district_code}'s peer review of {r.year} is "
            f"being peer-reviewed by district {sorted(others)[0]}, not {peer_district}"
        )
    out = copy.deepcopy(r)
    row = out.items.setdefault(out.round, {}).setdefault(_item(spec, item), {})
    row.update(
        peer_district_code=peer_district,
        peer_rating=_rating(rating, spec, "the peer rating"),
        comments=_text(comments, "comments"),
    )
    cur = out.current()
    if all(cur.get(i, {}).get("peer_rating") is not None for i in spec.item_codes()):
        _moved(out, "peer-rate", PEER_REVIEWED, by, at)
        below = [i for i in spec.item_codes() if int(cur[i]["peer_rating"]) < spec.meets]
        if below:
            _moved(out, "outcome", REVISE, "sqis", at)
            out.history[-1]["below_meets"] = below
            out.round += 1
            out.items[out.round] = {
                i: {k: cur[i].get(k) for k in SELF_FIELDS} for i in spec.item_codes()
            }
        else:
            _moved(out, "outcome", MEETS, "sqis", at)
    return out


def last_peer_ratings(r: Review) -> dict[str, dict[str, Any]]:
    """The ratings of the latest round a peer rated fully or in part (for reports)."""
    for rnd in sorted(r.items, reverse=True):
        if any(v.get("peer_rating") is not None for v in r.items[rnd].values()):
            return r.items[rnd]
    return r.current()


# ---- the import of a whole consortium's ratings ------------------------------------------
def apply_rows(
    reviews: dict[str, Review],
    rows: list[dict[str, Any]],
    year: str,
    m: Methodology,
    known_districts: set[str],
    by: str,
    at: datetime,
) -> dict[str, Review]:
    """Apply an import's rows (already validated: one row per district × item) to the
    reviews, district by district: self-ratings (then submit, or resubmit after REVISE)
    where the rows give them, peer ratings where they give those. Returns the changed
    reviews; :class:`ReviewRefused` (naming the district) when any step is not allowed —
    the caller stores nothing then."""
    by_district: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_district.setdefault(str(row["district_code"]), []).append(row)
    changed: dict[str, Review] = {}
    for d, drows in sorted(by_district.items()):
        r = reviews.get(d) or new_review(year, d, m)
        try:
            if any(x.get("self_rating") is not None for x in drows):
                for x in drows:
                    r = self_rate(
                        r,
                        str(x["item"]),
                        int(x["self_rating"]),
                        str(x.get("narrative") or ""),
                        str(x.get("evidence") or ""),
                        m,
                        by,
                        at,
                    )
                r = resubmit(r, m, by, at) if r.status == REVISE else submit(r, m, by, at)
            for x in drows:
                if x.get("peer_rating") is not None:
                    peer = str(x["peer_district_code"])
                    if peer not in known_districts:
                        raise ReviewRefused(f"unknown peer district {peer}")
                    r = peer_rate(
                        r, peer, str(x["item"]), int(x["peer_rating"]),
                        str(x.get("comments") or ""), m, by, at,
                    )  # fmt: skip
            if r.status is None:  # no row rated anything: no review to store
                raise ReviewRefused("no self-rating or peer rating to record")
        except ReviewRefused as e:
            raise ReviewRefused(f"district {d}: {e}") from None
        changed[d] = r
    return changed
