"""Every bad scenario gets one clear message naming the file and the field, exit status 2."""

import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from experiments.cli import app
from common.errors import InputError
from scenarios import load_scenario
from tests.conftest import ROOT, qayyarah_raw


def write(tmp_path, raw, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def broken(kind):
    raw = qayyarah_raw()
    if kind == "unknown activity":
        raw["programme"][0]["activity"] = "yoga"
    elif kind == "unknown group":
        raw["programme"][0]["target_groups"] = ["FPA", "IDP"]
    elif kind == "unknown village":
        raw["programme"][0]["villages"] = ["Mosul"]
    elif kind == "share outside [0, 1]":
        raw["population"]["villages"]["Jmisah"]["tension"] = 1.4
    elif kind == "end before start":
        raw["programme"][0].update(start_week=30, end_week=10)
    elif kind == "sample larger than participants":
        raw["survey"]["sample_size"] = 5000
    elif kind == "event before the first week":
        raw["events"] = [{"type": "returns_wave", "week": 0}]
    elif kind == "typo in a key":
        raw["programme"][0]["end_wek"] = raw["programme"][0].pop("end_week")
    return raw


CASES = {
    "unknown activity": ("programme[0].activity", "allowed: individual_counselling"),
    "unknown group": ("programme[0].target_groups", "unknown group 'IDP'; declared groups: ['FPA', 'VF', 'HC']"),
    "unknown village": ("programme[0].villages", "allowed: ['Imam Gharbi', 'Haj Ali', 'Jmisah']"),
    "share outside [0, 1]": ("population.villages.Jmisah.tension", "less than or equal to 1"),
    "end before start": ("programme[0]", "end_week 10 is before start_week 30"),
    "sample larger than participants": ("survey.sample_size 5000", "at most 1300"),
    "event before the first week": ("events[0].week", "greater than or equal to 1"),
    "typo in a key": ("programme[0]", "unknown key 'end_wek' (did you mean 'end_week'?)"),
}


@pytest.mark.parametrize("kind", CASES)
def test_bad_scenario_is_refused_with_file_field_and_what_is_allowed(tmp_path, kind):
    path = write(tmp_path, broken(kind))
    field, allowed = CASES[kind]
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message and field in message and allowed in message, message
    result = CliRunner().invoke(app, ["run", str(path), "--replicates", "1"])
    assert result.exit_code == 2
    assert field in result.output and "Traceback" not in result.output


def test_unparsable_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nprogramme: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(bad)
    with pytest.raises(InputError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_yaml_is_read_with_the_safe_loader(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_scenario(evil)


def test_command_line_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, broken("unknown activity"))
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "run", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "programme[0].activity" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
