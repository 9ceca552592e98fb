"""The Focus school's two-year plan and its approval (METHODOLOGY.md, *Escalation* and
*Communities of practice and checkpoints*).

    "FOCUS: year 1 joins a community of practice and writes a two-year plan that the
    superintendent must approve." — "A checkpoint records … each school's plan status
    (DRAFT, SUBMITTED, APPROVED) … a plan not approved by the second checkpoint is flagged."

The plan moves through one state machine::

    DRAFT --submit--> SUBMITTED --approve--> APPROVED
      ^                   |
      +------return-------+        (the superintendent sends it back for changes)

Only a SUBMITTED plan can be approved; an APPROVED plan cannot be submitted again or
returned. Approving records who approved and when. The results store applies these
functions (or mirrors :data:`TRANSITIONS`) so that the rule lives in one place.

A plan is keyed by its school and the school year in which it starts; it covers
``m.communities.plan_years`` years (two), so a Focus school in its second consecutive year
works under the plan of the year before. The plan is due approved by checkpoint
``m.communities.plan_approval_due_checkpoint`` (the second) of its first year.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pandas as pd

from sqis import years
from sqis.errors import SqisError
from sqis.methodology import Methodology

DRAFT, SUBMITTED, APPROVED = "DRAFT", "SUBMITTED", "APPROVED"

# (action, from status) → to status; anything else is refused
TRANSITIONS: dict[tuple[str, str], str] = {
    ("submit", DRAFT): SUBMITTED,
    ("approve", SUBMITTED): APPROVED,
    ("return", SUBMITTED): DRAFT,
}
ACTIONS: tuple[str, ...] = ("submit", "approve", "return")

_REFUSALS: dict[tuple[str, str], str] = {
    ("submit", SUBMITTED): "it is already submitted and awaits the superintendent's approval",
    ("submit", APPROVED): "it is already approved; an approved plan cannot be submitted again",
    ("approve", DRAFT): "it has not been submitted; only a SUBMITTED plan can be approved",
    ("approve", APPROVED): "it is already approved",
    ("return", DRAFT): "it has not been submitted; only a SUBMITTED plan can be returned",
    ("return", APPROVED): "it is already approved; an approved plan cannot be returned",
}


class PlanStateError(ValueError, SqisError):
    """A plan action its current status does not allow (e.g. approving a DRAFT plan)."""


def next_status(current: str, action: str, school_code: str = "", year: str = "") -> str:
    """The status after ``action`` on a plan in ``current`` status, or :class:`PlanStateError`.

    *Escalation*: the superintendent approves a submitted plan; nothing else is approved.
    """
    if action not in ACTIONS:
        raise PlanStateError(f"unknown plan action {action!r} (one of {', '.join(ACTIONS)})")
    try:
        return TRANSITIONS[(action, current)]
    except KeyError:
        what = f"the {year} plan of school {school_code}" if school_code else "the plan"
        why = _REFUSALS.get((action, current), f"its status is {current!r}")
        raise PlanStateError(f"cannot {action} {what}: {why}") from None


@dataclass(frozen=True)
class Plan:
    """One Focus school's plan for the cycle that starts in ``year``."""

    school_code: str
    year: str
    status: str = DRAFT
    deadline: date | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None


def _now(at: datetime | None) -> datetime:
    return at if at is not None else datetime.now(UTC)


def new_plan(school_code: str, year: str, m: Methodology) -> Plan:
    """A DRAFT plan, due by the approval checkpoint of ``year`` (*Escalation*)."""
    return Plan(school_code=school_code, year=year, deadline=plan_deadline(year, m))


def submit(plan: Plan, by: str, at: datetime | None = None) -> Plan:
    """DRAFT → SUBMITTED: the school hands its plan to the superintendent."""
    status = next_status(plan.status, "submit", plan.school_code, plan.year)
    return replace(plan, status=status, submitted_by=by, submitted_at=_now(at))


