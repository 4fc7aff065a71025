"""Every input file, validated at the door (issue 14): generated valid and broken inputs, then fixed
regression tests.

Property tests (hypothesis) generate versions of every file the project reads: the scenario YAML
(the library's Qayyarah mapping, mutated: wrong types, unknown names, out-of-range, non-finite and
huge values, missing and extra keys, inconsistent weeks; or its text damaged: empty, random bytes,
truncated, a line twice, a character in or out), the sweep YAML, the calibration targets YAML (the
form of the observed figures ``cohesion validate`` reads, through the same loader), the posterior
CSV and the plan file (``cohesion plan``). Each either loads or raises InputError naming the file, never another exception;
what loads is usable (a scenario runs, a posterior draws parameters inside their ranges). Through
the command line (typer's CliRunner, and a subprocess for each kind) a broken file exits 2 with a
message naming it, no traceback, and no output folder.

``COUNTS`` counts the generated cases by file kind; run with ``-s`` to see them.
"""

from __future__ import annotations

import collections
import copy
import csv
import io
import math
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from calibration.posterior import POSTERIOR_PATH, draw_params, load_posterior, resolve_params
from calibration.targets import TARGETS_PATH, load_targets
from common.errors import MAX_YAML_BYTES, InputError, read_yaml
from experiments.cli import app
from experiments.sweep import load_sweep
from model.params import ALIASES, ranges
from scenarios.limits import MAX_HORIZON_WEEKS, MAX_HOUSEHOLDS
from scenarios.schema import load_scenario, read_raw
from tests.conftest import ROOT

QAYYARAH = ROOT / "scenarios" / "qayyarah.yaml"
LAYERED = ROOT / "scenarios" / "sequencing" / "layered.yaml"
SWEEP = ROOT / "experiments" / "sweeps" / "default.yaml"
FILES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.filter_too_much])
COUNTS: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    lines = [f"  {kind}: {sum(c.values())} cases, {c['loaded']} loaded, {c['refused']} refused"
             for kind, c in sorted(COUNTS.items())]
    print("\ngenerated inputs (tests/test_input_properties.py):\n" + "\n".join(lines))


# --- the base files --------------------------------------------------------------------------------
def scenario_raw() -> dict:
    return copy.deepcopy(read_raw(QAYYARAH))


def sweep_raw() -> dict:
    raw = read_yaml(SWEEP)
    raw["scenario"] = str(QAYYARAH)
    return raw


def sweep_text() -> str:
    text = SWEEP.read_text()
    return "".join((f"scenario: {QAYYARAH}" if line.startswith("scenario:") else line) + "\n"
                   for line in text.splitlines())


def targets_raw() -> dict:
    return read_yaml(TARGETS_PATH)


def posterior_rows() -> list[list[str]]:
    """The committed posterior's header and rows, as text."""
    lines = [line for line in POSTERIOR_PATH.read_text().splitlines() if line and not line.startswith("#")]
    return [row for row in csv.reader(lines)]


SCENARIO_NAMES = ["dialogue", "yoga", "FPA", "VF", "HC", "IDP", "Jmisah", "Mosul", "all", "participants",
                  "arrive", "victims", "host", "returns_wave", "baseline", "endline", "acceptance"]


# --- generating YAML mappings ----------------------------------------------------------------------
NASTY = st.one_of(
    st.sampled_from([None, True, False, "78", "0.5", "78.5", "", "text", "nan", -1, 0, 1, 2, 78.5, math.nan,
                     math.inf, -math.inf, 10**9, 10**30, -(10**30), 2**63, 1e308, -1e-300, [], {}, [1, 2],
                     {"x": 1}, "x" * 300]),
    st.integers(), st.floats(), st.text(max_size=12), st.booleans(), st.integers(-5, 1100),
    st.floats(-2, 2), st.lists(st.integers(-3, 60), max_size=3))


