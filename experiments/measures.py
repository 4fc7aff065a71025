"""Scalar measures of one run at the survey weeks, over all households (not a survey sample).

Comparisons and sweeps rank programmes on the whole population: programmes reach different
people, so a survey of each programme's own participants would compare different groups of
people. The measures are read from the model's snapshots at the baseline and endline weeks
(``model.snapshots``), so a run may stop at the endline week.

Names (``wave`` is baseline or endline):

- ``acceptance``: share of households accepting cohabitation with every other group;
  ``acceptance.<group>`` and ``acceptance.<village>`` for a group or a village.
- ``wellbeing``: mean WEMWBS score (14-70).
- ``cross_group_ties``: mean ties per household to members of other groups.
- ``tension_created`` (endline): share of the households that took part in the programme for
  whom negative intergroup contact outweighed positive contact since baseline (the survey
  item, on every participant); NaN when nobody took part.
- ``cost``: the programme's cost over the whole horizon (USD; unit costs are assumptions,
  model/activities.yaml).
"""

from __future__ import annotations

import numpy as np

from model import GROUPS, CohesionModel

WAVES = ("baseline", "endline")


def names(villages: list[str], wave: str = "endline") -> list[str]:
    """Every measure this module gives for a scenario with these villages."""
    out = ["acceptance", *(f"acceptance.{g}" for g in GROUPS), *(f"acceptance.{v}" for v in villages),
           "wellbeing", "cross_group_ties"]
    if wave == "endline":
        out += ["tension_created", "cost"]
    return out


def measure(model: CohesionModel, wave: str) -> dict[str, float]:
    """The measures at one survey wave; the run must have reached that wave's week."""
    if wave not in model.snapshots:
        raise ValueError(f"the run has not reached the {wave} week")
    snap, s, p = model.snapshots[wave], model.state, model.params
    accept = snap.min_other(s.other_mask) >= p.acceptance_threshold
    out = {"acceptance": float(accept.mean())}
    for k, g in enumerate(GROUPS):
        out[f"acceptance.{g}"] = float(accept[s.group == k].mean()) if (s.group == k).any() else np.nan
    for k, v in enumerate(model.villages):
        out[f"acceptance.{v}"] = float(accept[s.village == k].mean())
    out["wellbeing"] = float(snap.wellbeing.mean())
    out["cross_group_ties"] = float(model.datacollector.model_vars["cross_group_ties"][snap.week])
    if wave == "endline":
        base = model.snapshots["baseline"]
        took_part = s.ever
        worse = (snap.contact_neg - base.contact_neg) > (snap.contact_pos - base.contact_pos)
        out["tension_created"] = float(worse[took_part].mean()) if took_part.any() else np.nan
        out["cost"] = programme_cost(model)
    return out


def programme_cost(model: CohesionModel) -> float:
    """Cost over the whole horizon, whether or not the run went that far."""
    return float(sum(model.programme.weekly_cost(w) for w in range(1, model.spec.horizon_weeks + 1)))


def both_waves(model: CohesionModel) -> dict[str, float]:
    """``baseline.<name>`` and ``endline.<name>`` for every measure."""
    return {f"{wave}.{k}": v for wave in WAVES for k, v in measure(model, wave).items()}
