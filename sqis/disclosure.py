"""Disclosure control for the public edition (METHODOLOGY.md, *Two editions*, *Public suppression*).

    "The public edition (families, the press, a public web site): built only from
    suppressed frames, so nothing unsuppressed can reach it."

One function, :func:`public_frames`, turns the year's report frames into
:class:`PublicFrames`; the public renderers (``sqis.reports.public``, ``sqis.exports``'s
public files) accept nothing else and check so at their entry (:func:`require_public`).
``PublicFrames`` can only be constructed here (a per-thread flag that only this module
sets, so a direct call, ``dataclasses.replace`` or a copy is refused), holds only the public
columns (a whitelist checked on construction) and is sealed (a fingerprint of its frames,
checked again by :func:`require_public`, so a frame altered after suppression is refused).

Provenance of the rules (docs/reports.md, *Public suppression*, works examples):

- **California (CDE)**, the "<11 rule": the Department suppresses any count of 10 or fewer
  students, and rates computed from one, in its public data files and on the California
  School Dashboard ("*" and "Data is suppressed to protect student privacy"), and applies
  complementary suppression so a suppressed count cannot be recovered by subtraction. Rule
  1 (small groups) and rule 2's threshold come from here; the Dashboard's plain-words
  notices are the model for the reports' notices.
- **Tennessee (TDOE)**, top and bottom coding: the state's public accountability files show
  rates near 0 or 100% as ranges ("<5%", ">95%") rather than values, so a rate cannot
  reveal that a handful of students did or did not meet. Rule 2's coded ranges come from
  here, sized (*default*) so a range always holds at least 11 possible counts.
- **Massachusetts (DESE)**, the educator rule: a row with fewer than 6 educators, or where
  every educator has the same level, shows nothing, with complementary suppression across
  rows and levels (METHODOLOGY.md "Educator effectiveness"; the same partition logic as
  rule 3 here).
- **U.S. Department of Education, Privacy Technical Assistance Center (PTAC)**, *Frequently
  Asked Questions — Disclosure Avoidance* (2012) and NCES *Statistical Methods for
  Protecting Personally Identifiable Information in Aggregate Reporting* (SLDS Technical
  Brief 3, 2010): suppression must consider complementary disclosure — "by subtraction
  across rows, columns, years and related tables" — and recommends top/bottom coding and
  showing the reason for a blank. Rule 3's families below implement that advice.

The rules, in the order they are applied (each function names its rule):

1. :func:`_small_and_under` — rule 1, a group of ``min_count``–``max_count`` students
   shows ``*`` in every column; rule 4, a group under the n-size shows ``n<20``;
2. :func:`_small_counts` — rule 2, a numerator or complement of 0–``max_count`` is coded
   as a range holding ``max_count + 1`` possible counts (``<8``, ``>92``), or ``*`` where no
   such range fits (n ≤ 2 × ``max_count``); 0 is coded with 1–10 so the range really does
   hold 11 counts;
3. :func:`_complementary` — rule 3, to a fixed point, over every relation an attacker can
   subtract along (see :data:`NESTED` and the partition families): race groups and ``NR``
   within ``ALL``; each group and its complement within ``ALL``; indicators whose
   denominators are nested or equal (``SUSP ⊇ CHRONIC`` …); where a hidden cell (or the
   unpublished ``NR``, complement or remainder) could be pinned down, the smallest shown
   member is hidden too;
4. :func:`_derived` — ``SPED_DISPROP`` (a ratio needs every count it is built from public;
   ``ALL``'s ratio is shown only where the race group it equals is), levels (shown only
   where they narrow a coded count to nothing less than its range), changes (both years
   exact), improvements and level changes.

The thresholds are the methodology's (``m.suppression``), never constants here.
Everything is vectorised: one dense array per quantity over (school, indicator, group) for
each year, relations as array slices; the loops are over years, relations and iterations
of the fixed point, never rows.

Why one module over 500 lines: issue 18 asks for the disclosure rules as one
module with their provenance, and ``PublicFrames``' guarantee (constructed only here, by the
one function that suppresses) depends on it: the flag that allows construction is private
to this module.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.errors import SqisError
from sqis.index import INDEX_COLUMNS
from sqis.levels import levels_for
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames

# ---- what a public cell shows (codes of the *_code columns) ------------------------------
SHOWN = 0  # the number itself
SMALL = 1  # rule 1: "*" (a group of 1–10)
UNDER = 2  # rule 4: "n<20"
BOTTOM = 3  # rule 2: "<X" (bottom-coded rate)
TOP = 4  # rule 2: ">Y" (top-coded rate)
HIDDEN = 5  # rule 2 without a range, or rule 3: "*"
NONE = 6  # nothing to show ("–": no value, no level, no change)

# Nested or equal denominators, per student group (outer ⊇ inner): the difference is a count
# of students (rule 3, "across indicators that share a denominator") — enrolments under the
# chronic-absence minimum, students not tested, tested without last year's score, students
# who answered no survey, students who are not English learners. SPED_DISPROP's denominator
# is SUSP's (all enrolments).
NESTED: tuple[tuple[str, str], ...] = (
    ("SUSP", "SPED_DISPROP"),
    ("SUSP", "CHRONIC"),
    ("SUSP", "SEL"),
    ("SUSP", "ELA_MET"),
    ("SUSP", "MATH_MET"),
    ("SUSP", "SCI_MET"),
    ("SUSP", "EL_RFEP"),
    ("ELA_MET", "ELA_GROWTH"),
    ("MATH_MET", "MATH_GROWTH"),
)
# The same count under two names (outer ≡ inner; quantity "n" a denominator, "k" a
# numerator): SWD students = SUSP(SWD) n = SPED_DISPROP(ALL)'s implicit numerator; English
# learners with disabilities = EL_RFEP(SWD) n = SPED_DISPROP(EL) numerator; English
# learners = SUSP(EL) n = EL_RFEP(ALL) n.
IDENTITIES: tuple[tuple[tuple[str, str, str], tuple[str, str, str]], ...] = (
    (("SUSP", "SWD", "n"), ("SPED_DISPROP", "ALL", "k")),
    (("EL_RFEP", "SWD", "n"), ("SPED_DISPROP", "EL", "k")),
    (("SUSP", "EL", "n"), ("EL_RFEP", "ALL", "n")),
)
SPED = "SPED_DISPROP"
MAX_ROUNDS = 200  # the fixed point; each round hides at least one more cell
# set to a list to record why each cell was hidden (tests, docs/reports.md's examples)
TRACE: list[tuple[int, str, str, tuple[int, int, int]]] | None = None

EDUCATOR_COUNTS: tuple[str, ...] = ("rated", "level_1", "level_2", "level_3", "level_4")
# The public indicators frame: these columns and no others (PublicFrames checks).
INDICATOR_COLUMNS: tuple[str, ...] = (
    "year",
    "school_code",
    "student_group",
    "indicator",
    "meets_nsize",
    "n",
    "n_code",
    "numerator",
    "numerator_code",
    "value",
    "value_code",
    "value_bound",
    "level",
    "level_code",
    "change",
    "change_code",
    "level_change",
    "level_change_code",
    "improve_1",
    "improve_2",
    "improve_3",
)
PUBLIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": (
        "school_code",
        "district_code",
        "school_name",
        "district_name",
        "school_type",
        "title_i",
        "low_grade",
        "high_grade",
    ),
    "indicators": INDICATOR_COLUMNS,
    "index": ("year", *INDEX_COLUMNS),
    "designations": (
        "year",
        "school_code",
        "designation",
        "reason_group",
        "reason_indicator",
        "years_in_status",
        "escalation",
        "partner_school_code",
        "exited",
    ),
    "communities": ("community_id", "school_code", "reason_group", "checkpoint", "date", "status"),
    # METHODOLOGY.md "District index": enrolment-weighted means of the schools' SQII
    "districts": (
        "district_code",
        "academic",
        "social_emotional",
        "culture_climate",
        "sqii",
        "prior_sqii",
        "goal",
        "meets_goal",
    ),
    # METHODOLOGY.md "Support for schools missing their goal", "Escalation": school and
    # indicator codes, no student count (public, docs/reports.md "Two editions");
    # supported_by: the same pairs keyed by the support school (sqis.goal_support)
    "goal_support": (
        "school_code",
        "weakest_indicator",
        "support_school_code",
        "support_school_name",
    ),
    "supported_by": (
        "school_code",
        "supported_school_code",
        "weakest_indicator",
        "supported_school_name",
    ),
    "partnership_flags": ("school_code", "flag"),
    "plans": ("school_code", "plan_year", "plan_year_number", "status", "deadline"),
    "checkpoints": ("community_id", "number", "status", "school_code", "flags"),
    # METHODOLOGY.md "Educator effectiveness": the suppressed distribution (counts as text,
    # "*" where hidden) of each implementation year on record (public_educator_distribution)
    "educators": ("year", "entity_type", "entity_code", "role", *EDUCATOR_COUNTS),
    # METHODOLOGY.md "District peer review", "Oversight Panel": public governance — each
    # district's peer-review status and ratings, the Panel's decisions (no narrative,
    # evidence, comment, note or name: staff only; docs/reports.md "Two editions")
    "district_reviews": (
        "year", "district_code", "status", "round", "item", "self_rating", "peer_rating",
        "peer_district_code", "peer_district_name",
    ),
    "panel_decisions": ("year", "term", "district_code", "decision"),
}  # fmt: skip
FRAMES = tuple(PUBLIC_COLUMNS)


class DisclosureError(TypeError, SqisError):
    """Something other than :class:`PublicFrames` offered to a public renderer, or a
    ``PublicFrames`` changed after suppression."""


# set only while this module constructs PublicFrames (per thread): a PublicFrames made
# anywhere else — directly, by dataclasses.replace, by copy — is refused
_MAKING = threading.local()


@dataclass(frozen=True)
class PublicFrames:
    """The year's frames as the public may see them (METHODOLOGY.md "Two editions").

    Made only by :func:`public_frames` (and :meth:`for_schools`); holds only the columns
    of :data:`PUBLIC_COLUMNS` (no raw count, value or level column exists here: hidden
    numbers are NaN and a ``*_code`` column says why); sealed by a fingerprint that
    :func:`require_public` checks.
    """

    year: str
    methodology_version: str
    schools: pd.DataFrame
    indicators: pd.DataFrame
    index: pd.DataFrame
    designations: pd.DataFrame
    communities: pd.DataFrame
    districts: pd.DataFrame
    goal_support: pd.DataFrame
    supported_by: pd.DataFrame
    partnership_flags: pd.DataFrame
    plans: pd.DataFrame
    checkpoints: pd.DataFrame
    educators: pd.DataFrame
    district_reviews: pd.DataFrame
    panel_decisions: pd.DataFrame
    _seal: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not getattr(_MAKING, "on", False):
            raise DisclosureError(
                "PublicFrames are made only by sqis.disclosure.public_frames (the one "
                "function that suppresses); a renderer of the public edition takes nothing else"
            )
        for name in FRAMES:
            frame = getattr(self, name)
            if not isinstance(frame, pd.DataFrame):
                raise DisclosureError(f"PublicFrames.{name} is not a DataFrame")
            extra = [c for c in frame.columns if c not in PUBLIC_COLUMNS[name]]
            if extra:
                raise DisclosureError(f"PublicFrames.{name}: column(s) {extra} are not public")
        object.__setattr__(self, "_seal", _fingerprint(self))

    def for_schools(self, school_codes: Any) -> PublicFrames:
        """The same public frames cut to some schools (a district's, for its task)."""
        keep = set(map(str, school_codes))
        cut = {name: _rows_of(getattr(self, name), keep) for name in FRAMES}
        return _make(year=self.year, methodology_version=self.methodology_version, **cut)

    @property
    def sealed(self) -> bool:
        """Whether the frames are still exactly those the suppression produced."""
        return self._seal == _fingerprint(self)


def _make(**fields: Any) -> PublicFrames:
    """Construct :class:`PublicFrames` (this module only)."""
    _MAKING.on = True
    try:
        return PublicFrames(**fields)
    finally:
        _MAKING.on = False


def _rows_of(frame: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
    if "school_code" not in frame.columns:
        return frame
    return frame[frame["school_code"].astype(str).isin(keep).to_numpy()].reset_index(drop=True)


def _fingerprint(pf: PublicFrames) -> str:
    """A digest of every frame's columns, dtypes and values (one vectorised hash per column)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(pf.year.encode())
    for name in FRAMES:
        frame = getattr(pf, name)
        h.update(name.encode())
        h.update(repr(list(map(str, frame.columns))).encode())
        if len(frame.columns):
            hashed = pd.util.hash_pandas_object(frame, index=False, categorize=True)
            h.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())
    return h.hexdigest()


def require_public(pf: Any) -> PublicFrames:
    """The entry check of every public renderer: a sealed :class:`PublicFrames`, or
    :class:`DisclosureError`."""
    if not isinstance(pf, PublicFrames):
        raise DisclosureError(
            f"the public edition renders only sqis.disclosure.PublicFrames, not "
            f"{type(pf).__name__}: pass the year's frames through public_frames() first"
        )
    if not pf.sealed:
        raise DisclosureError(
            "these PublicFrames were changed after suppression: refusing to render them"
        )
    return pf


# ---- the year's cells as dense arrays ------------------------------------------------------
@dataclass
class _Cube:
    """One year's indicator rows as arrays over (school, indicator, group)."""

    rows: np.ndarray  # [S, I, G] row position in the year's frame, −1 where no row
    n: np.ndarray  # denominators (NaN where no row)
    k: np.ndarray  # numerators (NaN where none; SPED_DISPROP ALL: the school's SWD count)
    meets: np.ndarray
    count: np.ndarray  # [I] the indicator has numerators (percent scale, SPED_DISPROP)
    ind: list[str]
    grp: list[str]

    @property
    def present(self) -> np.ndarray:
        return self.rows >= 0


def _cube(frame: pd.DataFrame, m: Methodology) -> _Cube:
    ind_list = list(dict.fromkeys([*m.indicators, *pd.unique(frame["indicator"].astype(str))]))
    grp_list = list(
        dict.fromkeys(["ALL", *m.student_groups, *pd.unique(frame["student_group"].astype(str))])
    )
    s_codes, _ = pd.factorize(frame["school_code"].astype(str))
    i_codes = pd.Index(ind_list).get_indexer(frame["indicator"].astype(str))
    g_codes = pd.Index(grp_list).get_indexer(frame["student_group"].astype(str))
    n_s = int(s_codes.max()) + 1 if len(s_codes) else 0
    shape = (n_s, len(ind_list), len(grp_list))
    rows = np.full(shape, -1, dtype=np.int64)
    rows[s_codes, i_codes, g_codes] = np.arange(len(frame))
    n = np.full(shape, np.nan)
    k = np.full(shape, np.nan)
    n[s_codes, i_codes, g_codes] = pd.to_numeric(frame["denominator"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    k[s_codes, i_codes, g_codes] = pd.to_numeric(frame["numerator"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    meets = np.zeros(shape, dtype=bool)
    mv = frame["meets_nsize"]
    if mv.dtype != bool:
        mv = mv.astype(str).str.upper().isin(["Y", "TRUE", "1"])
    meets[s_codes, i_codes, g_codes] = mv.to_numpy(dtype=bool)
    count = np.array(
        [(i in m.indicators and m.indicators[i].scale == "percent") or i == SPED for i in ind_list],
        dtype=bool,
    )
    cube = _Cube(rows, n, k, meets, count, ind_list, grp_list)
    # SPED_DISPROP for ALL has no numerator in the frame; its implicit one is the school's
    # SWD count (SUSP's SWD denominator), which the race groups' numerators partition
    if SPED in ind_list and "SUSP" in ind_list and "SWD" in grp_list:
        si, su, a, swd = ind_list.index(SPED), ind_list.index("SUSP"), 0, grp_list.index("SWD")
        here = cube.present[:, si, a]
        k[here, si, a] = np.nan_to_num(n[here, su, swd], nan=0.0)
    return cube


# ---- rules 1, 2 and 4 ----------------------------------------------------------------------
@dataclass
class _State:
    """What is hidden: the denominator (``hn``) and the numerator (``hk``) of each cell, and
    how each is labelled (what an attacker learns from the label)."""

    hn: np.ndarray
    hk: np.ndarray
    small: np.ndarray  # rule 1
    under: np.ndarray  # rule 4
    bottom: np.ndarray  # rule 2: coded "<X"
    top: np.ndarray  # rule 2: coded ">Y"
    # hidden by anything but a nested denominator: only nested-hidden cells keep their level
    # (a level bounds the rate k/n, not n, so it cannot give back the students in between)
    by_part: np.ndarray


def _small_and_under(c: _Cube, m: Methodology) -> tuple[np.ndarray, np.ndarray]:
    """Rule 1: a group of 1–10 (the indicator's denominator) shows nothing but ``*``.
    Rule 4: a group under the n-size shows ``n<20``."""
    s = m.suppression
    with np.errstate(invalid="ignore"):
        small = c.present & (c.n >= s.min_count) & (c.n <= s.max_count)
    under = c.present & ~c.meets & ~small
    return small, under


def _small_counts(c: _Cube, m: Methodology, hidden: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rule 2: a numerator or a complement (n − numerator) of 0–``max_count`` is coded as a
    range holding ``max_count + 1`` counts, or hidden (``*``) where no such range fits.

    Returns ``(coded_bottom, coded_top, hidden_k)``; ``SPED_DISPROP`` ratios are never
    coded (a ratio has no count range): a small count hides them.
    """
    mx = m.suppression.max_count
    cnt = c.present & c.count[None, :, None] & ~hidden & ~np.isnan(c.k)
    with np.errstate(invalid="ignore"):
        low = cnt & (c.k <= mx)
        high = cnt & (c.n - c.k <= mx) & ~low
        fits = c.n >= 2 * mx + 1  # the two ranges do not meet
    codable = np.ones(len(c.ind), dtype=bool)
    if SPED in c.ind:
        codable[c.ind.index(SPED)] = False
    codable = codable[None, :, None] & fits
    bottom = low & codable
    top = high & codable
    return bottom, top, low | high


# ---- rule 3: complementary suppression -----------------------------------------------------
@dataclass
class _Q:
    """One quantity (n, k or m = n − k) of every cell: true value, hidden flag, and the
    interval an attacker reads from the labels."""

    val: np.ndarray
    hid: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sensitive: np.ndarray  # a small count: its interval must hold max_count + 1 values


def _quantities(c: _Cube, st: _State, m: Methodology) -> dict[str, _Q]:
    """The attacker's view of n, k and m: exact where shown, else the label's interval."""
    mx, big = m.suppression.max_count, np.inf
    n, k = c.n, c.k
    mm = n - k
    all_n = np.broadcast_to(np.nan_to_num(n[:, :, :1], nan=big), n.shape)
    # n: exact; "n<20" → [max_count+1, n_size−1]; "*" → [1, the total] (small or protecting)
    n_lo = np.where(st.hn, 1.0, n)
    n_hi = np.where(st.hn, all_n, n)
    n_lo = np.where(st.under, mx + 1.0, n_lo)
    n_hi = np.where(st.under, m.n_size - 1.0, n_hi)
    n_top = np.where(st.hn, n_hi, n)  # what an attacker may take as the most n can be
    with np.errstate(invalid="ignore"):
        k_lo = np.where(st.hk, 0.0, k)
        k_hi = np.where(st.hk, n_top, k)
        k_hi = np.where(st.bottom, float(mx), k_hi)
        k_lo = np.where(st.top, n - mx, k_lo)
        m_lo = np.where(st.hk, 0.0, mm)
        m_hi = np.where(st.hk, n_top, mm)
        m_hi = np.where(st.top, float(mx), m_hi)
        m_lo = np.where(st.bottom, n - mx, m_lo)
        small_n = (n >= m.suppression.min_count) & (n <= mx)
        small_k = k <= mx
        small_m = mm <= mx
    hk = st.hk | st.hn
    return {
        "n": _Q(n, st.hn, n_lo, n_hi, small_n),
        "k": _Q(k, hk, k_lo, k_hi, small_k),
        "m": _Q(mm, hk, m_lo, m_hi, small_m),
    }


def _width_ok(lo: np.ndarray, hi: np.ndarray, sensitive: np.ndarray, mx: int) -> np.ndarray:
    """Whether an interval of counts still protects: a small count's must hold
    ``max_count + 1`` values (rule 2's range), any other hidden count's at least two."""
    need = np.where(sensitive, mx + 1.0, 2.0)
    with np.errstate(invalid="ignore"):
        return (np.floor(hi) - np.ceil(lo) + 1.0) >= need


def _partition_violations(
    t_val: np.ndarray,
    t_hid: np.ndarray,
    r_zero: np.ndarray | None,
    p_val: np.ndarray,
    p_hid: np.ndarray,
    p_lo: np.ndarray,
    p_hi: np.ndarray,
    p_sens: np.ndarray,
    p_present: np.ndarray,
    mx: int,
    min_count: int,
) -> np.ndarray:
    """Partitions (last axis: the parts) in which something hidden can be pinned down.

    ``total = Σ parts + remainder``; the remainder (``NR``, a complement, the students in
    the outer denominator and not the inner) is never published: an attacker knows it is
    ≥ 0 and, where it holds no student (``r_zero``: its denominator is 0; default: this
    quantity's remainder is 0), may guess so — the guess "nobody else" is the one an
    attacker can get right by reasoning rather than luck. Where the total is shown, each
    hidden part and a small remainder must keep an interval wide enough
    (:func:`_width_ok`); where it is hidden, it must not follow from its parts.
    """
    present = p_present & ~np.isnan(p_val)
    hid = p_hid & present
    shown = present & ~hid
    val0 = np.where(present, p_val, 0.0)
    r_true = t_val - val0.sum(axis=-1)
    r_known = (r_true == 0) if r_zero is None else r_zero  # "nobody else" is right
    r_lo = 0.0
    r_hi = np.where(r_known, 0.0, np.nan_to_num(t_val, nan=np.inf))
    s = t_val - np.where(shown, p_val, 0.0).sum(axis=-1)
    sl = np.where(hid, p_lo, 0.0).sum(axis=-1)
    su = np.where(hid, p_hi, 0.0).sum(axis=-1)
    t_ok = ~np.isnan(t_val)
    # total shown: every hidden part keeps its interval
    ex = s[..., None]
    lo = np.maximum(p_lo, ex - (su[..., None] - p_hi) - r_hi[..., None])
    hi = np.minimum(p_hi, ex - (sl[..., None] - p_lo) - r_lo)
    bad_part = hid & ~_width_ok(lo, hi, p_sens, mx)
    v_shown = t_ok & ~t_hid & bad_part.any(axis=-1)
    # …and a small remainder keeps its own
    # a remainder of no student is no group (min_count 0 suppresses zero counts, not absences)
    r_sens = (r_true >= max(min_count, 1)) & (r_true <= mx)
    rlo = np.maximum(0.0, s - su)
    rhi = s - sl
    v_rem = t_ok & ~t_hid & r_sens & ~_width_ok(rlo, rhi, np.ones_like(r_sens), mx)
    # total hidden: it must not follow from its parts
    n_hid = hid.sum(axis=-1)
    v_total = t_ok & t_hid & (n_hid == 0) & r_known & present.any(axis=-1)
    return v_shown | v_rem | v_total


def _hide_next(
    viol: np.ndarray, p_val: np.ndarray, p_hid: np.ndarray, p_present: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each violating partition, the smallest shown part (METHODOLOGY: "the next
    smallest is suppressed too"); where no part is shown, the total.

    Returns ``(part mask to hide, total mask to hide)``.
    """
    cand = p_present & ~p_hid & ~np.isnan(p_val)
    key = np.where(cand, p_val, np.inf)
    pick = np.argmin(key, axis=-1)
    has = np.take_along_axis(cand, pick[..., None], axis=-1)[..., 0]
    part = np.zeros_like(p_hid)
    rows = viol & has
    idx = np.nonzero(rows)
    part[(*idx, pick[idx])] = True
    return part, viol & ~has


def _complementary(c: _Cube, st: _State, m: Methodology) -> int:
    """Rule 3 to a fixed point: partitions (race groups and NR within ALL), each group and
    its complement within ALL, nested and equal denominators (:data:`NESTED`,
    :data:`IDENTITIES`). Returns the number of rounds."""
    mx, mn = m.suppression.max_count, m.suppression.min_count
    g_idx = {g: i for i, g in enumerate(c.grp)}
    i_idx = {x: i for i, x in enumerate(c.ind)}
    races = [g_idx[g] for g in codes.RACE_GROUPS if g in g_idx]
    others = [i for g, i in g_idx.items() if g != "ALL"]
    present = c.present
    nested = [(i_idx[a], i_idx[b]) for a, b in NESTED if a in i_idx and b in i_idx]
    ident = [
        ((i_idx[a], g_idx[ga], qa), (i_idx[b], g_idx[gb], qb))
        for (a, ga, qa), (b, gb, qb) in IDENTITIES
        if a in i_idx and b in i_idx and ga in g_idx and gb in g_idx
    ]
    for rnd in range(1, MAX_ROUNDS + 1):
        qs = _quantities(c, st, m)
        hide_n = np.zeros_like(st.hn)
        hide_k = np.zeros_like(st.hk)
        seen = {"n": hide_n.copy(), "k": hide_k.copy()} if TRACE is not None else {}

        def note(
            family: str,
            q: str,
            rnd: int = rnd,
            hn: np.ndarray = hide_n,
            hk: np.ndarray = hide_k,
            seen: dict[str, np.ndarray] = seen,
        ) -> None:
            if TRACE is None:
                return
            for tag, arr in (("n", hn), ("k", hk)):
                done = st.hn if tag == "n" else st.hk
                for cell in np.argwhere(arr & ~seen[tag] & ~done):
                    TRACE.append((rnd, family, f"{q}->{tag}", tuple(int(x) for x in cell)))
                seen[tag] = arr.copy()

        # where a remainder holds no student at all (the one guess an attacker can reason to)
        n0 = np.where(present, c.n, 0.0)
        rz_race = (n0[:, :, 0] - n0[:, :, races].sum(axis=-1)) == 0 if races else None
        rz_comp = (n0[:, :, :1] - n0[:, :, others]) == 0 if others else None
        for name, q in qs.items():
            q_present = present & c.count[None, :, None] if name != "n" else present
            target = hide_n if name == "n" else hide_k
            t = (q.val[:, :, 0], q.hid[:, :, 0])
            t_pres = q_present[:, :, 0]
            t_val = np.where(t_pres, t[0], np.nan)
            # race groups and NR within ALL
            if races:
                sl = np.s_[:, :, races]
                v = _partition_violations(
                    t_val,
                    t[1],
                    rz_race,
                    q.val[sl],
                    q.hid[sl],
                    q.lo[sl],
                    q.hi[sl],
                    q.sensitive[sl],
                    q_present[sl],
                    mx,
                    mn,
                )
                part, tot = _hide_next(v, q.val[sl], q.hid[sl], q_present[sl])
                target[sl] |= part
                target[:, :, 0] |= tot
                note("race", name)
            # each group and its complement within ALL
            if others:
                sl = np.s_[:, :, others]
                pv, ph = q.val[sl][..., None], q.hid[sl][..., None]
                v = _partition_violations(
                    t_val[:, :, None],
                    t[1][:, :, None],
                    rz_comp,
                    pv,
                    ph,
                    q.lo[sl][..., None],
                    q.hi[sl][..., None],
                    q.sensitive[sl][..., None],
                    q_present[sl][..., None],
                    mx,
                    mn,
                )
                part, tot = _hide_next(v, pv, ph, q_present[sl][..., None])
                target[sl] |= part[..., 0]
                target[:, :, 0] |= tot.any(axis=-1)
                note("complement", name)
        # nested and equal denominators: outer ⊇ inner, per group
        qn = qs["n"]
        nest_n = np.zeros_like(st.hn)
        for a, b in nested:
            v = _partition_violations(
                np.where(present[:, a, :], qn.val[:, a, :], np.nan),
                qn.hid[:, a, :],
                None,
                qn.val[:, b, :, None],
                qn.hid[:, b, :, None],
                qn.lo[:, b, :, None],
                qn.hi[:, b, :, None],
                qn.sensitive[:, b, :, None],
                present[:, b, :, None],
                mx,
                mn,
            )
            part, tot = _hide_next(
                v, qn.val[:, b, :, None], qn.hid[:, b, :, None], present[:, b, :, None]
            )
            nest_n[:, b, :] |= part[..., 0]
            nest_n[:, a, :] |= tot
            if TRACE is not None:
                for cell in np.argwhere((part[..., 0] | tot) & ~st.hn[:, b, :]):
                    TRACE.append(
                        (rnd, f"nested {c.ind[a]}>{c.ind[b]}", "n", (int(cell[0]), b, int(cell[1])))
                    )
        for (a, ga, qa), (b, gb, qb) in ident:
            qa_, qb_ = qs[qa], qs[qb]
            pa, pb = present[:, a, ga], present[:, b, gb]
            v = _partition_violations(
                np.where(pa, qa_.val[:, a, ga], np.nan),
                qa_.hid[:, a, ga],
                np.ones(len(pa), dtype=bool),  # the same count under two names
                qb_.val[:, b, gb, None],
                qb_.hid[:, b, gb, None],
                qb_.lo[:, b, gb, None],
                qb_.hi[:, b, gb, None],
                qb_.sensitive[:, b, gb, None],
                pb[:, None],
                mx,
                mn,
            )
            part, tot = _hide_next(v, qb_.val[:, b, gb, None], qb_.hid[:, b, gb, None], pb[:, None])
            (hide_n if qb == "n" else hide_k)[:, b, gb] |= part[:, 0]
            (hide_n if qa == "n" else hide_k)[:, a, ga] |= tot
            note(f"identity {c.ind[a]}({c.grp[ga]})={c.ind[b]}({c.grp[gb]})", qa)
        hide_n &= present
        hide_k &= present
        nest_n &= present
        new_n = (hide_n | nest_n) & ~st.hn
        new_k = hide_k & ~st.hk & ~st.hn
        if not new_n.any() and not new_k.any():
            return rnd
        # hiding a denominator hides the whole cell (value and numerator give n back)
        st.by_part |= (hide_n & ~st.hn) | new_k
        st.hn |= new_n
        st.hk |= new_n | new_k
        st.bottom &= ~st.hn
        st.top &= ~st.hn
    raise RuntimeError("complementary suppression did not reach a fixed point")


# ---- rule 2's ranges, SPED_DISPROP, levels, changes ----------------------------------------
def coded_bounds(n: np.ndarray, m: Methodology) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of rule 2's ranges for denominators ``n``: ``<X`` holds every count 0 …
    ``max_count`` (X = ⌊100 × max_count / n⌋ + 1) and ``>Y`` every count n − ``max_count`` …
    n (Y = ⌈100 × (n − max_count) / n⌉ − 1), whole percentages."""
    mx = m.suppression.max_count
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.floor(100.0 * mx / n) + 1.0
        y = np.ceil(100.0 * (n - mx) / n) - 1.0
    return x, y


def _coded_level_shown(
    frame: pd.DataFrame,
    value_code: np.ndarray,
    n: np.ndarray,
    stype: pd.Series,
    m: Methodology,
) -> np.ndarray:
    """Rule 2: a coded cell's level is shown only where every count its range holds has that
    same level (the level narrows nothing). One ``levels_for`` per indicator and school type."""
    mx = m.suppression.max_count
    coded = (value_code == BOTTOM) | (value_code == TOP)
    out = np.zeros(len(frame), dtype=bool)
    if not coded.any():
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(value_code == BOTTOM, 0.0, 100.0 * (n - mx) / n)
        hi = np.where(value_code == BOTTOM, 100.0 * mx / n, 100.0)
    pairs = pd.DataFrame(
        {"i": frame["indicator"].astype(str).to_numpy(), "t": stype.to_numpy(dtype=object)}
    )[coded]
    for (ind, st), idx in pairs.groupby(["i", "t"], sort=False).groups.items():
        spec = m.indicators.get(ind)
        if spec is None or st not in spec.school_types:
            continue
        rows = np.asarray(idx)
        cuts = m.cuts(ind, st)
        a = levels_for(lo[rows], cuts, spec.direction)
        b = levels_for(hi[rows], cuts, spec.direction)
        out[rows] = a == b
    return out


def _year_codes(frame: pd.DataFrame, stype: pd.Series, m: Methodology) -> dict[str, np.ndarray]:
    """Rules 1–4 over one year's rows: what each column of each row shows (``*_code``)."""
    c = _cube(frame, m)
    small, under = _small_and_under(c, m)
    hn = small | under
    bottom, top, hk_small = _small_counts(c, m, hn)
    st = _State(hn, hn | hk_small, small, under, bottom, top, hn | hk_small)
    _complementary(c, st, m)

    flat = c.rows.ravel()
    sel = flat >= 0
    where = flat[sel]

    def back(a: np.ndarray) -> np.ndarray:
        out = np.zeros(len(frame), dtype=a.dtype)
        out[where] = a.ravel()[sel]
        return out

    r_small, r_under, r_hn, r_hk = back(small), back(under), back(st.hn), back(st.hk)
    r_bottom, r_top = back(st.bottom), back(st.top)
    r_nested_only = r_hn & ~back(st.by_part)
    ind = frame["indicator"].astype(str).to_numpy(dtype=object)
    grp = frame["student_group"].astype(str).to_numpy(dtype=object)
    count = c.count[pd.Index(c.ind).get_indexer(ind)]
    n = pd.to_numeric(frame["denominator"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    k = pd.to_numeric(frame["numerator"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    value = pd.to_numeric(frame["value"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    is_sped = ind == SPED

    n_code = np.full(len(frame), SHOWN, dtype=np.int8)
    n_code[r_hn] = HIDDEN
    n_code[r_under] = UNDER
    n_code[r_small] = SMALL

    k_code = np.full(len(frame), SHOWN, dtype=np.int8)
    k_code[r_hk | r_hn] = HIDDEN
    k_code[r_under] = UNDER
    k_code[r_small] = SMALL
    k_code[np.isnan(k)] = NONE

    v_code = np.full(len(frame), SHOWN, dtype=np.int8)
    # a count's rate: exact, coded or hidden with its numerator
    rate = count & ~is_sped
    v_code[rate & r_hk] = HIDDEN
    v_code[rate & r_bottom] = BOTTOM
    v_code[rate & r_top] = TOP
    # SPED_DISPROP for a group: (k / n) ÷ ((SWD − k) / (ALL − n)) gives back every count in
    # it, so every one must be public: the group's numerator and n, ALL's n and SWD count
    if is_sped.any():
        si, a = c.ind.index(SPED), 0
        all_hn = back(np.broadcast_to(st.hn[:, si : si + 1, a : a + 1], st.hn.shape).copy())
        all_hk = back(np.broadcast_to(st.hk[:, si : si + 1, a : a + 1], st.hk.shape).copy())
        grp_ok = ~r_hk & ~r_hn & ~all_hn & ~all_hk
        v_code[is_sped & (grp != "ALL") & ~grp_ok] = HIDDEN
    v_code[r_hn & count & ~is_sped] = HIDDEN
    v_code[np.isnan(value)] = NONE
    v_code[r_under] = UNDER
    v_code[r_small] = SMALL
    if is_sped.any():
        v_code = _sped_all(frame, v_code, value, grp, is_sped, m)

    x, y = coded_bounds(n, m)
    bound = np.where(v_code == BOTTOM, x, np.where(v_code == TOP, y, np.nan))

    level = (
        pd.to_numeric(frame["level"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if "level" in frame.columns
        else np.full(len(frame), np.nan)
    )
    l_code = np.full(len(frame), HIDDEN, dtype=np.int8)
    l_code[v_code == SHOWN] = SHOWN
    coded_ok = _coded_level_shown(frame, v_code, n, stype, m)
    l_code[coded_ok] = SHOWN
    # a cell hidden only to protect the students between two nested denominators keeps
    # its level: the level bounds its rate, not its n
    l_code[r_nested_only & (v_code == HIDDEN)] = SHOWN
    l_code[np.isnan(level)] = NONE
    l_code[v_code == UNDER] = UNDER
    l_code[v_code == SMALL] = SMALL
    return {
        "n_code": n_code,
        "numerator_code": k_code,
        "value_code": v_code,
        "value_bound": bound,
        "level_code": l_code,
        "n": np.where(n_code == SHOWN, n, np.nan),
        "numerator": np.where(k_code == SHOWN, k, np.nan),
        "value": np.where(v_code == SHOWN, value, np.nan),
        "level": np.where(l_code == SHOWN, level, np.nan),
    }


def _sped_all(
    frame: pd.DataFrame,
    v_code: np.ndarray,
    value: np.ndarray,
    grp: np.ndarray,
    is_sped: np.ndarray,
    m: Methodology,
) -> np.ndarray:
    """SPED_DISPROP for ALL is the largest race group's ratio: shown only where a race group
    meeting the n-size with that same ratio is shown (else ALL would give the hidden one)."""
    school = frame["school_code"].astype(str).to_numpy(dtype=object)
    race = is_sped & np.isin(grp, list(codes.RACE_GROUPS)) & (v_code == SHOWN)
    shown = pd.DataFrame({"s": school[race], "v": value[race]})
    is_all = is_sped & (grp == "ALL")
    alls = pd.DataFrame({"s": school[is_all], "v": value[is_all], "row": np.flatnonzero(is_all)})
    hit = alls.merge(shown, on="s", how="left", suffixes=("", "_r"))
    ok = np.isclose(hit["v"].to_numpy(), hit["v_r"].to_numpy(), rtol=0, atol=1e-12)
    good = np.zeros(len(v_code), dtype=bool)
    good[hit["row"].to_numpy()[ok]] = True
    out = v_code.copy()
    out[is_all & (out == SHOWN) & ~good] = HIDDEN
    return out


def _prior_rows(frame: pd.DataFrame) -> np.ndarray:
    """Each row's prior-year row (same school, group and indicator, the year before) as a
    position in ``frame``, −1 where the frame has none. Integer keys: one factorize per
    column, one ``years.shift`` per distinct year."""
    year_codes, year_uniq = pd.factorize(frame["year"].astype(str), use_na_sentinel=False)
    prev = {y: years.shift(y, -1) for y in year_uniq}
    pos = {y: i for i, y in enumerate(year_uniq)}
    prev_code = np.array([pos.get(prev[y], -1) for y in year_uniq], dtype=np.int64)
    combo = np.zeros(len(frame), dtype=np.int64)
    for col in ("school_code", "student_group", "indicator"):
        c, u = pd.factorize(frame[col], use_na_sentinel=False)
        combo = combo * (len(u) + 1) + c
    n_years = len(year_uniq) + 1
    key = combo * n_years + year_codes
    want_year = prev_code[year_codes]
    want = np.where(want_year >= 0, combo * n_years + want_year, -1)
    index = pd.Index(key)
    if not index.is_unique:
        return np.full(len(frame), -1, dtype=np.int64)
    at = index.get_indexer(want)
    return np.where(want >= 0, at, -1)


def _prior_of(prior: np.ndarray, col: np.ndarray, fill: Any) -> np.ndarray:
    """``col`` at each row's prior-year row (:func:`_prior_rows`), ``fill`` where none."""
    out = np.full(len(prior), fill, dtype=np.asarray(col).dtype)
    ok = prior >= 0
    out[ok] = np.asarray(col)[prior[ok]]
    return out


def public_indicators(
    indicators: pd.DataFrame, schools: pd.DataFrame, m: Methodology
) -> pd.DataFrame:
    """The public indicators frame (:data:`INDICATOR_COLUMNS`), every year of ``indicators``
    suppressed on its own rows (so a year reads the same in every later year's reports),
    then the changes between years (shown only where both years' values are)."""
    ind = indicators.reset_index(drop=True)
    if "year" not in ind.columns:
        raise ValueError("public_indicators needs a year column")
    st_of = dict(zip(schools["school_code"].astype(str), schools["school_type"], strict=False))
    stype = ind["school_code"].astype(str).map(st_of)
    out = {c: None for c in INDICATOR_COLUMNS}
    parts: dict[str, np.ndarray] = {}
    year_s = ind["year"].astype(str)
    for y in pd.unique(year_s):
        rows = np.flatnonzero((year_s == y).to_numpy())
        got = _year_codes(
            ind.iloc[rows].reset_index(drop=True), stype.iloc[rows].reset_index(drop=True), m
        )
        for name, arr in got.items():
            if name not in parts:
                parts[name] = np.empty(len(ind), dtype=arr.dtype)
            parts[name][rows] = arr
    if not len(ind):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in INDICATOR_COLUMNS})
    v_code, l_code = parts["value_code"], parts["level_code"]
    prior = _prior_rows(ind)
    prior_v = _prior_of(prior, v_code, HIDDEN)
    prior_l = _prior_of(prior, l_code, HIDDEN)
    change = _num(ind, "change")
    ch_code = np.where((v_code == SHOWN) & (prior_v == SHOWN), SHOWN, HIDDEN).astype(np.int8)
    ch_code[np.isnan(change)] = NONE
    lch = _num(ind, "level_change")
    lch_code = np.where((l_code == SHOWN) & (prior_l == SHOWN), SHOWN, HIDDEN).astype(np.int8)
    lch_code[np.isnan(lch)] = NONE
    meets = ind["meets_nsize"]
    if meets.dtype != bool:
        meets = meets.astype(str).str.upper().isin(["Y", "TRUE", "1"])
    out = {
        "year": year_s.to_numpy(dtype=object),
        "school_code": ind["school_code"].astype(str).to_numpy(dtype=object),
        "student_group": ind["student_group"].astype(str).to_numpy(dtype=object),
        "indicator": ind["indicator"].astype(str).to_numpy(dtype=object),
        "meets_nsize": meets.to_numpy(dtype=bool),
        "n": parts["n"],
        "n_code": parts["n_code"],
        "numerator": parts["numerator"],
        "numerator_code": parts["numerator_code"],
        "value": parts["value"],
        "value_code": v_code,
        "value_bound": parts["value_bound"],
        "level": parts["level"],
        "level_code": l_code,
        "change": np.where(ch_code == SHOWN, change, np.nan),
        "change_code": ch_code,
        "level_change": np.where(lch_code == SHOWN, lch, np.nan),
        "level_change_code": lch_code,
    }
    for k_ in (1, 2, 3):
        imp = _num(ind, f"improve_{k_}")
        out[f"improve_{k_}"] = np.where((v_code == SHOWN) & (l_code == SHOWN), imp, np.nan)
    return pd.DataFrame(out)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _public_columns(frame: pd.DataFrame | None, name: str, year: str | None = None) -> pd.DataFrame:
    cols = PUBLIC_COLUMNS[name]
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    f = frame
    if "year" in cols and "year" not in f.columns:
        f = f.assign(year=year)
    out = f[[c for c in cols if c in f.columns]].reset_index(drop=True).copy()
    # a list (a checkpoint's flags) as text: "A;B", "" for none (a few rows per school)
    for c in out.columns if name in ("checkpoints", "plans") else ():
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, list | tuple)).any():
            out[c] = out[c].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v
            )
    return out


def public_frames(frames: ReportFrames, m: Methodology) -> PublicFrames:
    """THE function that makes the public edition's frames (METHODOLOGY.md "Public
    suppression", rules 1–4): every other public output is rendered from its result.

    ``frames`` are the staff edition's report frames (``sqis.report_frames.ReportFrames``:
    ``indicators`` with a ``year`` column over the years on record, ``communities`` with
    their checkpoint dates, ``educator_distribution`` with a ``year`` column over the years
    on record: :func:`public_educator_history`); a frame not held is public and empty.
    """
    year = frames.year
    start = years.start_of(year)
    schools = frames.schools
    ind = frames.indicators
    if "year" not in ind.columns:
        ind = ind.assign(year=year)
    started = pd.to_numeric(ind["year"].astype(str).str.slice(0, 4), errors="coerce")
    ind = ind[(started <= start).to_numpy()]
    return _make(
        year=year,
        methodology_version=m.version,
        schools=_public_columns(schools, "schools"),
        indicators=public_indicators(ind, schools, m),
        index=_public_columns(frames.index, "index", year),
        designations=_public_columns(frames.designations, "designations", year),
        communities=_public_columns(frames.communities, "communities"),
        districts=_public_columns(frames.districts, "districts"),
        goal_support=_public_columns(frames.goal_support, "goal_support"),
        supported_by=_public_columns(frames.supported_by, "supported_by"),
        partnership_flags=_public_columns(frames.partnership_flags, "partnership_flags"),
        plans=_public_columns(frames.plans, "plans"),
        checkpoints=_public_columns(frames.checkpoints, "checkpoints"),
        educators=public_educator_history(year, frames.educator_distribution, m),
        district_reviews=_public_columns(frames.district_reviews, "district_reviews"),
        panel_decisions=_public_columns(frames.panel_decisions, "panel_decisions"),
    )


def public_educator_distribution(distribution: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """The public edition's educator distribution (METHODOLOGY.md "Educator effectiveness",
    public distribution; the Massachusetts DESE rule in this module's provenance): the
    staff's counts (``sqis.educators.distribution``) as text, ``*`` where
    ``sqis.educator_suppression.hidden_cells`` hides them — a row of fewer than 6
    educators or of one level shows nothing, counts of 1–5 and every count that would
    give one away (the row's total, the district and school rows together) are ``*``.
    The one function the public edition takes the distribution from
    (``sqis.year_outputs.public_files``); refused for a methodology without educators."""
    from sqis.educator_suppression import public_distribution

    if m.educators is None:
        raise DisclosureError(f"methodology {m.version} publishes no educator distribution")
    return public_distribution(distribution, m.educators.public)


def public_educator_history(
    year: str, history: pd.DataFrame | None, m: Methodology
) -> pd.DataFrame:
    """``PublicFrames.educators``: the educator distribution of each implementation year on
    record up to ``year`` (the pilot publishes nothing, METHODOLOGY.md "Educator
    effectiveness"), each year suppressed on its own rows by
    :func:`public_educator_distribution` (so a year reads as its ``educator-distribution.csv``
    did), with its ``year``. Empty without a distribution or an educator methodology."""
    cols = PUBLIC_COLUMNS["educators"]
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
    e = m.educators
    if e is None or history is None or history.empty:
        return empty
    h = history if "year" in history.columns else history.assign(year=year)
    start = years.start_of(year)
    parts = []
    for y, rows in h.groupby(h["year"].astype(str), sort=True):  # a few years on record
        if e.stage(y) != "implementation" or years.start_of(y) > start:
            continue
        dist = rows.drop(columns=[c for c in rows.columns if c not in cols]).reset_index(drop=True)
        parts.append(public_educator_distribution(dist, m).assign(year=y))
    if not parts:
        return empty
    out = pd.concat(parts, ignore_index=True)
    return out[list(cols)].astype("str")
