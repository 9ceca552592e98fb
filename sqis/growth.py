"""Growth: the consortium-wide value-added model (METHODOLOGY.md "Growth").

For each subject (ELA, MATH) and grade, one least-squares model over the whole
consortium predicts this year's scale score from

- last year's score in the same subject (students without one are not in the model),
- last year's score in the other subject, where present (missing: a 0/1 indicator
  column and the value filled with 0, so a missing score never drops a student),
- the flags sed, swd, el (el_status ``EL``), homeless and foster of this year's
  enrolment row.

A student's residual is actual − predicted. A group's growth at a school is the mean
residual of its students there (optionally shrunk toward the group's consortium mean by
empirical Bayes, ``growth.shrinkage``). The growth percentile ranks that mean among all
schools' values for the same group and subject:

    percentile(v) = 100 × (#ref < v + ½ × #ref = v) / #ref

where ``ref`` holds the values of the groups meeting the n-size at schools where the
indicator applies (*default*: the "mean" percentile rank, which gives tied values the
same percentile and lies in 0–100). Groups under the n-size are placed against the same
``ref`` without entering it. With no group meeting the n-size, no percentile exists.

Because the model and the ranking are consortium-wide, ``fit_growth`` and
``growth_indicators`` run once per year over every school; ``sqis.indicators`` takes the
result for any subset of schools.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.outputs import IndicatorsFrame, empty
from sqis import groups as groups_mod
from sqis.methodology import Methodology
from sqis.student_keys import YearKeys
from sqis.yeardata import YearData

# Vocabulary, not methodology numbers: the subjects growth is measured in, the other
# subject used as a second predictor, and the indicator each one feeds.
GROWTH_SUBJECTS: dict[str, str] = {"ELA": "MATH", "MATH": "ELA"}
GROWTH_INDICATOR: dict[str, str] = {"ELA": "ELA_GROWTH", "MATH": "MATH_GROWTH"}
MODEL_FLAGS: tuple[str, ...] = ("sed", "swd", "el", "homeless", "foster")
DEMOGRAPHICS: tuple[str, ...] = ("race_ethnicity", "el_status", "swd", "sed", "foster", "homeless")

RESIDUAL_COLUMNS = [
    "school_code",
    "subject",
    "grade",
    "scale_score",
    "predicted",
    "residual",
    *DEMOGRAPHICS,
]


def _empty_residuals() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in RESIDUAL_COLUMNS})


def fit_growth(
    cur: YearData, prior: YearData | None, m: Methodology, keys: YearKeys | None = None
) -> pd.DataFrame:
    """Per student-row residuals of the growth model (METHODOLOGY "Growth").

    One row per assessment row of ``cur`` (ELA, MATH) whose student has last year's score
    in the same subject (linked by pseudonymised ``student_id``, at any school) and whose
    subject × grade model has at least ``growth.min_students_per_model`` students. The
    index is ``cur.assessments``' index; columns ``school_code, subject, grade,
    scale_score, predicted, residual`` and the enrolment row's demographics (for student
    groups). No student ID is carried.

    ``keys``: ``cur``'s student keys as the caller shares them with the district tasks
    (``sqis.student_keys.YearKeys``; default: computed here, for this call).
    """
    if keys is not None and keys.year_data is not cur:
        raise ValueError("fit_growth: the student keys given are of another year's frames")
    if prior is None or cur.assessments.empty or prior.assessments.empty:
        return _empty_residuals()
    in_growth = cur.assessments["subject"].isin(list(GROWTH_SUBJECTS)).to_numpy(dtype=bool)
    a = cur.assessments[in_growth]
    if a.empty:
        return _empty_residuals()

    # student IDs as the year's integer codes (the district tasks reuse them, through
    # ``keys``), last year's in the same dictionary: one hash pass for both years
    pa = prior.assessments
    codes, sid_p = (keys or YearKeys(cur)).linking(pa["student_id"])
    sid_a = codes["assessments"][in_growth]
    sid_s = codes["students"]
    # last year's score per subject, by student (any school; the first row if several)
    prior_subject = pa["subject"].to_numpy(dtype=object)
    prior_values = pa["scale_score"].to_numpy(dtype=float)
    prior_score: dict[str, np.ndarray] = {}
    for subject in GROWTH_SUBJECTS:
        rows = np.flatnonzero(prior_subject == subject)
        pos = groups_mod.first_positions(sid_a, sid_p[rows])
        vals = prior_values[rows]
        prior_score[subject] = np.where(pos >= 0, vals[np.maximum(pos, 0)], np.nan)

    # this year's enrolment row for flags and groups
    enr = groups_mod.lookup(
        pd.DataFrame({"student": sid_a, "school_code": a["school_code"].array}),
        pd.DataFrame({"student": sid_s, "school_code": cur.students["school_code"].array}),
        ["student", "school_code"],
    )
    found = enr >= 0
    st = cur.students
    take = np.maximum(enr, 0)
    demo: dict[str, pd.Series | np.ndarray] = {}
    for c in DEMOGRAPHICS:
        if c in ("race_ethnicity", "el_status"):  # strings stay Arrow-backed (no objects)
            col = st[c].iloc[take].reset_index(drop=True) if len(st) else None
            demo[c] = (
                col.where(pd.Series(found))
                if col is not None
                else pd.Series([pd.NA] * len(a), dtype="str")
            )
        else:
            vals = st[c].to_numpy(dtype=bool)
            demo[c] = np.where(found, vals[take], False) if len(vals) else np.zeros(len(a), bool)
    flags = {
        "sed": demo["sed"],
        "swd": demo["swd"],
        "el": groups_mod.is_in(demo["el_status"], ["EL"]),
        "homeless": demo["homeless"],
        "foster": demo["foster"],
    }

    subject = a["subject"].to_numpy(dtype=object)
    grade = a["grade"].to_numpy(dtype=np.int64)
    y_all = a["scale_score"].to_numpy(dtype=float)
    predicted = np.full(len(a), np.nan)
    for subj, other in GROWTH_SUBJECTS.items():
        same = prior_score[subj]
        oth = prior_score[other]
        in_subj = (subject == subj) & ~np.isnan(same)
        for g in np.unique(grade[in_subj]):
            idx = np.flatnonzero(in_subj & (grade == g))
            if len(idx) < m.growth.min_students_per_model:
                continue
            o = oth[idx]
            missing = np.isnan(o)
            x = np.column_stack(
                [
                    np.ones(len(idx)),
                    same[idx],
                    np.where(missing, 0.0, o),
                    missing.astype(float),
                    *(flags[f][idx].astype(float) for f in MODEL_FLAGS),
                ]
            )
            beta, *_ = np.linalg.lstsq(x, y_all[idx], rcond=None)
            predicted[idx] = x @ beta

    keep = ~np.isnan(predicted)
    kept = np.flatnonzero(keep)
    out = pd.DataFrame(
        {
            "school_code": _str_take(a["school_code"], kept),
            "subject": _str_take(a["subject"], kept),
            "grade": grade[kept],
            "scale_score": y_all[kept],
            "predicted": predicted[kept],
            "residual": y_all[kept] - predicted[kept],
        },
        index=a.index[kept],
    )
    for c in DEMOGRAPHICS:
        col = demo[c]
        out[c] = _str_take(col, kept) if isinstance(col, pd.Series) else col[kept]
    return out


def _str_take(col: pd.Series, positions: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Rows of a string column by position, as a ``str`` array (no Python objects)."""
    return col.astype("str").array.take(positions)


