# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. Planning under a budget
#
# A planner asks: with this budget, which activities should run, in which order and from which
# week, at what intensity in each village? `cohesion plan experiments/plans/qayyarah_budget.yaml`
# answers with a search (optuna) over plans, each scored on the same posterior draws and seeds
# (common random numbers), the finalists re-scored on fresh draws across the ranges of the
# parameters the calibration left at their defaults, and a plain statement when a budget cannot
# meet the constraints (do no harm, the user's fixes).
#
# Here the same functions run on a small population (the Qayyarah file divided by four) with a
# tiny search, so that the notebook runs in a minute; the plan file's defaults are the real ones.

# %%
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from IPython.display import Image, display

from experiments.plan import describe_space, load_plan, search_space
from experiments.plan_outputs import make_plan
from scenarios import DEFAULT_SCENARIO
from scenarios.schema import read_raw

pd.set_option("display.width", 160)
work = Path(tempfile.mkdtemp(prefix="nb7_"))

# the population: Qayyarah divided by four (households and places)
raw = read_raw(DEFAULT_SCENARIO)
for v in raw["population"]["villages"].values():
    v["households"] = {g: max(3, n // 4) for g, n in v["households"].items()}
for e in raw["programme"]:
    if "places" in e:
        e["places"] = max(1, e["places"] // 4)
raw["survey"]["sample_size"] = 60
(work / "population.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))

# %% [markdown]
# ## The plan file
#
# The library's plan file, pointed at the small population, with a small search.

# %%
plan = yaml.safe_load(Path("experiments/plans/qayyarah_budget.yaml").read_text())
plan.update(population=str(work / "population.yaml"), delivered=str(work / "population.yaml"),
            activities=["family_pss", "peer_groups", "recreation", "vocational_training", "dialogue"],
            budget=40000, session_capacity=60, fixes=[{"activity": "dialogue", "not_before": 20}])
plan["search"].update(trials=16, replicates=3, batch=4, finalists=2, rescore_replicates=20)
(work / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
print(yaml.safe_dump({k: plan[k] for k in ("activities", "budget", "weeks", "objectives", "harm", "fixes")}))

# %% [markdown]
# The search space: per activity a start week, a length, places in each village (0: not there)
# and, where the catalogue allows it, a share handed over to the community at the end. The
# fixes narrow it (dialogue from week 20 only; no fix on counselling here, as it is not used).

# %%
p, population, delivered = load_plan(work / "plan.yaml")
dims = search_space(p, population)
print(describe_space(dims))

# %% [markdown]
# ## Search, re-score, decide

# %%
summary = make_plan(work / "plan.yaml", out=work / "out", progress=False)
for line in summary["findings"]:
    print("-", line)

# %% [markdown]
# The front: cost against the least-accepting group's acceptance (intervals across the common
# replicates), the finalists re-scored on fresh draws (black), the programme as delivered (red).

# %%
display(Image(str(work / "out" / "pareto.png")))
pd.read_csv(work / "out" / "finalists.csv")[["candidate", "acceptance_least_group", "cost", "p_harm",
                                              "p_harm_high", "meets_all"]]

# %% [markdown]
# When a plan meets every constraint it is written as a scenario (`recommended.yaml`, which
# `cohesion run`, `compare` and the dashboard open), with its layering by village and its
# comparison with the programme as delivered on the same draws. Otherwise the findings above say
# plainly what could not be satisfied.

# %%
if summary["recommended"] is not None:
    display(Image(str(work / "out" / "gantt.png")))
    display(pd.read_csv(work / "out" / "comparison.csv"))
else:
    print("no recommendation at this budget:", summary["findings"][0])
