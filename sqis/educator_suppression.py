"""Suppression of the public educator distribution (METHODOLOGY.md "Educator effectiveness",
public distribution; *default*, after Massachusetts DESE).

    "a row with fewer than 6 educators rated, or where every educator has the same level,
    shows nothing; counts of 1–5 are ``*`` with complementary suppression so that none can
    be recovered from the row's total or from the district and school rows together."

The distribution (``sqis.educators.distribution``) is, per role, a tree of rows —
consortium, districts, schools — each with five cells: ``rated`` and ``level_1`` …
``level_4``. What an attacker can use is every equation between shown cells: a row's
``rated`` is the sum of its levels; a district's cell is the sum of its schools', the
consortium's the sum of its districts'. :func:`hidden_cells` decides which cells show
``*``:

1. **Primary**: a row with fewer than ``public.min_rated`` educators, or whose educators
   all have one level, is *blank* (all five cells hidden); in any other row each level
   count of 1–``public.max_small_count`` is hidden.
2. **Protection by witness**: a hidden cell is safe when another distribution — whole,
   non-negative counts — agrees with every shown cell and gives that cell another value:
   the attacker cannot tell the two apart. Each *target* gets such a witness:

   - every hidden count of 1–5 (a level count, or the ``rated`` of a blank row);
   - every blank row whose educators all have one level (a witness where one has
     another level: "no single educator's level can be recovered").

   A witness is one of four small changes to the school rows (the leaves), carried up to
   every row above them: **swap** (an educator at level a in one school and one at level
   b in another change places: ``rated`` unchanged), **transfer** (an educator moves from
   one school to another), **change** (one educator changes level) and **removal or
   addition** of one educator. A change is valid when every cell it alters is hidden and
   no count goes below 0. When a target has no valid witness yet, the cheapest candidate
   — fewest newly hidden cells, level cells before ``rated`` (a row's total stays shown
   where it can), small counts before large — is made valid by hiding its cells. Hiding
   never invalidates a witness found before, so when every target has one, no count of
   1–5 and no single educator's level can be recovered from any combination of the
   consortium, district and school rows (``tests/test_educator_suppression.py`` checks it
   against an integer-programming attacker).

A witness always exists (a removal or an addition along the school's path to the
consortium row), so the procedure ends. Candidates are evaluated as arrays: the loop is
over targets (cells to protect, not educators or rows of data); a two-school move's cost
is the sum of its two sides', so each side is chosen on its own, linear in the schools.
At 1,700 schools (1,000,000 students) about 1 s per role.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqis.methodology import EducatorPublicSpec

COUNT_COLUMNS: tuple[str, ...] = ("rated", "level_1", "level_2", "level_3", "level_4")
N_COLS = len(COUNT_COLUMNS)  # cell j of a row: 0 rated, 1..4 the levels
LEVELS = tuple(range(1, N_COLS))
# hiding a row's `rated` costs this many hidden level cells (the total stays shown where it can)
RATED_COST = 3.0
# among candidates of equal cost, the one hiding smaller counts (per unit of count)
COUNT_COST = 1e-6


@dataclass
class _Tree:
    """One role's rows: counts ``x[E, 5]``, ``parent`` (−1 for the consortium row),
    ``depth`` (0 consortium, 1 district, 2 school) and the schools (leaves)."""

    x: np.ndarray
    parent: np.ndarray
    depth: np.ndarray
    root: int
    leaves: np.ndarray

    def under(self, e: int) -> np.ndarray:
        """The schools at or under row ``e``."""
        if self.depth[e] == 2:
            return np.array([e])
        if self.depth[e] == 1:
            return self.leaves[self.parent[self.leaves] == e]
        return self.leaves


def _tree(rows: pd.DataFrame) -> _Tree | None:
    """The rows of one role as a tree (school codes' first 7 digits are their district)."""
    types = rows["entity_type"].to_numpy(dtype=object)
    codes = rows["entity_code"].astype("str").to_numpy(dtype=object)
    x = np.ascontiguousarray(rows[list(COUNT_COLUMNS)].to_numpy(dtype=np.int64))
    depth = np.select([types == "CONSORTIUM", types == "DISTRICT"], [0, 1], 2)
    roots = np.flatnonzero(depth == 0)
    if len(roots) != 1:
        return None
    root = int(roots[0])
    district_at = {c: i for i, c in enumerate(codes) if depth[i] == 1}
    parent = np.full(len(rows), -1, dtype=np.int64)
    parent[depth == 1] = root
    schools = np.flatnonzero(depth == 2)
    parent[schools] = [district_at.get(str(codes[i])[:7], -1) for i in schools]
    if (parent[schools] < 0).any():
        raise ValueError("educator distribution: a school row without its district row")
    return _Tree(x, parent, depth, root, schools)


class _Protector:
    """The witness search over one role's tree (module docstring)."""

    def __init__(self, t: _Tree, hidden: np.ndarray, blank: np.ndarray) -> None:
        self.t = t
        # [E, 5] bool, updated in place (C order: hidden cells are set through a flat view)
        self.hidden = np.ascontiguousarray(hidden)
        w = np.ones((len(t.x), N_COLS))
        w[:, 0] = np.where(blank, 1.0, RATED_COST)
        # what hiding each cell costs: 0 once hidden
        self.c = np.where(self.hidden, 0.0, w + COUNT_COST * t.x)
        self.leaf_parent = t.parent[t.leaves]
        self.leaf_x = t.x[t.leaves]
        self._sibs: dict[int, np.ndarray] = {}

    # ---- a witness among siblings that needs nothing more hidden (the common case) ------
    def _siblings(self, s: int) -> np.ndarray:
        d = int(self.t.parent[s])
        if d not in self._sibs:
            leaves = self.t.leaves
            self._sibs[d] = leaves[self.t.parent[leaves] == d]
        sib = self._sibs[d]
        return sib[sib != s]

    def protected_decrease(self, s: int, k: int) -> bool:
        """Whether school ``s``'s cell ``k`` already has a witness with a sibling: a transfer
        (its cells ``k`` or any level, and ``rated``, hidden in both schools) or a swap."""
        h, x = self.hidden, self.t.x
        sib = self._siblings(s)
        if not len(sib):
            return False
        for a in [k] if k else [a for a in LEVELS if x[s, a] > 0]:
            if not h[s, a]:
                continue
            if h[s, 0] and (h[sib, a] & h[sib, 0]).any():
                return True
            if k:
                for b in LEVELS:
                    if b != a and h[s, b] and (h[sib, a] & h[sib, b] & (x[sib, b] > 0)).any():
                        return True
        return False

    def protected_diversify(self, s: int, k: int) -> bool:
        """Whether the uniform school ``s`` already has a witness with a sibling giving it an
        educator at another level (a transfer in, or a swap)."""
        h, x = self.hidden, self.t.x
        sib = self._siblings(s)
        if not len(sib):
            return False
        for b in LEVELS:
            if b == k:
                continue
            has_b = x[sib, b] > 0
            if h[s, b] and h[s, 0] and (h[sib, b] & h[sib, 0] & has_b).any():
                return True
            if h[s, k] and h[s, b] and (h[sib, k] & h[sib, b] & has_b).any():
                return True
        return False

    # ---- candidate witnesses ---------------------------------------------------------
    # A two-school move alters, on each side, the school's two columns and — when the two
    # schools are in different districts — its district's: the cost of a move is the sum
    # of its two sides' costs, so each side is chosen on its own (linear, not quadratic, in
    # the schools). A one-school move alters the school's, its district's and the
    # consortium row's two columns. ``self.c`` holds what hiding each cell would cost
    # (0 once hidden).
    def _hide(self, cells: list[tuple[int, int]]) -> None:
        for r, c in cells:
            self.hidden[r, c] = True
            self.c[r, c] = 0.0

    def _side(
        self, schools: np.ndarray, cols: tuple[int, int], apart: bool
    ) -> tuple[float, list[tuple[int, int]]]:
        """The cheapest side among ``schools``: (cost, its cells); (inf, []) when none."""
        if not len(schools):
            return np.inf, []
        a, b = cols
        cost = self.c[schools, a] + self.c[schools, b]
        if apart:
            d = self.t.parent[schools]
            cost = cost + self.c[d, a] + self.c[d, b]
        i = int(np.argmin(cost))
        s = int(schools[i])
        rows = [s, int(self.t.parent[s])] if apart else [s]
        return float(cost[i]), [(r, c) for r in rows for c in cols]

    def _single(self, schools: np.ndarray, cols: tuple[int, int]) -> tuple[float, list]:
        """The cheapest one-school move among ``schools`` (its whole path)."""
        if not len(schools):
            return np.inf, []
        a, b = cols
        d, r = self.t.parent[schools], self.t.root
        cost = self.c[schools, a] + self.c[schools, b] + self.c[d, a] + self.c[d, b]
        cost = cost + self.c[r, a] + self.c[r, b]
        i = int(np.argmin(cost))
        s = int(schools[i])
        return float(cost[i]), [(q, c) for q in (s, int(self.t.parent[s]), r) for c in cols]

    def _scopes(self, e: int) -> list[tuple[np.ndarray, bool]]:
        """Where the other side of a two-school move may be for a target at row ``e`` (a
        mask over the schools), and whether the two sides are in different districts: a
        school's siblings or the schools of other districts; a district's: the schools of
        the other districts. The consortium row has none (one-school moves only)."""
        t = self.t
        if t.depth[e] == 0:
            return []
        if t.depth[e] == 2:
            d = t.parent[e]
            sib = (self.leaf_parent == d) & (t.leaves != e)
            return [(sib, False), (self.leaf_parent != d, True)]
        return [(self.leaf_parent != e, True)]

    def _best(self, options: list[tuple[float, list]]) -> None:
        """Hide the cells of the cheapest option (the first of equal cost)."""
        cost, cells = min(options, key=lambda o: o[0])
        assert np.isfinite(cost), "a witness always exists (an addition or a removal)"
        self._hide(cells)

    def _pair_options(
        self, e: int, first: np.ndarray, second: np.ndarray, cols: tuple[int, int]
    ) -> list[tuple[float, list]]:
        """Two-school moves, one side among the schools ``first`` (under ``e``), the other
        among the schools where the mask ``second`` holds, in each partner scope
        (siblings first: they win a tie)."""
        out = []
        for scope, apart in self._scopes(e):
            c1, cells1 = self._side(first, cols, apart)
            c2, cells2 = self._side(self.t.leaves[second & scope], cols, apart)
            out.append((c1 + c2, cells1 + cells2))
        return out

    def decrease(self, e: int, k: int) -> None:
        """Make a witness lowering cell (e, k) by one: an educator at level k (k = 0: at any
        level) in a school under ``e`` is swapped, transferred, changed or removed."""
        x = self.t.x
        inside = self.t.under(e)
        options: list[tuple[float, list]] = []
        for a in [k] if k else list(LEVELS):
            src = inside[x[inside, a] > 0]
            if not len(src):
                continue
            anyone = np.ones(len(self.t.leaves), dtype=bool)
            options += self._pair_options(e, src, anyone, (a, 0))  # transfer
            options.append(self._single(src, (a, 0)))  # removal
            if k:
                for b in LEVELS:
                    if b != a:
                        takers = self.leaf_x[:, b] > 0
                        options += self._pair_options(e, src, takers, (a, b))  # swap
                        options.append(self._single(src, (a, b)))  # change of level
        self._best(options)

    def diversify(self, e: int, k: int) -> None:
        """Make a witness giving the uniform row ``e`` (every educator at level k) an
        educator at another level: a swap or change of one of its educators, a transfer
        in, or an addition."""
        x = self.t.x
        inside = self.t.under(e)
        options: list[tuple[float, list]] = []
        for b in LEVELS:
            if b == k:
                continue
            givers = self.leaf_x[:, b] > 0
            options += self._pair_options(e, inside[x[inside, k] > 0], givers, (k, b))  # swap
            options += self._pair_options(e, inside, givers, (b, 0))  # transfer in
            options.append(self._single(inside[x[inside, k] > 0], (k, b)))  # change
            options.append(self._single(inside, (b, 0)))  # addition
        self._best(options)


def hidden_cells(dist: pd.DataFrame, spec: EducatorPublicSpec) -> np.ndarray:
    """Which cells of ``dist`` (columns :data:`COUNT_COLUMNS`) the public edition hides:
    a boolean array, one row per row of ``dist`` (module docstring)."""
    hidden = np.zeros((len(dist), N_COLS), dtype=bool)
    if dist.empty:
        return hidden
    for role in sorted(dist["role"].astype("str").unique()):  # each role its own table
        at = np.flatnonzero((dist["role"].astype("str") == role).to_numpy())
        rows = dist.iloc[at]
        t = _tree(rows)
        if t is None:  # no consortium row: nothing can be vouched for
            hidden[at] = True
            continue
        x = t.x
        rated = x[:, 0]
        uniform = (x[:, 1:] == rated[:, None]).any(axis=1) & (rated > 0)
        blank = (rated < spec.min_rated) | uniform
        h = np.zeros(x.shape, dtype=bool)
        h[blank] = True
        small = (x >= 1) & (x <= spec.max_small_count)
        small[:, 0] = False
        h |= small
        p = _Protector(t, h, blank)
        # targets in a fixed order: rows as listed, then columns
        targets = np.argwhere(h & (x >= 1) & (x <= spec.max_small_count))
        school = t.depth == 2
        for e, j in targets:
            if not (school[e] and p.protected_decrease(int(e), int(j))):
                p.decrease(int(e), int(j))
        for e in np.flatnonzero(uniform):
            k = int(np.flatnonzero(x[e, 1:] == rated[e])[0]) + 1
            if not (school[e] and p.protected_diversify(int(e), k)):
                p.diversify(int(e), k)
        hidden[at] = p.hidden
    return hidden


def public_distribution(dist: pd.DataFrame, spec: EducatorPublicSpec) -> pd.DataFrame:
    """The distribution as the public edition shows it: the counts as text, ``*``
    (``spec.suppressed_label``) where :func:`hidden_cells` hides them."""
    h = hidden_cells(dist, spec)
    out = dist[["entity_type", "entity_code", "role"]].astype("str").reset_index(drop=True)
    for j, c in enumerate(COUNT_COLUMNS):
        text = dist[c].astype("int64").astype("str").reset_index(drop=True)
        out[c] = text.where(~h[:, j], spec.suppressed_label)
    return out
