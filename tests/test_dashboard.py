"""The dashboard's model and drawings, without a browser (tests/test_dashboard_browser.py has one)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from experiments import dashboard as dash
from experiments.cli import app
from experiments.drawing import NetworkView, survey_wide, village_layout, weekly
from model import CohesionModel, Params
from model.params import ranges
from scenarios import DEFAULT_SCENARIO, LIBRARY, load_scenario


def test_library_lists_every_scenario_file_by_name():
    names = dash.library()
    assert "qayyarah" in names
    assert all(p.suffix == ".yaml" for p in names.values())
    assert len(names) == len(list(LIBRARY.rglob("*.yaml")))


def test_dashboard_run_is_the_direct_run_of_the_same_scenario_and_seed():
    m = dash.DashboardModel(scenario_name="qayyarah", seed="11")
    for _ in range(6):
        m.step()
    direct = CohesionModel(load_scenario(DEFAULT_SCENARIO), dash.base_params()[0], rng=11).run(6)
    assert m.week == 6
    np.testing.assert_array_equal(weekly(m.runs[0]).to_numpy(), weekly(direct).to_numpy())
    assert survey_wide(m.runs[0]).equals(survey_wide(direct))


def test_side_by_side_runs_share_the_population_and_network_of_the_seed():
    m = dash.DashboardModel(scenario_name="qayyarah", compare_with="no_intervention", seed=3)
    a, b = m.runs
    assert m.labels == ["qayyarah", "no_intervention"]
    np.testing.assert_array_equal(a.state.group, b.state.group)
    np.testing.assert_array_equal(a.network.src, b.network.src)
    np.testing.assert_array_equal(a.state.attitude, b.state.attitude)
    for _ in range(30):
        m.step()
    # the programme makes the difference: no activity ties without one
    assert b.network.new_src.size == 0 < a.network.new_src.size


def test_sliders_span_the_declared_ranges():
    params = dash.model_params()
    declared = ranges()
    base, _ = dash.base_params()
    for name in dash.DYNAMICS:
        assert (params[name].min, params[name].max) == declared[name]
        assert params[name].value == getattr(base, name)
    assert params["scenario_name"]["values"] == list(dash.library())


def test_slider_values_reach_the_runs_parameters_and_scenario():
    m = dash.DashboardModel(outreach=0.9, tie_rate=0.2, places_scale=2.0, tension_shift=0.2)
    run = m.runs[0]
    assert run.params.outreach == 0.9 and run.params.tie_rate == 0.2
    base = load_scenario(DEFAULT_SCENARIO)
    assert [e.capacity() for e in run.spec.programme] == [2 * e.capacity() for e in base.programme]
    for name, village in run.spec.population.villages.items():
        assert village.tension == pytest.approx(min(1.0, base.population.villages[name].tension + 0.2))


def test_a_bad_seed_is_reported_on_the_page_and_the_default_used():
    m = dash.DashboardModel(seed="seven")
    assert m.seed == dash.DEFAULT_SEED
    assert "not a whole number" in m.problems[0]


def test_layout_puts_each_village_in_its_own_cluster():
    m = CohesionModel(load_scenario(DEFAULT_SCENARIO), rng=1)
    pos = village_layout(m.state.group, m.state.village, len(m.villages), len(m.groups))
    centres = np.array([pos[m.state.village == v].mean(axis=0) for v in range(len(m.villages))])
    spread = max(np.linalg.norm(pos[m.state.village == v] - centres[v], axis=1).max() for v in range(3))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 2 * spread


def test_a_week_renders_in_well_under_a_second_with_the_qayyarah_population():
    """Step, network picture, charts, tables: what the page does each week, in CPU seconds (wall
    time depends on what else the machine runs)."""
    t = dash.time_weeks("qayyarah", weeks=12)
    print(f"per week, {t['households']} households: CPU median {t['cpu_median']:.3f} s, "
          f"wall median {t['wall_median']:.3f} s")
    assert t["households"] == 1300
    assert t["cpu_median"] < 0.5


def test_network_picture_marks_the_ties_activities_made():
    m = CohesionModel(load_scenario(DEFAULT_SCENARIO), rng=7).run(40)
    view = NetworkView(m, "wellbeing")
    assert len(view.new_ties.get_segments()) == m.network.new_src.size > 0
    assert view.png(m)[:8] == b"\x89PNG\r\n\x1a\n"


def test_dashboard_command_refuses_a_missing_library_with_status_2(tmp_path):
    res = CliRunner().invoke(app, ["dashboard", "--library", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "not a folder" in res.output


def test_dashboard_command_refuses_an_invalid_scenario_with_status_2(tmp_path):
    (tmp_path / "broken.yaml").write_text("name: broken\nhorizon_weeks: 0\n")
    res = CliRunner().invoke(app, ["dashboard", "--library", str(tmp_path)])
    assert res.exit_code == 2
    assert "broken.yaml" in res.output and "horizon_weeks" in res.output


def test_every_slider_default_sits_on_the_sliders_grid():
    """The browser snaps a slider to min + k * step: a default off the grid would change the run."""
    for name, slider in dash.model_params().items():
        if hasattr(slider, "step") and not isinstance(slider, dict):
            k = (slider.value - slider.min) / slider.step
            assert abs(k - round(k)) < 1e-6, name


def test_with_a_posterior_installed_the_page_starts_from_its_medians_on_the_slider_grid(tmp_path, monkeypatch):
    import calibration.posterior as posterior

    path = tmp_path / "posterior.csv"
    path.write_text("alpha_contact_pos,readiness_threshold,weight\n0.0712,0.31,0.2\n0.0904,0.05,0.5\n0.1333,0.2,0.3\n")
    monkeypatch.setattr(posterior, "POSTERIOR_PATH", path)
    base, source = dash.base_params()
    assert "posterior" in source
    # weighted medians (calibration.posterior.weighted_median, as in the intervals table) on the slider's grid
    assert base.alpha_contact_pos == pytest.approx(0.096)   # weighted median 0.0958, slider step 0.001
    assert base.readiness_threshold == pytest.approx(0.14)  # weighted median 0.1438, step 0.01
    assert base.outreach == Params().outreach               # not calibrated: the default
    assert dash.model_params()["alpha_contact_pos"].value == pytest.approx(0.096)
    assert dash.DashboardModel().runs[0].params == base


def test_dialogue_start_moves_the_dialogue_and_keeps_its_length():
    base = [e for e in load_scenario(DEFAULT_SCENARIO).programme if e.activity == "dialogue"][0]
    m = dash.DashboardModel(dialogue_start=10)
    moved = [e for e in m.runs[0].spec.programme if e.activity == "dialogue"][0]
    assert (moved.start_week, moved.end_week) == (10, 10 + base.end_week - base.start_week)
    assert not m.problems


def test_dialogue_start_on_a_programme_without_dialogue_is_reported_not_applied():
    m = dash.DashboardModel(scenario_name="no_intervention", dialogue_start=10)
    assert "no dialogue to move" in m.problems[0]
    assert m.runs[0].spec.programme == []
