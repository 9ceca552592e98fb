"""An attacker of the public edition, working only from published files.

Given a staff root and a public root as published (``<root>/<year>/indicators.csv`` and the
reports), it tries what issue 18 tried — and more — and returns every *breach*: a
suppressed or unpublished count of students recovered exactly, or a small count (1–10)
shown or derived. The staff edition is read only as the truth to compare with.

Attacks (each names what it subtracts):

- ``direct``: every number the public CSV shows is true, no shown count is small, every
  coded range holds the true count and at least ``max_count + 1`` possible counts;
- ``rate_times_n``: value × n of a shown rate gives back a hidden numerator;
- ``race_partition``: ALL − Σ race groups (guessing ``NR`` = 0), with interval reasoning
  on the labels (``*``, ``n<20``, ranges): a hidden race cell pinned down, or ``NR``'s
  small count derived;
- ``complement``: ALL − a group, for every group: a small complement derived;
- ``nested``: across indicators whose denominators are nested or equal (SUSP − CHRONIC …)
  and the identities between counts (SUSP(SWD) n, SPED_DISPROP(EL) numerator …);
- ``sped``: a SPED_DISPROP ratio solved for the group's SWD count and the "all other
  students" counts; ALL's ratio matched to a hidden race group's;
- ``change`` (HTML): this year's value − the change column gives last year's hidden value;
- ``html_rate_times_n`` (HTML): the rounded rate × n in a report;
- ``charts`` (HTML): every point a chart plots is a value its table shows, and no chart
  plots a point whose table cell is blank.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import html5lib
import numpy as np
import pandas as pd

from sqis import codes, disclosure, years
from sqis.methodology import Methodology
from sqis.reports.labels import INDICATOR_LABELS

LABEL_TO_INDICATOR = {v: k for k, v in INDICATOR_LABELS.items()}
SVG = "{http://www.w3.org/2000/svg}"
KEY = ["school_code", "student_group", "indicator"]


@dataclass
class Attack:
    """What the attacker read and what it found."""

    m: Methodology
    staff: dict[str, pd.DataFrame]  # truth per year
    public: dict[str, pd.DataFrame]  # the public CSV per year, parsed into intervals
    breaches: list[str] = field(default_factory=list)
    tried: dict[str, int] = field(default_factory=dict)

    def breach(self, kind: str, what: str) -> None:
        self.breaches.append(f"{kind}: {what}")

    def count(self, kind: str, n: int = 1) -> None:
        self.tried[kind] = self.tried.get(kind, 0) + n


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def parse_public(text_frame: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """The attacker's view of each public row: for n, k (numerator) and m (n − k), the exact
    value where shown, else the interval the labels allow."""
    s = m.suppression
    mx, star, under = s.max_count, s.suppressed_label, s.under_nsize_label
    f = text_frame.copy()

    def num(col: str) -> pd.Series:
        return pd.to_numeric(f[col], errors="coerce")

    f["n"] = num("denominator")
    f["k"] = num("numerator")
    f["v"] = num("value")
    f["lvl"] = num("level")
    f["n_exact"] = f["n"].notna()
    f["k_exact"] = f["k"].notna()
    f["v_exact"] = f["v"].notna()
    # n's interval: "*" 1 … (unbounded), "n<20" max_count+1 … n_size−1
    f["n_lo"] = np.where(f["n_exact"], f["n"], np.where(f["denominator"] == under, mx + 1, 1))
    f["n_hi"] = np.where(
        f["n_exact"], f["n"], np.where(f["denominator"] == under, m.n_size - 1, np.inf)
    )
    # k's interval: exact, a range from a coded rate, or 0 … n
    k_lo = np.where(f["k_exact"], f["k"], 0.0)
    k_hi = np.where(f["k_exact"], f["k"], f["n_hi"])
    rng = f["value"].str.extract(r"^([<>])(\d+(?:\.\d+)?)$")
    lt = (rng[0] == "<").to_numpy()
    gt = (rng[0] == ">").to_numpy()
    b = pd.to_numeric(rng[1], errors="coerce").to_numpy()
    n = f["n"].to_numpy()
    with np.errstate(invalid="ignore"):
        k_hi = np.where(lt, np.ceil(b * n / 100.0) - 1, k_hi)
        k_lo = np.where(gt, np.floor(b * n / 100.0) + 1, k_lo)
    f["coded"] = lt | gt
    f["k_lo"], f["k_hi"] = k_lo, k_hi
    # a rate shown exactly gives k back (rate × n, below) — the CSV shows both anyway
    f["m_lo"] = np.where(f["n_exact"], f["n"] - f["k_hi"], 0.0)
    f["m_hi"] = np.where(f["n_exact"], f["n"] - f["k_lo"], f["n_hi"])
    f["hidden_any"] = ~(
        f["n_exact"] & (f["k_exact"] | f["numerator"].eq("")) & (f["v_exact"] | f["value"].eq(""))
    )
    _ = star
    return f


def load(staff_root: Path, public_root: Path, year_list: list[str], m: Methodology) -> Attack:
    staff, public = {}, {}
    for y in year_list:
        st = _read_csv(staff_root / y / "indicators.csv")
        for c in ("numerator", "denominator", "value", "level"):
            st[c] = pd.to_numeric(st[c], errors="coerce")
        staff[y] = st
        public[y] = parse_public(_read_csv(public_root / y / "indicators.csv"), m)
    return Attack(m, staff, public)


def _truth(att: Attack, y: str) -> pd.DataFrame:
    """Truth and public view side by side, one row per public row."""
    t = att.staff[y].rename(columns={"numerator": "tk", "denominator": "tn", "value": "tv"})
    j = att.public[y].merge(t[[*KEY, "tk", "tn", "tv"]], on=KEY, how="left", validate="1:1")
    j["tm"] = j["tn"] - j["tk"]
    return j


def _small(x: float | np.ndarray, m: Methodology) -> np.ndarray:
    s = m.suppression
    return (np.asarray(x) >= s.min_count) & (np.asarray(x) <= s.max_count)


# ---- CSV attacks -------------------------------------------------------------------------
def direct(att: Attack) -> None:
    m = att.m
    mx = m.suppression.max_count
    for y in att.public:
        j = _truth(att, y)
        att.count("direct", len(j))
        for col, t in (("n", "tn"), ("k", "tk"), ("v", "tv")):
            shown = j[col].notna()
            bad = shown & ~np.isclose(j[col], j[t], rtol=0, atol=1e-9)
            for r in j[bad].itertuples():
                att.breach(
                    "direct",
                    f"{y} {r.school_code} {r.student_group} {r.indicator} {col} shown wrong",
                )
        pct = j["indicator"].map(
            lambda i: m.indicators[i].scale == "percent" if i in m.indicators else False
        )
        countlike = pct | (j["indicator"] == "SPED_DISPROP")
        k_small = j["k_exact"] & countlike & ((j["k"] <= mx) | (j["n"] - j["k"] <= mx))
        n_small = j["n_exact"] & (j["n"] < m.n_size)
        for r in j[k_small | n_small].itertuples():
            att.breach(
                "direct", f"{y} {r.school_code} {r.student_group} {r.indicator}: small count shown"
            )
        # a coded range holds the truth and at least max_count + 1 counts
        c = j[j["coded"]]
        inside = (c["tk"] >= c["k_lo"]) & (c["tk"] <= c["k_hi"])
        wide = (c["k_hi"] - c["k_lo"] + 1) >= mx + 1
        for r in c[~(inside & wide)].itertuples():
            att.breach(
                "direct",
                f"{y} {r.school_code} {r.student_group} {r.indicator}: range {r.value} wrong",
            )


def rate_times_n(att: Attack) -> None:
    for y in att.public:
        j = _truth(att, y)
        pct = j["indicator"].map(
            lambda i: att.m.indicators[i].scale == "percent" if i in att.m.indicators else False
        )
        sel = pct & j["v_exact"] & j["n_exact"] & ~j["k_exact"]
        att.count("rate_times_n", int(sel.sum()))
        k = (j["v"] * j["n"] / 100.0).round()
        for r in j[sel & (k == j["tk"])].itertuples():
            att.breach("rate_times_n", f"{y} {r.school_code} {r.student_group} {r.indicator}")


def _qcols(q: str) -> tuple[str, str, str, str]:
    return {
        "n": ("n_lo", "n_hi", "tn", "n"),
        "k": ("k_lo", "k_hi", "tk", "k"),
        "m": ("m_lo", "m_hi", "tm", "m"),
    }[q]


def _solve(
    total: float, lo: np.ndarray, hi: np.ndarray, rounds: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Interval reasoning on Σ parts = total (every part in [lo, hi])."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(rounds):
        s_lo, s_hi = lo.sum(), hi.sum()
        lo = np.maximum(lo, total - (s_hi - hi))
        hi = np.minimum(hi, total - (s_lo - lo))
    return lo, hi


def race_partition(att: Attack) -> None:
    m = att.m
    races = list(codes.RACE_GROUPS)
    for y in att.public:
        j = _truth(att, y)
        for (school, ind), g in j.groupby(["school_code", "indicator"], sort=False):
            a = g[g["student_group"] == "ALL"]
            parts = g[g["student_group"].isin(races)]
            if a.empty or parts.empty:
                continue
            a = a.iloc[0]
            for q in ("n", "k", "m"):
                lo_c, hi_c, t_c, _ = _qcols(q)
                if q == "n":
                    t_known = a["n_exact"]
                    total = a["n"]
                else:
                    if not (a["n_exact"] and a["k_exact"]):
                        continue
                    total = a["k"] if q == "k" else a["n"] - a["k"]
                    t_known = True
                if not t_known or (q != "n" and parts["tk"].isna().all()):
                    continue
                att.count("race_partition")
                lo = parts[lo_c].to_numpy(dtype=float)
                hi = np.where(
                    np.isinf(parts[hi_c].to_numpy(dtype=float)),
                    total,
                    parts[hi_c].to_numpy(dtype=float),
                )
                truth = parts[t_c].to_numpy(dtype=float)
                exact = lo == hi
                # the attacker guesses NR = 0 (Σ parts = ALL): a recovery where the guess is
                # right, i.e. no student is NR (a right answer from a wrong guess is luck)
                nr_n = a["tn"] - parts["tn"].sum()
                plo, phi = _solve(total, lo, hi)
                pinned = (plo == phi) & ~exact & (plo == truth) & (nr_n == 0)
                for gname in parts["student_group"][pinned]:
                    att.breach(
                        "race_partition", f"{y} {school} {ind} {gname} {q} recovered (NR = 0)"
                    )
                # NR's own count, where every race cell is exact
                nr = total - np.nansum(truth)
                if exact.all() and _small(nr, m):
                    att.breach("race_partition", f"{y} {school} {ind} NR {q} = {nr:g} derived")


def complement(att: Attack) -> None:
    m = att.m
    for y in att.public:
        j = _truth(att, y)
        allr = j[j["student_group"] == "ALL"].set_index(["school_code", "indicator"])
        others = j[j["student_group"] != "ALL"]
        x = others.join(
            allr[["n", "k", "n_exact", "k_exact"]], on=["school_code", "indicator"], rsuffix="_all"
        )
        att.count("complement", len(x))
        for q, a, b in (("n", "n_all", "n"), ("k", "k_all", "k")):
            d = x[a] - x[b]
            hit = _small(d, m) & x[a].notna() & x[b].notna()
            for r in x[hit].itertuples():
                att.breach(
                    "complement",
                    f"{y} {r.school_code} {r.indicator} not-{r.student_group} {q} derived",
                )
        mm = (x["n_all"] - x["k_all"]) - (x["n"] - x["k"])
        hit = _small(mm, m) & mm.notna()
        for r in x[hit].itertuples():
            att.breach(
                "complement", f"{y} {r.school_code} {r.indicator} not-{r.student_group} m derived"
            )


def nested(att: Attack) -> None:
    m = att.m
    for y in att.public:
        j = _truth(att, y).set_index(KEY)
        for outer, inner in disclosure.NESTED:
            lv = j.index.get_level_values("indicator")
            o = j[lv == outer].reset_index()
            i = j[lv == inner].reset_index()
            x = o.merge(i, on=["school_code", "student_group"], suffixes=("_o", "_i"))
            att.count("nested", len(x))
            d = x["n_o"] - x["n_i"]
            for r in x[_small(d, m) & d.notna()].itertuples():
                att.breach(
                    "nested", f"{y} {r.school_code} {r.student_group} {outer} n − {inner} n derived"
                )
            # guess: nobody in between (inner = outer), where one side is hidden
            for hid, known in (("i", "o"), ("o", "i")):
                sel = ~x[f"n_exact_{hid}"] & x[f"n_exact_{known}"]
                ok = (x[f"n_{known}"] == x[f"tn_{hid}"]) & sel
                for r in x[ok].itertuples():
                    att.breach(
                        "nested",
                        f"{y} {r.school_code} {r.student_group} {outer}/{inner}: hidden n",
                    )
        for (a, ga, qa), (b, gb, qb) in disclosure.IDENTITIES:
            if a not in m.indicators or b not in m.indicators:
                continue
            va, vb = _cell(j, a, ga, qa), _cell(j, b, gb, qb)
            x = va.join(vb, how="inner", lsuffix="_a", rsuffix="_b")
            if x.empty:
                continue
            cols = list(x.columns)
            ea, ta, eb, tb = cols
            att.count("nested", len(x))
            for sch, r in x.iterrows():
                if pd.notna(r[ea]) and pd.isna(r[eb]) and r[ea] == r[tb]:
                    att.breach("nested", f"{y} {sch} {b}({gb}).{qb} = {a}({ga}).{qa}")
                if pd.notna(r[eb]) and pd.isna(r[ea]) and r[eb] == r[ta] and b != "SPED_DISPROP":
                    att.breach("nested", f"{y} {sch} {a}({ga}).{qa} = {b}({gb}).{qb}")


def _cell(j: pd.DataFrame, ind: str, g: str, q: str) -> pd.DataFrame:
    """One (indicator, group)'s quantity, shown and true, per school."""
    sel = (j.index.get_level_values("indicator") == ind) & (
        j.index.get_level_values("student_group") == g
    )
    return j[sel].reset_index().set_index("school_code")[[q, "t" + q]]


