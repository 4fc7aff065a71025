"""Cost-effectiveness in every comparison: the cost model (places filled, facilitators, hand-over),
the frontier on published tables, the acceptability frontier, comparisons at an equal budget and
without hand-over, and the command's output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import budget, cea
from experiments import compare as cmp
from experiments.cli import app
from model import CohesionModel
from model.activities import catalogue
from model.programme import COST_PARTS, unit_cost_ranges
from tests.conftest import build
from tests.test_runner_support import tiny_raw, write_scenario


# --- the frontier on worked examples from the literature ------------------------------------------

def test_frontier_reproduces_a_published_incremental_table():
    """Colorectal cancer screening strategies for Australia: costs (AUD) and life-years gained,
    Australia and New Zealand Health Policy 2005, 2:10, Table 7 (doi:10.1186/1743-8462-2-10,
    https://anzhealthpolicy.biomedcentral.com/articles/10.1186/1743-8462-2-10/tables/7). The
    published table lists the strategies left after simple and extended dominance, each with its
    ICER against the one before (rounded to the dollar): 39,459; 43,687; 80,616; 185,054; 235,859.
    """
    table = pd.DataFrame({
        "option": ["existing practice", "FOBT2", "DCBE5", "DCBE3", "FOBT1+DCBE5", "FOBT1+DCBE3"],
        "cost": [0, 140_117_791, 248_112_291, 304_301_903, 370_181_240, 422_777_702],
        "effect": [0, 3_551, 6_023, 6_720, 7_076, 7_299]})
    result = cea.frontier(table).set_index("option")
    assert result.status.tolist() == ["reference"] + ["frontier"] * 5
    published = {"FOBT2": 39_459, "DCBE5": 43_687, "DCBE3": 80_616, "FOBT1+DCBE5": 185_054, "FOBT1+DCBE3": 235_859}
    for option, icer in published.items():
        assert abs(result.loc[option, "icer"] - icer) <= 0.5, option   # the table's rounding
    assert result.loc["DCBE3", "compared_with"] == "DCBE5"


def test_frontier_marks_a_published_absolutely_dominated_strategy():
    """Radiation therapy strategies, JNCI Cancer Spectrum 2020;4(2):pkaa004, Table 1
    (https://pmc.ncbi.nlm.nih.gov/articles/PMC7083239/table/pkaa004-T1): strategy 2 (test all, RT
    for elevated risk) costs more than strategy 3 and gains less: "absolutely dominated"; strategy 3
    against strategy 1: incremental cost 10,422.31, effect 0.019688, ICER 529,365.8 (the table's
    ratio of its unrounded differences; from the rounded columns it is 529,347, so 1e-4 relative)."""
    table = pd.DataFrame({"option": ["1", "2", "3"], "cost": [1_695.865, 12_224.17, 12_118.17],
                          "effect": [8.570992, 8.583273, 8.590681]})
    result = cea.frontier(table).set_index("option")
    assert result.loc["2", "status"] == "dominated" and result.loc["2", "compared_with"] == "3"
    assert result.loc["3", "status"] == "frontier"
    assert result.loc["3", "icer"] == pytest.approx(529_365.8, rel=1e-4)
    # extended dominance on a worked example: tests/test_cea.py (Frick's lecture, options 1 and 4)


def test_acceptability_frontier_follows_the_expected_net_benefit_not_the_most_frequent_winner():
    """Fenwick et al. (2001): the option chosen is the one of highest expected net benefit. Here B
    wins 3 draws in 4 by a little and loses the fourth by a lot: the CEAC's highest curve is B's
    (0.75), the frontier is A's (expected NMB 0 > -1.75) at its probability 0.25."""
    cost = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 11.0]])
    effect = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    curve = cea.acceptability(cost, effect, [1.0], options=["A", "B"])
    assert curve.loc[1.0, "B"] == 0.75
    front = cea.acceptability_frontier(cost, effect, [1.0], options=["A", "B"]).iloc[0]
    assert front.option == "A" and front.probability == 0.25 and front.expected_nmb == 0.0


# --- the cost model ---------------------------------------------------------------------------------

def handover_raw(name: str = "handing_over", **overrides) -> dict:
    """The tiny population with recreation handed over (half its places) at week 8, before the
    endline at 16, and peer groups run by the programme to week 20."""
    raw = tiny_raw(name=name)
    raw["programme"] = [
        {"activity": "recreation", "start_week": 1, "end_week": 8, "places": 10, "handover_share": 0.5},
        {"activity": "peer_groups", "start_week": 2, "end_week": 20, "places": 12},
    ]
    raw.update(overrides)
    return raw