def paths(obj, prefix: tuple = ()) -> list[tuple]:
    """Every position in a nested mapping: containers and leaves."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += paths(v, prefix + (i,))
    return out


def at(obj, path: tuple):
    for p in path:
        obj = obj[p]
    return obj


@st.composite
def mutated(draw, base, words: list[str], numbers_only: bool = False, fewest: int = 1):
    """``base()`` with one to three changes (``fewest`` to three): a value replaced (by a nasty value,
    one of ``words``, a week), a key deleted, added or misspelt, a list emptied or an item repeated.
    ``numbers_only``: only numbers change, into other numbers."""
    raw = base()
    ops = ["replace", "name", "week"] if numbers_only else \
        ["replace", "replace", "name", "week", "delete", "add", "rename", "empty", "repeat"]
    for _ in range(draw(st.integers(fewest, 3))):
        op = draw(st.sampled_from(ops))
        where = paths(raw)[1:]
        if op == "week":
            where = [p for p in where if "week" in str(p[-1])] or where
        if numbers_only:
            where = [p for p in where if isinstance(at(raw, p), (int, float)) and not isinstance(at(raw, p), bool)]
        if not where:
            continue
        path = draw(st.sampled_from(where))
        parent, key = at(raw, path[:-1]), path[-1]
        change(draw, op, parent, key, words, numbers_only)
    return raw


def change(draw, op: str, parent, key, words: list[str], numbers_only: bool) -> None:
    if op == "replace":
        parent[key] = draw(st.one_of(st.integers(-10, 10**7), st.floats(-10, 2000)) if numbers_only else NASTY)
    elif op == "name":
        parent[key] = draw(st.sampled_from(words)) if not numbers_only else draw(st.integers(0, 3000))
    elif op == "week":
        parent[key] = draw(st.integers(-3, 600))
    elif op == "delete":
        del parent[key]
    elif op == "add":
        target = parent[key] if isinstance(parent[key], dict) else parent
        if isinstance(target, dict):
            target[draw(st.sampled_from(["end_wek", "extra", "households", "note", "Jmisah", "FPA"]))] = draw(NASTY)
    elif op == "rename" and isinstance(parent, dict):
        parent[str(key)[:-1] + draw(st.sampled_from(["", "s", "_", "X"]))] = parent.pop(key)
    elif op == "empty":
        parent[key] = type(parent[key])() if isinstance(parent[key], (dict, list, str)) else None
    elif op == "repeat" and isinstance(parent[key], list) and parent[key]:
        parent[key].append(copy.deepcopy(parent[key][0]))


@st.composite
def damaged(draw, text: str) -> bytes:
    """``text`` damaged: emptied, replaced by random bytes, truncated, a line twice, a character
    deleted or inserted."""
    lines = text.splitlines(keepends=True)
    kind = draw(st.sampled_from(["empty", "bytes", "truncate", "line twice", "delete", "insert", "latin-1"]))
    i = draw(st.integers(0, len(text) - 1))
    if kind == "empty":
        return draw(st.sampled_from([b"", b"\n", b"   \n\n", b"# only a comment\n", b"~\n", b"[]\n", b"42\n"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "truncate":
        return text[:i].encode()
    if kind == "line twice":
        k = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:k + 1] + lines[k:]).encode()
    if kind == "delete":
        return (text[:i] + text[i + 1:]).encode()
    if kind == "latin-1":
        return text[:i].encode() + b"\xe9" + text[i:].encode()
    c = draw(st.characters(blacklist_categories=("Cs",)))
    return (text[:i] + c + text[i:]).encode()


def write_yaml(path: Path, raw) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def write_bytes(d: str, name: str, data: bytes) -> Path:
    path = Path(d) / name
    path.write_bytes(data)
    return path


def outcome(kind: str, load, path: Path):
    """What ``load(path)`` gives, or None if it refuses the file with an InputError naming it; any
    other exception fails the test."""
    try:
        result = load(path)
    except InputError as exc:
        COUNTS[kind]["refused"] += 1
        assert str(path) in str(exc) and exc.problems, str(exc)
        assert all(isinstance(p, str) and p for p in exc.problems)
        return None
    COUNTS[kind]["loaded"] += 1
    return result


def refused(load, path: Path) -> bool:
    try:
        load(path)
    except InputError:
        return True
    return False


def leaves(obj, prefix: tuple = ()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, prefix + (k,))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from leaves(v, prefix + (i,))
    else:
        yield prefix, obj


def assert_read_as_written(raw, loaded) -> None:
    """What loads means what was written: no yes/no value and no text was read as a number."""
    for path, value in leaves(raw):
        try:
            got = at(loaded, path)
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(value, (bool, str)) and isinstance(got, (int, float)) and not isinstance(got, bool):
            raise AssertionError(f"{path}: {value!r} was read as the number {got!r}")


KEY_LINE = re.compile(r"^\s*[A-Za-z_][\w .-]*:(\s|$)")


@st.composite
def key_line_twice(draw, text: str) -> tuple[int, bytes]:
    """``text`` with one of its ``key: value`` lines written twice; the line number of the copy."""
    lines = [line + "\n" for line in text.splitlines()]
    whole = [k for k, line in enumerate(lines) if KEY_LINE.match(line)    # a key whose value ends on its line
             and line.count("[") == line.count("]") and line.count("{") == line.count("}")]
    k = draw(st.sampled_from(whole))
    return k + 2, "".join(lines[:k + 1] + lines[k:]).encode()


def load_targets_for_qayyarah(path: Path):
    s = load_scenario(QAYYARAH)
    return load_targets(path, s.village_names(), s.group_names())


# --- generating posterior tables -------------------------------------------------------------------
CELLS = st.one_of(st.sampled_from(["", "nan", "NaN", "inf", "-inf", "-1000", "1e999", "abc", "0", "-0", "1e-300",
                                   "True", "0x10", " 0.5 ", "1,5", '"0.5"', "0.5.1", "1e308"]),
                  st.floats().map(repr), st.floats(0, 1).map(repr), st.text(max_size=6))


@st.composite
def posterior_text(draw) -> str:
    """The committed posterior with one to three changes: a cell, a column dropped, renamed (to a
    former name, an unknown one, a duplicate) or added, rows dropped, weights set, the header lost."""
    rows = posterior_rows()
    header, body = rows[0], rows[1:draw(st.integers(0, 40))]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cell", "cell", "drop", "rename", "add", "weights", "no header", "range"]))
        j = draw(st.integers(0, len(header) - 1)) if header else 0
        if op == "cell" and body:
            body[draw(st.integers(0, len(body) - 1))][j] = draw(CELLS)
        elif op == "drop" and header:
            header, body = header[:j] + header[j + 1:], [r[:j] + r[j + 1:] for r in body]
        elif op == "rename" and header:
            header[j] = draw(st.sampled_from(["alpha_contact", "stubbornness_vf", "weight", header[0], "", "w eight"]))
        elif op == "add":
            header = header + [draw(st.sampled_from(["w_stigma", "outreach", "new_param", "weight"]))]
            body = [r + [draw(st.sampled_from(["0.5", "0.1", "1", "nan"]))] for r in body]
        elif op == "weights" and "weight" in header:
            value = draw(st.sampled_from(["0", "-1", "nan", "1e308", "1", "0.0"]))
            body = [r[:header.index("weight")] + [value] + r[header.index("weight") + 1:] for r in body]
        elif op == "no header":
            header = []
        elif op == "range" and header and header[j] in ranges() and body:
            low, high = ranges()[header[j]]
            body[0][j] = repr(draw(st.floats(low - (high - low), high + (high - low))))
    out = io.StringIO()
    csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(([header] if header else []) + body)
    return "# a posterior, changed\n" + out.getvalue()


@st.composite
def damaged_posterior(draw) -> bytes:
    text = POSTERIOR_PATH.read_text()
    kind = draw(st.sampled_from(["damaged", "bom", "extra field", "comments only"]))
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if kind == "extra field":
        lines = text.splitlines()
        k = draw(st.integers(0, len(lines) - 1))
        return "\n".join(lines[:k] + [lines[k] + ",0.5"] + lines[k + 1:]).encode()
    if kind == "comments only":
        return "".join(line + "\n" for line in text.splitlines() if line.startswith("#")).encode()
    return draw(damaged(text))


def check_usable_posterior(post) -> None:
    """A posterior that loads is usable: known columns, finite values inside the declared ranges,
    weights with a positive sum; the draws are parameter sets inside the ranges."""
    assert "weight" in post.columns and len(post) >= 1
    w = post["weight"].to_numpy(float)
    assert np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0
    for c in post.columns:
        if c != "weight":
            low, high = ranges()[c]
            assert post[c].between(low, high).all(), c
    for p in draw_params(post, 4, np.random.default_rng(0)):
        values = p.as_dict()
        assert all(math.isfinite(v) and ranges()[k][0] <= v <= ranges()[k][1] for k, v in values.items()
                   if k in post.columns)


# --- 1. each file kind loads or is refused ---------------------------------------------------------
@FILES
@given(raw=mutated(scenario_raw, SCENARIO_NAMES))
def test_a_generated_scenario_loads_or_is_refused(raw):
    with tempfile.TemporaryDirectory() as d:
        s = outcome("scenario, mapping changed", load_scenario, write_yaml(Path(d) / "s.yaml", raw))
    if s is not None:
        assert_read_as_written(raw, s.model_dump())
        assert s.n_households() <= MAX_HOUSEHOLDS and s.horizon_weeks <= MAX_HORIZON_WEEKS
        assert all(e.end_week <= s.horizon_weeks for e in s.programme)


@FILES
@given(data=damaged(QAYYARAH.read_text()))
def test_a_damaged_scenario_file_loads_or_is_refused(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "s.yaml"
        path.write_bytes(data)
        outcome("scenario, text damaged", load_scenario, path)


@settings(max_examples=40, deadline=None)
@given(raw=st.sampled_from([{}, {"horizon_weeks": 60}, {"survey": {"endline_week": 40}},
                            {"programme": [{"activity": "dialogue", "start_week": 5, "end_week": 17}]}]).flatmap(
    lambda part: mutated(lambda: {"extends": str(QAYYARAH), "name": "over", **copy.deepcopy(part)}, SCENARIO_NAMES,
                         fewest=0)))
def test_a_scenario_that_extends_another_loads_or_is_refused(raw):
    with tempfile.TemporaryDirectory() as d:
        outcome("scenario, extends", load_scenario, write_yaml(Path(d) / "s.yaml", raw))


@pytest.mark.parametrize("base", ["x" * 300, "a\0b.yaml"])
def test_an_extends_path_the_system_cannot_look_up_is_refused(tmp_path, base):
    # found by the property test above: Path.is_file() raised OSError (a name over 255 bytes) or
    # ValueError (a NUL) in scenarios.schema.read_raw
    with pytest.raises(InputError, match="extends: file .* not found"):
        load_scenario(write_yaml(tmp_path / "s.yaml", {"extends": base, "name": "over"}))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(raw=mutated(scenario_raw, SCENARIO_NAMES, numbers_only=True))
def test_a_generated_scenario_that_loads_also_runs(raw):
    from model import CohesionModel

    with tempfile.TemporaryDirectory() as d:
        s = outcome("scenario, numbers changed, run", load_scenario, write_yaml(Path(d) / "s.yaml", raw))
    assume(s is not None and s.n_households() <= 20_000)
    m = CohesionModel(s, rng=0)
    m.run()
    assert len(m.survey_results()) > 0


@FILES
@given(raw=mutated(sweep_raw, ["acceptance", "acceptance.VF", "wellbeing", "dialogue", "yoga", "alpha_contact_pos",
                               "start_week", "places_scale", "block", "sobol", "stubbornness_vf"]))
def test_a_generated_sweep_file_loads_or_is_refused(raw):
    with tempfile.TemporaryDirectory() as d:
        sweep = outcome("sweep, mapping changed", load_sweep, write_yaml(Path(d) / "sweep.yaml", raw))
    if sweep is not None:
        assert_read_as_written(raw, sweep.spec.model_dump())


@settings(max_examples=50, deadline=None)
@given(data=damaged(sweep_text()))
def test_a_damaged_sweep_file_loads_or_is_refused(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sweep.yaml"
        path.write_bytes(data)
        outcome("sweep, text damaged", load_sweep, path)


@FILES
@given(raw=mutated(targets_raw, ["acceptance", "wellbeing_mean", "yoga", "baseline", "endline", "FPA", "VF", "IDP",
                                 "Jmisah", "Mosul", "all"]))
def test_generated_targets_load_or_are_refused(raw):
    with tempfile.TemporaryDirectory() as d:
        targets = outcome("targets, mapping changed", load_targets_for_qayyarah,
                          write_yaml(Path(d) / "targets.yaml", raw))
    if targets is not None:
        assert_read_as_written(raw, targets.model_dump())


@settings(max_examples=50, deadline=None)
@given(data=damaged(TARGETS_PATH.read_text()))
def test_a_damaged_targets_file_loads_or_is_refused(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "targets.yaml"
        path.write_bytes(data)
        outcome("targets, text damaged", load_targets, path)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["scenario", "sweep", "targets"]), data=st.data())
def test_a_key_line_written_twice_is_refused_naming_the_line(kind, data):
    text, load = {"scenario": (QAYYARAH.read_text(), load_scenario), "sweep": (sweep_text(), load_sweep),
                  "targets": (TARGETS_PATH.read_text(), load_targets)}[kind]
    line, damaged_text = data.draw(key_line_twice(text))
    with tempfile.TemporaryDirectory() as d:
        path = write_bytes(d, f"{kind}.yaml", damaged_text)
        assert outcome(f"{kind}, a key line twice", load, path) is None
        with pytest.raises(InputError, match=f"line {line}: key '.+' appears twice \\(first on line {line - 1}\\)"):
            load(path)


@FILES
@given(text=posterior_text())
def test_a_generated_posterior_loads_usable_or_is_refused(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "post.csv"
        path.write_text(text)
        post = outcome("posterior, table changed", load_posterior, path)
    if post is not None:
        check_usable_posterior(post)


@settings(max_examples=50, deadline=None)
@given(data=damaged_posterior())
def test_a_damaged_posterior_file_loads_usable_or_is_refused(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "post.csv"
        path.write_bytes(data)
        post = outcome("posterior, text damaged", load_posterior, path)
    if post is not None:
        check_usable_posterior(post)


# --- 2. through the command line: exit 2, the file named, no traceback, nothing written -----------
@contextmanager
def no_runs():
    """Starting a run, a sweep or a calibration fails the test: a broken file is refused before."""
    import importlib

    def started(*args, **kwargs):
        raise AssertionError("a run started")

    with ExitStack() as stack:   # the modules are imported first, so that none keeps the stand-in
        for target in ("experiments.run.run_batch", "experiments.compare.run_batch", "experiments.sweep.run_batch",
                       "experiments.sweep.run_model_sweep", "calibration.command.run_abc",
                       "calibration.report.run_batch"):
            module, name = target.rsplit(".", 1)
            if hasattr(importlib.import_module(module), name):
                stack.enter_context(mock.patch(target, started))
        yield


def cli(*args):
    with no_runs():
        return CliRunner().invoke(app, [str(a) for a in args])


def assert_refused(res, path: Path, out: Path | None = None) -> None:
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert str(path) in res.output and "error:" in res.output, res.output
    assert "Traceback" not in res.output
    assert out is None or not out.exists()


@CLI
@given(raw=mutated(scenario_raw, SCENARIO_NAMES), command=st.sampled_from(["run", "compare"]))
def test_cli_refuses_a_generated_broken_scenario(raw, command):
    with tempfile.TemporaryDirectory() as d:
        path, out = write_yaml(Path(d) / "s.yaml", raw), Path(d) / "out"
        assume(refused(load_scenario, path))
        COUNTS["cli: scenario"]["refused"] += 1
        assert_refused(cli(command, path, "--replicates", 2, "--out", out), path, out)


@CLI
@given(data=damaged(QAYYARAH.read_text()))
def test_cli_refuses_a_damaged_scenario_file(data):
    with tempfile.TemporaryDirectory() as d:
        path, out = write_bytes(d, "s.yaml", data), Path(d) / "out"
        assume(refused(load_scenario, path))
        COUNTS["cli: scenario text"]["refused"] += 1
        assert_refused(cli("run", path, "--replicates", 2, "--out", out), path, out)


@CLI
@given(raw=mutated(sweep_raw, ["acceptance", "yoga", "alpha_contact_pos", "start_week", "stubbornness_vf"]))
def test_cli_refuses_a_generated_broken_sweep_file(raw):
    with tempfile.TemporaryDirectory() as d:
        path, out = write_yaml(Path(d) / "sweep.yaml", raw), Path(d) / "out"
        assume(refused(load_sweep, path))
        COUNTS["cli: sweep"]["refused"] += 1
        assert_refused(cli("sweep", path, "--method", "morris", "--n", 2, "--out", out), path, out)


@CLI
@given(raw=mutated(targets_raw, ["acceptance", "yoga", "FPA", "IDP", "Mosul", "all"]))
def test_cli_refuses_generated_broken_targets(raw):
    name = "input-properties-never-written"
    with tempfile.TemporaryDirectory() as d:
        path = write_yaml(Path(d) / "targets.yaml", raw)
        assume(refused(load_targets_for_qayyarah, path))
        COUNTS["cli: targets"]["refused"] += 1
        assert_refused(cli("calibrate", path, "--scenario", QAYYARAH, "--name", name, "--budget", "small"), path,
                       ROOT / "calibration" / "results" / name)


@CLI
@given(text=posterior_text(), command=st.sampled_from(["run", "compare"]))
def test_cli_refuses_a_generated_broken_posterior(text, command):
    with tempfile.TemporaryDirectory() as d:
        path, out = write_bytes(d, "post.csv", text.encode()), Path(d) / "out"
        assume(refused(load_posterior, path))
        COUNTS["cli: posterior"]["refused"] += 1
        scenario = QAYYARAH if command == "run" else LAYERED
        assert_refused(cli(command, scenario, "--params", path, "--replicates", 2, "--out", out), path, out)


def subprocess_cases(d: Path) -> dict[str, tuple[Path, list[str], str]]:
    """One broken file of each kind, the command that reads it, and what its message says."""
    scenario = d / "dup.yaml"
    scenario.write_text(QAYYARAH.read_text().replace("horizon_weeks: 78", "horizon_weeks: 78\nhorizon_weeks: 80"))
    sweep = write_yaml(d / "sweep.yaml", {**sweep_raw(), "seed": True})
    targets = targets_raw()
    targets["targets"][0]["sample_size"]["n"] = "150"
    targets = write_yaml(d / "targets.yaml", targets)
    post = d / "post.csv"
    post.write_text("acceptance_threshold,weight\n0.5,1\nnan,1\n")
    out = str(d / "out")
    return {"scenario": (scenario, ["run", str(scenario), "--out", out], "key 'horizon_weeks' appears twice"),
            "sweep": (sweep, ["sweep", str(sweep), "--method", "morris", "--n", "2", "--out", out],
                      "seed: must be a whole number, got true"),
            "targets": (targets, ["calibrate", str(targets), "--name", "input-properties-never-written"],
                        "targets[0].sample_size.n: must be a whole number, got the text '150'"),
            "posterior": (post, ["run", "--params", str(post), "--replicates", "2", "--out", out],
                          "acceptance_threshold, row 2 (line 3): 'nan' is not a finite number")}


@pytest.mark.parametrize("kind", ["scenario", "sweep", "targets", "posterior"])
def test_the_command_line_refuses_a_broken_file_of_each_kind(tmp_path, kind):
    path, args, message = subprocess_cases(tmp_path)[kind]
    calibration = ROOT / "calibration" / "results" / "input-properties-never-written"
    assert not calibration.exists()
    try:
        proc = subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=300)
        assert not calibration.exists(), "a calibration started"
    finally:   # had the file been accepted, the calibration would have written there
        shutil.rmtree(calibration, ignore_errors=True)
    assert proc.returncode == 2, proc.stderr
    assert str(path) in proc.stderr and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


# --- 3. regression tests: defect 1, the posterior table (--params) -------------------------------
def posterior_file(tmp_path: Path, change) -> Path:
    """The committed posterior's first five rows, with ``change(header, rows)`` applied."""
    rows = posterior_rows()
    header, body = rows[0], rows[1:6]
    change(header, body)
    path = tmp_path / "post.csv"
    path.write_text("# hand-made\n" + "\n".join(",".join(r) for r in [header, *body]) + "\n")
    return path


