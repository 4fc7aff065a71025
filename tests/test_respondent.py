"""The survey as the programme ran it (docs/survey.md): the frame of participants, and the
respondent model that answers the items about perceived change (model/respondent.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import spearmanr

from common.errors import InputError
from model import CohesionModel, mechanisms, outcomes, respondent
from model.mechanism import Mechanism
from model.params import Params, ranges
from scenarios import load_scenario
from tests.conftest import ROOT, build, small_raw

SCENARIOS = ROOT / "scenarios"
NO_BIAS = {"recall_shift": 0.0, "desirability": 0.0, "recall_decay": 0.0, "cutoff_sd": 0.0}


def frame_reading(m: CohesionModel):
    """The endline reading of every household in the survey's frame (no sampling noise)."""
    return m.snapshots["endline"].rows(np.flatnonzero(m.survey_frame()))


# --- the frame ----------------------------------------------------------------------------------
class _CountAttendance(Mechanism):
    """Test probe: counts, with plain numpy, the weeks each household is enrolled in a surveyed
    activity (after the week's doses, like model/recall.py)."""

    name = "count_attendance_probe"
    counts: np.ndarray | None = None

    def init(self, state, world):
        asked = set(world.scenario.survey.surveyed_activities)
        self.ks = [e.index for e in world.programme.entries if e.name in asked]
        _CountAttendance.counts = np.zeros(state.n, dtype=int)

    def step(self, state, world, week):
        _CountAttendance.counts += (state.weeks_left[:, self.ks] > 0).any(axis=1)


def test_the_frame_is_the_surveyed_activities_participants_with_the_minimum_attendance():
    mechanisms.register(_CountAttendance, after="doses")
    try:
        m = CohesionModel(load_scenario(SCENARIOS / "qayyarah.yaml"), rng=1).run(weeks=52)
    finally:
        mechanisms.unregister(_CountAttendance.name)
    survey, s = m.spec.survey, m.state
    np.testing.assert_array_equal(s.attendance, _CountAttendance.counts)
    expected = (_CountAttendance.counts >= survey.min_attendance_weeks) & s.present
    frame = m.survey_frame()
    np.testing.assert_array_equal(frame, expected)
    # awareness sessions and one-off community events reach everyone; the frame is not everyone
    assert s.ever.all() and 0.5 * s.n < frame.sum() < 0.9 * s.n
    assert "awareness_raising" not in survey.surveyed_activities
    m.run()  # frozen at the endline: later attendance does not enter it
    np.testing.assert_array_equal(m.survey_frame(), frame)


def test_a_longer_minimum_attendance_gives_a_smaller_frame_of_the_same_households():
    raw = small_raw()
    short = CohesionModel(build(raw), rng=2).run(weeks=52).survey_frame()
    raw["survey"]["min_attendance_weeks"] = 12
    long_ = CohesionModel(build(raw), rng=2).run(weeks=52).survey_frame()
    assert long_.sum() < short.sum() and not (long_ & ~short).any()


def test_an_unknown_surveyed_activity_is_refused_naming_the_file_and_field(tmp_path: Path):
    path = tmp_path / "bad_survey.yaml"
    path.write_text(yaml.safe_dump({"extends": str(SCENARIOS / "qayyarah.yaml"), "name": "bad_survey",
                                    "survey": {"surveyed_activities": ["recreation", "picnics"]}}))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message and "survey.surveyed_activities" in message and "picnics" in message
    assert "allowed: individual_counselling" in message


def test_recall_records_agree_in_the_array_and_reference_forms():
    scenario = build(small_raw(scale=8))
    fast, slow = CohesionModel(scenario, rng=3), CohesionModel(scenario, rng=3, step_mode="reference")
    for _ in range(45):
        fast.step()
        slow.step()
    for name in ("attendance", "forgotten_pos", "forgotten_neg"):
        np.testing.assert_allclose(getattr(slow.state, name), getattr(fast.state, name), rtol=0, atol=1e-9,
                                   err_msg=name)
    assert fast.state.attendance.max() > 10 and fast.state.forgotten_pos.max() > 0


# --- the respondent model -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def qayyarah_runs():
    """Qayyarah at default parameters and with every bias parameter at 0, seeds 0-1."""
    scenario = load_scenario(SCENARIOS / "qayyarah.yaml")
    return {label: [CohesionModel(scenario, params=params, rng=seed).run(weeks=52) for seed in (0, 1)]
            for label, params in (("default", Params()), ("no_bias", Params().with_values(**NO_BIAS)))}


