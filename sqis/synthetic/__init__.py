"""A synthetic CORE-like consortium: every contract file, every year, from a seed.

``generate(out, years, n_students, n_districts, seed, fmt)`` writes a data root that
``sqis`` ingests like a real delivery (docs/synthetic.md). Students persist across
years, school effects drift, and a few extreme Title I schools make every designation
and escalation of METHODOLOGY.md happen over five years.
"""

from __future__ import annotations

from sqis.synthetic.model import ROLES, ConsortiumPlan, SyntheticParams, plan_consortium
from sqis.synthetic.writer import GenerateSummary, generate, plan_only

__all__ = [
    "ROLES",
    "ConsortiumPlan",
    "GenerateSummary",
    "SyntheticParams",
    "generate",
    "plan_consortium",
    "plan_only",
]
