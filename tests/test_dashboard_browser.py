"""The dashboard in a real browser: `cohesion dashboard` on a loopback port, driven by headless
Chromium (Debian's package) through Playwright.

The test selects a scenario, presses Reset and Play, waits past the survey's endline week,
pauses, and checks that the charts' numbers, this week's values and the survey table on the
page are those of a direct run of the same scenario and seed. A screenshot is saved in
tests/artifacts/. Where Chromium is not installed (``.ci/run`` installs it when it can), or
solara's browser assets cannot be had, the test is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments import dashboard as dash
from experiments.drawing import chart_metrics, survey_wide, weekly
from model import CohesionModel
from scenarios import LIBRARY, load_scenario
from tests.conftest import build, regrouped_raw
from tests.test_groups import FIVE

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


@contextlib.contextmanager
def _serve(name: str, library: Path | None = None):
    """``cohesion dashboard`` on a free loopback port (on ``library``, default the project's)."""
    _browser_or_skip()
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"{name}.log", "w")  # noqa: SIM115 (open while the server runs)
    extra = ["--library", str(library)] if library else []
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "dashboard", "--port", str(port), *extra],
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


@pytest.fixture(scope="module")
def server():
    with _serve("dashboard-server") as url:
        yield url


@pytest.fixture(scope="module")
def five_group_server(tmp_path_factory):
    """A library of one scenario whose population has five groups, one of each role."""
    folder = tmp_path_factory.mktemp("library")
    raw = regrouped_raw(FIVE, scale=8, name="five_groups")
    (folder / "five_groups.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    with _serve("dashboard-five-groups", folder) as url:
        yield url


def _shown_week(page) -> int:
    text = page.get_by_test_id("current-values-block").locator("tbody tr").first.inner_text()
    return int(text.split()[-1])


def _launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _open(browser, server: str, first: str = "qayyarah"):
    """A page on the dashboard, loaded (a loaded machine serves the first page slowly)."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1600, "height": 1300})
    page.set_default_timeout(150_000)
    expect.set_options(timeout=150_000)
    page.goto(server)
    expect(page.get_by_test_id("current-values-block")).to_contain_text(first)
    return page


def _select(page, label: str, option: str) -> None:
    """Choose ``option`` in the sidebar's selector labelled ``label``."""
    from playwright.sync_api import expect

    select = page.locator(".v-select").filter(has_text=label).first
    select.click()
    menu = page.locator(".menuable__content__active .v-list-item").filter(has_text=option).first
    menu.wait_for(state="visible")
    menu.click()
    expect(select).to_contain_text(option)


def _chart_data(page) -> dict[int, np.ndarray]:
    """The numbers behind the charts, per run: rows of week and ``chart_metrics``."""
    page.get_by_text("numbers behind the charts").click()
    rows = page.eval_on_selector_all(
        "table.chart-data tbody tr",
        "rows => rows.map(r => [r.dataset.run, "
        "...Array.from(r.querySelectorAll('td')).slice(1).map(td => td.innerText)])")
    runs: dict[int, list] = {}
    for run, *values in rows:
        runs.setdefault(int(run), []).append([float(v) for v in values])
    return {k: np.array(v) for k, v in runs.items()}


def _assert_charts_match(shown: np.ndarray, direct: CohesionModel) -> None:
    expected = weekly(direct)
    metrics = list(chart_metrics(direct.groups))
    assert shown.shape == (len(expected), 1 + len(metrics))
    np.testing.assert_allclose(shown[:, 0], expected.week)
    np.testing.assert_allclose(shown[:, 1:], expected[metrics].to_numpy(), atol=6e-5)


def test_dashboard_in_a_browser_matches_a_direct_run(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = _open(browser, server)
            base, _ = dash.base_params()  # what the page's next Reset starts from

            # pick the scenario in the sidebar and apply it
            _select(page, "scenario", SCENARIO)
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
            pause = page.get_by_role("button", name="❚❚")
            if pause.is_enabled():  # (disabled once the run has reached its horizon by itself)
                pause.click()
            week = _shown_week(page)
            time.sleep(2.0)
            while _shown_week(page) != week:  # a step under way when pausing finishes first
                week = _shown_week(page)
                time.sleep(1.0)
            print(f"browser: {week} weeks in {elapsed:.1f} s of play, {elapsed / week:.2f} s per week "
                  f"(play interval 50 ms included)")

            shown = _chart_data(page)
            survey_rows = page.eval_on_selector_all(
                "table.survey tbody tr",
                "rows => rows.map(r => [r.dataset.item, r.dataset.split, "
                "...Array.from(r.querySelectorAll('td')).slice(2).map(td => td.innerText.trim())])")
            images = page.eval_on_selector_all("img", "imgs => imgs.filter(i => i.naturalWidth > 300).length")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    direct = CohesionModel(spec, base, rng=SEED).run(week)

    # the charts' numbers: every week so far, every charted metric
    assert list(shown) == [0] and len(shown[0]) == week + 1
    _assert_charts_match(shown[0], direct)
    assert images >= 2, "network and charts pictures"

    # the survey table: both waves, every item and split, and the respondents behind them
    wide = survey_wide(direct)
    assert wide.endline.notna().any()
    fmt = lambda v: "" if np.isnan(v) else f"{100 * v:.1f}%"  # noqa: E731
    want = [[r.item, r.split, fmt(r.baseline), fmt(r.endline), str(int(r.n))] for r in wide.itertuples()]
    assert survey_rows == want


def test_side_by_side_in_the_browser_runs_two_scenarios_on_one_seed(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = _open(browser, server)
            base, _ = dash.base_params()  # what the page's next Reset starts from
            _select(page, "side by side", "no_intervention")
            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_test_id("current-values-block").locator("thead")).to_contain_text("no_intervention")
            for week in (1, 2, 3):
                page.get_by_role("button", name="Step").click()
                expect(page.get_by_test_id("current-values-block").locator("tbody tr").first).to_have_text(
                    re.compile(rf"^week\s*{week}\s*{week}$"))
            shown = _chart_data(page)
            # shading by well-being instead of attitude redraws both networks
            square = ("imgs => imgs.filter(i => i.naturalWidth > 300 && i.naturalWidth == i.naturalHeight)"
                      ".map(i => i.src)")
            before = page.eval_on_selector_all("img", square)
            page.get_by_role("button", name="wellbeing").click()
            page.wait_for_function(f"() => Array.from(document.images).filter(i => i.naturalWidth > 300 && "
                                   f"i.naturalWidth == i.naturalHeight && !{before!r}.includes(i.src)).length == 2")
            networks = page.eval_on_selector_all("img", "imgs => imgs.filter(i => i.naturalWidth > 300).length")
            surveys = page.locator("table.survey").count()
            page.screenshot(path=str(ARTIFACTS / "dashboard-side-by-side.png"), full_page=True)
        finally:
            browser.close()

    for k, name in enumerate(["qayyarah", "no_intervention"]):
        direct = CohesionModel(load_scenario(dash.library()[name]), base, rng=SEED).run(3)
        _assert_charts_match(shown[k], direct)
    assert networks >= 3, "two networks and the charts"
    assert surveys == 2, "a survey table per run"


def test_a_population_of_five_groups_in_the_browser(five_group_server):
    """Any set of groups: five, one of each role, charted and surveyed by group on the page."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page = _open(browser, five_group_server, first="five_groups")
            base, _ = dash.base_params()
            for week in (1, 2, 3):
                page.get_by_role("button", name="Step").click()
                expect(page.get_by_test_id("current-values-block").locator("tbody tr").first).to_have_text(
                    re.compile(rf"^week\s*{week}$"))
            shown = _chart_data(page)
            values = page.get_by_test_id("current-values-block").inner_text()
            survey_groups = page.eval_on_selector_all("table.survey tbody tr", "rows => rows.map(r => r.dataset.split)")
            page.screenshot(path=str(ARTIFACTS / "dashboard-five-groups.png"), full_page=True)
        finally:
            browser.close()
    direct = CohesionModel(build(regrouped_raw(FIVE, scale=8, name="five_groups")), base, rng=SEED).run(3)
    _assert_charts_match(shown[0], direct)
    assert all(g in values for g in FIVE)
    assert set(FIVE) <= set(survey_groups)