def test_with_every_bias_at_zero_each_item_is_its_reading_of_the_state(qayyarah_runs):
    for m in qayyarah_runs["no_bias"]:
        r = frame_reading(m)
        for name, (answer, reading) in respondent.ITEMS.items():
            np.testing.assert_array_equal(answer(r), reading(r), err_msg=name)
            np.testing.assert_array_equal(outcomes.get(name).of(r), reading(r), err_msg=name)
        assert np.isfinite(respondent.reading_rated_interactions_positive(r)).mean() > 0.5  # most met others


def test_the_biases_raise_reported_improvement_and_the_view_shift_is_not_capped(qayyarah_runs):
    for m in qayyarah_runs["default"]:
        r = frame_reading(m)
        for name in ("improved_perceptions", "improved_interactions", "positive_view_shift", "tension_reduced",
                     "initiatives_very_effective"):
            answer, reading = respondent.ITEMS[name]
            assert np.nanmean(answer(r).astype(float)) > np.nanmean(reading(r).astype(float)) + 0.05, name
        # respondents recall their start as worse: more report a view turned positive than had one to turn
        could_turn = ((r.base.attitude < r.params.acceptance_threshold) & r.other).any(axis=1).mean()
        assert respondent.positive_view_shift(r).mean() > could_turn + 0.05
        # a rating is a share of each respondent's encounters, not a yes/no
        rated = respondent.rated_interactions_positive(r)
        assert np.unique(np.round(rated[np.isfinite(rated)], 3)).size > 20


def improvement_by_scenario(path: Path, seeds=(0, 1)) -> tuple[float, dict[str, float]]:
    """Mean lived gain (well-being share of range + mean attitude) of the frame, and the share
    reporting each kind of improvement, over ``seeds``, at default parameters."""
    gains, shares = [], {}
    for seed in seeds:
        r = frame_reading(CohesionModel(load_scenario(path), rng=seed).run(weeks=52))
        gains.append(respondent.own_gain(r).mean())
        for name in ("improved_perceptions", "improved_interactions", "positive_view_shift"):
            shares.setdefault(name, []).append(respondent.ITEMS[name][0](r).mean())
    return float(np.mean(gains)), {k: float(np.mean(v)) for k, v in shares.items()}


def test_reported_improvement_rises_with_lived_change_across_scenarios():
    paths = [SCENARIOS / "no_intervention.yaml", SCENARIOS / "sequencing" / "pss_only.yaml",
             SCENARIOS / "qayyarah.yaml"]
    results = [improvement_by_scenario(p) for p in paths]
    gains = [g for g, _ in results]
    # lived gain: nothing without a programme; well-being with PSS alone; well-being and attitudes
    # with the layered programme (differences far above the two seeds' spread, ~0.01)
    assert gains[0] < gains[1] - 0.03 and gains[1] < gains[2] - 0.03, gains
    for name in results[0][1]:
        shares = [s[name] for _, s in results]
        assert shares[0] < shares[1] < shares[2], (name, shares)


def test_within_a_run_those_who_lived_more_change_report_it_more(qayyarah_runs):
    r = frame_reading(qayyarah_runs["default"][0])
    for lived, answer in ((respondent.perception_change(r), respondent.improved_perceptions(r)),
                          (respondent.tension_reduction(r), respondent.tension_reduced(r))):
        top = lived >= np.median(lived)
        assert np.nanmean(answer[top]) > np.nanmean(answer[~top]) + 0.05


# --- items across parameter draws -----------------------------------------------------------------
def test_no_item_is_constant_or_a_copy_of_another_across_parameter_draws():
    """30 parameter sets drawn uniformly within model.params ranges, one Qayyarah run each (half
    the population), every endline survey item over the whole frame: none constant, no pair with a
    rank correlation above 0.95 (openness is readiness for contact, not a second attitude cut)."""
    rng = np.random.default_rng(12)
    scenario = build(small_raw(scale=2))
    items = outcomes.item_names("endline")
    values = []
    for k in range(30):
        draw = {name: rng.uniform(lo, hi) for name, (lo, hi) in ranges().items()}
        r = frame_reading(CohesionModel(scenario, params=Params().with_values(**draw), rng=k).run(weeks=52))
        values.append([np.nanmean(np.asarray(outcomes.get(i).of(r), dtype=float)) for i in items])
    table = np.array(values)
    assert np.isfinite(table).all()
    assert (table.std(axis=0) > 0.02).all(), dict(zip(items, table.std(axis=0).round(3)))
    too_close = []
    for a, b in itertools.combinations(range(len(items)), 2):
        rho = spearmanr(table[:, a], table[:, b]).statistic
        if abs(rho) > 0.95:
            too_close.append((items[a], items[b], round(float(rho), 3)))
    assert not too_close, too_close
