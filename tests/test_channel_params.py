"""The catalogue's channel strengths as parameters (by name, and through grouped multipliers), the
contact asymmetry as a ratio, and posteriors fitted to another version of the parameters."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from calibration.posterior import PosteriorWarning, draw_params, load_posterior
from common.errors import InputError
from common.vocabulary import CHANNELS
from experiments.cli import app
from experiments.sweep import load_sweep, run_model_sweep
from model import CohesionModel, Params
from model.activities import MULTIPLIERS, catalogue, channel_group, strength_ranges
from model.params import addressable_ranges, names, ranges
from tests.conftest import build, small_raw
from tests.test_runner_support import tiny_raw, tiny_scenario, write_scenario

ROOT = Path(__file__).resolve().parents[1]


def matrix(params: Params, scenario=None) -> tuple[np.ndarray, list]:
    """The run's channel matrix (sessions x strength per entry) and its entries, for ``params``."""
    m = CohesionModel(scenario or tiny_scenario(), params, rng=0)
    return m.programme.channel_matrix.copy(), m.programme.entries


def catalogue_matrix(entries) -> np.ndarray:
    return np.array([[e.activity.sessions_per_week * e.activity.channel(c) for c in CHANNELS] for e in entries])


def test_default_parameters_give_the_catalogue_matrix_exactly():
    cm, entries = matrix(Params())
    assert np.array_equal(cm, catalogue_matrix(entries))   # bit for bit: the default run is unchanged


def test_setting_one_strength_by_name_changes_that_cell_and_nothing_else():
    base, entries = matrix(Params())
    k = next(e.index for e in entries if e.name == "peer_groups")
    j = CHANNELS.index("stigma")
    cm, _ = matrix(Params().with_values(**{"channel.peer_groups.stigma": 0.7}))
    changed = np.argwhere(cm != base)
    assert changed.tolist() == [[k, j]]
    assert cm[k, j] == pytest.approx(entries[k].activity.sessions_per_week * 0.7)


def test_the_ties_strength_set_by_name_reaches_the_tie_rule():
    s = tiny_scenario()
    k = next(e.index for e in CohesionModel(s, rng=0).programme.entries if e.name == "cac_mediation")
    name = "channel.cac_mediation.contact"
    assert name in strength_ranges()
    m = CohesionModel(s, Params().with_values(**{name: 0.45}), rng=0)
    assert m.programme.channel_matrix[k, CHANNELS.index("contact")] == pytest.approx(0.45)
    assert m.programme.tie_strength[k] == 0.0   # cac_mediation has no ties channel: untouched


@pytest.mark.parametrize("multiplier", list(MULTIPLIERS))
def test_a_multiplier_scales_exactly_its_group(multiplier):
    # the whole library programme: every activity of the catalogue that the Qayyarah scenario runs
    from scenarios import load_scenario

    s = load_scenario(ROOT / "scenarios" / "qayyarah.yaml")
    base, entries = matrix(Params(), s)
    cm, _ = matrix(Params().with_values(**{multiplier: 1.4}), s)
    in_group = np.array([[channel_group(e.activity, c) == multiplier for c in CHANNELS] for e in entries])
    assert (base[in_group] > 0).any(), f"{multiplier} scales nothing in the Qayyarah programme"
    np.testing.assert_allclose(cm[in_group], 1.4 * base[in_group], rtol=1e-12)
    assert np.array_equal(cm[~in_group], base[~in_group])


def test_a_strength_set_by_name_is_still_scaled_by_its_group():
    _, entries = matrix(Params())
    k = next(e.index for e in entries if e.name == "peer_groups")
    cm, _ = matrix(Params().with_values(**{"channel.peer_groups.coping": 0.4, "m_pss_channels": 1.5}))
    assert cm[k, CHANNELS.index("coping")] == pytest.approx(entries[k].activity.sessions_per_week * 0.4 * 1.5)


def test_every_nonzero_cell_is_addressable_with_a_relative_range_and_zeros_are_not():
    r = strength_ranges()
    cells = [(a, c, v) for a, act in catalogue().items() for c, v in act.channels.items() if v > 0]
    assert len(r) == len(cells)
    for a, c, v in cells:
        assert r[f"channel.{a}.{c}"] == pytest.approx((0.5 * v, 1.5 * v))
    assert set(r) <= set(addressable_ranges()) and not set(r) & set(names())
    with pytest.raises(KeyError, match="has no channel 'dialogue'"):
        Params().with_values(**{"channel.recreation.dialogue": 0.5})


