"""Reproducibility, ranges, the survey's form, the agents and the network."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import CohesionModel, Household, Params
from model.params import ranges
from model.state import WEMWBS_MAX, WEMWBS_MIN
from model import outcomes
from model.survey import COLUMNS
from tests.conftest import build, small_raw


def test_the_same_seed_gives_identical_output(small_scenario):
    a = CohesionModel(small_scenario, rng=11).run()
    b = CohesionModel(small_scenario, rng=11).run()
    pd.testing.assert_frame_equal(a.survey_results(), b.survey_results())
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(), b.datacollector.get_model_vars_dataframe())
    c = CohesionModel(small_scenario, rng=12).run()
    assert not np.allclose(a.state.wellbeing, c.state.wellbeing)


def test_scenarios_on_one_seed_share_population_and_network(small_scenario):
    raw = small_raw()
    raw["programme"] = []
    raw["survey"]["frame"] = "households"
    bare = CohesionModel(build(raw), rng=5)
    full = CohesionModel(small_scenario, rng=5)
    np.testing.assert_array_equal(bare.state.attitude, full.state.attitude)
    np.testing.assert_array_equal(bare.network.src, full.network.src)


def _in_range(m: CohesionModel) -> None:
    s = m.state
    for name in ("coping", "stigma", "need", "barriers", "attitude", "anchor", "familiarity", "tension", "mediation",
                 "contact_pos", "contact_neg"):
        arr = getattr(s, name)
        assert np.isfinite(arr).all(), name
        if name not in ("contact_pos", "contact_neg"):
            assert arr.min() >= 0 and arr.max() <= 1, name
    assert np.isfinite(s.wellbeing).all()
    assert s.wellbeing.min() >= WEMWBS_MIN and s.wellbeing.max() <= WEMWBS_MAX
    survey = m.survey_results()
    assert survey.value.between(0, 1).all() and survey.value.notna().all()


PARAMS = st.fixed_dictionaries({
    name: st.one_of(st.just(lo), st.just(hi), st.floats(lo, hi)) for name, (lo, hi) in ranges().items()
})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=PARAMS, seed=st.integers(0, 2**31))
def test_every_state_stays_in_range_for_any_parameters_in_their_ranges(values, seed):
    raw = small_raw(scale=8)
    raw["events"] = [{"type": "security_incident", "week": 10, "magnitude": 1.0},
                     {"type": "discriminatory_act", "week": 20, "magnitude": 1.0}]
    raw["horizon_weeks"] = 40
    raw["survey"].update(endline_week=40, sample_size=30)
    m = CohesionModel(build(raw), Params().with_values(**values), rng=seed).run()
    _in_range(m)


def test_survey_rows_have_the_documented_form(small_scenario):
    m = CohesionModel(small_scenario, rng=2).run()
    s = m.survey_results()
    assert list(s.columns) == COLUMNS
    assert set(s.wave) == {"baseline", "endline"}
    assert set(s[s.wave == "baseline"].item) == set(outcomes.item_names("baseline"))
    assert set(s[s.wave == "endline"].item) == set(outcomes.item_names("endline"))
    overall = s[(s.group == "all") & (s.village == "all")]
    assert (overall.n <= small_scenario.survey.sample_size).all()
    assert set(s.group) == {"all", "FPA", "VF", "HC"}
    assert set(s.village) == {"all", *small_scenario.village_names()}
    # group rows partition the respondents
    acc = s[(s.item == "acceptance") & (s.wave == "baseline")]
    assert acc[(acc.group != "all")].n.sum() == acc[(acc.group == "all") & (acc.village == "all")].n.iloc[0]


def test_households_are_mesa_agents_that_read_and_write_the_arrays(small_scenario):
    m = CohesionModel(small_scenario, rng=3)
    assert len(m.agents) == m.state.n
    h = m.households[5]
    assert isinstance(h, Household) and h.group in ("FPA", "VF", "HC")
    assert h.wellbeing == m.state.wellbeing[5]
    h.coping = 0.9
    assert m.state.coping[5] == 0.9
    assert set(h.attitude) == {"FPA", "VF", "HC"} - {h.group}
    by_group = m.agents.groupby("group").agg("wellbeing", np.mean)
    for k, g in enumerate(("FPA", "VF", "HC")):
        assert np.isclose(by_group[g], m.state.wellbeing[m.state.group == k].mean())
    assert {n.idx for n in h.neighbours} == set(m.network.neighbours(5).tolist())


def test_network_is_homophilous_as_the_scenario_says():
    raw = small_raw(scale=1)
    m = CohesionModel(build(raw), rng=0)
    s, net = m.state, m.network
    same_village = (s.village[net.src] == s.village[net.dst]).mean()
    same_group = (s.group[net.src] == s.group[net.dst])[s.village[net.src] == s.village[net.dst]].mean()
    spec = raw["network"]
    # ties are drawn with these probabilities; 5,000 ties give a binomial sd under 0.006
    assert abs(same_village - spec["within_village"]) < 0.03
    assert abs(same_group - spec["within_group"]) < 0.05
    assert abs(net.degree.mean() - spec["mean_degree"]) < 0.5
    g = m.graph
    assert g.number_of_nodes() == s.n and g.number_of_edges() == net.n_ties


def test_survey_frame_is_who_had_taken_part_by_the_endline():
    raw = small_raw()
    raw["programme"] = [{"activity": "recreation", "start_week": 5, "end_week": 20, "places": 8,
                         "handover_share": 1.0}]
    raw["horizon_weeks"] = 40
    raw["survey"] = {"baseline_week": 0, "endline_week": 20, "sample_size": 60}
    m = CohesionModel(build(raw), rng=6)
    m.run(weeks=20)
    # participants: at least min_attendance_weeks in the surveyed activities (docs/survey.md)
    by_endline = m.state.attendance >= m.spec.survey.min_attendance_weeks
    at_endline = m.survey_results()
    m.run()
    assert (m.state.attendance >= m.spec.survey.min_attendance_weeks).sum() > by_endline.sum()  # kept recruiting
    np.testing.assert_array_equal(m.survey_frame(), by_endline)
    pd.testing.assert_frame_equal(m.survey_results(), at_endline)


def test_the_survey_frame_check_counts_eligibility_as_the_programme_does():
    """Eligibility is defined once (model.programme.entry_reach): a programme of only CAC
    mediation reaches CAC households only, so a sample larger than them is refused at load."""
    import pytest
    from model.programme import Programme
    from tests.conftest import build, small_raw

    raw = small_raw()
    raw["programme"] = [{"activity": "cac_mediation", "start_week": 2, "end_week": 40}]
    raw["survey"]["surveyed_activities"] = ["cac_mediation"]  # not surveyed by default (a committee)
    raw["survey"]["sample_size"] = 60
    with pytest.raises(ValueError, match="expected to be eligible"):
        build(raw)
    raw["survey"]["sample_size"] = 3
    scenario = build(raw)
    m = CohesionModel(scenario, rng=1)
    frame = Programme(scenario, m.state).ever_eligible
    assert frame.sum() < 0.1 * m.state.n and (m.state.cac[frame]).all()
    assert abs(scenario.frame_size() - scenario.population.roles.cac * scenario.n_households()) < 1