def set_column(name: str, value: str):
    def change(header, body):
        for r in body:
            r[header.index(name)] = value
    return change


POSTERIOR_CASES = {
    "NaN values": (set_column("readiness_threshold", "nan"),
                   "readiness_threshold, row 1 (line 3): 'nan' is not a finite number (and 4 other rows); "
                   "allowed: a finite number in [0, 0.4], the range declared in model/params.py"),
    "values of -1000": (set_column("alpha_coping", "-1000"), "alpha_coping, row 1 (line 3): -1000 is outside"),
    "zero weights": (set_column("weight", "0"), "weight: every weight is 0; allowed: finite, non-negative weights "
                                                "with a positive sum"),
    "NaN weights": (set_column("weight", "NaN"), "weight, row 1 (line 3): 'NaN' is not a finite number"),
    "negative weight": (lambda h, b: b[2].__setitem__(h.index("weight"), "-0.5"),
                        "weight, row 3 (line 5): -0.5 is outside [0, inf]"),
    "a renamed parameter": (lambda h, b: h.__setitem__(h.index("alpha_contact_pos"), "alpha_contact"),
                            "columns ['alpha_contact'] are not parameters of the model (a posterior fitted to another "
                            "version of the model?); allowed: 'weight' and the parameters outreach, join_rate"),
    "no weight column": (lambda h, b: h.__setitem__(h.index("weight"), "weights"), "missing column 'weight'"),
    "a column twice": (lambda h, b: h.__setitem__(0, h[1]), f"columns ['{posterior_rows()[0][1]}'] appear more "
                                                            "than once"),
    "no rows": (lambda h, b: b.clear(), "no rows: the header is there but no parameter set follows"),
}


