"""Every output of three years of the test consortium is byte-identical to the digests on
record (``tests/golden.py``): a refactor leaves every report, CSV and table of both
editions as it was. A change meant to change outputs records new digests (``make golden``)
and says why in its commit."""

from __future__ import annotations

import json

from tests.consortium import private_tmp
from tests.golden import GOLDEN, annual_digests, differences


def test_three_years_of_outputs_are_byte_identical_to_the_digests_on_record() -> None:
    """Rendered in the run's own process (the tests' setting); the flow's reports rendered
    by worker processes are held to run_year's bytes in tests/test_flows.py."""
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = annual_digests(private_tmp("sqis-golden-"))
    assert any(k.startswith("2015-16/public/") for k in got)  # both editions compared
    assert any(k.startswith("table/") for k in got)
    changes = differences(expected, got)
    assert not changes, (
        f"{len(changes)} outputs differ from {GOLDEN.name} (run `make golden` if the change "
        "is meant, and say why in the commit):\n" + "\n".join(changes[:40])
    )