def test_cost_counts_places_filled_sessions_held_and_handed_over_weeks_up_to_the_endline(monkeypatch):
    """Week by week, from the enrolment the week's doses saw, counted by hand (a loop over entries
    and villages): participant-weeks and cohorts with a member while the programme runs the entry,
    pools with members after a hand-over; nothing after the endline."""
    from model import programme

    seen: dict[int, np.ndarray] = {}
    original = programme.Programme.cost_quantities

    def spy(self, week, enrolled, taking_part):
        seen[week] = enrolled.copy()
        return original(self, week, enrolled, taking_part)

    monkeypatch.setattr(programme.Programme, "cost_quantities", spy)
    s = build(handover_raw())
    m = CohesionModel(s, rng=11).run()
    assert sorted(seen) == list(range(1, s.survey.endline_week + 1))     # the programme pays to its endline
    prog, cat = m.programme, catalogue()
    expected = np.zeros((len(COST_PARTS), len(prog)))
    for week, enrolled in seen.items():
        for e in prog.entries:
            for v in range(len(m.villages)):
                n = int((enrolled[:, e.index] & (m.state.village == v)).sum())
                if e.start <= week <= e.end:
                    expected[0, e.index] += n
                    expected[1, e.index] += np.ceil(n / e.activity.places_per_session) * e.activity.sessions_per_week
                elif week > e.end and e.handover_capacity[v] > 0 and n > 0:
                    expected[2, e.index] += 1
    np.testing.assert_allclose(m.cost_quantities, expected)
    assert expected[0].sum() > 0 and expected[1].sum() > 0
    assert m.cost_quantities[2, 0] > 0          # the handed-over recreation has a running cost ...
    assert m.cost_quantities[2, 1] == 0         # ... the entry not handed over has none
    prices = np.array([[cat[e.name].cost_per_place_week, cat[e.name].cost_per_session,
                        cat[e.name].handover_cost_per_week] for e in prog.entries]).T
    assert m.programme_cost() == pytest.approx(float((expected * prices).sum()))
    assert m.measures("endline")["cost"] == m.programme_cost() > 0


def none_raw() -> dict:
    raw = tiny_raw(name="none", programme=[])
    return {**raw, "survey": {**raw["survey"], "frame": "households"}}


def test_no_programme_costs_nothing_and_cost_stops_at_the_endline():
    none = CohesionModel(build(none_raw()), rng=1).run()
    assert none.programme_cost() == 0.0
    m = CohesionModel(build(handover_raw()), rng=1)
    m.run(weeks=m.spec.survey.endline_week)
    at_endline = m.programme_cost()
    m.run()
    assert m.week == m.spec.horizon_weeks > m.spec.survey.endline_week
    assert m.programme_cost() == at_endline > 0


def test_every_unit_cost_has_a_range_around_its_value():
    ranges = unit_cost_ranges()
    assert {p for _, p in ranges} == set(COST_PARTS)
    for (activity, part), (lo, v, hi) in ranges.items():
        assert lo <= v <= hi and (v == 0 or lo < v < hi), (activity, part)
    assert ranges[("recreation", "handover")][1] > 0     # a handed-over activity has a running cost


# --- comparisons ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cea")
    raw = tiny_raw()
    small = tiny_raw(name="small")
    small["programme"] = [{**e, "places": 2} if e.get("places") else e for e in small["programme"]]
    return {"tiny": write_scenario({**raw, "name": "tiny"}, d / "tiny.yaml"),
            "small": write_scenario(small, d / "small.yaml"),
            "hand": write_scenario(handover_raw(), d / "hand.yaml"),
            "none": write_scenario(none_raw(), d / "none.yaml")}