@pytest.mark.parametrize("case", POSTERIOR_CASES)
def test_a_bad_posterior_is_refused_naming_the_file_the_column_and_the_row(tmp_path, case):
    change, message = POSTERIOR_CASES[case]
    path = posterior_file(tmp_path, change)
    with pytest.raises(InputError) as err:
        load_posterior(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value), str(err.value)
    with pytest.raises(InputError):
        resolve_params(str(path), 3, seed=7)
    for command, scenario in (("run", QAYYARAH), ("compare", LAYERED)):
        res = cli(command, scenario, "--params", path, "--replicates", 2, "--out", tmp_path / "out")
        assert_refused(res, path, tmp_path / "out")
        assert message.split(";")[0] in res.output


@pytest.mark.parametrize("text, message", [
    ("", "no table: the file is empty or holds only comments"),
    ("# only comments\n", "no table: the file is empty or holds only comments"),
    (None, "row 3 (line 5): 3 fields, the header has 8 (a truncated or damaged file?)"),
    (b"\xff\xfeacceptance", "not UTF-8 text"),
])
def test_an_empty_truncated_or_unreadable_posterior_is_refused_not_a_traceback(tmp_path, text, message):
    path = tmp_path / "post.csv"
    if text is None:   # the file cut in the middle of a row
        whole = POSTERIOR_PATH.read_text().splitlines()
        rows = [line for line in whole if not line.startswith("#")][:4]
        text = "# cut\n" + "\n".join(rows[:3]) + "\n" + ",".join(rows[3].split(",")[:3])
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError, match="post.csv") as err:
        load_posterior(path)
    assert message in str(err.value), str(err.value)
    assert_refused(cli("run", QAYYARAH, "--params", path, "--replicates", 2, "--out", tmp_path / "out"), path,
                   tmp_path / "out")