def group_growth(residuals: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Mean residual per school × student group × subject (METHODOLOGY "Growth").

    Columns ``school_code, student_group, subject, n, mean_residual, growth`` where
    ``growth`` is ``mean_residual`` after the methodology's shrinkage: ``none`` keeps it;
    ``empirical_bayes`` moves it toward the group's consortium mean μ by
    λ = τ² / (τ² + σ²/n), σ² the pooled within-school residual variance of the group and
    subject, τ² = max(0, variance of the school means − mean of σ²/n) (*default*
    method-of-moments estimate).
    """
    cols = ["school_code", "student_group", "subject", "n", "mean_residual", "growth"]
    if residuals.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    school_idx, school_codes = pd.factorize(residuals["school_code"])
    school_codes = np.asarray(school_codes, dtype=object)
    rows, gcodes = groups_mod.membership(residuals, m)
    n_groups = len(m.student_groups)
    subjects = list(GROWTH_SUBJECTS)
    n_subj = len(subjects)
    subj_idx = groups_mod.positions_in(residuals["subject"], subjects)
    r = residuals["residual"].to_numpy(dtype=float)
    n_keys = len(school_codes) * n_groups * n_subj
    key = (school_idx[rows] * n_groups + gcodes) * n_subj + subj_idx[rows]
    n = np.bincount(key, minlength=n_keys)
    s = np.bincount(key, weights=r[rows], minlength=n_keys)
    ss = np.bincount(key, weights=r[rows] ** 2, minlength=n_keys)
    present = np.flatnonzero(n > 0)
    n_p, s_p, ss_p = n[present], s[present], ss[present]
    mean = s_p / n_p
    growth = mean.copy()
    g_p = (present // n_subj) % n_groups
    subj_p = present % n_subj
    if m.growth.shrinkage == "empirical_bayes":
        cell = g_p * n_subj + subj_p  # one shrinkage per group × subject (loop over cells)
        for c in np.unique(cell):
            sel = cell == c
            nj, mj = n_p[sel], mean[sel]
            within = (ss_p[sel] - nj * mj**2).sum()
            dof = nj.sum() - len(nj)
            sigma2 = within / dof if dof > 0 else 0.0
            mu = (nj * mj).sum() / nj.sum()
            noise = sigma2 / nj
            tau2 = max(0.0, float(np.var(mj)) - float(np.mean(noise))) if len(nj) > 1 else 0.0
            with np.errstate(invalid="ignore", divide="ignore"):
                lam = np.where(tau2 + noise > 0, tau2 / (tau2 + noise), 1.0)
            growth[sel] = mu + lam * (mj - mu)
    return pd.DataFrame(
        {
            "school_code": pd.array(school_codes[present // (n_groups * n_subj)], dtype="str"),
            "student_group": pd.array(np.asarray(m.student_groups, dtype=object)[g_p], dtype="str"),
            "subject": pd.array(np.asarray(subjects, dtype=object)[subj_p], dtype="str"),
            "n": n_p.astype(np.int64),
            "mean_residual": mean,
            "growth": growth,
        }
    )


# growth values equal to this many decimals of a scale point tie (numerical noise only)
TIE_DECIMALS = 9


def percentile_rank(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """100 × (#reference < v + ½ × #reference = v) / #reference, for each v (NaN if no ref).

    Values are compared at ``TIE_DECIMALS`` decimals: a mean of residuals carries
    floating-point noise (about 10⁻¹² scale points, depending on the order of the sums),
    and two schools with the same growth must tie on every machine.
    """
    ref = np.sort(np.round(np.asarray(reference, dtype=float), TIE_DECIMALS))
    v = np.round(np.asarray(values, dtype=float), TIE_DECIMALS)
    if len(ref) == 0:
        return np.full(len(v), np.nan)
    left = np.searchsorted(ref, v, side="left")
    right = np.searchsorted(ref, v, side="right")
    return 100.0 * (left + right) / (2.0 * len(ref))


def growth_indicators(
    residuals: pd.DataFrame, schools: pd.DataFrame, m: Methodology
) -> pd.DataFrame:
    """ELA_GROWTH and MATH_GROWTH rows for every school and group (METHODOLOGY "Growth").

    ``residuals`` from ``fit_growth`` over the whole consortium; ``schools`` the year's
    schools (their type decides where growth applies). Denominator = students with this
    and last year's score in the subject who are in a fitted model; numerator empty;
    value = growth percentile 0–100 among all schools' values for the group and subject.
    """
    gg = group_growth(residuals, m)
    if gg.empty:
        return empty(IndicatorsFrame)
    school_type = schools.set_index("school_code")["school_type"]
    gg["school_type"] = gg["school_code"].map(school_type)
    gg["indicator"] = gg["subject"].map(GROWTH_INDICATOR)
    parts = []
    for subj, ind_code in GROWTH_INDICATOR.items():
        spec = m.indicators[ind_code]
        allowed = list(spec.groups or m.student_groups)
        sub = gg[
            (gg["subject"] == subj)
            & gg["school_type"].isin(list(spec.school_types))
            & gg["student_group"].isin(allowed)
        ].copy()
        sub["value"] = np.nan
        # one ranking per student group (loop over groups, not rows)
        for idx in sub.groupby("student_group", observed=True).groups.values():
            block = sub.loc[idx]
            ref = block.loc[block["n"] >= m.n_size, "growth"].to_numpy()
            sub.loc[idx, "value"] = percentile_rank(block["growth"].to_numpy(), ref)
        parts.append(sub)
    res = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(
        {
            "school_code": res["school_code"].astype("str"),
            "student_group": res["student_group"].astype("str"),
            "indicator": res["indicator"].astype("str"),
            "numerator": pd.array([pd.NA] * len(res), dtype="Int64"),
            "denominator": res["n"].astype("int64"),
            "value": res["value"].astype("float64"),
            "meets_nsize": (res["n"] >= m.n_size).astype(bool),
        }
    )
