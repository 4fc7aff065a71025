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
    a.write_text(yaml.safe_dump({**raw, "name": "with_programme"}))
    b.write_text(yaml.safe_dump({**raw, "name": "nothing", "programme": [], "survey": {**raw["survey"], "frame": "households"}}))
    c = compare([a], replicates=2, seed=1, params="defaults", reference=b, workers=1, progress=False)
    assert "gossip_weeks" in set(c.table.outcome)
    write_outputs(c, tmp_path / "out", {})
    table = (tmp_path / "out" / "outcomes.csv").read_text()
    assert "gossip_weeks" in table
    gossip = c.table.set_index(["outcome", "scenario"])["median"]
    assert gossip["gossip_weeks", "with_programme"] > 0 and gossip["gossip_weeks", "nothing"] == 0
