"""Groups are data: any 2 to 8 groups a scenario declares, with roles; households that arrive and
leave during the run."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from common.errors import InputError
from model import CohesionModel
from model.params import Params
from scenarios import load_scenario
from tests.conftest import build, regrouped_raw, small_raw

ROOT = Path(__file__).resolve().parents[1]
CODE = ["common", "model", "scenarios", "runner", "calibration", "experiments", "benchmarks", "docs"]
TWO = {"returnees": "returning", "host": "host"}
FIVE = {"victims": "victims", "affiliated": "perceived_affiliation", "IDP": "displaced", "returnees": "returning",
        "host": "host"}


def test_no_group_names_in_the_code():
    """The Qayyarah scenario's group names live in scenario files, tests and docs, not in code."""
    pattern = re.compile(r"\b(FPA|VF|HC)\b")
    found = [f"{p.relative_to(ROOT)}:{n}" for pkg in CODE for p in (ROOT / pkg).rglob("*.py")
             for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    found += [f"model/activities.yaml:{n}" for n, line in
              enumerate((ROOT / "model" / "activities.yaml").read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, found


def test_the_library_declares_its_groups_in_order():
    spec = load_scenario(ROOT / "scenarios" / "qayyarah.yaml")
    assert spec.group_names() == ["FPA", "VF", "HC"]
    assert spec.group_roles() == ["perceived_affiliation", "victims", "host"]


@pytest.mark.parametrize("groups", [TWO, FIVE], ids=["two", "five"])
def test_any_set_of_groups_runs_and_is_surveyed(groups):
    scenario = build(regrouped_raw(groups))
    m = CohesionModel(scenario, rng=3).run()
    assert m.groups == list(groups) and m.state.attitude.shape[1] == len(groups)
    survey = m.survey_results()
    assert set(survey.group) == {*groups, "all"}
    ts = m.timeseries()
    assert set(ts.group) == set(groups)
    assert {f"attitude_{g}" for g in groups} <= set(ts.columns)
    assert {f"acceptance_{g}" for g in groups} <= set(m.datacollector.get_model_vars_dataframe().columns)
    assert m.state.ever.any() and m.network.new_src.size > 0   # the programme ran and mixed groups
    # the victims' role is what is anchored in loss, whatever the group is called
    victims = [k for k, r in enumerate(scenario.group_roles()) if r == "victims"]
    stubborn = np.isin(m.state.group, victims)
    assert (m.state.stubbornness[stubborn] == Params().stubbornness_victims).all()
    assert (m.state.stubbornness[~stubborn] == Params().stubbornness_other).all()


@pytest.mark.parametrize("groups", [TWO, FIVE], ids=["two", "five"])
def test_any_set_of_groups_is_compared(groups, tmp_path):
    from experiments.compare import compare, write_outputs

    raw = regrouped_raw(groups, scale=8)
    raw["horizon_weeks"], raw["survey"]["endline_week"] = 40, 30
    for entry in raw["programme"]:
        entry["end_week"] = min(entry["end_week"], 40)
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(raw))
    b.write_text(yaml.safe_dump({**raw, "name": "nothing", "programme": [],
                                 "survey": {**raw["survey"], "frame": "households"}}))
    c = compare([a], replicates=3, seed=1, params="defaults", reference=b, workers=1, progress=False)
    assert {f"acceptance.{g}" for g in groups} <= set(c.table.outcome)
    written = write_outputs(c, tmp_path / "out", {})
    assert "forest.png" in written and (tmp_path / "out" / "trajectories.png").stat().st_size > 0


def test_the_dashboard_shows_any_set_of_groups():
    from experiments import drawing

    m = CohesionModel(build(regrouped_raw(FIVE, scale=8)), rng=1).run(weeks=4)
    assert {f"acceptance_{g}" for g in FIVE} <= set(drawing.chart_metrics(m.groups))
    assert len(set(drawing.group_colours(m.groups).values())) == len(FIVE) + 1   # one colour each, and all
    html = drawing.current_values_html([m])
    assert all(f"acceptance of cohabitation with every other group, {g}" in html or g in html for g in FIVE)
    assert drawing.live_charts([m]) is not None and drawing.network_figure(m) is not None


@pytest.mark.parametrize("mutate, field, message", [
    (lambda r: r["programme"][0].update(target_groups=["host", "nobody"]), "target_groups",
     "unknown group 'nobody'; declared groups: ['returnees', 'host']"),
    (lambda r: r["population"]["villages"]["Jmisah"]["households"].update(FPA=3), "villages.Jmisah.households",
     "unknown group 'FPA'; declared groups: ['returnees', 'host']"),
    (lambda r: r["population"]["groups"].update(host="neighbours"), "population.groups.host",
     "'victims', 'perceived_affiliation', 'displaced', 'returning' or 'host'"),
    (lambda r: r["population"].update(groups={"host": "host"}), "population.groups", "allowed: 2 to 8"),
    (lambda r: r["population"]["movements"].append({"kind": "arrive", "group": "nobody", "village": "Jmisah",
                                                    "households": 5, "start_week": 2, "end_week": 4}),
     "movements[0].group", "unknown group 'nobody'"),
], ids=["target group", "households", "role", "too few groups", "movement group"])
def test_a_wrong_group_is_the_projects_error(tmp_path, mutate, field, message):
    raw = regrouped_raw(TWO)
    raw["population"]["movements"] = []
    mutate(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert str(path) in msg and field in msg and message in msg, msg


# --- arrivals and departures ---------------------------------------------------------------------
def with_movements(movements: list[dict], **overrides) -> dict:
    raw = small_raw(scale=4, **overrides)
    raw["population"]["movements"] = movements
    return raw


ARRIVE = {"kind": "arrive", "group": "FPA", "village": "Jmisah", "households": 60, "start_week": 10, "end_week": 30}
LEAVE = {"kind": "leave", "group": "HC", "village": "Haj Ali", "households": 20, "start_week": 5, "end_week": 15}


def test_arrivals_keep_the_residents_draws_and_are_absent_until_they_arrive():
    plain = CohesionModel(build(small_raw(scale=4)), rng=5)
    moved = CohesionModel(build(with_movements([ARRIVE])), rng=5)
    n = plain.state.n
    assert moved.state.n == n + 60
    for name in ("attitude", "wellbeing", "coping", "threshold", "cac", "size"):  # residents drawn as before
        np.testing.assert_array_equal(getattr(moved.state, name)[:n], getattr(plain.state, name)[:n])
    np.testing.assert_array_equal(moved.network.src, plain.network.src)
    arrivals = np.arange(n, n + 60)
    first = moved.state.copy()
    for week in range(1, 31):
        moved.step()
        here = arrivals[moved.state.arrival_week[arrivals] <= week]
        away = arrivals[moved.state.arrival_week[arrivals] > week]
        assert moved.state.present[here].all() and not moved.state.present[away].any()
        assert moved.network.degree[away].sum() == 0 and not moved.state.ever[away].any()
        for name in ("attitude", "wellbeing", "coping", "stigma", "need"):  # frozen while away (the
            np.testing.assert_allclose(getattr(moved.state, name)[away],   # score-share round trip
                                       getattr(first, name)[away], rtol=0, atol=1e-9)  # of well-being aside)
    assert moved.network.degree[arrivals].mean() > 2          # they came with ties
    ts = moved.timeseries()
    jmisah_fpa = ts[(ts.group == "FPA") & (ts.village == "Jmisah")].set_index("week").households
    assert jmisah_fpa[30] == jmisah_fpa[9] + 60 and jmisah_fpa.is_monotonic_increasing


def test_households_that_leave_are_gone_from_ties_activities_and_the_survey():
    m = CohesionModel(build(with_movements([LEAVE])), rng=2).run()
    gone = np.flatnonzero(m.state.departure_week < 10**6)
    assert gone.size == 20 and not m.state.present[gone].any()
    assert m.network.degree[gone].sum() == 0 and (m.state.weeks_left[gone] == 0).all()
    assert not m.survey_frame()[gone].any()


def test_arrivals_and_departures_in_both_forms():
    raw = with_movements([ARRIVE, LEAVE], horizon_weeks=40)
    raw["survey"]["endline_week"] = 35
    scenario = build(raw)
    fast, slow = CohesionModel(scenario, rng=4), CohesionModel(scenario, rng=4, step_mode="reference")
    for _ in range(40):
        fast.step()
        slow.step()
        for name in ("attitude", "wellbeing", "coping", "weeks_left", "present", "tension"):
            np.testing.assert_allclose(getattr(slow.state, name).astype(float), getattr(fast.state, name).astype(float),
                                       atol=1e-9, err_msg=f"{name} at week {fast.week}")
        assert slow.network.n_ties == fast.network.n_ties


def test_how_arrivals_are_received_depends_on_who_arrives():
    """Returns into a community (DOMAIN.md names them a risk): households arriving with low regard
    for the residents raise the village's tension and lower its acceptance; the same number
    arriving with high regard do not raise tension. Same seed, so the residents are the same."""
    def endline(attitude: float) -> dict:
        raw = with_movements([{**ARRIVE, "group": "FPA", "households": 120}], programme=[])
        raw["survey"]["frame"] = "households"
        raw["population"]["initial"]["FPA"]["attitude"] = {"VF": attitude, "HC": attitude}
        out = {"tension": [], "acceptance_HC": []}
        for seed in range(4):
            m = CohesionModel(build(raw), rng=seed).run(weeks=52)
            out["tension"].append(m.state.tension[m.villages.index("Jmisah")])
            out["acceptance_HC"].append(m.summary["acceptance_HC"])
        return {k: float(np.mean(v)) for k, v in out.items()}

    hostile, friendly = endline(0.2), endline(0.9)
    plain = small_raw(scale=4, programme=[])
    plain["survey"]["frame"] = "households"
    base = CohesionModel(build(plain), rng=0)
    start = base.state.tension[base.villages.index("Jmisah")]
    assert hostile["tension"] > start + 0.05            # returns of households who reject the residents
    assert hostile["tension"] > friendly["tension"] + 0.05
    assert hostile["acceptance_HC"] < friendly["acceptance_HC"]  # hosts tied to them are pulled down


def test_who_arrived_after_the_baseline_answers_the_endline_only():
    raw = with_movements([{**ARRIVE, "households": 150, "start_week": 2, "end_week": 20}])
    raw["survey"].update(frame="households", sample_size=300)
    m = CohesionModel(build(raw), rng=6).run(weeks=52)
    survey = m.survey_results().set_index(["wave", "item", "group", "village"])
    n_base = survey.loc[("baseline", "acceptance", "all", "all"), "n"]
    n_end = survey.loc[("endline", "acceptance", "all", "all"), "n"]
    assert n_end == 300 and n_base < n_end                                   # arrivals among respondents ...
    assert survey.loc[("endline", "improved_perceptions", "all", "all"), "n"] == n_base  # ... not asked about change
    row = m.measures("endline")
    assert "cohort.acceptance.FPA" in row and "cohort.acceptance" in row   # harm: the baseline's households
    plain = CohesionModel(build(small_raw(scale=4)), rng=6).run(weeks=52)
    assert not any(k.startswith("cohort.") for k in plain.measures("endline"))
