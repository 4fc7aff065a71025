"""Calibration targets: the programme's reported survey figures, validated on load.

A target is one reported share: the survey item, the wave, the group and village it was
measured on, the observed value, the population, the sentence it comes from (DOMAIN.md) and
the survey sample size behind it (reported, or an assumption marked as one). A figure the
programme did not report keeps ``value: null``: it is listed, never fitted, never invented.

The sampling error of a target is what the calibration distance divides by
(``calibration/fit.py``): the binomial standard deviation ``sqrt(p (1 - p) / n)`` for a share
of respondents, ``score_sd / sqrt(n)`` for a mean score (``wellbeing_mean``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from common.errors import InputError, from_validation_error, read_yaml
from common.strict import Strict
from common.vocabulary import Wave
from model import outcomes

TARGETS_PATH = Path(__file__).with_name("targets.yaml")


class SampleSize(Strict):
    n: int = Field(ge=1, description="respondents behind the figure")
    source: str = Field(min_length=1, description="'reported: ...' or 'ASSUMPTION: ...' with its range")


class Target(Strict):
    item: str = Field(description="survey item (model/outcomes.py, survey=True)")
    wave: Wave
    group: str = Field(description="a group the scenario declares, or all")
    village: str = Field(description="a village of the scenario, or all")
    value: float | None = Field(description="observed share in [0, 1]; null when the programme did not report it")
    population: str = Field(min_length=1, description="who was measured")
    quote: str = Field(min_length=1, description="the sentence or table row the figure comes from")
    sample_size: SampleSize
    score_sd: float | None = Field(default=None, gt=0, le=1,
                                   description="sd of one respondent's score (mean items), as a share of the scale")
    used_for: Literal["fit", "initial_conditions"] = Field(
        default="fit", description="fit: a calibration target; initial_conditions: the scenario's initial state "
        "was set to reproduce it, so the calibration does not use it again (it is still checked)")

    @model_validator(mode="after")
    def _check(self) -> Target:
        problems = []
        items, baseline_items = outcomes.item_names(), outcomes.item_names("baseline")
        if self.item not in items:
            problems.append(f"item: unknown item '{self.item}'; allowed: {', '.join(items)}")
        elif self.wave == "baseline" and self.item not in baseline_items:
            problems.append(f"wave: '{self.item}' is asked at endline only; baseline items: {', '.join(baseline_items)}")
        if self.group != "all" and self.village != "all":
            problems.append("group and village: the survey reports by group or by village, not both; "
                            "set one of them to 'all'")
        if self.value is not None and not 0 <= self.value <= 1:
            problems.append(f"value: {self.value} is outside [0, 1]; give a share (89% is 0.89)")
        if self.mean_item and self.value is not None and self.score_sd is None:
            problems.append(f"score_sd: needed for the mean item '{self.item}' (sd of one respondent's score, "
                            "as a share of the scale)")
        if problems:
            raise ValueError(" | ".join(problems))
        return self

    @property
    def key(self) -> str:
        """Name of the matching summary statistic: wave.item.group.village."""
        return f"{self.wave}.{self.item}.{self.group}.{self.village}"

    @property
    def mean_item(self) -> bool:
        """A mean score as a share of the scale (not a share of yes/no answers)."""
        return self.item in outcomes.OUTCOMES and not outcomes.OUTCOMES[self.item].proportion

    @property
    def reported(self) -> bool:
        return self.value is not None

    def sampling_sd(self) -> float:
        """Standard error of the observed figure from the survey's sampling alone."""
        n = self.sample_size.n
        if self.mean_item:
            return float(self.score_sd / np.sqrt(n))
        p = float(np.clip(self.value, 0.02, 0.98))  # a reported 0% or 100% still has sampling error
        return float(np.sqrt(p * (1 - p) / n))


class TargetsFile(Strict):
    source: str = Field(min_length=1, description="where the figures come from")
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TargetsFile:
        seen: dict[str, int] = {}
        for i, t in enumerate(self.targets):
            if t.key in seen:
                raise ValueError(f"targets[{i}]: same item, wave, group and village as targets[{seen[t.key]}]")
            seen[t.key] = i
        return self

    def reported(self) -> list[Target]:
        return [t for t in self.targets if t.reported]

    def fitted(self) -> list[Target]:
        """The reported figures the calibration fits (each figure is used once: those that set the
        scenario's initial state are checked, not fitted again)."""
        return [t for t in self.reported() if t.used_for == "fit"]

    def observed(self) -> dict[str, float]:
        """The fitted figures as pyabc's observed summary statistics."""
        return {t.key: float(t.value) for t in self.fitted()}

    def weights(self) -> dict[str, float]:
        """Distance weight of each fitted figure: one over its sampling error."""
        return {t.key: 1.0 / t.sampling_sd() for t in self.fitted()}


def load_targets(path: str | Path = TARGETS_PATH, villages: list[str] | None = None,
                 groups: list[str] | None = None) -> TargetsFile:
    """Read and validate a targets file; every problem names the file and the field.

    ``villages`` and ``groups``: the scenario's, against which each target's village and group are
    checked.
    """
    raw = read_yaml(path)
    try:
        spec = TargetsFile.model_validate(raw)
    except ValidationError as err:
        raise from_validation_error(path, err) from None
    bad = []
    if villages is not None:
        bad += [f"targets[{i}].village: unknown village '{t.village}'; allowed: {', '.join([*villages, 'all'])}"
                for i, t in enumerate(spec.targets) if t.village not in (*villages, "all")]
    if groups is not None:
        bad += [f"targets[{i}].group: unknown group '{t.group}'; the scenario's groups: {', '.join([*groups, 'all'])}"
                for i, t in enumerate(spec.targets) if t.group not in (*groups, "all")]
    if bad:
        raise InputError(path, bad)
    if not spec.reported():
        raise InputError(path, ["targets: every value is null; at least one reported figure is needed"])
    if not spec.fitted():
        raise InputError(path, ["targets: no reported figure has used_for: fit; the calibration needs at least one"])
    return spec
