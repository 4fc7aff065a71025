"""The survey of one run, stopped at the endline week: what calibration compares with targets.

The model is built exactly as ``experiments.runner.simulate`` builds it (same ``Task``, same
seed), but stepped only to the survey's endline week and asked only for its survey, which
saves the weeks after the endline (a third of the Qayyarah horizon). The posterior-predictive
fit table is made with the full ``simulate`` (``calibration/report.py``), so a difference
between the two would show there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.runner import Task
from model import CohesionModel


def survey_at_endline(task: Task) -> pd.DataFrame:
    """The virtual survey of ``task``'s run at its endline week (survey.csv's long form)."""
    m = CohesionModel(task.scenario, task.params, rng=task.seed(), replicate=task.replicate)
    m.run(weeks=task.scenario.survey.endline_week - m.week)
    return m.survey_results()


def statistics(survey: pd.DataFrame, keys: list[str]) -> dict[str, float]:
    """Survey values under their ``wave.item.group.village`` keys; NaN where nobody answered."""
    values = {f"{r.wave}.{r.item}.{r.group}.{r.village}": float(r.value) for r in survey.itertuples()}
    return {k: values.get(k, np.nan) for k in keys}


def survey_statistics(task: Task, keys: list[str]) -> dict[str, float]:
    return statistics(survey_at_endline(task), keys)
