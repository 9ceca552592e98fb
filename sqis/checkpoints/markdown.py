"""The Markdown summary of a checkpoint, for a run artifact (``flows/checkpoint.py``): one
line per community with its plans approved and flagged, absences and schools off track."""

from __future__ import annotations

from typing import Any

from sqis import years
from sqis.checkpoints.run import FLAG_ABSENT, FLAG_OFF_TRACK, FLAG_PLAN, CheckpointResult
from sqis.plans import APPROVED


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "*_`[]<>":
        s = s.replace(ch, "\\" + ch)
    return s


def brief_markdown(result: CheckpointResult) -> str:
    """A Markdown summary of a checkpoint (for a run artifact): one line per community."""
    lines = [
        f"# Checkpoint {result.number} of {result.year} ({result.date.isoformat()})",
        "",
        f"Communities of practice formed from the {years.results_year(result.year)} results.",
        "",
        "| community | schools | plans approved | plans flagged | absent | off track |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = result.rows
    for cid in result.communities:
        r = rows[rows["community_id"] == cid]
        flags = r["flags"].map(list)
        lines.append(
            f"| {_md(cid)} | {len(r)} "
            f"| {int((r['plan_status'] == APPROVED).sum())} "
            f"| {int(flags.map(lambda f: FLAG_PLAN in f).sum())} "
            f"| {int(flags.map(lambda f: FLAG_ABSENT in f).sum())} "
            f"| {int(flags.map(lambda f: any(x.startswith(FLAG_OFF_TRACK) for x in f)).sum())} |"
        )
    if not result.communities:
        lines.append("| (no communities) | 0 | 0 | 0 | 0 | 0 |")
    return "\n".join(lines) + "\n"