def test_comparison_carries_cost_effectiveness(files):
    c = cmp.compare([files["tiny"], files["small"], files["hand"]], replicates=4, seed=3, params="defaults",
                    reference=files["none"], workers=1, progress=False)
    ce = c.cea
    assert set(ce.frontier.option) == {"tiny", "small", "handing_over", "none"}
    assert ce.frontier.set_index("option").loc["none", ["cost", "effect"]].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(ce.ceac.sum(axis=1), 1.0)
    # unit costs drawn within their ranges: the drawn costs spread around the catalogue's, the
    # reference (no programme) always costs nothing
    drawn, central = ce.cost_draws, c.measures.groupby("scenario")["endline.cost"].mean()
    assert (drawn["none"] == 0).all()
    for s in ("tiny", "small"):
        assert drawn[s].min() < central[s] < drawn[s].max()
        assert drawn[s].median() == pytest.approx(central[s], rel=0.1)   # half the draws below the value
    acc = c.table[(c.table.outcome == "acceptance") & (c.table.scenario == "tiny")].iloc[0]
    gain = (c.measures.set_index(["scenario", "replicate"])["endline.acceptance"].unstack(0))
    expected = (gain["tiny"] - gain["none"]).mean() / central["tiny"] * 10_000
    assert acc.per_10k == pytest.approx(expected)
    bands = ce.by_budget
    assert bands.from_usd.iloc[0] == 0 and np.isinf(bands.to_usd.iloc[-1])
    assert any("Best buy at each budget" in line for line in cmp.conclusions(c))


def test_at_budget_equalises_mean_cost_or_flags_the_scenario(files):
    # places are whole numbers: one more individual counselling place costs about 1,500 USD here (3
    # villages x 16 weeks x 32 USD), so the budget is large enough for single places to fit in 2%
    target = 30_000.0
    c = cmp.compare([files["tiny"], files["small"]], replicates=4, seed=3, params="defaults",
                    reference=files["none"], workers=1, progress=False, at_budget=target)
    b = c.budget.set_index("scenario")
    assert set(b.index) == {"tiny", "small"}
    for s in b.index:
        assert b.loc[s, "within"], b.loc[s].to_dict()
        assert abs(b.loc[s, "mean_cost"] - target) <= 0.02 * target
    assert (b.factor > 1).all()      # both cost about 11,000 USD as written: places grow
    # a budget no programme can come down to: flagged, not skipped
    low = cmp.compare([files["tiny"]], replicates=2, seed=3, params="defaults", reference=files["none"],
                      workers=1, progress=False, at_budget=50.0)
    row = low.budget.set_index("scenario").loc["tiny"]
    assert not row.within and "cannot come down" in row.flag
    assert "tiny" in set(low.ranking.scenario)
    assert any(line.startswith("FLAG tiny") for line in cmp.conclusions(low))


def test_no_handover_removes_hand_over_before_the_endline_only():
    s = build(handover_raw(programme=[
        {"activity": "recreation", "start_week": 1, "end_week": 8, "places": 10, "handover_share": 0.5},
        {"activity": "vocational_training", "start_week": 2, "end_week": 18, "handover_share": 0.3}]))
    out = budget.without_handover(s)
    assert [e.handover_share for e in out.programme] == [0.0, 0.3]   # the second ends after the endline (16)
    assert budget.scaled_places([10, 10, 10], 0.55) == [6, 5, 5]     # the total 16.5 -> 16 (largest remainders)
    # 5.55, 7.4, 1.48, 2.59: total 17.02 -> 17, floors give 15, the two extra places to the largest
    # remainders (2.59, then 5.55)
    assert budget.scaled_places([15, 20, 4, 7], 0.37) == [6, 7, 1, 3]
    assert budget.scaled_places([15, 1], 0.1) == [2, 1]                # never below one place


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf"])
def test_a_bad_budget_is_the_projects_error(files, value, tmp_path):
    res = CliRunner().invoke(app, ["compare", str(files["tiny"]), "--reference", str(files["none"]),
                                   "--replicates", "2", "--at-budget", value, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "--at-budget" in res.output and "positive number" in res.output


def test_command_says_what_to_conclude_first_and_writes_every_variant(files, tmp_path):
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", str(files["tiny"]), str(files["hand"]), "--reference",
                                   str(files["none"]), "--replicates", "3", "--params", "defaults",
                                   "--at-budget", "20000", "--no-handover", "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = res.output
    first_table = min(text.index("cost-effectiveness frontier"), text.index("median [90% interval]"))
    assert text.index("What to conclude") < first_table
    assert text.index("Best buy at each budget") < first_table
    assert "how the ranking changes" in text
    for f in ("cea_frontier.csv", "ceac.csv", "ce_plane.png", "ceac.png", "ranking_changes.csv",
              "at_budget/at_budget.csv", "no_handover/ranking.csv"):
        assert (out / f).is_file(), f
    changes = pd.read_csv(out / "ranking_changes.csv")
    assert {"own cost: rank", "at budget: rank", "no hand-over: rank"} <= set(changes.columns)
