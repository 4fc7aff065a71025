"""The shape of the code: dependencies run one way, one loop over one list of mechanisms, one
registry of outcomes, short functions; and a toy mechanism and outcome added from tests/ alone."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

from model import CohesionModel, mechanisms, outcomes, week
from tests.conftest import build, small_raw

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["common", "model", "scenarios", "runner", "calibration", "benchmarks", "experiments"]
"""Each package may import only those before it (experiments holds the command line)."""
PACKAGES = LAYERS


def _imports(path: Path) -> set[str]:
    """Top-level packages a file imports, anywhere in it (functions included), except under
    ``if TYPE_CHECKING:`` (type names, never imported at run time)."""
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def package_graph() -> dict[str, set[str]]:
    return {pkg: {m for f in (ROOT / pkg).rglob("*.py") for m in _imports(f) if m in PACKAGES and m != pkg}
            for pkg in PACKAGES}


def test_no_import_cycle_between_top_level_packages():
    graph = package_graph()

    def reaches(a: str, b: str, seen=()) -> bool:
        return any(n == b or (n not in seen and reaches(n, b, (*seen, n))) for n in graph[a])

    cycles = [p for p in PACKAGES if reaches(p, p)]
    assert not cycles, f"import cycles through {cycles}: {graph}"


def test_dependencies_follow_the_layers():
    graph = package_graph()
    for i, pkg in enumerate(LAYERS):
        assert graph[pkg] <= set(LAYERS[:i]), f"{pkg} imports {graph[pkg] - set(LAYERS[:i])}"


def test_the_cycle_finder_sees_imports_inside_functions(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from experiments import cli\n\nif TYPE_CHECKING:\n    import calibration\n")
    assert _imports(f) == {"experiments"}


def test_no_function_over_60_lines_outside_tests():
    long = []
    for pkg in [*PACKAGES, "docs"]:
        for f in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > 60:
                        long.append(f"{f.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, long


def test_the_week_is_one_loop_over_the_mechanisms_naming_none():
    source = inspect.getsource(week)
    for cls in mechanisms.MECHANISMS:
        assert cls.__name__ not in source and f'"{cls.name}"' not in source
    assert not (ROOT / "model" / "reference.py").exists()
    assert "advance_reference" not in "".join(p.read_text() for p in (ROOT / "model").glob("*.py"))


def test_every_mechanism_has_both_forms_in_its_own_module():
    for cls in mechanisms.MECHANISMS:
        assert cls.__module__.startswith("model.") and cls.__module__ != "model.mechanism"
        assert "step" in vars(cls), cls
        # a per-household form of its own, unless the array form is already a loop that is not over households
        assert "reference" in vars(cls) or cls.name in ("doses",) or "for " in inspect.getsource(cls.step), cls


def test_programme_entries_hold_no_second_encoding():
    from model.programme import Entry, Programme
    assert "pool" not in Entry.__dataclass_fields__
    assert not hasattr(Programme, "active") and not hasattr(Programme, "mixed_active")


# --- the toy mechanism and outcome --------------------------------------------------------------
@pytest.fixture
def toys():
    from tests import toys as t

    t.install()
    try:
        yield t
    finally:
        t.uninstall()


def test_toy_mechanism_runs_in_both_forms_and_its_outcome_is_reported(toys):
    scenario = build(small_raw(scale=8))
    fast, slow = CohesionModel(scenario, rng=2), CohesionModel(scenario, rng=2, step_mode="reference")
    for _ in range(30):
        fast.step()
        slow.step()
        np.testing.assert_array_equal(fast.state.gossip, slow.state.gossip)
    assert fast.state.gossip.max() > 0
    assert "gossip_weeks" in fast.timeseries().columns
    assert fast.summary["gossip_weeks"] == pytest.approx(fast.state.gossip.mean())
    assert "gossip_weeks" in fast.datacollector.get_model_vars_dataframe().columns


def test_toy_outcome_appears_in_compare_output(toys, tmp_path):
    from experiments.compare import compare, write_outputs

    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    import yaml
    raw = small_raw(scale=8, horizon_weeks=40)
    raw["survey"].update(baseline_week=1, endline_week=30)
    for entry in raw["programme"]:
        entry["end_week"] = min(entry["end_week"], 40)
    a.write_text(yaml.safe_dump({**raw, "name": "with_programme"}))
    b.write_text(yaml.safe_dump({**raw, "name": "nothing", "programme": [], "survey": {**raw["survey"], "frame": "households"}}))
    c = compare([a], replicates=2, seed=1, params="defaults", reference=b, workers=1, progress=False)
    assert "gossip_weeks" in set(c.table.outcome)
    write_outputs(c, tmp_path / "out", {})
    table = (tmp_path / "out" / "outcomes.csv").read_text()
    assert "gossip_weeks" in table
    gossip = c.table.set_index(["outcome", "scenario"])["median"]
    assert gossip["gossip_weeks", "with_programme"] > 0 and gossip["gossip_weeks", "nothing"] == 0


# --- one registry of outcomes -------------------------------------------------------------------
@pytest.fixture
def without_two_outcomes():
    """The registry without a population measure (cross_group_ties) and a survey item
    (wellbeing_good); restored afterwards in its order."""
    saved = dict(outcomes.OUTCOMES)
    for name in ("cross_group_ties", "wellbeing_good"):
        outcomes.unregister(name)
    try:
        yield
    finally:
        outcomes.OUTCOMES.clear()
        outcomes.OUTCOMES.update(saved)


def test_deleting_an_outcome_removes_it_everywhere(without_two_outcomes, tmp_path):
    import yaml

    from calibration.targets import load_targets
    from common.errors import InputError
    from experiments import drawing
    from experiments.compare import outcome_names
    from experiments.sweep import load_sweep
    from runner import Task, run

    scenario = build(small_raw(scale=8))
    tables = run(Task(0, scenario, CohesionModel(scenario).params, 1, 0, tables=("survey", "timeseries", "outcomes")))
    assert "cross_group_ties" not in tables["timeseries"].columns                     # cohesion run
    assert not any("cross_group_ties" in c for c in tables["outcomes"].columns)
    assert "wellbeing_good" not in set(tables["survey"].item)
    assert "acceptance" in set(tables["survey"].item)                                 # the others stay
    assert not any(n.startswith("cross_group_ties") for n in outcome_names(scenario.group_names(), scenario.village_names()))  # compare
    sweep = tmp_path / "s.yaml"
    scen = tmp_path / "scen.yaml"
    scen.write_text(yaml.safe_dump(small_raw(scale=8)))
    sweep.write_text(yaml.safe_dump({"name": "t", "scenario": "scen.yaml", "outcomes": ["cross_group_ties"],
                                     "parameters": {"join_rate": None, "tie_rate": None}}))
    with pytest.raises(InputError, match="unknown outcome 'cross_group_ties'"):                 # sweep
        load_sweep(sweep)
    targets = tmp_path / "t.yaml"
    targets.write_text(yaml.safe_dump({"source": "test", "targets": [
        {"item": "wellbeing_good", "wave": "endline", "group": "all", "village": "all", "value": 0.5,
         "population": "p", "quote": "q", "sample_size": {"n": 10, "source": "ASSUMPTION: test"}}]}))
    with pytest.raises(InputError, match="unknown item 'wellbeing_good'"):                      # calibration
        load_targets(targets)
    m = CohesionModel(scenario, rng=1).run(weeks=3)
    assert "cross_group_ties" not in drawing.chart_metrics(m.groups)                                     # dashboard
    assert "ties to households of other groups" not in drawing.current_values_html([m])
    assert "acceptance" in drawing.chart_metrics(m.groups)
