"""mypy over the layers (issue 22): ``sqis/``, ``schemas/``, ``tasks/``, ``flows/``.

One mypy run without the ratchet's ``ignore_errors``: every module outside the ratchet
(``[[tool.mypy.overrides]]`` in pyproject.toml) must have no error, and every module on
it must still have one (a module fixed leaves the list, so the list only shrinks).
``make lint`` runs mypy with the ratchet, as configured.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ratchet() -> list[str]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    return [m for o in cfg.get("overrides", []) if o.get("ignore_errors") for m in o["module"]]


def _module(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")


@pytest.mark.slow
def test_mypy_passes_outside_the_ratchet_and_the_ratchet_only_shrinks(tmp_path: Path) -> None:
    from mypy import api

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    ini = tmp_path / "mypy.ini"
    ini.write_text(
        "[mypy]\n"
        f"python_version = {cfg['python_version']}\n"
        f"ignore_missing_imports = {cfg['ignore_missing_imports']}\n"
        f"exclude = {'|'.join(cfg['exclude'])}\n"
        f"files = {', '.join(cfg['files'])}\n",
        encoding="utf-8",
    )
    out, err, _ = api.run(
        ["--config-file", str(ini), "--cache-dir", str(tmp_path / "cache"), "--no-pretty"]
    )
    assert "error: " not in err, err  # mypy itself ran (a config or crash problem)
    failing = {
        _module(m[1])
        for m in re.finditer(r"^([\w/]+\.py):\d+: error:", out, flags=re.M)
        if m[1].split("/")[0] in cfg["files"]
    }
    ratchet = set(_ratchet())
    assert sorted(failing - ratchet) == [], out
    assert sorted(ratchet - failing) == [], "type-clean now: take them off the ratchet"
