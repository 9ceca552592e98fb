"""Communities of practice and their checkpoint schedule (METHODOLOGY.md, *Communities of
practice and checkpoints*).

    "Each fall, every FOCUS school joins a community of practice, grouped by reason_group
    and school type, at most eight schools each. A community convenes at least quarterly:
    four checkpoints in the school year (default 15 October, 15 January, 15 April,
    15 June, America/Los_Angeles)."

The size limit (``communities.max_size``) and the checkpoint dates
(``communities.checkpoints``) are methodology settings. Formation is deterministic: the
same designations always give the same communities with the same ids, so a rerun of a
year never reshuffles schools between communities.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from schemas.outputs import CommunitiesFrame, ScheduleFrame, columns, dtypes, empty
from sqis import codes
from sqis.errors import SqisError
from sqis.methodology import Methodology

SCHEDULED, HELD = codes.CHECKPOINT_STATUSES


class CommunityError(ValueError, SqisError):
    """Designations or schools that do not let communities be formed."""


def community_id(year: str, reason_group: str, school_type: str, number: int) -> str:
    """A stable, readable community id: ``2015-16-SWD-MS-1``."""
    return f"{year}-{reason_group}-{school_type}-{number}"


def even_split(n: int, max_size: int) -> list[int]:
    """Sizes of the fewest communities of at most ``max_size`` that hold ``n`` schools, as
    even as possible, larger first (9 schools, at most 8 → ``[5, 4]``, not ``[8, 1]``)."""
    if n <= 0:
        return []
    k = math.ceil(n / max_size)
    base, extra = divmod(n, k)
    return [base + 1] * extra + [base] * (k - extra)


def form_communities(
    designations: pd.DataFrame, schools: pd.DataFrame, year: str, m: Methodology
) -> pd.DataFrame:
    """Every FOCUS school in a community of practice (*Communities of practice and checkpoints*).

    ``designations``: ``school_code, designation, reason_group`` (the designations frame);
    ``schools``: ``school_code, school_type``. Schools are grouped by ``reason_group`` and
    school type, sorted by school code, and each group is split into the fewest
    communities of at most ``m.communities.max_size`` schools, as evenly as possible.

    Returns ``community_id, school_code, reason_group, school_type``, sorted by reason
    group, school type, community number and school code.
    """
    is_focus = designations["designation"] == "FOCUS"
    focus = designations.loc[is_focus, ["school_code", "reason_group"]]
    if focus.empty:
        return empty(CommunitiesFrame)
    dup = focus["school_code"][focus["school_code"].duplicated()]
    if not dup.empty:
        raise CommunityError(
            f"designations for {year}: school {dup.iloc[0]} is listed more than once "
            "(rule: one designation row per school)"
        )
    missing_reason = focus["reason_group"].isna() | (focus["reason_group"].astype(str) == "")
    if missing_reason.any():
        code = focus.loc[missing_reason, "school_code"].iloc[0]
        raise CommunityError(
            f"designations for {year}: FOCUS school {code} has no reason_group "
            "(rule: every Focus school is grouped by the student group that led to it)"
        )
    types = schools[["school_code", "school_type"]].drop_duplicates("school_code")
    df = focus.merge(types, on="school_code", how="left", validate="one_to_one")
    unknown = df["school_type"].isna()
    if unknown.any():
        code = df.loc[unknown, "school_code"].iloc[0]
        raise CommunityError(
            f"designations for {year}: FOCUS school {code} is not in the schools file "
            "(rule: a community groups schools by school type)"
        )
    df = df.sort_values(["reason_group", "school_type", "school_code"], kind="stable")
    df = df.reset_index(drop=True)

    # position of each school in its (reason_group, school_type) group and the group size
    keys = ["reason_group", "school_type"]
    pos = df.groupby(keys, sort=False).cumcount().to_numpy()
    n = df.groupby(keys, sort=False)["school_code"].transform("size").to_numpy()
    size = m.communities.max_size
    k = -(-n // size)  # number of communities: ceil(n / max_size)
    base, extra = n // k, n % k
    # the first `extra` communities hold base + 1 schools, the others base
    big = extra * (base + 1)
    number = np.where(pos < big, pos // (base + 1), extra + (pos - big) // base)
    df["community_id"] = [
        community_id(year, rg, st, int(c) + 1)
        for rg, st, c in zip(df["reason_group"], df["school_type"], number, strict=True)
    ]
    # in group order, then community number (…-2 before …-10), then school code
    df["_n"] = number
    df = df.sort_values(["reason_group", "school_type", "_n", "school_code"], kind="stable")
    return df[columns(CommunitiesFrame)].astype(dtypes(CommunitiesFrame)).reset_index(drop=True)


def schedule(
    communities: pd.DataFrame,
    year: str,
    m: Methodology,
    held: Iterable[tuple[str, int]] | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The checkpoint schedule of every community (*Communities of practice and checkpoints*):
    one row per community, school and checkpoint, dated by ``m.checkpoint_dates(year)``.

    ``held`` lists the checkpoints already held, as ``(community_id, checkpoint)`` pairs
    or a frame with those columns (or the results store's ``checkpoints`` table: its
    ``number`` column, rows with status ``HELD``); their rows have status ``HELD``, the others
    ``SCHEDULED``. Returns the ``communities.csv`` layout of the data contract:
    ``community_id, school_code, reason_group, checkpoint, date, status`` (``date`` a
    ``datetime.date``, the local date in ``m.communities.timezone``).
    """
    dates: dict[int, date] = m.checkpoint_dates(year)
    cps = pd.DataFrame({"checkpoint": list(dates), "date": list(dates.values())})
    base = communities[["community_id", "school_code", "reason_group"]]
    out = base.merge(cps, how="cross")
    out["checkpoint"] = out["checkpoint"].astype("int64")
    out["status"] = SCHEDULED
    if held is not None:
        if isinstance(held, pd.DataFrame):
            # the results store's `checkpoints` table names the column `number`
            h = held.rename(columns={"number": "checkpoint"})
            if "status" in h.columns:
                h = h[h["status"] == HELD]
            pairs = h[["community_id", "checkpoint"]]
        else:
            pairs = pd.DataFrame(list(held), columns=["community_id", "checkpoint"])
        pairs = pairs.assign(checkpoint=pairs["checkpoint"].astype("int64")).drop_duplicates()
        pairs["_held"] = True
        flag = out.merge(pairs, on=["community_id", "checkpoint"], how="left")["_held"]
        out.loc[flag.fillna(False).astype(bool).to_numpy(), "status"] = HELD
    out = out.sort_values(["community_id", "checkpoint", "school_code"], kind="stable")
    return out[columns(ScheduleFrame)].reset_index(drop=True)
