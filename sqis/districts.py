"""The district index and goal (METHODOLOGY.md "The School Quality Improvement Index (SQII)",
"District index").

A district's SQII is the mean of its schools' SQII weighted by their enrolment, the ``ALL``
denominator of ``SUSP`` (*default*); its domain scores likewise; its goal and
``meets_goal`` as for a school (``sqis.index.sqi_goal``: prior SQII + ``goal.
improvement_share`` × (100 − prior SQII)).

``district_index(index, indicators, schools, m, prior_index=…, prior_indicators=…)`` is the
one function: the run calls it for the results store and ``districts.csv``
(``sqis.determinations.district_scores``); reports (district pages, the Oversight Panel
report) can call it on frames read back from the store, or read the stored rows.

Choices (*default*): a school counts toward a score only where it has that score and an
enrolment (a school with no SQII, or no ``SUSP`` row, takes no part); a district with no
such school has an empty score. The prior SQII is last year's district SQII computed by
the same rule from last year's school results (so it is there for years stored before the
``district_index`` table existed); last year's schools belong to the district of this
year's schools file, or, for a school not in it, the district of its code's first seven
digits (DATA_CONTRACT.md: a district code is the school code's prefix).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.outputs import DistrictsFrame, columns
from sqis import codes
from sqis.index import sqi_goal
from sqis.methodology import Methodology

# the indicator and group whose denominator is a school's enrolment: all its enrolments
ENROLMENT_INDICATOR = ("SUSP", "ALL")
DISTRICT_CODE_DIGITS = 7  # DATA_CONTRACT.md: district_code = the school code's first 7


def enrolment(indicators: pd.DataFrame) -> pd.Series:
    """Each school's enrolment: the ``ALL`` denominator of ``SUSP`` (every enrolment row),
    indexed by school code."""
    ind, group = ENROLMENT_INDICATOR
    if indicators is None or indicators.empty:
        return pd.Series(dtype="float64")
    rows = indicators[(indicators["indicator"] == ind) & (indicators["student_group"] == group)]
    return (
        pd.Series(
            pd.to_numeric(rows["denominator"]).to_numpy(dtype="float64"),
            index=rows["school_code"].astype(str).to_numpy(),
        )
        .groupby(level=0)
        .sum()
    )


def _weighted(index: pd.DataFrame, weight: pd.Series, district: pd.Series) -> pd.DataFrame:
    """Per district: the enrolment-weighted mean of each score column, the schools with an
    SQII and an enrolment, and their enrolment (vectorised: one groupby per column)."""
    code = index["school_code"].astype(str)
    w = code.map(weight).astype("float64").fillna(0.0).to_numpy()
    d = code.map(district).to_numpy(dtype=object)
    out = {}
    for col in (*codes.DOMAINS, "sqii"):
        v = pd.to_numeric(index[col]).to_numpy(dtype="float64")
        use = ~np.isnan(v) & (w > 0)
        frame = pd.DataFrame({"d": d[use], "wv": w[use] * v[use], "w": w[use]})
        sums = frame.groupby("d", sort=True)[["wv", "w"]].sum()
        out[col] = sums["wv"] / sums["w"]
        if col == "sqii":
            out["schools"] = frame.groupby("d", sort=True).size().astype("float64")
            out["enrolment"] = sums["w"]
    return pd.DataFrame(out)


def _district_of(schools: pd.DataFrame, school_codes: pd.Series) -> pd.Series:
    """District code per school code: this year's schools file, else the code's prefix."""
    known = pd.Series(
        schools["district_code"].astype(str).to_numpy(),
        index=schools["school_code"].astype(str).to_numpy(),
    )
    codes_ = pd.Series(pd.unique(school_codes.astype(str)))
    mapped = codes_.map(known)
    prefix = codes_.str.slice(0, DISTRICT_CODE_DIGITS)
    return pd.Series(mapped.fillna(prefix).to_numpy(), index=codes_.to_numpy())


def district_sqii(
    index: pd.DataFrame, indicators: pd.DataFrame, schools: pd.DataFrame
) -> pd.DataFrame:
    """Per district of ``schools``: the enrolment-weighted domain scores and SQII, with
    ``schools`` (how many have an SQII and an enrolment) and ``enrolment`` (their
    students). Indexed by district code; a district without such a school has NaN."""
    districts = sorted(schools["district_code"].astype(str).unique())
    if index is None or index.empty:
        return pd.DataFrame(index=pd.Index(districts, name="district_code"))
    district = _district_of(schools, index["school_code"])
    scores = _weighted(index, enrolment(indicators), district)
    return scores.reindex(pd.Index(sorted(set(districts) | set(scores.index))))


def district_index(
    index: pd.DataFrame,
    indicators: pd.DataFrame,
    schools: pd.DataFrame,
    m: Methodology,
    *,
    prior_index: pd.DataFrame | None = None,
    prior_indicators: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The district index frame (METHODOLOGY.md "District index"), one row per district of
    ``schools``: the columns of ``schemas.outputs.DistrictsFrame``.

    ``index``: this year's index frame (``school_code``, the domain scores, ``sqii``);
    ``indicators``: this year's indicators (the ``SUSP``/``ALL`` denominators weigh the
    schools); ``prior_index`` and ``prior_indicators``: last year's, for the prior SQII
    (``None`` or empty: no prior SQII, no goal).
    """
    now = district_sqii(index, indicators, schools)
    districts = sorted(schools["district_code"].astype(str).unique())
    now = now.reindex(pd.Index(districts))
    out = pd.DataFrame({"district_code": pd.array(districts, dtype="str")})
    for col in (*codes.DOMAINS, "sqii"):
        out[col] = now[col].to_numpy(dtype="float64") if col in now else np.nan
    prior = np.full(len(out), np.nan)
    if prior_index is not None and prior_indicators is not None and not prior_index.empty:
        before = district_sqii(prior_index, prior_indicators, schools)
        if "sqii" in before:
            prior = before["sqii"].reindex(pd.Index(districts)).to_numpy(dtype="float64")
    out["prior_sqii"] = prior
    out["goal"], out["meets_goal"] = sqi_goal(out["sqii"], out["prior_sqii"], m)
    for col in ("schools", "enrolment"):
        vals = now[col] if col in now else pd.Series(np.nan, index=now.index)
        out[col] = pd.array(vals.fillna(0).round().astype("int64").to_numpy(), dtype="Int64")
    return out[columns(DistrictsFrame)]
