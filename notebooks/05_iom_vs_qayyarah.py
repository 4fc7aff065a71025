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
# # 5. The IOM integrated approach against the Qayyarah layering
#
# Two programme logics on the same population (DOMAIN.md):
#
# - **Qayyarah layering**: individual and family PSS first, then group work, then community
#   activities, dialogue last, when groups are "used to each other".
# - **IOM integrated approach**: its service lines side by side from the start (specialised
#   services, mediation, awareness, structured activities, capacity building, community
#   events), on the logic that improved well-being opens the way to rebuilding relations.
#
# Both scenario files share the Qayyarah population, network and survey weeks; the timings and
# places of the IOM lines are assumptions of `scenarios/iom_integrated.yaml`. Each replicate
# uses the same seed for every scenario (common random numbers), so a difference between
# scenarios in one replicate is a difference of programme, not of chance. `no_intervention` is
# the reference. Small budget here; `cohesion compare` runs the same function with more
# replicates.

# %%
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from experiments.compare import compare, forest_figure, trajectory_figure
from experiments.drawing import live_charts, network_figure, programme_timeline
from model import CohesionModel
from scenarios import LIBRARY, load_scenario

# %matplotlib inline
pd.set_option("display.width", 160)
SEED, REPLICATES = 7, 8
paths = [LIBRARY / "qayyarah.yaml", LIBRARY / "iom_integrated.yaml"]
reference = LIBRARY / "no_intervention.yaml"
qayyarah, iom = (load_scenario(p) for p in paths)

# %% [markdown]
# ## The two programmes

# %%
import matplotlib.pyplot as plt  # noqa: E402

fig, axes = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
for ax, spec in zip(axes, (qayyarah, iom)):
    programme_timeline(ax, spec.programme, spec.horizon_weeks)
    ax.set_title(f"{spec.name}: {len(spec.programme)} programme entries", fontsize=10)
fig.tight_layout()

# %% [markdown]
# ## One run of each on the same seed
#
# Same households, same network, same chance events: only the programme differs. Solid lines:
# Qayyarah; dashed: IOM.

# %%
runs = [CohesionModel(spec, rng=SEED).run() for spec in (qayyarah, iom)]
live_charts(runs, ["qayyarah", "iom_integrated"])

# %%
for run in runs:
    display(network_figure(run, "attitude"))

# %% [markdown]
# ## Replicates: outcomes, paired differences, ranking
#
# Outcomes are measured on all households at the endline week (experiments/measures.py);
# `vs_reference` is the paired difference from `no_intervention` in the same replicate.

# %%
c = compare(paths, replicates=REPLICATES, seed=SEED, reference=reference, rank_by="acceptance", workers=2,
            progress=False)
key = ["acceptance", "acceptance.VF", "acceptance.Jmisah", "wellbeing", "cross_group_ties", "tension_created", "cost"]
cols = ["outcome", "scenario", "median", "p05", "p95", "vs_reference_median", "vs_reference_p05", "vs_reference_p95"]
c.table[c.table.outcome.isin(key)][cols].round(3)

# %% [markdown]
# Ranking on acceptance: the probability that each programme is best across the paired
# replicates, and the probability of harm (some group's or village's acceptance ends below its
# baseline, or too many participants report that contact created tension).

# %%
c.ranking.round(3)

# %%
c.pairwise.round(2)  # P(row beats column) on acceptance, paired by replicate

# %% [markdown]
# ## Figures of the comparison (the files `cohesion compare` writes)

# %%
out = Path(tempfile.mkdtemp(prefix="nb5_"))
names = [s.name for s in (qayyarah, iom)] + ["no_intervention"]
trajectory_figure(c.trajectories, names, qayyarah.survey.baseline_week, qayyarah.survey.endline_week,
                  out / "trajectories.png")
forest_figure(c.table, c.reference, qayyarah.group_names(), qayyarah.village_names(), out / "forest.png")
display(Image(filename=out / "trajectories.png"), Image(filename=out / "forest.png"))

# %% [markdown]
# ## Reading it
#
# With this small budget the intervals are wide; read the direction and the paired differences
# rather than single medians, and rerun with `cohesion compare scenarios/qayyarah.yaml
# scenarios/iom_integrated.yaml --replicates 50` before drawing conclusions. The IOM file's
# timings and places are assumptions (DOMAIN.md gives none), and the unit costs of activities
# are assumptions too (model/activities.yaml): the cost row compares assumed budgets.