def sped(att: Attack) -> None:
    m = att.m
    for y in att.public:
        j = _truth(att, y)
        sp = j[j["indicator"] == "SPED_DISPROP"].set_index(["school_code", "student_group"])
        swd = j[(j["indicator"] == "SUSP") & (j["student_group"] == "SWD")].set_index("school_code")
        for (school, g), r in sp.iterrows():
            if g == "ALL" or not r["v_exact"]:
                continue
            att.count("sped")
            try:
                a = sp.loc[(school, "ALL")]
            except KeyError:
                continue
            big_n = a["n"] if a["n_exact"] else a["tn"]  # the attacker may know enrolment
            t_swd = swd.loc[school, "n"] if school in swd.index else 0.0
            if pd.isna(t_swd) or not r["n_exact"]:
                continue
            rr, n_g = r["v"], r["n"]
            other = big_n - n_g
            if other <= 0:
                continue
            k = rr * n_g * t_swd / (other + rr * n_g)
            if not r["k_exact"] and round(k) == r["tk"] and abs(k - round(k)) < 1e-6:
                att.breach("sped", f"{y} {school} {g}: SWD count recovered from the ratio")
            for what, d in (
                ("others", other),
                ("other SWD", t_swd - round(k)),
                ("other non-SWD", other - (t_swd - round(k))),
            ):
                if _small(d, m):
                    att.breach("sped", f"{y} {school} {g}: {what} = {d:g} derived from the ratio")
        # ALL's ratio equals a race group's: it must be a shown one's
        for school, g in sp.groupby(level=0):
            if (school, "ALL") not in sp.index:
                continue
            a = sp.loc[(school, "ALL")]
            if not a["v_exact"]:
                continue
            att.count("sped")
            races = g.loc[[i for i in g.index if i[1] in codes.RACE_GROUPS]]
            same_shown = races["v_exact"] & np.isclose(races["v"], a["v"], atol=1e-9, rtol=0)
            same_true = np.isclose(races["tv"], a["v"], atol=1e-9, rtol=0) & ~races["v_exact"]
            if same_true.any() and not same_shown.any():
                att.breach("sped", f"{y} {school}: ALL's ratio gives a hidden race group's")


