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
# # 1. Quick start: one scenario, one run
#
# Load the Qayyarah scenario (the layered programme delivered in Imam Gharbi, Haj Ali and
# Jmisah), run it week by week, and look at the households, the network and the virtual survey.
# Every figure and table below is made by the project's own functions (`experiments/drawing.py`,
# `experiments/report.py`): the same pictures as `cohesion run` and `cohesion dashboard`.
#
# Population sizes, durations and places are assumptions of the scenario file (listed under
# `assumptions`); the parameters are the defaults of `model/params.py` unless calibrated.

# %%
import numpy as np
import pandas as pd

from experiments.drawing import group_trajectory_figure, live_charts, network_figure, survey_wide
from experiments.report import survey_table, wide_table
from runner import Task, run_batch
from model import CohesionModel, Params
from model.params import table as params_table
from scenarios import DEFAULT_SCENARIO, load_scenario

# %matplotlib inline
pd.set_option("display.width", 140)
SEED = 7

# %% [markdown]
# ## The scenario
#
# A scenario is data: villages and households per group, initial conditions, the network, the
# programme (activity, where, when, how many places), events, the survey design and the horizon.

# %%
spec = load_scenario(DEFAULT_SCENARIO)
print(spec.description)
print(f"{spec.n_households()} households in {spec.village_names()}, horizon {spec.horizon_weeks} weeks, "
      f"survey at weeks {spec.survey.baseline_week} and {spec.survey.endline_week}")
pd.DataFrame([e.model_dump() for e in spec.programme])[["activity", "villages", "start_week", "end_week", "places"]]

# %% [markdown]
# The assumptions the scenario file names, with the ranges a sensitivity analysis can vary:

# %%
pd.Series(spec.assumptions, name="assumption").to_frame()

# %% [markdown]
# The parameters of the weekly dynamics are declared once, with a default, a range and a source:

# %%
pd.DataFrame(params_table()).head(12)

# %% [markdown]
# ## One run, week by week
#
# `CohesionModel` is a Mesa model; `step()` is one week. The seed fixes the households, the
# network and every chance event (each from its own stream).

# %%
model = CohesionModel(spec, Params(), rng=SEED)
for _ in range(20):
    model.step()
print("week", model.week, {k: round(v, 3) for k, v in model.summary.items()})
model.run()  # on to the horizon
print("week", model.week, {k: round(v, 3) for k, v in model.summary.items()})

# %% [markdown]
# ## The households
#
# Each household is a Mesa agent whose attributes read the model's arrays, so Mesa's `AgentSet`
# operations see real values.

# %%
print(model.households[:3])
h = model.households[0]
print(h.group, h.village, round(h.wellbeing, 1), {g: round(a, 2) for g, a in h.attitude.items()},
      "accepts cohabitation:", h.accepts_cohabitation)
by_group = model.agents.groupby("group")
pd.DataFrame({"households": by_group.count(),
              "mean WEMWBS": by_group.agg("wellbeing", np.mean),
              "accepting cohabitation": by_group.agg("accepts_cohabitation", np.mean)})

# %% [markdown]
# ## The network
#
# Ties mostly stay in the village and the group. Households are coloured by group and shaded by
# their mean attitude towards the other groups (pale: negative); red lines are cross-group ties,
# dark red those made by the programme's mixed activities.

# %%
g = model.graph
kinds = pd.Series([d["kind"] for _, _, d in g.edges(data=True)]).value_counts()
print(f"{g.number_of_nodes()} households, {g.number_of_edges()} ties:", kinds.to_dict())
network_figure(model, "attitude")

# %% [markdown]
# ## Week by week, with the programme's timeline

# %%
live_charts([model])

# %% [markdown]
# ## The virtual survey
#
# The programme surveyed participants at baseline and endline. The model draws the same kind of
# sample (here 150 respondents from the households that took part) and asks the same items, so
# its figures carry the same sampling noise. One run:

# %%
survey_wide(model).query("split == 'all'")

# %% [markdown]
# ## Replicates
#
# One run is one possible history. `run_batch` runs replicates (each with its own seed spawned
# from the root seed) and the report functions reduce them to a median and a 5-95% interval, as
# `cohesion run` does. A small batch here; `cohesion run` defaults to 20.

# %%
tasks = [Task(index=k, scenario=spec, params=Params(), root_seed=SEED, seed_key=k, replicate=k) for k in range(6)]
res = run_batch(tasks, workers=2, progress=False)
wide = wide_table(survey_table(res["survey"]))
wide[wide.item.isin(["acceptance", "wellbeing_mean"])]

# %%
# (pyplot figure: shown once by the inline backend; the semicolon drops the echo)
group_trajectory_figure(res["timeseries"], spec.survey.baseline_week, spec.survey.endline_week, spec.name,
                        programme=spec.programme);

# %% [markdown]
# Reported by the programme (DOMAIN.md): acceptance of cohabitation 65% at baseline and 89% at
# endline among participants (VF 53% to 89%), well-being 62% to 78% of the WEMWBS scale.
# Notebook 4 fits the parameters to these figures; `cohesion dashboard` shows the same run live.
