"""Escalation by consecutive years in status (METHODOLOGY.md "Escalation")."""

from __future__ import annotations

import pandas as pd
import pytest

from sqis.escalation import escalate, needs_partner
from sqis.methodology import Methodology, for_year


@pytest.fixture
def m() -> Methodology:
    return for_year("2015-16")


@pytest.mark.parametrize(
    ("designation", "years", "expected", "partner"),
    [
        ("FOCUS", 1, "NONE", False),
        ("FOCUS", 2, "NONE", False),
        ("FOCUS", 3, "REWARD_PARTNERSHIP", True),
        ("FOCUS", 4, "REWARD_PARTNERSHIP", True),
        ("FOCUS", 5, "DISTRICT_TURNAROUND", True),
        ("FOCUS", 7, "DISTRICT_TURNAROUND", True),
        ("PRIORITY", 1, "PEER_REVIEW", True),
        ("PRIORITY", 2, "PEER_REVIEW", True),
        ("PRIORITY", 4, "PEER_REVIEW", True),
        ("PRIORITY", 5, "DISTRICT_ACTION", True),
        ("REWARD", 6, "NONE", False),
        ("NONE", 0, "NONE", False),
    ],
)
def test_escalation_by_year(
    m: Methodology, designation: str, years: int, expected: str, partner: bool
) -> None:
    d = pd.DataFrame(
        {
            "school_code": ["01611190000001"],
            "designation": [designation],
            "years_in_status": [years],
            "escalation": ["NONE"],
        }
    )
    out = escalate(d, m)
    assert out["escalation"].tolist() == [expected]
    assert needs_partner(out, m).tolist() == [partner]
    assert d["escalation"].tolist() == ["NONE"]  # the input is not changed


def test_escalation_years_come_from_the_methodology(m: Methodology) -> None:
    faster = m.model_copy(
        update={
            "escalation": m.escalation.model_copy(
                update={"focus": {"REWARD_PARTNERSHIP": 2, "DISTRICT_TURNAROUND": 3}}
            )
        }
    )
    d = pd.DataFrame(
        {
            "school_code": ["a", "b"],
            "designation": ["FOCUS", "FOCUS"],
            "years_in_status": [2, 3],
            "escalation": ["NONE", "NONE"],
        }
    )
    assert escalate(d, faster)["escalation"].tolist() == [
        "REWARD_PARTNERSHIP",
        "DISTRICT_TURNAROUND",
    ]
