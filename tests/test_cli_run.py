"""`cohesion run` writes what the issue promises, from the command line a user types."""

import json

import pandas as pd
from typer.testing import CliRunner

from experiments.cli import app
from model.survey import COLUMNS
from tests.conftest import ROOT


def test_run_writes_timeseries_survey_summary_and_figure(tmp_path):
    out = tmp_path / "q"
    result = CliRunner().invoke(app, ["run", str(ROOT / "scenarios/qayyarah.yaml"), "--replicates", "3", "--seed", "7",
                                      "--out", str(out), "--workers", "1", "--params", "defaults"])
    assert result.exit_code == 0, result.output
    assert "acceptance" in result.output and "baseline" in result.output
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert {"replicate", "week", "group", "village", "wellbeing", "coping", "stigma", "attitude_FPA", "attitude_VF",
            "attitude_HC", "acceptance", "participating", "cross_group_ties"} <= set(ts.columns)
    # one row per replicate x week x group x village
    assert len(ts) == 3 * 79 * 9 and not ts.duplicated(["replicate", "week", "group", "village"]).any()
    survey = pd.read_csv(out / "survey.csv")
    assert list(survey.columns) == COLUMNS
    assert survey.value.between(0, 1).all() and set(survey.replicate) == {0, 1, 2}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["scenario"]["name"] == "qayyarah" and "mesa" in summary["provenance"]["versions"]
    assert summary["provenance"]["command"].startswith("cohesion") and summary["provenance"]["git_revision"]
    assert any(r["item"] == "acceptance" and r["wave"] == "endline" for r in summary["table"])
    assert (out / "figure.png").stat().st_size > 10_000


def test_replicates_do_not_depend_on_the_number_of_workers(tmp_path):
    args = ["run", str(ROOT / "scenarios/qayyarah.yaml"), "--replicates", "2", "--params", "defaults"]
    CliRunner().invoke(app, [*args, "--out", str(tmp_path / "one"), "--workers", "1"])
    CliRunner().invoke(app, [*args, "--out", str(tmp_path / "two"), "--workers", "2"])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "one/survey.csv"), pd.read_csv(tmp_path / "two/survey.csv"))
