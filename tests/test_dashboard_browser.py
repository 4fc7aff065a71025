"""The dashboard in a real browser: `cohesion dashboard` on a loopback port, driven by headless
Chromium (Debian's package) through Playwright.

The test selects a scenario, presses Reset and Play, waits past the survey's endline week,
pauses, and checks that the charts' numbers, this week's values and the survey table on the
page are those of a direct run of the same scenario and seed. A screenshot is saved in
tests/artifacts/. Where Chromium is not installed (``.ci/run`` installs it when it can), or
solara's browser assets cannot be had, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from experiments import dashboard as dash
from experiments.drawing import CHART_METRICS, survey_wide, weekly
from model import CohesionModel, Params
from scenarios import LIBRARY, load_scenario

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCENARIO = "iom_integrated" if (LIBRARY / "iom_integrated.yaml").is_file() else "qayyarah"
SEED = 7


def _browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc}); pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does "
                    "this when run as root)")
    missing = dash.fetch_assets()
    if missing:
        pytest.skip(f"solara's browser assets {missing} are not cached and npm could not fetch them")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    _browser_or_skip()
    port = _free_port()
    log = open(ARTIFACTS.mkdir(exist_ok=True) or ARTIFACTS / "dashboard-server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "dashboard", "--port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"dashboard server did not start; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the command and the solara server it started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _shown_week(page) -> int:
    text = page.get_by_test_id("current-values-block").locator("tbody tr").first.inner_text()
    return int(text.split()[-1])


def _table(page, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        selector, "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(td => td.innerText.trim()))")


def test_dashboard_in_a_browser_matches_a_direct_run(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.set_default_timeout(60_000)
            page.goto(server)
            expect(page.get_by_test_id("current-values-block")).to_contain_text("qayyarah")

            # pick the scenario in the sidebar and apply it
            page.locator(".v-select").filter(has_text="scenario").first.click()
            page.locator(".menuable__content__active .v-list-item").filter(has_text=SCENARIO).first.click()
            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_test_id("current-values-block").locator("thead")).to_contain_text(SCENARIO)
            assert _shown_week(page) == 0

            # play past the endline, then pause
            spec = load_scenario(dash.library()[SCENARIO])
            target = spec.survey.endline_week + 2
            started = time.monotonic()
            page.get_by_role("button", name="▶").click()
            deadline = time.monotonic() + 180
            while _shown_week(page) < target:
                assert time.monotonic() < deadline, f"the page did not reach week {target} in 180 s"
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            page.get_by_role("button", name="❚❚").click()
            week = _shown_week(page)
            time.sleep(2.0)
            while _shown_week(page) != week:  # a step under way when pausing finishes first
                week = _shown_week(page)
                time.sleep(1.0)
            print(f"browser: {week} weeks in {elapsed:.1f} s of play, {elapsed / week:.2f} s per week "
                  f"(play interval 50 ms included)")

            page.get_by_text("numbers behind the charts").click()
            chart_rows = _table(page, "table.chart-data tbody tr")
            survey_rows = page.eval_on_selector_all(
                "table.survey tbody tr",
                "rows => rows.map(r => [r.dataset.item, r.dataset.split, "
                "...Array.from(r.querySelectorAll('td')).slice(2).map(td => td.innerText.trim())])")
            images = page.eval_on_selector_all("img", "imgs => imgs.filter(i => i.naturalWidth > 300).length")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    direct = CohesionModel(spec, Params(), rng=SEED).run(week)

    # the charts' numbers: every week so far, every charted metric
    expected = weekly(direct)
    assert len(chart_rows) == week + 1 == len(expected)
    shown = np.array([[float(x) for x in row[1:]] for row in chart_rows])
    np.testing.assert_allclose(shown[:, 0], expected.week)
    np.testing.assert_allclose(shown[:, 1:], expected[list(CHART_METRICS)].to_numpy(), atol=6e-5)
    assert images >= 2, "network and charts pictures"

    # the survey table: both waves, every item and split, and the respondents behind them
    wide = survey_wide(direct)
    assert wide.endline.notna().any()
    fmt = lambda v: "" if np.isnan(v) else f"{100 * v:.1f}%"  # noqa: E731
    want = [[r.item, r.split, fmt(r.baseline), fmt(r.endline), str(int(r.n))] for r in wide.itertuples()]
    assert survey_rows == want