def school_types(public_root: Path, year: str) -> dict[str, str]:
    """Each school's type, as the public district pages show it."""
    names = {"Elementary": "ES", "Middle": "MS", "High": "HS"}
    out = {}
    for page in (public_root / year / "reports" / "districts").glob("*.html"):
        text = page.read_text("utf-8")
        for code, kind in re.findall(
            r'href="\.\./schools/(\d+)\.html">[^<]*</a></th><td>(\w+)</td>', text
        ):
            out[code] = names.get(kind, kind)
    return out


def level_narrowing(att: Attack, public_root: Path) -> None:
    """A coded rate's level, with the methodology's cut points (public), must leave every one
    of the range's counts possible: else the level narrows the count."""
    from sqis.levels import levels_for

    m = att.m
    for y in att.public:
        types = school_types(public_root, y)
        j = att.public[y]
        c = j[j["coded"] & j["lvl"].notna()]
        for r in c.itertuples():
            st = types.get(r.school_code)
            spec = m.indicators.get(r.indicator)
            if st is None or spec is None or st not in spec.school_types:
                att.breach("levels", f"{y} {r.school_code} {r.indicator}: no school type to check")
                continue
            att.count("levels")
            ks = np.arange(int(r.k_lo), int(r.k_hi) + 1)
            lv = levels_for(100.0 * ks / r.n, m.cuts(r.indicator, st), spec.direction)
            if (lv == r.lvl).sum() < m.suppression.max_count + 1:
                att.breach("levels", f"{y} {r.school_code} {r.student_group} {r.indicator}")


