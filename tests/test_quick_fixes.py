"""User mistakes that used to be ignored or end in a traceback: each is now refused at the door with
one message naming the file or flag, the field and what is allowed, exit status 2, nothing written."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.cli import app, check_out
from experiments.compare import load_scenarios
from experiments.sweep import DesignFactor, load_sweep
from common.errors import InputError, read_yaml
from scenarios import load_scenario
from tests.conftest import ROOT, qayyarah_raw
from tests.test_runner_support import tiny_raw, write_scenario
from tests.test_sweep import sweep_file

QAYYARAH = ROOT / "scenarios" / "qayyarah.yaml"
LAYERED = ROOT / "scenarios" / "sequencing" / "layered.yaml"
DEFAULT_SWEEP = ROOT / "experiments" / "sweeps" / "default.yaml"


@pytest.fixture
def no_runs(monkeypatch):
    """Every check here must fail before a run starts: starting one fails the test."""
    def started(*args, **kwargs):
        raise AssertionError("a run started")

    for target in ("runner.run_batch", "experiments.compare.run_batch", "experiments.sweep.run_batch",
                   "experiments.sweep.run_model_sweep"):
        monkeypatch.setattr(target, started)


def cli(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def refused(result, *expected: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output


# --- 1. sweep --n -----------------------------------------------------------------------------------
@pytest.mark.parametrize("method, n, allowed", [
    ("sobol", "0", "allowed for sobol: a power of two"),
    ("sobol", "-4", "allowed for sobol: a power of two"),
    ("sobol", "1", "allowed for sobol: a power of two"),
    ("sobol", "1000", "Sobol sampling needs a power of two (e.g. 512 or 1024)"),
    ("morris", "0", "allowed for morris: a whole number of trajectories, at least 2"),
    ("morris", "1", "allowed for morris: a whole number of trajectories, at least 2"),
])
def test_sweep_n_the_method_cannot_use_is_refused_before_any_run(tmp_path, no_runs, method, n, allowed):
    out = tmp_path / "out"
    res = cli("sweep", DEFAULT_SWEEP, "--method", method, "--n", n, "--out", out)
    refused(res, "--n", allowed)
    assert "n=1024" not in res.output and not out.exists()


# --- 2. compare --reference -------------------------------------------------------------------------
def test_compare_with_a_missing_reference_file_is_refused(tmp_path, no_runs):
    res = cli("compare", LAYERED, "--reference", tmp_path / "nope.yaml", "--out", tmp_path / "out")
    refused(res, "--reference", "nope.yaml: file not found; allowed: a scenario YAML file")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="--reference"):
        load_scenarios([LAYERED], tmp_path / "nope.yaml")


def test_compare_with_an_invalid_reference_file_names_it_and_the_field(tmp_path, no_runs):
    raw = qayyarah_raw()
    raw["programme"][0]["activity"] = "yoga"
    ref = write_scenario(raw, tmp_path / "ref.yaml")
    res = cli("compare", LAYERED, "--reference", ref, "--out", tmp_path / "out")
    refused(res, str(ref), "programme[0].activity")


# --- 3. scenario names are safe file names ----------------------------------------------------------
@pytest.mark.parametrize("name", ["../../elsewhere", "a/b", "..", ".hidden", "with space", "", "x" * 101,
                                  "tab\there", "new\nline", "C:evil"])
def test_an_unsafe_scenario_name_is_refused_saying_what_is_allowed(tmp_path, name):
    path = write_scenario({**tiny_raw(), "name": name}, tmp_path / "s.yaml")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "name:" in message and "not a safe file name" in message
    assert "allowed: letters, digits, '_', '-' and '.', not starting with '.', at most 100 characters" in message


@pytest.mark.parametrize("name", ["qayyarah", "dialogue_week_01", "a.b-c", "x" * 100, "2025-03_v1.2"])
def test_safe_scenario_names_are_accepted(tmp_path, name):
    assert load_scenario(write_scenario({**tiny_raw(), "name": name}, tmp_path / "s.yaml")).name == name


def test_a_name_escaping_results_writes_nothing(tmp_path, monkeypatch, no_runs):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = write_scenario({**tiny_raw(), "name": "../../elsewhere"}, tmp_path / "s.yaml")
    refused(cli("run", path, "--replicates", "2"), "name: '../../elsewhere' is not a safe file name")
    assert sorted(tmp_path.iterdir()) == sorted([path, work]) and not list(work.iterdir())


def test_every_library_scenario_still_loads():
    files = sorted((ROOT / "scenarios").rglob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        load_scenario(path)


def test_an_unsafe_sweep_name_is_refused(tmp_path):
    with pytest.raises(InputError, match="name: '../x' is not a safe file name"):
        load_sweep(sweep_file(tmp_path, name="../x"))


# --- 4a. files that are not UTF-8 -------------------------------------------------------------------
def test_a_scenario_that_is_not_utf8_says_so_and_where(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(path) in str(err.value)
    assert "not UTF-8 text: byte 0xe9 at byte offset 24 (line 2)" in str(err.value)
    refused(cli("run", path, "--replicates", "2"), str(path), "not UTF-8 text", "byte offset 24")


def test_the_offset_of_a_bad_byte_counts_from_the_start_of_the_file(tmp_path):
    path = tmp_path / "long.yaml"
    head = b"# padding\n" * 2000   # past any reading buffer
    path.write_bytes(head + b"name: \xff\n")
    with pytest.raises(InputError, match=f"byte offset {len(head) + 6} \\(line 2001\\)"):
        read_yaml(path)


def test_a_sweep_file_that_is_not_utf8_is_refused(tmp_path, no_runs):
    path = tmp_path / "sweep.yaml"
    path.write_bytes("name: t\ndescription: ".encode() + "d\u00e9faut".encode("utf-16"))
    refused(cli("sweep", path, "--n", "4"), str(path), "not UTF-8 text")


# --- 4b. --out that is a file or cannot be created --------------------------------------------------
def out_commands(tmp_path: Path) -> dict[str, list]:
    return {"run": ["run", QAYYARAH, "--replicates", "2"],
            "compare": ["compare", LAYERED, "--replicates", "2"],
            "sweep": ["sweep", sweep_file(tmp_path), "--method", "morris", "--n", "2"]}


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_out_naming_an_existing_file_is_refused_before_any_run(tmp_path, no_runs, command):
    somefile = tmp_path / "somefile"
    somefile.write_text("keep me")
    refused(cli(*out_commands(tmp_path)[command], "--out", somefile),
            "--out", f"{somefile} is a file, not a folder; allowed: a folder that exists or can be created")
    assert somefile.read_text() == "keep me"


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_out_that_cannot_be_created_is_refused_before_any_run(tmp_path, no_runs, command):
    somefile = tmp_path / "somefile"
    somefile.write_text("keep me")
    out = somefile / "sub" / "deeper"
    refused(cli(*out_commands(tmp_path)[command], "--out", out),
            "--out", f"{out} cannot be created: {somefile} is a file, not a folder")
    assert somefile.read_text() == "keep me"


def test_check_out_accepts_a_new_folder_without_making_it(tmp_path):
    new = tmp_path / "a" / "b"
    assert check_out(new) == new and not (tmp_path / "a").exists()
    assert check_out(tmp_path) == tmp_path


# --- 4c. sweep bounds -------------------------------------------------------------------------------
def start_week(bounds):
    return {"d": {"change": "start_week", "activities": ["peer_groups"], "bounds": bounds}}


@pytest.mark.parametrize("changes, message", [
    ({"design": start_week([30, 10])}, "design.d.bounds: lower bound 30 must be below upper bound 10"),
    ({"design": start_week([10, 10])}, "design.d.bounds: lower bound 10 must be below upper bound 10"),
    ({"design": start_week([math.nan, 10])}, "design.d.bounds: lower bound nan must be a finite number"),
    ({"design": {"d": {"change": "places_scale", "activities": ["peer_groups"], "bounds": [0.5, math.inf]}}},
     "design.d.bounds: upper bound inf must be a finite number"),
    ({"parameters": {"alpha_contact_pos": {}, "readiness_threshold": {"bounds": [0.3, 0.05]}}},
     "parameters.readiness_threshold.bounds: lower bound 0.3 must be below upper bound 0.05"),
    ({"parameters": {"alpha_contact_pos": {}, "readiness_threshold": {"bounds": [0.05, math.nan]}}},
     "parameters.readiness_threshold.bounds: upper bound nan must be a finite number"),
    ({"parameters": {"alpha_contact_pos": {}, "readiness_threshold": {"bounds": [-math.inf, 0.3]}}},
     "parameters.readiness_threshold.bounds: lower bound -inf must be a finite number"),
])
def test_illegal_sweep_bounds_are_refused_naming_the_factor(tmp_path, changes, message):
    with pytest.raises(InputError, match="sweep.yaml") as err:
        load_sweep(sweep_file(tmp_path, **changes))
    assert message in str(err.value)


def test_cli_sweep_with_reversed_bounds_exits_2(tmp_path, no_runs):
    res = cli("sweep", sweep_file(tmp_path, design=start_week([30, 10])), "--method", "morris", "--n", "2",
              "--out", tmp_path / "out")
    refused(res, "design.d.bounds: lower bound 30 must be below upper bound 10")
    assert not (tmp_path / "out").exists()


def test_a_design_factor_built_in_code_may_still_have_equal_bounds():
    # the dashboard moves dialogue to one week with bounds (1, 1); only sweep files need a range
    assert DesignFactor(change="start_week", activities=["dialogue"], bounds=(1, 1)).bounds == (1, 1)


# --- 4d. file names with square brackets are printed as they are -----------------------------------
@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_a_missing_file_with_brackets_is_named_verbatim(tmp_path, monkeypatch, no_runs, command):
    monkeypatch.chdir(tmp_path)
    for name in ("[red]x.yaml", "[/oops].yaml"):
        refused(cli(command, name, "--out", tmp_path / "out"), f"{name}: 1 problem(s)", "file not found")


def test_an_invalid_file_with_brackets_is_named_verbatim(tmp_path, monkeypatch, no_runs):
    monkeypatch.chdir(tmp_path)
    raw = qayyarah_raw()
    raw["programme"][0]["activity"] = "yoga"
    write_scenario(raw, tmp_path / "[red]x.yaml")
    (tmp_path / "[").mkdir()
    write_scenario(raw, tmp_path / "[" / "oops].yaml")
    for name in ("[red]x.yaml", "[/oops].yaml"):
        refused(cli("run", name, "--replicates", "2"), f"{name}: 1 problem(s)", "programme[0].activity")
    # without a name the file's name is used, and it is not a safe one
    raw.pop("name")
    raw["programme"][0]["activity"] = "dialogue"
    write_scenario(raw, tmp_path / "[red]x.yaml")
    refused(cli("run", "[red]x.yaml", "--replicates", "2"), "[red]x.yaml: 1 problem(s)",
            "name: '[red]x' is not a safe file name")
