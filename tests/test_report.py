"""`cohesion report`: one self-contained HTML page of a comparison (or of a plan folder), opened
in a real browser (Debian's Chromium through Playwright, as the dashboard's browser test)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.report import folder_kind, html_report
from tests.test_compare_cea import handover_raw, none_raw
from tests.test_runner_support import tiny_raw, write_scenario

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """A comparison folder made by the command (tiny population, 3 replicates)."""
    d = tmp_path_factory.mktemp("report")
    files = [write_scenario(tiny_raw(name="tiny"), d / "tiny.yaml"), write_scenario(handover_raw(), d / "hand.yaml")]
    none = write_scenario(none_raw(), d / "none.yaml")
    out = d / "compare"
    res = CliRunner().invoke(app, ["compare", *map(str, files), "--reference", str(none), "--replicates", "3",
                                   "--params", "defaults", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_compare_report_is_one_self_contained_page(compared, tmp_path):
    res = CliRunner().invoke(app, ["report", str(compared)])
    assert res.exit_code == 0, res.output
    page = (compared / "report.html").read_text(encoding="utf-8")
    for heading in ("The question", "What to conclude", "Ranking and its uncertainty", "Cost-effectiveness",
                    "Best buy at each budget", "Harm", "The assumptions that matter most", "Cost assumptions"):
        assert heading in page, heading
    assert "No sensitivity sweep" in page
    images = re.findall(r"<img [^>]*src='([^']*)'", page)
    assert len(images) >= 4 and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", page)      # nothing loaded from anywhere
    ranking = pd.read_csv(compared / "ranking.csv")
    for r in ranking.itertuples():                                      # the ranking with P(best)
        assert r.scenario in page
    assert "P(best)" in page and "harm_if_below_baseline" not in page   # the flags said in words


def test_report_names_the_assumptions_that_matter_most_from_a_sweep(compared, tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    pd.DataFrame({"outcome": ["acceptance"] * 3 + ["wellbeing"], "factor": ["w_stigma", "contact_rate", "dropout", "x"],
                  "S1": [0.1, 0.5, 0.0, 0.9], "S1_conf": 0.01, "ST": [0.2, 0.6, 0.01, 0.95], "ST_conf": 0.01}
                 ).to_csv(sweep / "indices.csv", index=False)
    path = html_report(compared, sweep=sweep, out=tmp_path / "r.html")
    page = path.read_text(encoding="utf-8")
    section = page[page.index("The assumptions that matter most"):]
    assert section.index("contact_rate") < section.index("w_stigma") < section.index("dropout")
    assert ">x<" not in section                                        # another outcome's factor


def test_a_plan_folder_is_reported_with_what_it_holds(tmp_path):
    plan = tmp_path / "plan"
    plan.mkdir()
    pd.DataFrame({"trial": [3, 8], "cost": [90_000, 140_000], "acceptance_min": [0.41, 0.47]}).to_csv(
        plan / "pareto.csv", index=False)
    (plan / "summary.json").write_text(json.dumps({"budget": 150000, "finding": "no plan under 60,000 USD keeps "
                                                   "every village above its baseline", "trials": [1, 2]}))
    (plan / "recommended.yaml").write_text("name: recommended\nprogramme: []\n")
    (plan / "pareto.png").write_bytes(PNG)
    assert folder_kind(plan) == "plan"
    page = html_report(plan).read_text(encoding="utf-8")
    assert "Pareto front" in page and "140,000" in page and "no plan under 60,000 USD" in page
    assert "name: recommended" in page and "data:image/png;base64," in page


def test_a_folder_of_neither_kind_is_the_projects_error(tmp_path):
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "cohesion compare" in res.output
    res = CliRunner().invoke(app, ["report", str(tmp_path / "absent")])
    assert res.exit_code == 2 and "not a folder" in res.output


def test_report_opens_in_a_browser_without_the_network(compared):
    """Chromium opens the page from disk with every request outside it refused: the page renders,
    its images decode, nothing was asked of the network."""
    from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc}); pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    path = html_report(compared)
    asked = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", lambda route: (asked.append(route.request.url), route.abort())
                   if not route.request.url.startswith(("file:", "data:")) else route.continue_())
        page.goto(path.resolve().as_uri())
        assert page.title() == "Comparison of programmes"
        assert page.locator("h2", has_text="Cost-effectiveness").count() == 1
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) >= 4 and all(w > 0 for w in widths)
        assert page.locator("table").count() >= 3
        page.screenshot(path=str(Path(__file__).parent / "artifacts" / "report.png"), full_page=False)
        browser.close()
    assert asked == []
