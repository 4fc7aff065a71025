"""Statements about the model's behaviour that the field expects (DOMAIN.md mechanisms).

Seeds are fixed; each expectation is checked on several seeds with the same sign, and margins
are set from the measured seed-to-seed spread (given next to each assertion).
"""

import numpy as np
import pytest

from model import CohesionModel
from scenarios import load_scenario
from tests.conftest import ROOT, build, qayyarah_raw

SEEDS = [0, 1, 2]


def scenario_with(programme: list[dict], horizon: int) -> "Scenario":  # noqa: F821
    raw = qayyarah_raw()
    raw["programme"] = programme
    raw["horizon_weeks"] = horizon
    raw["survey"] = {"baseline_week": 0, "endline_week": horizon, "sample_size": 50, "frame": "households"}
    return build(raw)


def overall(survey, wave, item):
    row = survey[(survey.wave == wave) & (survey.item == item) & (survey.group == "all") & (survey.village == "all")]
    return float(row.value.iloc[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_without_intervention_the_survey_stays_at_its_baseline(seed):
    m = CohesionModel(load_scenario(ROOT / "scenarios/no_intervention.yaml"), rng=seed).run()
    s = m.survey_results()
    # week 0 is an equilibrium (influence and well-being settle before the run): measured change 0.000
    for item in ("acceptance", "openness", "wellbeing_mean", "wellbeing_good"):
        assert abs(overall(s, "endline", item) - overall(s, "baseline", item)) <= 0.01, item
    # nobody took part, so nobody is asked whether the programme created tension (docs/survey.md)
    assert not (s.item == "tension_created").any()


@pytest.mark.parametrize("seed", SEEDS)
def test_pss_alone_raises_wellbeing_and_coping_while_attitudes_barely_move(seed):
    m = CohesionModel(load_scenario(ROOT / "scenarios/sequencing/pss_only.yaml"), rng=seed)
    w0, c0, a0 = m.state.wellbeing.mean(), m.state.coping.mean(), m.state.mean_other_attitude().mean()
    m.run(weeks=52)
    # measured over seeds 0-3: +3.0 WEMWBS points (sd 0.01), coping +0.11, attitude change 0.000
    assert m.state.wellbeing.mean() - w0 > 2.0
    assert m.state.coping.mean() - c0 > 0.07
    assert abs(m.state.mean_other_attitude().mean() - a0) < 0.005


@pytest.mark.parametrize("seed", SEEDS)
def test_contact_before_any_pss_in_high_tension_village_lowers_attitudes(seed):
    contact_first = scenario_with([{"activity": "recreation", "villages": ["Jmisah"], "start_week": 1,
                                    "end_week": 12, "places": 80}], horizon=12)
    m = CohesionModel(contact_first, rng=seed)
    before = m.state.mean_other_attitude().copy()
    m.run()
    took_part = m.state.ever
    # measured: participants' mean attitude -0.020 to -0.025 over seeds 0-2
    assert took_part.sum() > 50
    assert (m.state.mean_other_attitude() - before)[took_part].mean() < -0.01
    # negative contact weighs more: a minority with net negative contact (measured 13-16%) pulls the mean down
    assert (m.state.contact_neg > m.state.contact_pos)[took_part].mean() > 0.08


def contact_gain(seed: int, pss_first: bool) -> float:
    """Mean attitude change of those who met others in 12 weeks of recreation in Jmisah, after 30
    weeks of individual, family and peer PSS there (or after none)."""
    pss = [{"activity": a, "villages": ["Jmisah"], "start_week": 1, "end_week": 30, "places": 60}
           for a in ("individual_counselling", "family_pss", "peer_groups")] if pss_first else []
    contact = [{"activity": "recreation", "villages": ["Jmisah"], "start_week": 31, "end_week": 42, "places": 80}]
    m = CohesionModel(scenario_with(pss + contact, horizon=42), rng=seed)
    m.run(weeks=30)
    before = m.state.mean_other_attitude().copy()
    m.run()
    met = (m.state.contact_pos + m.state.contact_neg) > 0
    return float((m.state.mean_other_attitude() - before)[met].mean())


@pytest.mark.parametrize("seed", SEEDS)
def test_the_same_contact_after_pss_in_that_village_does_better_and_no_harm(seed):
    after_pss, without = contact_gain(seed, True), contact_gain(seed, False)
    # measured over seeds 0-4: after PSS -0.000 to +0.021, without it -0.022 to -0.038; paired gap 0.036-0.049
    assert after_pss - without > 0.02
    assert after_pss > -0.005


@pytest.mark.parametrize("seed", SEEDS + [3])
def test_dialogue_after_a_period_of_recreation_helps_more_than_dialogue_in_week_1(seed):
    rec = lambda a, b: {"activity": "recreation", "start_week": a, "end_week": b, "places": 150}  # noqa: E731
    dlg = lambda a, b: {"activity": "dialogue", "start_week": a, "end_week": b, "places": 150}  # noqa: E731
    gains = {}
    for name, programme in (("dialogue_first", [dlg(1, 12), rec(13, 24)]), ("dialogue_after", [rec(1, 12), dlg(13, 24)])):
        m = CohesionModel(scenario_with(programme, horizon=24), rng=seed)
        a0 = m.state.mean_other_attitude().mean()
        m.run()
        gains[name] = m.state.mean_other_attitude().mean() - a0
    # same activities, same seed, only the order differs; measured gap +0.0013 to +0.0029 (seeds 0-4)
    assert gains["dialogue_after"] > gains["dialogue_first"] + 0.0005


def test_cross_group_ties_grow_only_with_mixed_activities():
    pss = CohesionModel(load_scenario(ROOT / "scenarios/sequencing/pss_only.yaml"), rng=1)
    ties0 = pss.network.n_ties
    pss.run()
    assert pss.network.n_ties == ties0 and pss.network.new_src.size == 0
    mixed = CohesionModel(load_scenario(ROOT / "scenarios/qayyarah.yaml"), rng=1)
    cross0 = mixed.network.cross_group_ties().mean()
    mixed.run(weeks=52)
    after_programme = mixed.network.cross_group_ties().mean()
    mixed.run()
    # every new tie joins two groups, and ties outlast the programme (it ends at week 52)
    assert mixed.network.new_src.size > 100
    assert (mixed.state.group[mixed.network.new_src] != mixed.state.group[mixed.network.new_dst]).all()
    assert after_programme > cross0 and mixed.network.cross_group_ties().mean() >= after_programme


def test_a_shock_lowers_attitudes_and_mediation_dampens_it():
    def run(with_mediation: bool) -> float:
        programme = [{"activity": "cac_mediation", "start_week": 1, "end_week": 30}] if with_mediation else []
        raw = qayyarah_raw()
        raw.update(programme=programme, horizon_weeks=31,
                   events=[{"type": "returns_wave", "week": 30, "magnitude": 0.5}],
                   survey={"baseline_week": 0, "endline_week": 31, "sample_size": 50, "frame": "households"})
        m = CohesionModel(build(raw), rng=4)
        m.run(weeks=29)
        before = m.state.mean_other_attitude().mean()
        m.run()
        return m.state.mean_other_attitude().mean() - before
    undamped, damped = run(False), run(True)
    assert undamped < -0.02
    assert undamped < damped < 0

