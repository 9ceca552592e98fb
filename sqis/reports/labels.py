"""The reports' words for the codes: indicators, student groups, domains, designations,
escalation steps and school types, in one place, so that every report and section (the
school report, the Focus/Priority data report, the district page, the Oversight report)
names a code alike."""

from __future__ import annotations

INDICATOR_LABELS: dict[str, str] = {
    "ELA_MET": "English language arts: met or exceeded standard",
    "MATH_MET": "Mathematics: met or exceeded standard",
    "SCI_MET": "Science: met or exceeded standard",
    "ELA_GROWTH": "English language arts growth (percentile)",
    "MATH_GROWTH": "Mathematics growth (percentile)",
    "GRAD4": "Four-year graduation rate",
    "GRAD5": "Five-year graduation rate",
    "GRAD6": "Six-year graduation rate",
    "MS_PERSIST": "Middle-school persistence to grade 10",
    "CHRONIC": "Chronic absenteeism (lower is better)",
    "SUSP": "Suspension or expulsion (lower is better)",
    "SEL": "Social-emotional skills (mean score, 1–5)",
    "CLIMATE_STUDENT": "Culture-climate: students favourable",
    "CLIMATE_STAFF": "Culture-climate: staff favourable",
    "CLIMATE_PARENT": "Culture-climate: parents favourable",
    "EL_RFEP": "English learners redesignated",
    "SPED_DISPROP": "Special-education identification ratio (lower is better)",
}
SHORT_LABELS: dict[str, str] = {
    "ELA_MET": "ELA met",
    "MATH_MET": "Math met",
    "SCI_MET": "Science met",
    "GRAD4": "Grad 4-yr",
    "CHRONIC": "Chronic absent",
}
GROUP_LABELS: dict[str, str] = {
    "ALL": "All students",
    "AA": "African American",
    "AI": "American Indian or Alaska Native",
    "AS": "Asian",
    "FI": "Filipino",
    "HI": "Hispanic or Latino",
    "PI": "Pacific Islander",
    "WH": "White",
    "MR": "Two or more races",
    "EL": "English learners",
    "SWD": "Students with disabilities",
    "SED": "Socioeconomically disadvantaged",
    "FOS": "Foster youth",
    "HOM": "Homeless youth",
}
DOMAIN_LABELS: dict[str, str] = {
    "academic": "Academic",
    "social_emotional": "Social-emotional",
    "culture_climate": "Culture-climate",
}
DESIGNATION_LABELS: dict[str, str] = {
    "PRIORITY": "Priority school",
    "FOCUS": "Focus school",
    "REWARD": "Reward school",
    "NONE": "No designation",
}
ESCALATION_LABELS: dict[str, str] = {
    "NONE": "None",
    "PEER_REVIEW": "Peer review of leadership, strengths and areas for improvement, "
    "with a Reward partner school",
    "REWARD_PARTNERSHIP": "Partnership with a Reward school that has raised the achievement "
    "of the identified student group",
    "DISTRICT_TURNAROUND": "District-managed turnaround",
    "DISTRICT_ACTION": "District action",
}
ESCALATION_SHORT: dict[str, str] = {
    "NONE": "No escalation",
    "PEER_REVIEW": "Peer review",
    "REWARD_PARTNERSHIP": "Reward partnership",
    "DISTRICT_TURNAROUND": "District turnaround",
    "DISTRICT_ACTION": "District action",
}
SCHOOL_TYPE_LABELS = {"ES": "Elementary", "MS": "Middle", "HS": "High"}