def test_each_multiplier_is_a_parameter_and_every_cell_has_at_most_one_group():
    for m in MULTIPLIERS:
        assert ranges()[m] == (0.5, 1.5) and getattr(Params(), m) == 1.0
    groups = {channel_group(act, c) for act in catalogue().values() for c in act.channels}
    assert groups <= set(MULTIPLIERS) | {None}


@pytest.mark.parametrize("name, message", [
    ("channel.recreaton.contact", "unknown activity 'recreaton'"),
    ("channel.recreation.dialog", "'recreation' has no channel 'dialog'"),
    ("channel.recreation", "allowed: channel.<activity>.<channel>"),
    ("alpha_contact_neg", "replaced by contact_neg_ratio"),
])
def test_bad_names_are_refused_with_what_is_allowed(name, message):
    with pytest.raises(KeyError, match=message):
        Params().with_values(**{name: 0.5})


def test_as_dict_reads_back_the_strengths_set_by_name():
    p = Params().with_values(**{"channel.dialogue.dialogue": 1.2, "m_dialogue_channels": 0.8})
    assert Params().with_values(**p.as_dict()) == p
    assert p.as_dict()["channel.dialogue.dialogue"] == 1.2


# --- sweeps -------------------------------------------------------------------------------------------
def strengths_sweep(tmp_path: Path, parameters: dict) -> Path:
    scen = write_scenario(tiny_raw(), tmp_path / "tiny.yaml")
    raw = {"name": "ch", "scenario": scen.name, "outcomes": ["acceptance", "wellbeing"], "parameters": parameters}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_sweep_naming_a_channel_strength_runs_and_reads_its_range(tmp_path):
    path = strengths_sweep(tmp_path, {"channel.peer_groups.coping": {}, "m_community_channels": {},
                                      "channel.cac_mediation.contact": {"bounds": [0.2, 0.4]}})
    sw = load_sweep(path)
    bounds = {f.name: f.bounds for f in sw.factors}
    assert bounds["channel.peer_groups.coping"] == pytest.approx((0.3, 0.9))
    res = run_model_sweep(sw, method="morris", n=2, out=tmp_path / "out", workers=1, progress=False)
    assert len(res.runs) == 2 * 4
    assert set(res.indices.factor) == set(bounds)
    # the strength moved the runs: peer groups' coping dose changes well-being at the endline
    assert res.runs["wellbeing"].nunique() > 1


@pytest.mark.parametrize("parameters, message", [
    ({"channel.peer_group.coping": {}, "tie_rate": {}}, "unknown activity 'peer_group'"),
    ({"channel.peer_groups.contact": {}, "tie_rate": {}}, "'peer_groups' has no channel 'contact'"),
    ({"channel.dialogue.dialogue": {}, "tie_rate": {}}, "activity 'dialogue' is not in the programme"),
    ({"channel.peer_groups.coping": {"bounds": [0.1, 0.9]}, "tie_rate": {}}, "inside the declared range"),
    ({"alpha_contact_neg": {}, "tie_rate": {}}, "replaced by contact_neg_ratio"),
])
def test_a_sweep_with_a_bad_strength_name_names_file_and_field(tmp_path, parameters, message):
    with pytest.raises(InputError, match="sweep.yaml") as exc:
        load_sweep(strengths_sweep(tmp_path, parameters))
    assert message in str(exc.value) and "parameters" in str(exc.value)


def test_cli_sweep_with_an_unknown_channel_exits_2(tmp_path):
    path = strengths_sweep(tmp_path, {"channel.peer_groups.contcat": {}, "tie_rate": {}})
    res = CliRunner().invoke(app, ["sweep", str(path), "--n", "2", "--method", "morris"])
    assert res.exit_code == 2, res.output
    assert "sweep.yaml" in res.output and "contcat" in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("name", ["channels.yaml", "channel_strengths.yaml", "default.yaml"])