def test_a_posterior_with_a_former_parameter_name_is_read_under_the_new_one(tmp_path):
    old, new = next(iter(ALIASES.items()))

    def add_old_column(header, body):  # a posterior written when the parameter had its former name
        header.insert(0, old)
        for r in body:
            r.insert(0, "0.6")
    path = posterior_file(tmp_path, add_old_column)
    post = load_posterior(path)
    assert new in post.columns and old not in post.columns
    check_usable_posterior(post)


def test_the_committed_posterior_and_a_missing_params_file(tmp_path):
    check_usable_posterior(load_posterior())
    with pytest.raises(InputError, match="--params: file not found; allowed: 'posterior'"):
        resolve_params(str(tmp_path / "nope.csv"), 2, seed=1)
    assert_refused(cli("run", QAYYARAH, "--params", tmp_path / "nope.csv", "--out", tmp_path / "out"),
                   tmp_path / "nope.csv", tmp_path / "out")


# --- defect 2: a key twice in a YAML mapping --------------------------------------------------------
def test_a_key_twice_in_a_yaml_mapping_is_refused_with_its_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n  c: 3\n")
    with pytest.raises(InputError, match="line 4: key 'c' appears twice \\(first on line 3\\); allowed: each key "
                                         "once in a mapping"):
        read_yaml(path)
    path.write_text("{a: 1, a: 2}\n")
    with pytest.raises(InputError, match="line 1: key 'a' appears twice \\(first on the same line\\)"):
        read_yaml(path)
    path.write_text("base: &b {x: 1, y: 2}\nover: {<<: *b, x: 5}\n")   # a merged key may be overridden
    assert read_yaml(path) == {"base": {"x": 1, "y": 2}, "over": {"x": 5, "y": 2}}


