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
# # 4. Calibration: the targets, the posterior, the fit, and parameter recovery
#
# The programme reported a few survey figures (DOMAIN.md): acceptance of cohabitation 65% at
# baseline and 89% at endline among participants, 53% and 89% among victims' families, 90% among
# FPA at endline, and well-being 62% and 78% of the WEMWBS scale. The model measures the same
# items on a sample of the same kind of people, so it can be fitted to them with a likelihood-free
# method: ABC-SMC (pyabc), scoring each simulated survey by its distance from the reported
# figures in units of their sampling error. The other reported figures are held back for
# out-of-sample checks: the model predicts them, it is never fitted to them.
#
# This notebook runs the same functions as `cohesion calibrate` with a deliberately tiny budget
# (a few dozen simulations), so the posterior here is barely narrower than the prior. The
# project's calibration uses `--budget default` (thousands of simulations).

# %%
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from calibration.fit import (
    Budget,
    calibrate,
    credible_intervals,
    generations_table,
    load_parameter_choice,
    posterior_table,
)
from calibration.posterior import POSTERIOR_PATH, load_posterior
from calibration.recovery import TRUTH, synthetic_targets
from calibration.report import (
    fit_table,
    marginals_figure,
    observed_vs_predicted_figure,
    predictive_survey,
)
from calibration.targets import load_targets
from model.params import ranges
from scenarios import DEFAULT_SCENARIO, load_scenario

# %matplotlib inline
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 70)
SEED = 7
out = Path(tempfile.mkdtemp(prefix="nb4_"))
TINY = Budget(population=12, generations=2, max_simulations=60, max_minutes=1.5, min_acceptance=0.0, predictive=6)

# %% [markdown]
# ## The targets
#
# `calibration/targets.yaml`: each figure with the population it describes, the sentence it
# comes from, and the number of respondents behind it (an assumption where the programme gave
# none, with its range). A figure the programme did not report has no value: it is predicted only.

# %%
scenario = load_scenario(DEFAULT_SCENARIO)
targets = load_targets(villages=scenario.village_names())
pd.DataFrame([{"wave": t.wave, "item": t.item, "group": t.group, "value": t.value, "n": t.sample_size.n,
               "sampling sd": round(t.sampling_sd(), 3) if t.reported else None, "quote": t.quote}
              for t in targets.targets])

# %% [markdown]
# ## Which parameters are fitted, and the priors
#
# Seven figures cannot pin forty parameters. `calibration/parameters.yaml` names the ones the
# targets can identify (from a screen of rank correlations, `calibration/screen.csv`), each with
# its reason; the priors are uniform over the declared ranges (`model/params.py`). Every other
# parameter stays at its default, and the sensitivity analysis (notebook 3) says how much it
# matters.

# %%
choice = load_parameter_choice()
calibrated = list(choice.calibrated)
pd.DataFrame([{"parameter": k, "prior low": ranges()[k][0], "prior high": ranges()[k][1], "why": why[:110]}
              for k, why in choice.calibrated.items()])

# %% [markdown]
# ## ABC-SMC with a tiny budget

# %%
history = calibrate(scenario, targets, calibrated, TINY, out / "fit", seed=SEED, workers=2)
generations_table(history)

# %% [markdown]
# The posterior: the last generation's particles with their weights, and the 90% credible
# interval of each parameter next to its prior range.

# %%
post = posterior_table(history)
credible_intervals(post)

# %%
marginals_figure(post, out / "marginals.png", "tiny budget")
display(Image(filename=out / "marginals.png"))

# %% [markdown]
# ## The fit: posterior predictive survey against the reported figures
#
# Full runs with parameters drawn from the posterior; each reported figure is compared with the
# 90% interval of the simulated survey (which includes the survey's own sampling noise).

# %%
survey = predictive_survey(post, scenario, TINY.predictive, SEED, workers=2, progress=False)
fit = fit_table(targets, survey)
fit[["wave", "item", "group", "observed", "median", "p05", "p95", "status"]].round(3)

# %%
observed_vs_predicted_figure(fit, out / "fit.png", "tiny budget: fit of the posterior")
display(Image(filename=out / "fit.png"))

# %% [markdown]
# ## Parameter recovery
#
# Can the method find parameters it should find? Make targets with the model itself at known
# values (same items, waves and sample sizes, with the survey's sampling noise), calibrate, and
# check whether each known value lies in its 90% credible interval (`width_vs_prior`: the
# interval's width over the prior's central 90%). With a tiny budget most intervals stay
# close to the prior, so "recovered" is easy and says little; "identified" needs an interval
# clearly narrower than the prior, which takes the default budget
# (`cohesion calibrate --recovery --budget default`).

# %%
synthetic = synthetic_targets(targets, scenario, TRUTH, SEED)
rec_history = calibrate(scenario, synthetic, calibrated, TINY, out / "recovery", seed=SEED, workers=2)
rec = credible_intervals(posterior_table(rec_history))
rec["truth"] = rec.parameter.map(TRUTH)
rec["recovered"] = (rec.low <= rec.truth) & (rec.truth <= rec.high)
rec.round(3)

# %% [markdown]
# ## The project's calibrated posterior
#
# `cohesion calibrate --install` writes the posterior that `cohesion run` and `cohesion compare`
# draw their parameters from (`calibration/posterior.csv`). If it is installed, here it is:

# %%
if POSTERIOR_PATH.is_file():
    installed = load_posterior()
    print(f"{len(installed)} particles in {POSTERIOR_PATH.name}")
    display(credible_intervals(installed))
else:
    print(f"no posterior installed yet at {POSTERIOR_PATH}; runs use the defaults of model/params.py")
