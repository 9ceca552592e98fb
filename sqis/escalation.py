"""Escalation of PRIORITY and FOCUS schools (METHODOLOGY.md "Escalation").

``m.escalation.focus`` and ``m.escalation.priority`` map an escalation to the
consecutive year in the designation from which it applies (core-2013: FOCUS
``REWARD_PARTNERSHIP`` from year 3, ``DISTRICT_TURNAROUND`` from year 5; PRIORITY
``PEER_REVIEW`` from year 1, ``DISTRICT_ACTION`` from year 5). A school gets the
escalation with the latest starting year it has reached, so a PRIORITY school keeps
``PEER_REVIEW`` in years 2–4 and a FOCUS school keeps ``REWARD_PARTNERSHIP`` in year 4.
A FOCUS school in years 1–2 has escalation ``NONE`` (it joins a community of practice
and writes a plan: ``sqis.communities``). ``m.escalation.partner_from`` says from which
year a designation gets a Reward partner (``sqis.partners``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqis.methodology import Methodology


def escalate(designations: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """The designations with ``escalation`` set from ``designation`` and ``years_in_status``.

    METHODOLOGY.md "Escalation". Schools that are not PRIORITY or FOCUS get ``NONE``.
    """
    out = designations.copy()
    years_in = pd.to_numeric(out["years_in_status"]).fillna(0).to_numpy()
    escalation = np.full(len(out), "NONE", dtype=object)
    for designation, steps in (("FOCUS", m.escalation.focus), ("PRIORITY", m.escalation.priority)):
        is_d = (out["designation"] == designation).to_numpy()
        # later steps overwrite earlier ones: the latest step reached wins
        for step, from_year in sorted(steps.items(), key=lambda kv: kv[1]):
            escalation[is_d & (years_in >= from_year)] = step
    out["escalation"] = pd.Series(escalation, index=out.index).astype("str")
    return out


def needs_partner(designations: pd.DataFrame, m: Methodology) -> pd.Series:
    """Which schools get a Reward partner this year (``m.escalation.partner_from``).

    METHODOLOGY.md "Escalation": FOCUS from its REWARD_PARTNERSHIP year (3rd), PRIORITY
    from year 1 (the partnership model).
    """
    years_in = pd.to_numeric(designations["years_in_status"]).fillna(0)
    need = pd.Series(False, index=designations.index)
    for designation, from_year in m.escalation.partner_from.items():
        need |= (designations["designation"] == designation) & (years_in >= from_year)
    return need