@pytest.mark.parametrize("kind", ["scenario", "sweep", "targets"])
def test_a_key_twice_in_any_yaml_input_is_refused(tmp_path, kind):
    source, line, load, args = {
        "scenario": (QAYYARAH.read_text(), "horizon_weeks: 78", load_scenario, ["run"]),
        "sweep": (sweep_text(), "seeds: block", load_sweep, ["sweep"]),
        "targets": (TARGETS_PATH.read_text(), "    wave: baseline", load_targets, ["calibrate"]),
    }[kind]
    path = tmp_path / f"{kind}.yaml"
    path.write_text(source.replace(line, f"{line}\n{line}", 1))
    with pytest.raises(InputError, match=f"key '{line.split(':')[0].strip()}' appears twice"):
        load(path)
    assert_refused(cli(*args, path, "--out" if kind != "targets" else "--name",
                       tmp_path / "out" if kind != "targets" else "input-properties-never-written"), path)


# --- defect 3: no silent coercion into numbers ------------------------------------------------------
def scenario_with(tmp_path: Path, change) -> Path:
    raw = scenario_raw()
    change(raw)
    return write_yaml(tmp_path / "s.yaml", raw)


def jmisah(raw: dict) -> dict:
    return raw["population"]["villages"]["Jmisah"]


COERCED = {
    "true as a number": (lambda r: r.update(horizon_weeks=True),
                         "horizon_weeks: must be a whole number, got true (a yes/no value)"),
    "'78' in a mapping": (lambda r: jmisah(r)["households"].update(FPA="78"),
                          "population.villages.Jmisah.households.FPA: must be a whole number, got the text '78' "
                          "(write numbers without quotes)"),
    "'78.5' for a whole number": (lambda r: r["survey"].update(sample_size="78.5"),
                                  "survey.sample_size: must be a whole number, got the text '78.5'"),
    "78.5 for a whole number": (lambda r: r["programme"][0].update(places=78.5),
                                "programme[0].places: must be a whole number, got 78.5"),
    "'0.5' for a number": (lambda r: jmisah(r).update(tension="0.5"),
                           "population.villages.Jmisah.tension: must be a number, got the text '0.5'"),
    "false in a list's mapping": (lambda r: r["programme"][2].update(start_week=False),
                                  "programme[2].start_week: must be a whole number, got false"),
    "yes/no for a share": (lambda r: r["population"]["initial"]["VF"]["attitude"].update(FPA=True),
                           "population.initial.VF.attitude.FPA: must be a number, got true"),
}


@pytest.mark.parametrize("case", COERCED)
def test_a_bool_or_text_where_a_number_is_expected_is_refused(tmp_path, case):
    change, message = COERCED[case]
    path = scenario_with(tmp_path, change)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert message in str(err.value), str(err.value)
    assert_refused(cli("run", path, "--out", tmp_path / "out"), path, tmp_path / "out")


def test_an_int_for_a_float_a_whole_float_for_an_int_and_a_list_for_a_tuple_are_still_accepted(tmp_path):
    def change(raw):
        jmisah(raw).update(tension=1, leadership=0)
        raw["survey"]["sample_size"] = 150.0
    s = load_scenario(scenario_with(tmp_path, change))
    assert s.population.villages["Jmisah"].tension == 1.0 and s.survey.sample_size == 150
    assert isinstance(s.survey.sample_size, int)
    sweep = load_sweep(write_yaml(tmp_path / "sweep.yaml", sweep_raw()))
    assert next(f for f in sweep.factors if f.name == "dialogue_start").bounds == (1, 40)


