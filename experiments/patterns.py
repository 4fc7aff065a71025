"""Pattern checks (pattern-oriented modelling, Grimm et al. 2005): qualitative patterns the
programme observed (DOMAIN.md), each measured on the model, reported whichever way it goes.

Two kinds:

- **fit checks** involve calibration targets: the group in the victims' role has the largest
  gain in acceptance from baseline to endline, and the perceived-affiliation group the highest
  endline acceptance (DOMAIN.md, "Reported figures"). Measured on the virtual survey, as the
  programme measured them, of the delivered programme with the calibrated parameters (the
  catalogue's strengths as they are: the calibration was made with them).
- **patterns not fitted** (DOMAIN.md, "What the programme observed"): non-structured PSS
  (recreation) and vocational training each do more for attitudes than dialogue sessions; and
  dialogue held late (as the programme held it, "when groups were used to each other") does more
  than dialogue first. Each is measured by removing or moving the activity in the delivered
  programme, on all households (endline acceptance), paired run by run (the same seed and the
  same parameters with and without the change). Every pair draws its parameters from the
  calibrated posterior and the catalogue's channel strengths from their ranges, so the pattern
  is not read off the catalogue's inputs.

A pattern is *reproduced* when the 90% interval of its mean paired difference lies on the
pattern's side of zero, *contradicted* when it lies on the other side, *undecided* otherwise.

    .venv/bin/python -m experiments.patterns --pairs 60 --out results/patterns
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model import Params
from model.activities import strength_ranges
from runner.batch import run_batch
from runner.task import Task
from scenarios import DEFAULT_SCENARIO, load_scenario

Z90 = 1.6449


@dataclass(frozen=True)
class Pattern:
    name: str
    says: str            # the pattern, as the programme observed it
    source: str


PATTERNS = (
    Pattern("recreation_beats_dialogue", "non-structured PSS (recreation) does more for attitudes than dialogue",
            "DOMAIN.md: the programme judged vocational training and non-structured PSS to contribute more "
            "to mutual understanding than dialogue sessions"),
    Pattern("vocational_beats_dialogue", "vocational training does more for attitudes than dialogue",
            "DOMAIN.md (same observation)"),
    Pattern("dialogue_late_beats_first", "dialogue held late does more than dialogue first",
            "DOMAIN.md: dialogue sessions were held towards the end, when groups were 'used to each other'"),
)


def without(scenario, *activities: str):
    return scenario.model_copy(update={"programme": [e for e in scenario.programme if e.activity not in activities]})


def dialogue_first(scenario):
    """Dialogue moved to the programme's start with the same length (and nothing else changed)."""
    entries = []
    for e in scenario.programme:
        if e.activity == "dialogue":
            length = e.end_week - e.start_week
            e = e.model_copy(update={"start_week": 1, "end_week": 1 + length})
        entries.append(e)
    return scenario.model_copy(update={"programme": entries})


def variants(scenario) -> dict[str, object]:
    return {"delivered": scenario, "no_recreation": without(scenario, "recreation"),
            "no_vocational": without(scenario, "vocational_training"), "no_dialogue": without(scenario, "dialogue"),
            "dialogue_first": dialogue_first(scenario)}


def draw_strengths(base: Params, rng: np.random.Generator) -> Params:
    """The catalogue's channel strengths drawn uniformly from their ranges (model/activities.py)."""
    values = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in strength_ranges().items()}
    return base.with_values(**values)


def pair_tasks(scenario, params: list[Params], seed: int, calibrated: list[Params] | None = None) -> list[Task]:
    """One task per (pair, variant): the same parameters and seed for every variant of a pair; and,
    for the fit checks, the delivered programme with the calibrated parameters alone
    (``calibrated``: the catalogue's strengths as they are), variant ``calibrated``."""
    tasks = []
    for p, par in enumerate(params):
        runs = list(variants(scenario).items()) + ([("calibrated", scenario)] if calibrated else [])
        for name, sc in runs:
            tasks.append(Task(index=len(tasks), scenario=sc, params=calibrated[p] if name == "calibrated" else par,
                              root_seed=seed, seed_key=p, replicate=p, labels={"variant": name, "pair": p},
                              stop="endline", tables=("outcomes", "survey")))
    return tasks


