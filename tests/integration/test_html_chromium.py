"""The HTML report opened in headless Chromium: plotly's scripts run offline and draw every
figure, the summary table is there, and a screenshot is kept for people to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import ROOT
from tests.unit.test_html_report import comparison

from treasure.report.html import render_html

pytestmark = pytest.mark.integration

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")
SCRIPT_BUDGET_MS = "20000"  # virtual time for plotly to draw before the DOM is read
SHOWCASE = ROOT / "runs" / "test-artefacts"


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed: run scripts/install-chromium.sh")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("html") / "report.html"
    render_html([comparison()], output)
    return output


def open_in(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, *FLAGS, f"--virtual-time-budget={SCRIPT_BUDGET_MS}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_plot_is_drawn_and_the_table_is_there(browser: str, report: Path) -> None:
    # given a rendered comparison and the plot containers it holds
    plots = set(re.findall(r'id="(plot-[a-z-]+)"', report.read_text()))
    # when Chromium has run its scripts
    done = open_in(browser, "--dump-dom", report.as_uri())
    # then every container holds plotly's drawn SVG
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    drawn = set(re.findall(r'<div id="(plot-[a-z-]+)" class="[^"]*js-plotly-plot', dom))
    assert plots
    assert drawn == plots
    assert dom.count('class="main-svg"') >= len(plots)
    # and the summary table has its header and one row per run
    summary = dom.partition('<table class="speed">')[2].partition("</table>")[0]
    assert summary.count("<tr>") == 3
    assert "pyyaml-dom" in summary
    assert "pyyaml-stream" in summary


@pytest.mark.parametrize(
    ("name", "size"), [("report.png", "1400,2400"), ("report-top.png", "1400,1000")]
)
def test_screenshot_is_kept_for_people(
    browser: str, report: Path, tmp_path: Path, name: str, size: str
) -> None:
    # given a rendered comparison
    screenshot = tmp_path / name
    # when Chromium takes a screenshot of it (the whole page, and its top as a reader first
    # sees it: the headline and the summary tables)
    done = open_in(browser, f"--screenshot={screenshot}", f"--window-size={size}", report.as_uri())
    # then a PNG is written, and a copy is kept under runs/test-artefacts
    assert done.returncode == 0, done.stderr[-2000:]
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    SHOWCASE.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, SHOWCASE / name)
    print(f"report screenshot: {SHOWCASE / name}")
