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
from .outcomes import WAVES, Reading

COLUMNS = ["scenario", "replicate", "wave", "item", "group", "village", "value", "n"]


def respondents(frame: np.ndarray, sample_size: int, rng: np.random.Generator) -> np.ndarray:
    pool = np.flatnonzero(frame)
    n = min(sample_size, pool.size)
    return np.sort(rng.choice(pool, size=n, replace=False))


def tabulate(rows_of: np.ndarray, readings: dict[str, Reading], groups: list[str],
             villages: list[str]) -> pd.DataFrame:
    """Survey rows for respondents ``rows_of``: every item of every wave read so far, overall, by
    group and by village."""
    records = []
    for wave in WAVES:
        if wave not in readings:
            continue
        r = readings[wave].rows(rows_of)
        for item in outcomes.survey_items(wave):
            answers = np.asarray(item.of(r), dtype=float)
            # only who was there answers: at baseline, households present then; items about change
            # need both waves (a household that arrived later has no baseline to compare with)
            there = r.present if item.waves != ("endline",) or r.base is None else r.present & r.base.present
            valid = ~np.isnan(answers) & there
            splits = [("all", "all", valid)]
            splits += [(g, "all", valid & (r.group == k)) for k, g in enumerate(groups)]
            splits += [("all", v, valid & (r.village == k)) for k, v in enumerate(villages)]
            for gname, vname, mask in splits:
                n = int(mask.sum())
                if n:
                    records.append((wave, item.name, gname, vname, float(answers[mask].mean()), n))
    return pd.DataFrame(records, columns=["wave", "item", "group", "village", "value", "n"])