def csv_attacks(att: Attack) -> Attack:
    for f in (direct, rate_times_n, race_partition, complement, nested, sped):
        f(att)
    return att


# ---- HTML attacks ------------------------------------------------------------------------
def _cells(tr: object) -> list[str]:
    return [" ".join("".join(c.itertext()).split()) for c in tr if c.tag in ("td", "th")]  # type: ignore[attr-defined]


def report_rows(html: bytes) -> list[dict[str, str]]:
    """Every indicator row of a school report's tables: group, indicator and the cells."""
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    out = []
    for t in doc.iter("table"):
        cls, tid = t.get("class") or "", t.get("id") or ""
        if cls == "indicators":
            group = "ALL"
        elif tid.startswith("group-"):
            group = tid[len("group-") :]
        else:
            continue
        head = [c for c in _cells(list(t.iter("tr"))[0])]
        for tr in list(t.iter("tr"))[1:]:
            cells = _cells(tr)
            ind = LABEL_TO_INDICATOR.get(cells[0])
            if ind is None:
                continue
            row = dict(zip(head[1:], cells[1:], strict=False))
            row.update(group=group, indicator=ind)
            out.append(row)
    return out


def _num(text: str) -> float:
    t = text.replace(",", "").replace("%", "").replace("+", "").replace("−", "-")
    try:
        return float(t)
    except ValueError:
        return math.nan