def test_the_library_sweep_files_load(name):
    sw = load_sweep(ROOT / "experiments" / "sweeps" / name)
    assert len(sw.factors) >= 2


def test_the_strengths_sweep_names_every_strength_of_its_programme():
    sw = load_sweep(ROOT / "experiments" / "sweeps" / "channel_strengths.yaml")
    acts = {e.activity for e in sw.scenario.programme}
    expected = {n for n in strength_ranges() if n.split(".")[1] in acts}
    assert {f.name for f in sw.factors} == expected


# --- contact asymmetry --------------------------------------------------------------------------------
def test_negative_contact_weighs_at_least_one_and_a_half_times_positive_everywhere_in_the_range():
    low, high = ranges()["contact_neg_ratio"]
    assert (low, high) == (1.5, 3.0) and "alpha_contact_neg" not in names()
    assert low <= Params().contact_neg_ratio <= high


def test_a_larger_ratio_lowers_attitudes_with_the_same_draws():
    # the same seed: identical populations, places and uniforms; only the weight of negative contact
    # differs. By week 30 of the Qayyarah programme (a sixth of its households) recreation and
    # vocational training have made hundreds of negative encounters, so mean attitudes end lower at
    # ratio 3 than at 1.5 (measured: 0.608 against 0.619, seed 3).
    s = build(small_raw(scale=6))
    means = []
    for ratio in (1.5, 3.0):
        m = CohesionModel(s, Params().with_values(contact_neg_ratio=ratio), rng=3).run(30)
        assert m.state.contact_neg.sum() > 0
        means.append(m.state.mean_other_attitude().mean())
    assert means[1] < means[0]


# --- posteriors fitted to another version of the parameters --------------------------------------------
def write_posterior(path: Path, header: list[str], rows: list[list[float]]) -> Path:
    path.write_text("\n".join([",".join(header)] + [",".join(map(str, r)) for r in rows]) + "\n")
    return path


def test_a_posterior_with_a_removed_parameter_is_refused_by_name(tmp_path):
    path = write_posterior(tmp_path / "old.csv", ["alpha_contact_pos", "alpha_contact_neg", "weight"],
                           [[0.05, 0.1, 1.0]])
    with pytest.raises(InputError, match="old.csv") as exc:
        load_posterior(path)
    assert "alpha_contact_neg" in str(exc.value) and "replaced by contact_neg_ratio" in str(exc.value)


def test_a_posterior_lacking_a_calibrated_parameter_is_warned_about_by_name(tmp_path):
    path = write_posterior(tmp_path / "p.csv", ["alpha_contact_pos", "weight"], [[0.05, 1.0]])
    with pytest.warns(PosteriorWarning, match=r"\['contact_neg_ratio'\]"):
        load_posterior(path, calibrated=["alpha_contact_pos", "contact_neg_ratio"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_posterior(path, calibrated=["alpha_contact_pos"])   # all there: no warning


def test_a_posterior_may_hold_channel_strengths_and_draws_apply_them(tmp_path):
    path = write_posterior(tmp_path / "p.csv", ["channel.recreation.contact", "m_contact_channels", "weight"],
                           [[0.5, 1.2, 1.0]])
    post = load_posterior(path, calibrated=[])
    (p,) = draw_params(post, 1, np.random.default_rng(0))
    assert dict(p.channel_strengths) == {"channel.recreation.contact": 0.5} and p.m_contact_channels == 1.2
    bad = write_posterior(tmp_path / "bad.csv", ["channel.recreation.contact", "weight"], [[1.3, 1.0]])
    with pytest.raises(InputError, match=r"outside \[0.4, 1.2\]"):
        load_posterior(bad, calibrated=[])


def test_cli_run_with_a_posterior_of_another_version_exits_2(tmp_path):
    path = write_posterior(tmp_path / "old.csv", ["alpha_contact_neg", "weight"], [[0.1, 1.0]])
    scen = write_scenario(tiny_raw(), tmp_path / "tiny.yaml")
    res = CliRunner().invoke(app, ["run", str(scen), "--replicates", "1", "--params", str(path)])
    assert res.exit_code == 2, res.output
    assert "alpha_contact_neg" in res.output and "Traceback" not in res.output
