"""METHODOLOGY.md "Educator effectiveness", the public distribution's suppression, attacked:
an integer-programming attacker holds every shown cell of the consortium, district and
school rows and every equation between them (a row's total; a district the sum of its
schools, the consortium of its districts), and must recover no count of 1–5 and no single
educator's level. A hypothesis property over generated consortia, and cases by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from sqis.educator_suppression import COUNT_COLUMNS, hidden_cells, public_distribution
from sqis.methodology import for_year

SPEC = for_year("2015-16").educators.public
LEVEL_COLUMNS = list(COUNT_COLUMNS[1:])


def distribution(schools: dict[str, list[list[int]]], role: str = "TEACHER") -> pd.DataFrame:
    """{district code: [school level counts [l1..l4], …]} → the distribution's rows."""
    rows = []
    all_levels = np.zeros(4, dtype=int)
    for d, counts in schools.items():
        d_levels = np.zeros(4, dtype=int)
        for i, c in enumerate(counts):
            code = f"{d}{i + 1:07d}"
            rows.append(("SCHOOL", code, role, sum(c), *c))
            d_levels += np.array(c)
        rows.append(("DISTRICT", d, role, int(d_levels.sum()), *d_levels.tolist()))
        all_levels += d_levels
    rows.append(("CONSORTIUM", "ALL", role, int(all_levels.sum()), *all_levels.tolist()))
    return pd.DataFrame(rows, columns=["entity_type", "entity_code", "role", *COUNT_COLUMNS])


def equations(dist: pd.DataFrame) -> np.ndarray:
    """Rows of A with A · cells = 0 for every true distribution (cells flattened row × 5)."""
    n = len(dist)
    eqs = []
    for e in range(n):  # rated = Σ levels
        a = np.zeros(n * 5)
        a[e * 5] = 1
        a[e * 5 + 1 : e * 5 + 5] = -1
        eqs.append(a)
    types = dist["entity_type"].tolist()
    codes = dist["entity_code"].tolist()
    root = types.index("CONSORTIUM")
    for e in range(n):
        if types[e] == "SCHOOL":
            continue
        kids = [
            c for c in range(n)
            if (types[e] == "CONSORTIUM" and types[c] == "DISTRICT")
            or (types[e] == "DISTRICT" and types[c] == "SCHOOL" and codes[c][:7] == codes[e])
        ]  # fmt: skip
        for j in range(5):
            a = np.zeros(n * 5)
            a[e * 5 + j] = 1
            for c in kids:
                a[c * 5 + j] = -1
            eqs.append(a)
    assert root >= 0
    return np.array(eqs)


def attack(dist: pd.DataFrame, hidden: np.ndarray) -> list[str]:
    """What an attacker recovers: each hidden count of 1–5 pinned to one value, each blank
    uniform row proven uniform. Empty when the suppression holds."""
    x = dist[list(COUNT_COLUMNS)].to_numpy(dtype=float).reshape(-1)
    h = hidden.reshape(-1)
    a = equations(dist)
    unknown = np.flatnonzero(h)
    if not len(unknown):
        return []
    a_h = a[:, unknown]
    rhs = -a[:, ~h] @ x[~h]
    keep = np.abs(a_h).sum(axis=1) > 0
    cons = LinearConstraint(a_h[keep], rhs[keep], rhs[keep])
    bounds = Bounds(np.zeros(len(unknown)), np.full(len(unknown), np.inf))
    integ = np.ones(len(unknown))

    def extreme(c: np.ndarray) -> float | None:
        res = milp(c, constraints=cons, bounds=bounds, integrality=integ)
        if res.status != 0:  # unbounded (HiGHS may say "unbounded or infeasible")
            feasible = milp(0 * c, constraints=cons, bounds=bounds, integrality=integ)
            assert feasible.status == 0, feasible.message  # the truth is a solution
            return None
        return float(c @ res.x)

    found = []
    pos = {int(u): i for i, u in enumerate(unknown)}
    for u in unknown:
        if not 1 <= x[u] <= SPEC.max_small_count:
            continue
        c = np.zeros(len(unknown))
        c[pos[int(u)]] = 1
        lo, hi = extreme(c), extreme(-c)
        if hi is not None and lo == -hi:
            found.append(f"cell {divmod(int(u), 5)} = {int(x[u])}")
    xs = x.reshape(-1, 5)
    for e in range(len(dist)):
        rated = xs[e, 0]
        for k in range(1, 5):
            if rated > 0 and xs[e, k] == rated:  # truly uniform: can it be proven?
                c = np.zeros(len(unknown))
                if e * 5 in pos:
                    c[pos[e * 5]] = -1  # maximise rated − level_k
                if e * 5 + k in pos:
                    c[pos[e * 5 + k]] = 1
                best = extreme(c)
                shown_rated = rated if e * 5 not in pos else 0
                const = shown_rated - (xs[e, k] if e * 5 + k not in pos else 0)
                if best is not None and const - best < 1:
                    found.append(f"row {e} proven all at level {k}")
    return found