def html_attacks(att: Attack, public_root: Path, year: str) -> None:
    """The public school reports of ``year``: change column, rounded rate × n, charts, and
    every shown number against the public CSV."""
    m = att.m
    pub = att.public[year].set_index(KEY)
    prior_year = years.shift(year, -1)
    prior = att.public.get(prior_year)
    prior = prior.set_index(KEY) if prior is not None else None
    truth_prior = att.staff.get(prior_year)
    truth_prior = truth_prior.set_index(KEY) if truth_prior is not None else None
    truth = att.staff[year].set_index(KEY)
    for path in sorted((public_root / year / "reports" / "schools").glob("*.html")):
        school = path.stem
        html = path.read_bytes()
        for r in report_rows(html):
            key = (school, r["group"], r["indicator"])
            att.count("html")
            if key not in pub.index:
                att.breach("html", f"{year} {key}: a row the public CSV does not have")
                continue
            p = pub.loc[key]
            # every number shown is the CSV's
            n_t, v_t, c_t, l_t = (
                r.get("n", ""),
                r.get("Value", ""),
                r.get("Count", ""),
                r.get("Level", ""),
            )
            if not math.isnan(_num(n_t)) and _num(n_t) != p["n"]:
                att.breach("html", f"{year} {key}: n {n_t} is not the CSV's")
            if not math.isnan(_num(c_t)) and _num(c_t) != p["k"]:
                att.breach("html", f"{year} {key}: count {c_t} is not the CSV's")
            tol = 0.5 * 10 ** -_decimals(v_t) + 1e-9
            exact = p["v_exact"] and abs(_num(v_t) - p["v"]) <= tol
            if not math.isnan(_num(v_t)) and not v_t.startswith(("<", ">")) and not exact:
                att.breach("html", f"{year} {key}: value {v_t} is not the CSV's")
            if v_t.startswith(("<", ">")) and v_t.rstrip("%") != p["value"]:
                att.breach("html", f"{year} {key}: range {v_t} is not the CSV's {p['value']}")
            if not math.isnan(_num(l_t)) and _num(l_t) != p["lvl"]:
                att.breach("html", f"{year} {key}: level {l_t} is not the CSV's")
            # rounded rate × n gives back a hidden count
            spec = m.indicators.get(r["indicator"])
            if spec is not None and spec.scale == "percent" and not p["k_exact"]:
                v, n = _num(v_t), _num(n_t)
                if not math.isnan(v) and not math.isnan(n):
                    att.count("html_rate_times_n")
                    if round(v * n / 100.0) == truth.loc[key, "numerator"]:
                        att.breach("html_rate_times_n", f"{year} {key}")
            # the change column against last year's hidden value
            ch = _num(r.get("Change", ""))
            if not math.isnan(ch) and prior is not None and key in prior.index:
                att.count("change")
                pp = prior.loc[key]
                if not pp["v_exact"] and truth_prior is not None and key in truth_prior.index:
                    got = _num(v_t) - ch
                    if abs(got - truth_prior.loc[key, "value"]) < 0.1 + 1e-9:
                        att.breach(
                            "change", f"{year} {key}: last year's hidden value from the change"
                        )
        charts(att, html, f"{year} {school}")