@pytest.mark.parametrize("kind, change, message", [
    ("sweep", lambda r: r.update(seed=True), "seed: must be a whole number, got true"),
    ("sweep", lambda r: r.update(morris_levels="4"), "morris_levels: must be a whole number, got the text '4'"),
    ("sweep", lambda r: r["design"]["dialogue_start"].update(bounds=["1", 40]),
     "design.dialogue_start.bounds[0]: must be a number, got the text '1'"),
    ("targets", lambda r: r["targets"][0]["sample_size"].update(n="150"),
     "targets[0].sample_size.n: must be a whole number, got the text '150'"),
    ("targets", lambda r: r["targets"][1].update(value=True), "targets[1].value: must be a number, got true"),
    ("sweep", lambda r: r["outcomes"].append("acceptance"),
     "outcomes: ['acceptance'] appear more than once; allowed: each outcome once"),
])
def test_no_coercion_and_no_outcome_twice_in_sweep_and_targets_files(tmp_path, kind, change, message):
    raw = sweep_raw() if kind == "sweep" else targets_raw()
    change(raw)
    path = write_yaml(tmp_path / f"{kind}.yaml", raw)
    with pytest.raises(InputError) as err:
        (load_sweep if kind == "sweep" else load_targets)(path)
    assert message in str(err.value), str(err.value)


def test_every_strict_model_refuses_coercion_once_for_all():
    from pydantic import Field, ValidationError

    from common.strict import Strict
    from model.activities import catalogue

    class Toy(Strict):
        count: int = Field(ge=0)
        share: float = Field(default=0.5, le=1)
        pairs: dict[str, list[tuple[float, int]]] = {}

    assert Toy(count=3.0, share=1, pairs={"a": [[0, 2]]}).pairs == {"a": [(0.0, 2)]}
    for bad, where in ((dict(count="3"), ("count",)), (dict(count=True), ("count",)),
                       (dict(count=1, pairs={"a": [[0.5, "2"]]}), ("pairs", "a", 0, 1)),
                       (dict(count=1, pairs={"a": [[0.5, 2.5]]}), ("pairs", "a", 0, 1))):
        with pytest.raises(ValidationError) as err:
            Toy(**bad)
        assert err.value.errors()[0]["loc"] == where
    assert len(catalogue()) > 0   # the activity catalogue (a Strict model too) still loads


# --- defect 4: size limits --------------------------------------------------------------------------
SIZES = {
    "10^9 households": (lambda r: jmisah(r)["households"].update(FPA=10**9),
                        "population: 1,000,001,200 households in all (villages and arrivals); allowed: at most "
                        "2,000,000"),
    "arrivals beyond the bound": (lambda r: r["population"].update(movements=[
        {"kind": "arrive", "group": "FPA", "village": "Jmisah", "households": 2_000_000, "start_week": 1,
         "end_week": 10}]), "population: 2,001,300 households in all"),
    "too many ties": (lambda r: (jmisah(r)["households"].update(HC=200_000), r["network"].update(mean_degree=100)),
                      "network.mean_degree: 100 ties per household over 201,040 households make 20,104,000 tie "
                      "ends; allowed: at most 16,000,000"),
    "ten years and a week": (lambda r: r.update(horizon_weeks=521), "horizon_weeks: 521; allowed: at most 520"),
    "an entry ending after the horizon": (lambda r: r["programme"][0].update(end_week=90),
                                          "programme[0].end_week: 90 is after horizon_weeks 78; allowed: at most 78"),
    "an event after the horizon": (lambda r: r.update(events=[{"type": "returns_wave", "week": 79}]),
                                   "events[0].week: 79 is after horizon_weeks 78"),
    "101 programme entries": (lambda r: r.update(programme=r["programme"][:1] * 101),
                              "programme: 101 entries; allowed: at most 100"),
    "10^12 places": (lambda r: r["programme"][0].update(places=10**12),
                     "programme[0].places: 1,000,000,000,000; allowed: at most 2,000,000"),
}


@pytest.mark.parametrize("case", SIZES)
def test_a_scenario_beyond_the_size_and_week_limits_is_refused_before_a_run(tmp_path, case):
    change, message = SIZES[case]
    path = scenario_with(tmp_path, change)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert message in str(err.value), str(err.value)
    assert_refused(cli("run", path, "--out", tmp_path / "out"), path, tmp_path / "out")


def test_a_number_of_five_thousand_digits_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "s.yaml"   # hexadecimal: Python reads it, and cannot print it in decimal
    path.write_text(QAYYARAH.read_text().replace("{FPA: 100,", "{FPA: 0x" + "f" * 4200 + ","))
    with pytest.raises(InputError, match="population: about 10\\^5057 households in all"):
        load_scenario(path)
    path.write_text(QAYYARAH.read_text().replace("tension: 0.7", "tension: 0x" + "f" * 4200))
    with pytest.raises(InputError, match="tension: must be a number of ordinary size, got about 10\\^5057"):
        load_scenario(path)


def test_the_benchmarks_million_households_and_the_bound_itself_load(tmp_path):
    from benchmarks.bench import scaled_scenario

    for n in (10**6, MAX_HOUSEHOLDS):
        raw = scaled_scenario(n).model_dump(mode="json")
        assert load_scenario(write_yaml(tmp_path / f"s{n}.yaml", raw)).n_households() == n
    raw["population"]["villages"]["Jmisah"]["households"]["HC"] += 1
    with pytest.raises(InputError, match="2,000,001 households in all"):
        load_scenario(write_yaml(tmp_path / "over.yaml", raw))


