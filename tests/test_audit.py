"""``sqis audit --year`` shows, for every run of the year, who ran it, when, the input
checksums, the methodology version and the output checksums (issue 10, SECURITY.md
"Results").

Two runs of the same year by two people; the checksums the audit must show are computed
here from the delivered files and the published files themselves, not taken from sqis.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.consortium import KEY, YEAR, YEARS, consortium, private_tmp, run_config

pytestmark = [pytest.mark.slow]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqis.settings import reset_settings_cache

    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _published(out: Path) -> dict[str, str]:
    """SHA-256 of every file published for the year (the manifest itself aside)."""
    ydir = out / YEAR
    return {
        p.relative_to(ydir).as_posix(): _sha(p)
        for p in ydir.rglob("*")
        if p.is_file()
        and p.name != "manifest.json"
        and not any(part.startswith(".") for part in p.relative_to(ydir).parts)
    }


def _blocks(text: str) -> list[str]:
    """The audit's text, one block per run (each starts with ``run <id>``)."""
    starts = [m.start() for m in re.finditer(r"(?m)^run \d+ ", text)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def test_audit_shows_who_when_inputs_methodology_and_outputs_of_every_run() -> None:
    from sqis import pipeline
    from sqis.methodology import for_year
    from sqis_cli import app

    work = private_tmp("sqis-audit-")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    outputs = []
    for who in ("alice.ops", "bob.analyst"):
        pipeline.run_year(YEAR, run_config(work, run_by=who))
        outputs.append(_published(work / "out"))
    assert outputs[0] and outputs[0] == outputs[1]  # the same delivery, the same outputs

    inputs = {
        f"{y}/{p.stem}": _sha(p) for y in YEARS for p in sorted((consortium() / y).glob("*.csv"))
    }
    # six contract files, this year and the two before; educators and rosters from the pilot
    assert len(inputs) == 18 + 4
    m = for_year(YEAR)

    url = f"sqlite:///{work / 'results.db'}"
    done = CliRunner().invoke(app, ["audit", "--year", YEAR, "--db", url])
    assert done.exit_code == 0, done.output
    blocks = _blocks(done.output)
    assert len(blocks) == 2
    for block, who, published in zip(blocks, ("alice.ops", "bob.analyst"), outputs, strict=True):
        assert "SUCCEEDED" in block and f"by {who}" in block
        assert re.search(rf"started {today} \d\d:\d\d", block), block[:300]
        assert re.search(rf"finished {today} \d\d:\d\d", block), block[:300]
        assert m.version in block and m.checksum in block
        for name, sha in inputs.items():
            assert re.search(rf"(?m)^\s+{re.escape(name)}\s+{sha}$", block), name
        for key, sha in published.items():
            assert re.search(rf"(?m)^\s+{re.escape(key)}\s+{sha}$", block), key


def test_audit_of_a_year_never_run_and_of_a_bad_year() -> None:
    from sqis_cli import app

    work = private_tmp("sqis-audit-empty-")
    url = f"sqlite:///{work / 'results.db'}"
    from sqis.store import ResultsStore

    ResultsStore(url).upgrade()
    done = CliRunner().invoke(app, ["audit", "--year", YEAR, "--db", url])
    assert done.exit_code == 0 and f"no runs of {YEAR}" in done.output
    bad = CliRunner().invoke(app, ["audit", "--year", "2015-17", "--db", url])
    assert bad.exit_code == 2 and "error:" in bad.output and "Traceback" not in bad.output
