"""The outputs of three years of the test consortium, as SHA-256 digests: the reference a
refactor must leave unchanged (issue 22: "behaviour unchanged … byte-identical before and
after").

``annual_digests()`` runs the test consortium (``tests.consortium``: 1,500 students, 2
districts, 2013-14 to 2015-16) through ``sqis.pipeline.run_cycle`` on a fresh store, in
order, and returns the digest of every file each year published in both editions (the
manifests' checksums, keyed ``<year>/<file>``; the manifests themselves hold run ids and
times, so they are left out) and of each results-store table, read back sorted.
``tests/golden/annual_outputs.json`` holds the digests of the commit that recorded them;
``tests/test_golden_outputs.py`` compares.

Digests are of bytes, with one allowance: the text of a CSV file or a table is digested with
every decimal number written to ``SIGNIFICANT`` significant digits. The growth model's
least squares run in OpenBLAS, whose kernel is chosen by the CPU: the same code gives an
educator growth measure of ``-4.829114414970611`` on an AMD or Haswell kernel and
``-4.829114414970905`` on an AVX-512 one (``OPENBLAS_CORETYPE=SkylakeX`` shows it on any
x86 machine), a difference in the 13th digit that is no change of behaviour. Reports,
whose numbers are rounded for reading, are digested as written.

A change that is meant to change an output records the new digests on purpose:

    make golden        # python -m tests.golden: rewrites tests/golden/annual_outputs.json

and the commit says which outputs changed and why (``git diff`` of the JSON names them).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

GOLDEN = Path(__file__).with_name("golden") / "annual_outputs.json"
# the results store's tables whose rows the reports are made from (read back sorted)
TABLES = (
    "indicators",
    "index_scores",
    "designations",
    "partnerships",
    "communities",
    "district_index",
    "educator_results",
    "educator_distribution",
)


# decimals beyond the CPU's last bits (see the module docstring): 8 of a double's ~16
SIGNIFICANT = 8
_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?(?![\w.])")


def stable_text(text: str) -> str:
    """``text`` with every decimal number written to ``SIGNIFICANT`` significant digits."""
    return _DECIMAL.sub(lambda m: format(float(m.group()), f".{SIGNIFICANT}g"), text)


def _digest(text: str) -> str:
    return hashlib.sha256(stable_text(text).encode()).hexdigest()


def annual_digests(work: Path) -> dict[str, str]:
    """``{"<year>/<file>" or "table/<name>": sha256}`` of three years run in order."""
    from sqis import pipeline
    from sqis.store import open_store
    from tests.consortium import YEARS, consortium, pseudonym_key, run_config

    cfg = run_config(work, consortium(), force=None)  # in order, on a fresh store: not forced
    with pseudonym_key():
        results = pipeline.run_cycle(YEARS, cfg)
    roots = cfg.resolved()
    digests: dict[str, str] = {}
    for res in results:
        for key, sha in res.output_checksums.items():
            if key.endswith(".csv"):
                public = key.startswith("public/")
                path = (
                    Path(roots.public_root) / res.year / key.removeprefix("public/")
                    if public
                    else Path(roots.out_root) / res.year / key
                )
                sha = _digest(path.read_text(encoding="utf-8"))
            digests[f"{res.year}/{key}"] = sha
    store = open_store(cfg.db_url)
    for name in TABLES:
        frame = store.read(name)
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        digests[f"table/{name}"] = _digest(frame.to_csv(index=False, lineterminator="\n"))
    return dict(sorted(digests.items()))


def differences(expected: dict[str, str], got: dict[str, str]) -> list[str]:
    """What differs, one line each: changed, missing and new keys."""
    lines = [f"changed: {k}" for k in sorted(expected.keys() & got.keys()) if expected[k] != got[k]]
    lines += [f"missing: {k}" for k in sorted(expected.keys() - got.keys())]
    lines += [f"new: {k}" for k in sorted(got.keys() - expected.keys())]
    return lines


def main() -> int:
    from tests.consortium import private_tmp

    digests = annual_digests(private_tmp("sqis-golden-"))
    old = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    changes = differences(old, digests)
    print(f"{GOLDEN}: {len(digests)} digests; {len(changes)} differ from before")
    for line in changes[:50]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
