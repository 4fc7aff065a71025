"""Comparing programmes: common random numbers, the ranking and harm arithmetic, the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.compare import compare, harm, load_scenarios, rank
from common.errors import InputError
from tests.test_runner_support import tiny_raw, write_scenario


def library(tmp_path: Path) -> dict[str, Path]:
    """Three tiny programmes and the no-intervention reference, on one population."""
    raw = tiny_raw()
    late = tiny_raw(name="late_dialogue")
    for e in late["programme"]:
        if e["activity"] == "experience_sharing_between":
            e["start_week"], e["end_week"] = 10, 16
    files = {
        "tiny": write_scenario({**raw, "name": "tiny"}, tmp_path / "tiny.yaml"),
        "twin": write_scenario({**raw, "name": "twin"}, tmp_path / "twin.yaml"),
        "late": write_scenario(late, tmp_path / "late.yaml"),
        "none": write_scenario({**tiny_raw(name="none", programme=[]),
                                "survey": {**raw["survey"], "frame": "households"}}, tmp_path / "none.yaml"),
    }
    return files


def test_common_random_numbers_identical_programmes_give_identical_replicates(tmp_path):
    f = library(tmp_path)
    c = compare([f["tiny"], f["twin"], f["late"]], replicates=4, seed=3, params="defaults", reference=f["none"],
                workers=2, progress=False)
    m = c.measures.set_index(["scenario", "replicate"])
    cols = [k for k in m.columns if k.startswith(("baseline.", "endline."))]
    pd.testing.assert_frame_equal(m.loc["tiny", cols], m.loc["twin", cols])
    # the same households at baseline under every programme, including no programme at all
    for s in ("late_dialogue", "none"):
        pd.testing.assert_series_equal(m.loc["tiny", "baseline.acceptance"], m.loc[s, "baseline.acceptance"])
    # replicates differ from each other: the equality above is not trivial
    assert m.loc["tiny", "endline.acceptance"].nunique() > 1
    assert c.pairwise.loc["tiny", "twin"] == 0.5
    assert c.ranking.set_index("scenario").p_best.sum() == pytest.approx(1.0)
    diff = c.table[(c.table.outcome == "acceptance") & (c.table.scenario == "none")]
    assert diff.vs_reference_median.iloc[0] == 0.0


def test_ranking_probabilities_are_paired_by_replicate():
    wide = pd.DataFrame({"scenario": ["a"] * 4 + ["b"] * 4, "replicate": list(range(4)) * 2,
                         "endline.acceptance": [0.5, 0.6, 0.7, 0.8, 0.55, 0.55, 0.7, 0.9],
                         "endline.cost": [10, 10, 10, 10, 20, 5, 20, 20]})
    ranking, pairwise = rank(wide, ["a", "b"], "acceptance")
    # a beats b in replicate 1, ties in 2, loses in 0 and 3
    assert pairwise.loc["a", "b"] == pytest.approx((1 + 0.5) / 4)
    assert pairwise.loc["b", "a"] == pytest.approx((2 + 0.5) / 4)
    assert ranking.set_index("scenario").p_best.to_dict() == pytest.approx({"a": 1.5 / 4, "b": 2.5 / 4})
    ranking, pairwise = rank(wide, ["a", "b"], "cost")    # lower cost is better
    assert pairwise.loc["a", "b"] == pytest.approx(3 / 4)


def test_harm_is_any_group_or_village_below_baseline_or_too_much_tension():
    base = {f"baseline.acceptance.{s}": [0.5, 0.5, 0.5] for s in ("FPA", "VF", "HC", "V1")}
    end = {f"endline.acceptance.{s}": [0.6, 0.6, 0.6] for s in ("FPA", "VF", "HC", "V1")}
    end["endline.acceptance.VF"] = [0.6, 0.49, 0.6]
    wide = pd.DataFrame({**base, **end, "endline.tension_created": [0.1, 0.0, 0.3]})
    assert list(harm(wide, ["FPA", "VF", "HC"], ["V1"], 0.2)) == [False, True, True]
    assert list(harm(wide, ["FPA", "VF", "HC"], ["V1"], 0.5)) == [False, True, False]


def test_scenarios_on_different_populations_are_refused(tmp_path):
    f = library(tmp_path)
    other = tiny_raw(name="bigger")
    other["population"]["villages"]["Jmisah"]["households"]["FPA"] += 5
    path = write_scenario(other, tmp_path / "bigger.yaml")
    with pytest.raises(InputError, match="population differs"):
        load_scenarios([f["tiny"], path], None)
    res = CliRunner().invoke(app, ["compare", str(f["tiny"]), str(path), "--replicates", "2",
                                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "population differs" in res.output and "Traceback" not in res.output


def test_cli_compare_writes_tables_ranking_and_figures(tmp_path):
    f = library(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["compare", str(f["tiny"]), str(f["late"]), "--reference", str(f["none"]),
                                   "--replicates", "3", "--params", "defaults", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("outcomes.csv", "ranking.csv", "pairwise.csv", "measures.csv", "trajectories.png", "forest.png",
                 "summary.json"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "outcomes.csv")
    assert set(table.scenario) == {"tiny", "late_dialogue", "none"}
    assert {"acceptance", "acceptance.VF", "acceptance.Jmisah", "wellbeing", "tension_created",
            "cross_group_ties", "cost"} <= set(table.outcome)
    assert np.isfinite(table[table.outcome == "acceptance"].change_median).all()
    ranking = pd.read_csv(out / "ranking.csv")
    assert {"p_best", "p_harm"} <= set(ranking.columns)
    # resuming the finished batch reruns nothing and reports the same table
    again = CliRunner().invoke(app, ["compare", str(f["tiny"]), str(f["late"]), "--reference", str(f["none"]),
                                     "--replicates", "3", "--params", "defaults", "--out", str(out), "--resume"])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(table, pd.read_csv(out / "outcomes.csv"))
