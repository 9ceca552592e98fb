"""The codes of the data contract and the methodology, in one place.

These are vocabulary, not methodology numbers: the contract fixes them and the
schemas, the indicators and the reports all speak them. Thresholds, weights and
cut points live in the methodology file (``sqis/methodologies/``).
"""

from __future__ import annotations

SCHOOL_TYPES: tuple[str, ...] = ("ES", "MS", "HS")

RACE_GROUPS: tuple[str, ...] = ("AA", "AI", "AS", "FI", "HI", "PI", "WH", "MR")
RACE_CODES: tuple[str, ...] = (*RACE_GROUPS, "NR")
GENDERS: tuple[str, ...] = ("F", "M", "X")
EL_STATUSES: tuple[str, ...] = ("EO", "IFEP", "EL", "RFEP", "TBD")

# Program groups and the students-file flag that places a student in them.
PROGRAM_GROUPS: dict[str, str] = {
    "EL": "el",  # el_status == "EL" in students; the `el` flag in graduation
    "SWD": "swd",
    "SED": "sed",
    "FOS": "foster",
    "HOM": "homeless",
}
STUDENT_GROUPS: tuple[str, ...] = ("ALL", *RACE_GROUPS, *PROGRAM_GROUPS)

SUBJECTS: tuple[str, ...] = ("ELA", "MATH", "SCI")
ASSESSED_GRADES: dict[str, tuple[int, ...]] = {
    "ELA": (3, 4, 5, 6, 7, 8, 11),
    "MATH": (3, 4, 5, 6, 7, 8, 11),
    "SCI": (5, 8, 10, 11, 12),
}
PERFORMANCE_LEVELS: tuple[int, ...] = (1, 2, 3, 4)
GRAD_OUTCOMES: tuple[str, ...] = ("GRAD", "DROP", "CONT", "OTHER")
SEL_CONSTRUCTS: tuple[str, ...] = ("GM", "SE", "SM", "SA")
CLIMATE_CONSTRUCTS: tuple[str, ...] = ("CS", "SC", "KF", "SB")
RESPONDENT_TYPES: tuple[str, ...] = ("STUDENT", "STAFF", "PARENT")

INDICATORS: tuple[str, ...] = (
    "ELA_MET",
    "MATH_MET",
    "SCI_MET",
    "ELA_GROWTH",
    "MATH_GROWTH",
    "GRAD4",
    "GRAD5",
    "GRAD6",
    "MS_PERSIST",
    "CHRONIC",
    "SUSP",
    "SEL",
    "CLIMATE_STUDENT",
    "CLIMATE_STAFF",
    "CLIMATE_PARENT",
    "EL_RFEP",
    "SPED_DISPROP",
)
DOMAINS: tuple[str, ...] = ("academic", "social_emotional", "culture_climate")

DESIGNATIONS: tuple[str, ...] = ("PRIORITY", "FOCUS", "REWARD", "NONE")
ESCALATIONS: tuple[str, ...] = (
    "NONE",
    "PEER_REVIEW",
    "REWARD_PARTNERSHIP",
    "DISTRICT_TURNAROUND",
    "DISTRICT_ACTION",
)
PLAN_STATUSES: tuple[str, ...] = ("DRAFT", "SUBMITTED", "APPROVED")
# a checkpoint's status in the schedule (communities.csv) and the results store
CHECKPOINT_STATUSES: tuple[str, ...] = ("SCHEDULED", "HELD")
# METHODOLOGY.md "Escalation": a required partnership that cannot be formed
PARTNERSHIP_FLAGS: tuple[str, ...] = ("NO_ELIGIBLE_PARTNER",)

# The contract files, in the order they are read and validated.
CONTRACT_FILES: tuple[str, ...] = (
    "schools",
    "students",
    "assessments",
    "graduation",
    "sel",
    "climate",
)
FLAG_VALUES: tuple[str, ...] = ("Y", "N")

# METHODOLOGY.md "Educator effectiveness"; DATA_CONTRACT.md `educators`, `rosters`: the two
# educator files, delivered together or not at all from the methodology's pilot year on
# (optional files: not in CONTRACT_FILES, which every year must deliver).
EDUCATOR_FILES: tuple[str, ...] = ("educators", "rosters")
EDUCATOR_ROLES: tuple[str, ...] = ("TEACHER", "PRINCIPAL")
ROSTER_SUBJECTS: tuple[str, ...] = ("ELA", "MATH")
# educators.csv `flag`: NONE, NO_GROWTH (no growth measure), TRIGGER (option 1's dialogue)
EDUCATOR_FLAGS: tuple[str, ...] = ("NONE", "NO_GROWTH", "TRIGGER")
# what a district records on a TRIGGER (seeds: an addendum, a one-year improvement plan)
EDUCATOR_ACTIONS: tuple[str, ...] = ("ADDENDUM", "IMPROVEMENT_PLAN", "NO_ACTION")
# the four performance levels (seeds: "at least four performance levels")
EDUCATOR_LEVELS: dict[int, str] = {
    1: "Ineffective",
    2: "Developing",
    3: "Effective",
    4: "Highly effective",
}
