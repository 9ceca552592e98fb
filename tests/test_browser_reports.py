"""Headless Chromium loads a Focus school report and an Oversight report from disk.

Screenshots go to tests/artifacts/ (gitignored) for a person to look at. Chromium is a
system package: `make deps-system` installs it (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sqis import methodology
from sqis.reports import render_oversight, render_year_reports, sample

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
M = methodology.for_year("2015-16")


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("headless Chromium is not installed: run `make deps-system`")
    return exe


def run_chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1280,2000",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = sample.build(M)
    out = render_year_reports(f, M, pdf="none")
    out.update(render_oversight(f, "fall", M))
    root = tmp_path_factory.mktemp("site")
    for key, data in out.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root


@pytest.mark.parametrize(
    ("key", "name", "must_have"),
    [
        (
            f"reports/schools/{sample.SCHOOLS['school_code'].iloc[1]}.html",
            "focus-school",
            [
                'id="data-report"',
                "Focus school data report",
                "Reason for identification",
                'id="trend-reason"',
                'id="trend-sqii"',
                'id="community"',
                "Two-year plan",
                "Niños",
            ],
        ),
        (
            "reports/oversight-2016-17-fall.html",
            "oversight-fall",
            [
                "Oversight Panel report, Fall 2016-17",
                'id="district-0161119"',
                'id="district-1964733"',
                "What the n-size of 20 buys",
                "Subgroup gaps",
            ],
        ),
    ],
)
def test_chromium_renders_the_report(
    published: Path, tmp_path: Path, key: str, name: str, must_have: list[str]
) -> None:
    url = (published / key).as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    run_chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}")
    assert shot.exists() and shot.stat().st_size > 20_000  # a page, not a blank
    dom = run_chromium(url, tmp_path / "profile-dom", "--dump-dom").stdout
    for text in must_have:
        assert text in dom, text
    assert dom.count('<svg role="img"') >= 2  # the charts survived as inline SVG
    assert "<title>" in dom and "</svg>" in dom


def test_staff_and_public_reports_of_one_school_side_by_side(tmp_path: Path) -> None:
    """METHODOLOGY.md "Two editions": the staff and the public report of the same school,
    screenshot side by side (tests/artifacts/staff-vs-public.png) — the staff edition shows
    every count, the public one its notices where a cell is blank."""
    from PIL import Image

    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_reports

    f = sample.build(M)
    code = sample.SCHOOLS["school_code"].iloc[0]  # Priority: a group of 8, small counts
    key = f"reports/schools/{code}.html"
    staff = render_year_reports(f, M, pdf="none", generated="2016-08-01")[key]
    public = render_public_reports(public_frames(f, M), M, "2016-08-01")[key]
    ARTIFACTS.mkdir(exist_ok=True)
    shots = []
    for name, data, must in (
        ("staff", staff, ["Staff edition — confidential", "data report"]),
        ("public", public, ["Public edition", "not shown to protect student privacy"]),
    ):
        page = tmp_path / name / key
        page.parent.mkdir(parents=True)
        page.write_bytes(data)
        shot = ARTIFACTS / f"edition-{name}.png"
        shot.unlink(missing_ok=True)
        run_chromium(
            page.as_uri(), tmp_path / f"p-{name}", "--window-size=1000,2600", f"--screenshot={shot}"
        )
        assert shot.exists() and shot.stat().st_size > 20_000
        dom = run_chromium(page.as_uri(), tmp_path / f"d-{name}", "--dump-dom").stdout
        for text in must:
            assert text in dom, (name, text)
        shots.append(Image.open(shot).convert("RGB"))
    gap = 24
    side = Image.new(
        "RGB",
        (sum(s.width for s in shots) + gap, max(s.height for s in shots)),
        "white",
    )
    side.paste(shots[0], (0, 0))
    side.paste(shots[1], (shots[0].width + gap, 0))
    out = ARTIFACTS / "staff-vs-public.png"
    side.save(out)
    assert out.stat().st_size > 50_000
