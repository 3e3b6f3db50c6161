"""The HTML report in a real browser: headless Chromium renders it offline, without errors.

Chromium is Debian's ``chromium`` package (``apt-get install -y chromium``); the tests skip
with that hint when it is not installed. DNS is mapped to nowhere for the run, so any
network fetch the page attempted would show up as a console error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bedrock_cost.adapters.duckdb_engine import DuckDBEngine
from bedrock_cost.config_loader import load_config_file
from bedrock_cost.reporting_html import render_html_report
from bedrock_cost.sample_data.cur_generator import generate_cur

pytestmark = pytest.mark.browser

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
WIDTH, HEIGHT = 1100, 1600


def chromium(profile: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with no sandbox, no background traffic, a throwaway profile and no DNS."""
    if CHROMIUM is None:
        pytest.skip("headless Chromium not found: install Debian's 'chromium' package (apt-get install -y chromium)")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def console_messages(stderr: str) -> list[str]:
    """Lines Chromium logs for the page's console (errors, uncaught exceptions, failed loads)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    generate_cur(root / "cur", "2026-10", rows=30_000, seed=7, months=2)
    config = load_config_file(EXAMPLE)
    engine = DuckDBEngine.open(root / "cur", config.report_tag_keys)
    try:
        path = root / "report.html"
        path.write_text(render_html_report(engine, "2026-10", config), encoding="utf-8")
    finally:
        engine.close()
    return path


def test_the_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    # Given a page whose script throws
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>throw new Error('boom')</script>", encoding="utf-8")
    # When Chromium loads it
    result = chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    # Then the uncaught error is seen (so a clean report below means something)
    assert any("Uncaught Error: boom" in line for line in console_messages(result.stderr)), result.stderr[-2000:]


def test_report_runs_its_script_without_console_errors_offline(report_file: Path, tmp_path: Path) -> None:
    # When Chromium loads the report with DNS mapped to nowhere
    result = chromium(tmp_path / "profile", "--dump-dom", report_file.as_uri())
    # Then the page's script ran to its end (it marks the root element last) ...
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r'<html[^>]*data-report-ready="1"', result.stdout), result.stdout[:500]
    # ... and the console stayed silent: no exception, no failed fetch
    assert console_messages(result.stderr) == []
    # And the charts are in the live DOM
    assert result.stdout.count("<svg") >= 5


def test_report_screenshot_is_a_rendered_page_not_a_blank_one(report_file: Path, tmp_path: Path) -> None:
    # When Chromium takes a screenshot of the report
    shot = tmp_path / "report.png"
    result = chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        report_file.as_uri(),
    )
    assert shot.is_file(), result.stderr[-2000:]
    # Then it has the requested size and real content: ink, colour and variance
    with Image.open(shot) as image:
        assert image.size == (WIDTH, HEIGHT)
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    not_white = (pixels < 240).any(axis=2).mean()
    coloured = (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean()
    assert not_white > 0.05, f"only {not_white:.1%} of the page has ink"
    assert coloured > 0.02, f"only {coloured:.1%} of the page is coloured (charts missing?)"
    assert pixels.std() > 20
