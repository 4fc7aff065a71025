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
# # 2. Comparing sequencings: when should dialogue start?
#
# The Qayyarah programme held dialogue sessions last, when groups were "used to each other",
# after PSS had raised coping and mixed activities had built familiarity (DOMAIN.md). The model
# makes the reason explicit: contact turns positive only above a readiness threshold, and
# dialogue pays off in proportion to familiarity, so dialogue before readiness can backfire,
# most in high-tension Jmisah.
#
# Two experiments, both with common random numbers (replicate k of every scenario shares its
# seed, households, network and chance events), against `no_intervention`:
#
# 1. the sequencing library (`scenarios/sequencing/`): the same activities in other orders;
# 2. a scan of one design choice: the Qayyarah programme with dialogue starting at week 1,
#    20 or 40 (the delivered timing), all else unchanged.
#
# Small budgets here (four replicates); `cohesion compare` runs the same functions at scale.

# %%
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from IPython.display import Image, display

from experiments.compare import compare, default_scenarios, forest_figure, trajectory_figure
from experiments.sweep import DesignFactor, apply_design
from scenarios import DEFAULT_SCENARIO, LIBRARY, load_scenario

# %matplotlib inline
pd.set_option("display.width", 160)
SEED, REPLICATES = 7, 4
reference = LIBRARY / "no_intervention.yaml"
out = Path(tempfile.mkdtemp(prefix="nb2_"))
key = ["acceptance", "acceptance.VF", "acceptance.Jmisah", "wellbeing", "cross_group_ties", "tension_created"]
cols = ["outcome", "scenario", "median", "p05", "p95", "vs_reference_median", "vs_reference_p05", "vs_reference_p95"]

# %% [markdown]
# ## 1. The sequencing library

# %%
paths = default_scenarios()
for p in paths:
    s = load_scenario(p)
    print(f"{s.name:16s} {s.description}")

# %%
seq = compare(paths, replicates=REPLICATES, seed=SEED, reference=reference, rank_by="acceptance", workers=2,
              progress=False)
seq.ranking.round(3)

# %% [markdown]
# `p_best`: share of paired replicates in which the scenario has the highest endline acceptance;
# `p_harm`: share in which some group's or village's acceptance ended below its baseline, or
# more than 20% of participants reported that contact created tension ("do no harm").

# %%
seq.table[seq.table.outcome.isin(key)][cols].round(3)

# %%
names = [load_scenario(p).name for p in paths] + ["no_intervention"]
spec = load_scenario(DEFAULT_SCENARIO)
trajectory_figure(seq.trajectories, names, spec.survey.baseline_week, spec.survey.endline_week,
                  out / "seq_trajectories.png")
forest_figure(seq.table, seq.reference, spec.group_names(), spec.village_names(), out / "seq_forest.png")
display(Image(filename=out / "seq_trajectories.png"), Image(filename=out / "seq_forest.png"))

# %% [markdown]
# ## 2. One choice scanned: the week dialogue starts
#
# The sweep's design transformation (`experiments/sweep.py`, `start_week`) moves the dialogue
# entry and keeps its length; each variant is written as a scenario file and compared.

# %%
start = DesignFactor(change="start_week", activities=["dialogue"], bounds=(1, 40))
variants = []
for week in (1, 20, 40):
    s = apply_design(spec, {"dialogue_start": start}, {"dialogue_start": week})
    raw = s.model_dump(mode="json") | {"name": f"dialogue_week_{week:02d}",
                                       "description": f"Qayyarah with dialogue from week {week}"}
    path = out / f"dialogue_week_{week:02d}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    variants.append(path)
scan = compare(variants, replicates=REPLICATES, seed=SEED, reference=reference, rank_by="acceptance", workers=2,
               progress=False)
scan.table[scan.table.outcome.isin(["acceptance", "acceptance.VF", "acceptance.Jmisah", "tension_created"])][
    cols].round(3)

# %%
forest_figure(scan.table, scan.reference, spec.group_names(), spec.village_names(), out / "scan_forest.png")
display(Image(filename=out / "scan_forest.png"))

# %%
scan.pairwise.round(2)  # P(row beats column) on endline acceptance, paired by replicate

# %% [markdown]
# ## Reading it
#
# Compare the paired differences (forest plots), not the medians alone: every scenario shares
# its replicates' chance events, so a difference that keeps its sign across the 90% interval is
# a difference of programme. With four replicates the intervals are wide; for a decision, rerun
# with `cohesion compare ... --replicates 50` and with the calibrated parameters. The timing's
# effect rests on assumed mechanisms (readiness threshold, familiarity gain): notebook 3 shows
# how much the result depends on their values.
