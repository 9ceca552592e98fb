"""Hot spots: a py-spy profile of one run, summed per function of sqis (and its schemas).

``bench.run --profile-size N`` runs one extra ``run_year`` of size ``N`` under
``py-spy record --format raw`` after that size's timed steps (so the profiler never
touches a timing), and ``hot_spots`` turns the collapsed stacks into the share of samples
spent in each of the project's functions, inclusive (the function and what it calls) and
in the function's own lines, for BENCHMARKS.md. py-spy: ``pip install py-spy``.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

_LINE = re.compile(r":\d+\)$")
OURS = ("sqis/", "schemas/", "flows/", "tasks/")


def py_spy() -> str | None:
    """The py-spy executable beside this Python, or on the PATH (``None``: not installed)."""
    import sys

    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def _frame(f: str) -> str:
    return _LINE.sub(")", f)


def _ours(f: str) -> bool:
    """A function of this project (module-level code, i.e. imports, left out)."""
    return (
        any(f"({p}" in f or f"/{p}" in f for p in OURS)
        and "site-packages" not in f
        and not f.startswith("<module>")
    )


def hot_spots(raw: Path, *, within: str = "run_year", top: int = 25) -> dict[str, Any]:
    """Shares of py-spy samples per function, from a ``--format raw`` file.

    Only stacks that pass through ``within`` count (the run, not imports before it).
    ``inclusive``: the project's functions by the share of samples with them on the
    stack; ``self``: any function (library ones too) by the share where it is on top,
    with the project function nearest below it, which is where a change would go.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(count)
        except ValueError:
            continue
        frames = [_frame(f) for f in stack.split(";")]
        if not any(within in f for f in frames):
            continue
        total += n
        for f in dict.fromkeys(frames):  # once per stack, even when recursive
            if _ours(f):
                inclusive[f] += n
        caller = next((f for f in reversed(frames) if _ours(f)), "")
        own[frames[-1] + (f"  ← {caller}" if caller and caller != frames[-1] else "")] += n
    share = (lambda v: round(100.0 * v / total, 1)) if total else (lambda v: 0.0)
    return {
        "samples": total,
        "inclusive": [[f, share(v)] for f, v in inclusive.most_common(top)],
        "self": [[f, share(v)] for f, v in own.most_common(top)],
    }
