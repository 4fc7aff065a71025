"""The virtual survey: what the programme measured, measured the same way (docs/model.md, 7.9).

At the endline week a sample of ``sample_size`` respondents is drawn from the frame (the
participants: households with at least ``min_attendance_weeks`` weeks in the scenario's surveyed
activities, ``Observer.frame``; or all households), without replacement. The baseline wave
reports the same respondents' states recorded at the baseline week; items about change are
asked at endline of the same respondents. The items are the survey outcomes of the registry
(``model/outcomes.py``, ``survey=True``), each answered per respondent from the readings of the
two waves; the items about perceived change by the respondent model (``model/respondent.py``,
with each household's personal cut-off kept in the endline reading). Every item is a share in
[0, 1] with the number of respondents behind it, overall, by group and by village
(docs/survey.md). A respondent who had not arrived by the baseline week (model/presence.py)
answers the endline only, and not the items about change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import outcomes
from .kernels import item_split_means
from .outcomes import WAVES, Reading

COLUMNS = ["scenario", "replicate", "wave", "item", "group", "village", "value", "n"]


def respondents(frame: np.ndarray, sample_size: int, rng: np.random.Generator) -> np.ndarray:
    pool = np.flatnonzero(frame)
    n = min(sample_size, pool.size)
    return np.sort(rng.choice(pool, size=n, replace=False))


def tabulate(rows_of: np.ndarray, readings: dict[str, Reading], groups: list[str],
             villages: list[str], scenario: str | None = None, replicate: int | None = None) -> pd.DataFrame:
    """Survey rows for respondents ``rows_of``: every item of every wave read so far, overall, by
    group and by village (the mean answer of those who answered, and how many did). With
    ``scenario`` and ``replicate``, the rows of survey.csv (``COLUMNS``).

    A wave's items are answered into one items x respondents matrix and tabulated by one compiled
    pass (``kernels.item_split_means``; its numpy form ``item_split_means_plain``)."""
    splits = [("all", "all")] + [(g, "all") for g in groups] + [("all", v) for v in villages]
    columns: dict[str, list] = {k: [] for k in ("wave", "item", "group", "village", "value", "n")}
    for wave in WAVES:
        if wave not in readings:
            continue
        r = readings[wave].rows(rows_of)
        items = outcomes.survey_items(wave)
        answers = np.empty((len(items), r.n))
        there = np.empty((len(items), r.n), dtype=bool)
        # only who was there answers: at baseline, households present then; items about change
        # need both waves (a household that arrived later has no baseline to compare with)
        both = r.present if r.base is None else r.present & r.base.present
        for j, item in enumerate(items):
            answers[j] = np.asarray(item.of(r), dtype=float)
            there[j] = r.present if item.waves != ("endline",) else both
        means, counts = item_split_means(answers, there, np.asarray(r.group, dtype=np.int64),
                                         np.asarray(r.village, dtype=np.int64), len(groups), len(villages))
        for j, k in zip(*np.nonzero(counts)):
            columns["wave"].append(wave)
            columns["item"].append(items[j].name)
            columns["group"].append(splits[k][0])
            columns["village"].append(splits[k][1])
        columns["value"] += means[counts > 0].tolist()
        columns["n"] += counts[counts > 0].tolist()
    n = len(columns["n"])
    if not n:  # no respondent answered: the columns without a type, as ever
        df = pd.DataFrame([], columns=list(columns))
        if scenario is not None:
            df.insert(0, "replicate", replicate)
            df.insert(0, "scenario", scenario)
        return df
    columns["value"], columns["n"] = np.array(columns["value"]), np.array(columns["n"], dtype=np.int64)
    if scenario is None:
        return pd.DataFrame(columns)
    return pd.DataFrame({"scenario": [scenario] * n, "replicate": np.full(n, replicate, dtype=np.int64), **columns})
