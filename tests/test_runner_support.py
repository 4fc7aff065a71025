"""Small scenarios and tasks shared by the runner, compare and sweep tests (no tests here)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import yaml

from runner import Task
from model import Params
from scenarios.schema import Scenario
from tests.conftest import build, small_raw

HORIZON = 20


def tiny_raw(**overrides) -> dict:
    """The Qayyarah population divided by 10 (130 households), programme cut to a 20-week horizon."""
    raw = small_raw(scale=10)
    raw["horizon_weeks"] = HORIZON
    raw["programme"] = [{**e, "end_week": min(e["end_week"], HORIZON)} for e in raw["programme"]
                        if e["start_week"] <= 12]
    raw["survey"] = {**raw["survey"], "baseline_week": 0, "endline_week": 16, "sample_size": 30}
    raw.update(overrides)
    return raw


def tiny_scenario(**overrides) -> Scenario:
    return build(tiny_raw(**overrides))


def write_scenario(raw: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def tiny_tasks(n: int, seed: int = 5) -> list[Task]:
    s = tiny_scenario()
    return [Task(index=k, scenario=s, params=Params(), root_seed=seed, seed_key=k, replicate=k) for k in range(n)]


def slow_square(task: Task) -> dict[str, pd.DataFrame]:
    """A cheap run with a fixed duration, for killing a batch part-way."""
    time.sleep(0.02)
    return {"values": pd.DataFrame({"run": [task.index] * 2, "row": [0, 1], "value": [task.index ** 2, -task.index]})}


def fails_on_three(task: Task) -> dict[str, pd.DataFrame]:
    if task.index == 3:
        raise ValueError("run three is broken")
    return {"values": pd.DataFrame({"value": [float(task.index)]})}
