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


def test_only_a_cpus_last_digits_are_allowed_for() -> None:
    """The allowance of ``stable_text`` (the growth model's last bits on another OpenBLAS
    kernel) hides no change a reader could see, and leaves codes, keys and dates alone."""
    from tests.golden import stable_text

    # the two kernels' educator growth measures (module docstring) read the same
    assert stable_text("x,-4.829114414970611,2") == stable_text("x,-4.829114414970905,2")
    assert stable_text("2.7600000000000002") == stable_text("2.76")
    # a change in a shown digit is a change
    assert stable_text("2.76") != stable_text("2.77")
    assert stable_text("-4.8291144") != stable_text("-4.8291145")
    untouched = "10100006003984,a7180334f6aaaa23.3a2,2015-10-20,v1.2.3,n<20,95"
    assert stable_text(untouched) == untouched