def paired_differences(outcomes: pd.DataFrame, measure: str = "endline.acceptance") -> pd.DataFrame:
    """Per pair, each pattern's difference in ``measure`` (positive: the pattern holds)."""
    wide = outcomes.pivot(index="pair", columns="variant", values=measure)
    return pd.DataFrame({
        "recreation_beats_dialogue": wide["no_dialogue"] - wide["no_recreation"],
        "vocational_beats_dialogue": wide["no_dialogue"] - wide["no_vocational"],
        "dialogue_late_beats_first": wide["delivered"] - wide["dialogue_first"],
    })


def fit_checks(survey: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """Per pair (the delivered programme with the calibrated parameters and the catalogue as it
    is; the survey as measured): the gain of the victims' group against
    the largest other gain, and the endline acceptance of the perceived-affiliation group against
    the highest other (``roles``: group -> role, as the scenario declares them)."""
    s = survey[(survey.variant == "calibrated") & (survey.item == "acceptance") & (survey.village == "all")]
    wide = s.pivot_table(index="pair", columns=["wave", "group"], values="value")
    groups = list(roles)
    victims = next(g for g, r in roles.items() if r == "victims")
    affiliated = next(g for g, r in roles.items() if r == "perceived_affiliation")
    gain = pd.DataFrame({g: wide[("endline", g)] - wide[("baseline", g)] for g in groups})
    end = pd.DataFrame({g: wide[("endline", g)] for g in groups})
    return pd.DataFrame({"victims_largest_gain": _against_runner_up(gain, victims),
                         "affiliated_highest_endline": _against_runner_up(end, affiliated)})


def _against_runner_up(values: pd.DataFrame, group: str) -> pd.Series:
    """Per pair, ``group``'s value minus that of the other group with the highest mean over the
    pairs (not the per-pair maximum of the others, which the survey's sampling noise biases
    upwards)."""
    runner_up = values.drop(columns=group).mean().idxmax()
    return values[group] - values[runner_up]


def verdict(d: pd.Series) -> dict:
    d = d.dropna()
    mean, half = float(d.mean()), Z90 * float(d.std(ddof=1)) / np.sqrt(max(len(d), 1))
    low, high = mean - half, mean + half
    status = "reproduced" if low > 0 else "contradicted" if high < 0 else "undecided"
    return {"pairs": len(d), "mean_difference": mean, "low90": low, "high90": high,
            "share_of_pairs_holding": float((d > 0).mean()), "status": status}


def check(pairs: int = 60, seed: int = 12, posterior: str | None = "default", workers: int | None = None,
          out: str | Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Every pattern's verdict (one row each) on ``pairs`` paired runs per variant."""
    from calibration.posterior import POSTERIOR_PATH, draw_params, load_posterior
    scenario = load_scenario(DEFAULT_SCENARIO)
    rng = np.random.default_rng(seed)
    if posterior is None:
        base = [Params()] * pairs
    else:
        base = draw_params(load_posterior(POSTERIOR_PATH if posterior == "default" else posterior), pairs, rng)
    params = [draw_strengths(b, rng) for b in base]
    res = run_batch(pair_tasks(scenario, params, seed, calibrated=base), workers=workers, progress=progress, label="pattern runs",
                    out=None if out is None else Path(out) / "runs")
    diffs = pd.concat([paired_differences(res["outcomes"]),
                       fit_checks(res["survey"], dict(scenario.population.groups))], axis=1)
    says = {p.name: (p.says, p.source) for p in PATTERNS}
    says.update({"victims_largest_gain": ("the victims' group gains most in acceptance (fit check)",
                                          "DOMAIN.md, reported figures"),
                 "affiliated_highest_endline": ("the perceived-affiliation group has the highest endline acceptance "
                                                "(fit check)", "DOMAIN.md, reported figures")})
    table = pd.DataFrame([{"pattern": k, "says": says[k][0], "source": says[k][1], **verdict(diffs[k])}
                          for k in diffs.columns])
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        table.to_csv(Path(out) / "patterns.csv", index=False, float_format="%.4f")
        diffs.to_csv(Path(out) / "paired_differences.csv", float_format="%.5f")
    return table


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--posterior", default="default", help="posterior CSV, 'default', or 'none' (defaults)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", default="results/patterns")
    a = ap.parse_args(argv)
    if a.pairs < 2:
        ap.error(f"--pairs: {a.pairs}; allowed: a whole number, at least 2 (an interval needs two pairs)")
    table = check(a.pairs, a.seed, None if a.posterior == "none" else a.posterior, a.workers, a.out)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table[["pattern", "pairs", "mean_difference", "low90", "high90", "share_of_pairs_holding", "status"]])


if __name__ == "__main__":
    main()
