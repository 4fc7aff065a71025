"""The model description (docs/model.md) keeps up with the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from model.params import names
from scenarios import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
ODD_SECTIONS = ["Purpose and patterns", "Entities, state variables and scales", "Process overview and scheduling",
                "Design concepts", "Initialisation", "Input data", "Submodels"]
SUBMODELS = [f"7.{k}" for k in range(1, 10)]
PATH = re.compile(r"\b((?:model|scenarios|experiments|calibration|docs|tests|benchmarks)/[\w./-]+\.(?:py|yaml|csv))")


def _generator():
    spec = importlib.util.spec_from_file_location("params_table", ROOT / "docs" / "params_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def _without_generated_blocks(text: str) -> str:
    return re.sub(r"<!-- (\w+):start -->.*?<!-- \1:end -->", "", text, flags=re.DOTALL)


def _sections(text: str) -> dict[str, str]:
    """Numbered heading -> its text up to the next heading of any level."""
    parts = re.split(r"^#{2,3} (\d+(?:\.\d+)?) .*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_the_doc_follows_the_odd_order(text):
    headings = re.findall(r"^## (\d+) (.+)$", text, flags=re.MULTILINE)
    assert headings == [(str(k), title) for k, title in enumerate(ODD_SECTIONS, start=1)]


def test_every_parameter_is_described_outside_the_generated_table(text):
    prose = _without_generated_blocks(text)
    missing = [n for n in names() if f"`{n}`" not in prose and not re.search(rf"\b{n}\b", prose)]
    assert not missing, f"parameters of model.params missing from docs/model.md: {missing}"


def test_generated_tables_are_up_to_date_with_the_code(text):
    gen = _generator()
    for tag, make in gen.BLOCKS.items():
        assert gen.current_block(text, tag) == make(), (
            f"the {tag} table of docs/model.md is out of date; run `python docs/params_table.py`")


def test_every_file_the_doc_names_exists(text):
    named = sorted(set(PATH.findall(text)))
    assert named, "the doc names no module"
    missing = [p for p in named if not (ROOT / p).exists()]
    assert not missing, f"docs/model.md names files that do not exist: {missing}"


def test_every_submodel_points_at_an_existing_module(text):
    sections = _sections(text)
    for number in SUBMODELS:
        assert number in sections, f"docs/model.md has no section {number}"
        modules = [p for p in PATH.findall(sections[number]) if p.startswith("model/") and p.endswith(".py")]
        assert modules, f"section {number} names no module of model/"
        assert all((ROOT / p).is_file() for p in modules)


def test_sections_cited_by_the_code_exist(text):
    sections = _sections(text)
    cite = re.compile(r"docs/model\.md,?\s*(?:section\s*)?(\d+(?:\.\d+)?)")
    missing = []
    for path in sorted((ROOT / "model").glob("*.py")) + sorted((ROOT / "scenarios").glob("*.py")):
        for number in cite.findall(path.read_text(encoding="utf-8")):
            if number not in sections:
                missing.append(f"{path.relative_to(ROOT)} cites section {number}")
    assert not missing, missing


def test_the_scenario_example_in_the_doc_loads(text, tmp_path):
    example = re.search(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert example, "docs/model.md has no scenario example"
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.name == "example"
