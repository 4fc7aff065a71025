"""Which parameters move the targets: the sensitivity screen behind calibration/parameters.yaml.

Every parameter is drawn uniformly from its declared range (``model.params.ranges``), the
model is run to the endline survey, and the Spearman rank correlation of each parameter with
each target statistic is tabulated. A one-at-a-time-free screen: every correlation is
measured with all other parameters varying too.

    .venv/bin/python -m experiments.screen --runs 600     # writes calibration/screen.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from runner import Task
from model.params import Params, ranges
from scenarios import DEFAULT_SCENARIO, load_scenario

from calibration.simulate import survey_at_endline
from calibration.targets import TARGETS_PATH, load_targets

SCREEN_PATH = TARGETS_PATH.with_name("screen.csv")  # beside calibration/parameters.yaml, whose choice it informs


def _survey(task: Task) -> dict[str, pd.DataFrame]:
    return {"survey": survey_at_endline(task).assign(run=task.index)}


def screen(runs: int = 600, seed: int = 11, workers: int | None = None) -> pd.DataFrame:
    """Parameters x targets table of Spearman correlations, plus the largest |rho| per parameter."""
    from runner import run_batch

    spec = load_scenario(DEFAULT_SCENARIO)
    keys = [t.key for t in load_targets(TARGETS_PATH, spec.village_names(), spec.group_names()).targets]
    rng = np.random.default_rng(seed)
    draws = pd.DataFrame({k: rng.uniform(lo, hi, runs) for k, (lo, hi) in ranges().items()})
    tasks = [Task(index=i, scenario=spec, params=Params().with_values(**draws.iloc[i].to_dict()), root_seed=seed,
                  seed_key=i) for i in range(runs)]
    survey = run_batch(tasks, _survey, workers=workers, label="screen")["survey"]
    survey["key"] = survey.wave + "." + survey.item + "." + survey.group + "." + survey.village
    stats = survey[survey.key.isin(keys)].pivot_table(index="run", columns="key", values="value")
    both = pd.concat([draws, stats.reindex(range(runs))], axis=1)
    rho = both.corr(method="spearman").loc[list(ranges()), [k for k in keys if k in stats]]
    rho.insert(0, "max_abs_rho", rho.abs().max(axis=1))
    return rho.sort_values("max_abs_rho", ascending=False).round(3)


def main() -> None:  # pragma: no cover
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=600)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path, default=SCREEN_PATH)
    args = ap.parse_args()
    table = screen(args.runs, args.seed)
    header = (f"# Spearman rank correlation of each parameter with each target statistic; {args.runs} runs, "
              f"every parameter uniform over its range; seed {args.seed}.\n"
              f"# command: .venv/bin/python -m experiments.screen --runs {args.runs} --seed {args.seed}\n")
    args.out.write_text(header + table.to_csv(index_label="parameter"))
    print(table.head(20).to_string())


if __name__ == "__main__":  # pragma: no cover
    main()