def check(dist: pd.DataFrame) -> np.ndarray:
    h = hidden_cells(dist, SPEC)
    x = dist[list(COUNT_COLUMNS)].to_numpy()
    shown = x[~h]
    assert not ((shown >= 1) & (shown <= SPEC.max_small_count)).any(), "a count of 1-5 shown"
    rated = x[:, 0]
    blank = (rated < SPEC.min_rated) | ((x[:, 1:] == rated[:, None]).any(axis=1) & (rated > 0))
    assert h[blank].all(), "a row under 6 educators or of one level shows something"
    assert attack(dist, h) == []
    return h


level_counts = st.lists(
    st.one_of(st.integers(0, 0), st.integers(0, 3), st.integers(0, 12)), min_size=4, max_size=4
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(level_counts.filter(lambda c: sum(c) > 0), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    )
)
def test_no_small_count_and_no_single_educators_level_can_be_recovered(districts):
    check(distribution({f"01{10000 + d:05d}": s for d, s in enumerate(districts)}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=5), min_size=1, max_size=4))
def test_principals_one_per_school(districts):
    """A school has one principal: every school row shows nothing, and the district and
    consortium rows must not give any principal's level away."""

    def one(level: int) -> list[int]:
        return [int(level == k) for k in range(1, 5)]

    check(distribution({f"01{10000 + d:05d}": [one(v) for v in s] for d, s in
                        enumerate(districts)}, "PRINCIPAL"))  # fmt: skip


def test_by_hand_a_small_count_and_its_complements():
    # district with two schools: S1 has 1 Ineffective among 20; S2 none among 20
    dist = distribution({"0110001": [[1, 4, 10, 5], [0, 6, 10, 4]]})
    h = check(dist)
    shown = public_distribution(dist, SPEC).set_index("entity_code")
    s1 = "01100010000001"
    assert shown.loc[s1, "level_1"] == "*" and shown.loc[s1, "level_2"] == "*"
    assert shown.loc[s1, "rated"] == "20"  # the total stays shown
    # the consortium and the district show 1 Ineffective: hidden too, and protected
    assert shown.loc["ALL", "level_1"] == "*"
    assert h.sum() >= 6


def test_by_hand_a_school_of_one_level_shows_nothing():
    dist = distribution({"0110001": [[0, 0, 8, 0], [1, 6, 9, 7], [2, 7, 8, 6]]})
    shown = public_distribution(dist, SPEC).set_index("entity_code")
    assert (shown.loc["01100010000001", list(COUNT_COLUMNS)] == "*").all()
    check(dist)


def test_by_hand_under_six_educators_shows_nothing():
    dist = distribution({"0110001": [[1, 2, 1, 1], [3, 8, 9, 7]]})
    shown = public_distribution(dist, SPEC).set_index("entity_code")
    assert (shown.loc["01100010000001", list(COUNT_COLUMNS)] == "*").all()
    check(dist)


def test_large_counts_show_unsuppressed():
    dist = distribution({"0110001": [[6, 7, 8, 9], [10, 11, 12, 13]]})
    h = check(dist)
    assert not h.any()


def test_the_attacker_finds_what_primary_suppression_alone_leaks():
    """The attacker is real: hiding only the small counts (no complements) leaks."""
    dist = distribution({"0110001": [[1, 7, 10, 5], [0, 6, 10, 4]]})
    x = dist[list(COUNT_COLUMNS)].to_numpy()
    primary = (x >= 1) & (x <= 5)
    primary[:, 0] = False
    assert attack(dist, primary)


@pytest.mark.parametrize("n_schools", [300])
def test_speed_at_a_large_district(n_schools):
    import time

    rng = np.random.default_rng(1)
    counts = rng.poisson([0.6, 3, 14, 5], size=(n_schools, 4)).tolist()
    per = n_schools // 10
    dist = distribution({f"01{10000 + d:05d}": counts[d * per : (d + 1) * per] for d in range(10)})
    t0 = time.perf_counter()
    hidden_cells(dist, SPEC)
    assert time.perf_counter() - t0 < 20