def _decimals(text: str) -> int:
    t = text.replace(",", "").rstrip("%")
    return len(t.split(".")[1]) if "." in t else 0


def charts(att: Attack, html: bytes, where: str) -> None:
    """Every chart's points against its data table: a point only where the table shows a
    number, and the number the table shows."""
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    for fig in doc.iter("figure"):
        svg = fig.find(f"{SVG}svg")
        if svg is None:
            continue
        att.count("charts")
        data = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "data"]
        labels = [t.text or "" for d in data for t in d.iter(f"{SVG}text")]
        plotted = [_num(x) for x in labels if re.fullmatch(r"[-−]?\d+(\.\d+)?", (x or "").strip())]
        # the data table follows the figure
        table = None
        found = False
        for el in doc.iter():
            if el is fig:
                found = True
            elif found and el.tag == "table":
                table = el
                break
        if table is None:
            att.breach("charts", f"{where}: a chart without its table")
            continue
        cells = [c for tr in list(table.iter("tr"))[1:] for c in _cells(tr)[1:]]
        shown = [_num(c) for c in cells if not math.isnan(_num(c))]
        for v in plotted:
            if not any(abs(v - s) <= 0.5 + 1e-9 for s in shown):
                att.breach("charts", f"{where}: a point {v:g} that no table cell shows")
        blank = sum(1 for c in cells if math.isnan(_num(c)) and c not in ("–", ""))
        if len(plotted) > len(shown):
            att.breach(
                "charts",
                f"{where}: {len(plotted)} points for {len(shown)} shown cells ({blank} blank)",
            )