def approve(plan: Plan, by: str, at: datetime | None = None) -> Plan:
    """SUBMITTED → APPROVED: the superintendent approves; records who and when."""
    if not by or not by.strip():
        raise PlanStateError(
            f"cannot approve the {plan.year} plan of school {plan.school_code}: "
            "the approver's name is required"
        )
    status = next_status(plan.status, "approve", plan.school_code, plan.year)
    return replace(plan, status=status, approved_by=by, approved_at=_now(at))


def return_plan(plan: Plan, by: str, at: datetime | None = None) -> Plan:
    """SUBMITTED → DRAFT: the superintendent sends the plan back for changes."""
    status = next_status(plan.status, "return", plan.school_code, plan.year)
    return replace(plan, status=status, submitted_by=None, submitted_at=None)


def plan_deadline(year: str, m: Methodology) -> date:
    """The date by which a plan starting in ``year`` must be approved: the date of checkpoint
    ``m.communities.plan_approval_due_checkpoint`` of that year (*Communities of practice*)."""
    due = m.communities.plan_approval_due_checkpoint
    dates = m.checkpoint_dates(year)
    if due not in dates:
        raise ValueError(
            f"methodology {m.version}: plan_approval_due_checkpoint {due} is not one of the "
            f"checkpoints {sorted(dates)}"
        )
    return dates[due]


def plan_years_covered(year: str, m: Methodology) -> list[str]:
    """The school years a plan starting in ``year`` covers (two: ``2015-16``, ``2016-17``)."""
    return [years.shift(year, i) for i in range(m.communities.plan_years)]


def plan_year(year: str, years_in_status: int, m: Methodology) -> str:
    """The start year of the plan a Focus school works under in ``year``, its
    ``years_in_status``-th consecutive FOCUS year: a new plan every ``plan_years`` years
    (years 1, 3, 5 … start a plan; years 2, 4 … continue the year before's)."""
    if years_in_status < 1:
        raise ValueError(f"years_in_status must be at least 1, got {years_in_status}")
    return years.shift(year, -((years_in_status - 1) % m.communities.plan_years))


def new_plans(school_codes: pd.Series | list[str], year: str, m: Methodology) -> pd.DataFrame:
    """DRAFT plans for the schools that start a plan in ``year``:
    ``school_code, year, status, deadline`` (for ``ResultsStore.ensure_plans``)."""
    codes = sorted(set(pd.Series(school_codes, dtype="str")))
    return pd.DataFrame(
        {
            "school_code": pd.Series(codes, dtype="str"),
            "year": year,
            "status": DRAFT,
            "deadline": plan_deadline(year, m),
        }
    )


def plans_in_force(
    plans: pd.DataFrame, designations: pd.DataFrame, service_year: str, m: Methodology
) -> pd.DataFrame:
    """The plan each FOCUS school works under in ``service_year`` (*Escalation*: a two-year
    plan; METHODOLOGY.md "Results year and service year").

    ``plans``: the results store's plans (``year`` = the service year the plan starts);
    ``designations``: ``school_code, designation, years_in_status`` of the results year
    before ``service_year``. A school in its 2nd consecutive FOCUS year works under the
    plan that started the year before. Returns the matching plan rows with ``year``
    renamed ``plan_year`` and ``plan_year_number`` (1 or 2: which year of the plan).
    """
    focus = designations[designations["designation"] == "FOCUS"]
    yis = pd.to_numeric(focus["years_in_status"], errors="coerce").fillna(1).astype(int)
    yis = yis.clip(lower=1)
    number = (yis - 1) % m.communities.plan_years
    start = years.start_of(service_year) - number
    want = pd.DataFrame(
        {
            "school_code": focus["school_code"].astype("str").to_numpy(),
            "plan_year": [years.from_start(int(s)) for s in start],  # FOCUS schools only
            "plan_year_number": (number + 1).to_numpy(),
        }
    )
    have = plans.rename(columns={"year": "plan_year"})
    if "plan_year" not in have.columns:
        return want.iloc[0:0]
    return want.merge(have, on=["school_code", "plan_year"], how="inner").reset_index(drop=True)