@pytest.mark.parametrize("kind", ["scenario", "sweep", "targets"])
def test_a_yaml_file_over_the_size_limit_is_refused_before_parsing(tmp_path, kind):
    path = tmp_path / f"{kind}.yaml"
    path.write_text("# padding\n" * (MAX_YAML_BYTES // 10 + 1) + "name: x\n")
    load = {"scenario": load_scenario, "sweep": load_sweep, "targets": load_targets}[kind]
    with mock.patch("yaml.SafeLoader.get_single_node", side_effect=AssertionError("parsed")):
        with pytest.raises(InputError, match=f"the file is {path.stat().st_size:,} bytes; allowed: at most "
                                             f"{MAX_YAML_BYTES:,} bytes"):
            load(path)


@pytest.mark.parametrize("text, message", [
    ("a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                                               for p, c in zip("abcdef", "bcdefg")),
     "more than 1,000,000 values (lists, mappings and scalars, with aliases expanded)"),
    ("&a [1, *a]\n", "line 1: an alias refers to the list or mapping that contains it (a cycle)"),
    ("[" * 20000, "lists or mappings nested too deeply"),
    ("x: " + "9" * 5000 + "\n", "a value cannot be read (Exceeds the limit (4300 digits)"),
    ("x: 2025-02-30\n", "a value cannot be read (day is out of range for month)"),
])
def test_yaml_that_would_blow_up_is_refused(tmp_path, text, message):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_yaml(path)
    assert message in str(err.value), str(err.value)


@pytest.mark.parametrize("args, flag", [
    (["run", QAYYARAH, "--replicates", 100_001], "--replicates"),
    (["compare", LAYERED, "--replicates", 100_001], "--replicates"),
    (["sweep", SWEEP, "--method", "morris", "--n", 2**16 + 1], "--n"),
    (["sweep", SWEEP, "--method", "sobol", "--n", 2**17], "--n"),
    (["sweep", SWEEP, "--method", "sobol", "--n", 1000], "--n"),
])
def test_replicates_and_sweep_n_beyond_the_bounds_are_refused(tmp_path, args, flag):
    res = cli(*args, "--out", tmp_path / "out")
    assert res.exit_code == 2 and flag in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "out").exists()


# --- defect 5: non-finite numbers ---------------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (lambda r: jmisah(r).update(tension=math.nan), "population.villages.Jmisah.tension: must be a finite number, "
                                                   "got nan"),
    (lambda r: r["network"].update(mean_degree=math.inf), "network.mean_degree: must be a finite number, got inf"),
    (lambda r: jmisah(r)["households"].update(VF=-math.inf), "households.VF: must be a finite number, got -inf"),
    (lambda r: r["population"]["initial"]["FPA"]["attitude"].update(VF=math.nan),
     "population.initial.FPA.attitude.VF: must be a finite number, got nan"),
])
def test_a_non_finite_number_says_it_must_be_finite(tmp_path, change, message):
    with pytest.raises(InputError) as err:
        load_scenario(scenario_with(tmp_path, change))
    assert message in str(err.value) and "less than or equal" not in str(err.value), str(err.value)


def test_a_non_finite_target_says_it_must_be_finite(tmp_path):
    raw = targets_raw()
    raw["targets"][0]["value"] = math.nan
    with pytest.raises(InputError, match="targets\\[0\\].value: must be a finite number, got nan"):
        load_targets(write_yaml(tmp_path / "t.yaml", raw))


# --- defect 6: encodings are still explained ---------------------------------------------------------
@pytest.mark.parametrize("kind", ["scenario", "sweep", "targets", "posterior"])
def test_a_file_that_is_not_utf8_is_still_explained(tmp_path, kind):
    path = tmp_path / f"{kind}.{'csv' if kind == 'posterior' else 'yaml'}"
    path.write_bytes(b"name: caf\xe9\n")
    load = {"scenario": load_scenario, "sweep": load_sweep, "targets": load_targets, "posterior": load_posterior}[kind]
    with pytest.raises(InputError, match="not UTF-8 text: byte (0xe9 )?at byte offset 9"):
        load(path)


# --- names the system cannot look up (found by the property tests) ----------------------------------
@pytest.mark.parametrize("name", ["x" * 300, "a\0b.yaml"])
def test_a_file_name_the_system_cannot_look_up_is_refused(tmp_path, name):
    with pytest.raises(InputError, match="scenario: file .* not found"):
        load_sweep(write_yaml(tmp_path / "sweep.yaml", {**sweep_raw(), "scenario": name}))
    if "\0" not in name:   # a command line cannot hold a NUL
        assert_refused(cli("run", tmp_path / name, "--out", tmp_path / "out"), tmp_path / name, tmp_path / "out")
        assert_refused(cli("run", QAYYARAH, "--params", tmp_path / name, "--out", tmp_path / "out"), tmp_path / name,
                       tmp_path / "out")


# --- the plan file (cohesion plan) -------------------------------------------------------------------
PLAN = ROOT / "experiments" / "plans" / "qayyarah_budget.yaml"
PLAN_NAMES = ["dialogue", "yoga", "recreation", "acceptance_least_group", "cost", "Jmisah", "Mosul", "tpe",
              "nsga2", "all", ""]


def plan_raw() -> dict:
    raw = read_yaml(PLAN)
    raw["population"], raw["delivered"] = str(QAYYARAH), str(QAYYARAH)
    return raw


def load_plan_file(path: Path):
    from experiments.plan import load_plan
    return load_plan(path)


@FILES
@given(raw=mutated(plan_raw, PLAN_NAMES))
def test_a_generated_plan_file_loads_or_is_refused(raw):
    with tempfile.TemporaryDirectory() as d:
        loaded = outcome("plan, mapping changed", load_plan_file, write_yaml(Path(d) / "p.yaml", raw))
    if loaded is not None:
        plan = loaded[0]
        assert plan.budget > 0 and math.isfinite(plan.budget)
        assert_read_as_written(raw, plan.model_dump())


@FILES
@given(data=damaged(PLAN.read_text().replace("../../scenarios/qayyarah.yaml", str(QAYYARAH))))
def test_a_damaged_plan_file_loads_or_is_refused(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.yaml"
        path.write_bytes(data)
        outcome("plan, text damaged", load_plan_file, path)
