"""What calibration asks of a run: its survey at the endline week, as summary statistics.

The run is the project's one run function (``runner.run``) on a ``runner.Task`` stopped at the
survey's endline week (the weeks after it do not change the survey) and keeping only the
survey. The posterior-predictive fit table is made with runs to the horizon
(``calibration/report.py``), so a difference between the two would show there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from runner import Task, run


def survey_at_endline(task: Task) -> pd.DataFrame:
    """The virtual survey of ``task``'s run at its endline week (survey.csv's long form)."""
    return run(replace(task, stop="endline", tables=("survey",)))["survey"]


def statistics(survey: pd.DataFrame, keys: list[str]) -> dict[str, float]:
    """Survey values under their ``wave.item.group.village`` keys; NaN where nobody answered."""
    values = {f"{r.wave}.{r.item}.{r.group}.{r.village}": float(r.value) for r in survey.itertuples()}
    return {k: values.get(k, np.nan) for k in keys}


def survey_statistics(task: Task, keys: list[str]) -> dict[str, float]:
    return statistics(survey_at_endline(task), keys)
