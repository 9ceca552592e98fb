"""Calibration: cut points from a baseline year (METHODOLOGY.md "Index levels").

"Other cut points come from a baseline year: the deciles of school-level ``ALL`` values
for each school type, frozen in the methodology file by a calibration command, so that
every school can rise."

For each indicator that is not a percentile and each school type it applies to:

1. take the ``ALL`` value of every school of that type that meets the n-size and has a
   value (*default*: groups under the n-size get no level, so they do not set cut points);
2. the cut points are the ``calibration.quantiles`` (10th … 90th percentiles) of those
   values, numpy's linear interpolation between order statistics (*default*);
3. rounded to ``calibration.decimals`` places; where rounding or tied values make a cut
   point not above the one before, it is nudged up to the one before + 10^-decimals
   (*default*), so that the nine cut points strictly ascend as the methodology requires;
4. with fewer than ``calibration.min_schools`` schools of a type, that type keeps the base
   methodology's cut points (*default*), and the caller is told.

Growth keeps ``growth.percentile_cut_points`` (10, 20, …, 90). The result is a new
methodology file: the base one with the new cut points, a new ``version`` and
``applies_from``, validated before it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sqis import years
from sqis.methodology import Methodology


@dataclass
class Calibration:
    """New cut points, and the (indicator, school type) pairs that kept the base ones."""

    cut_points: dict[str, dict[str, list[float]]]
    kept_base: list[tuple[str, str, int]] = field(default_factory=list)  # (ind, type, n)
    schools_used: dict[str, dict[str, int]] = field(default_factory=dict)


def strictly_ascending(cuts: np.ndarray, decimals: int) -> list[float]:
    """Round to ``decimals`` and nudge each cut point above the one before by 10^-decimals."""
    step = 10.0 ** (-decimals)
    out = [round(float(c), decimals) for c in cuts]
    for i in range(1, len(out)):
        if out[i] <= out[i - 1]:
            out[i] = round(out[i - 1] + step, decimals)
    return out


def calibrate_cut_points(
    ind_all: pd.DataFrame, schools: pd.DataFrame, base: Methodology, baseline_year: str
) -> Calibration:
    """Deciles of school-level ALL values per indicator and school type (see module doc).

    ``ind_all`` is the baseline year's indicators frame (``compute_indicators``) for every
    school; ``schools`` that year's schools.
    """
    years.start_of(baseline_year)
    cal = base.calibration
    q = np.asarray(cal.quantiles, dtype=float)
    school_type = schools.set_index("school_code")["school_type"]
    rows = ind_all[
        (ind_all["student_group"] == "ALL")
        & ind_all["meets_nsize"].astype(bool)
        & ind_all["value"].notna()
    ]
    rows = rows.assign(school_type=rows["school_code"].map(school_type))
    result = Calibration(cut_points={})
    for code, spec in base.indicators.items():
        if spec.scale == "percentile":
            continue
        per_type: dict[str, list[float]] = {}
        for st in spec.school_types:
            vals = rows.loc[(rows["indicator"] == code) & (rows["school_type"] == st), "value"]
            vals = vals.to_numpy(dtype=float)
            result.schools_used.setdefault(code, {})[st] = len(vals)
            if len(vals) < cal.min_schools:
                per_type[st] = [float(c) for c in base.cut_points[code][st]]
                result.kept_base.append((code, st, len(vals)))
                continue
            per_type[st] = strictly_ascending(np.quantile(vals, q), cal.decimals)
        result.cut_points[code] = per_type
    return result


def calibrated_methodology(
    base: Methodology,
    calibration: Calibration,
    baseline_year: str,
    version: str | None = None,
    applies_from: str | None = None,
) -> Methodology:
    """The base methodology with the calibrated cut points, a new version and applies_from.

    Defaults (*default*): version ``<base version>-cal<baseline year>``; applies_from the
    year after the baseline (cut points frozen on a baseline year measure the years after).
    """
    data = base.model_dump(mode="json", exclude={"source", "checksum"})
    cut_points = {**data["cut_points"], **calibration.cut_points}
    data.update(
        cut_points=cut_points,
        version=version or f"{base.version}-cal{baseline_year}",
        applies_from=applies_from or years.shift(baseline_year, 1),
        description=(
            f"{base.description.strip()} Cut points calibrated on {baseline_year} "
            f"(deciles of school-level ALL values per school type) from {base.version}."
        ).strip(),
    )
    return Methodology.model_validate(data)


def methodology_yaml(m: Methodology, baseline_year: str) -> str:
    """The methodology as a YAML file, with a header naming its provenance."""
    data: dict[str, Any] = m.model_dump(mode="json", exclude={"source", "checksum"})
    header = (
        f"# Methodology {m.version}, written by `sqis calibrate` from the {baseline_year}\n"
        f"# baseline year: cut points are the deciles of school-level ALL values per\n"
        f'# indicator and school type (docs/methodology.md, "Index levels").\n'
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
