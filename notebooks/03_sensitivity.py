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
# # 3. Sensitivity: a small Sobol sweep and how to read the indices
#
# Most rates of the model are assumptions (model/params.py says which), and so are the
# programme's timings and places. A variance-based sensitivity analysis asks: of the spread of an
# outcome when the uncertain inputs vary over their ranges, how much is due to each input?
#
# - **S1** (first order): the share of the outcome's variance explained by the input alone.
# - **ST** (total): the share that involves the input at all, alone or through interactions;
#   `ST - S1` is what it contributes only in combination with others.
# - An input with ST near 0 can be fixed anywhere in its range without changing the outcome; the
#   sum of S1 below 1 means interactions matter.
# - Each index comes with a 95% bootstrap interval. With a small sample the intervals are wide
#   and S1 can even come out negative: read it as "about 0".
#
# The sweep runs through `experiments/sweep.py` (SALib's Saltelli sampling and Sobol analysis),
# the function behind `cohesion sweep`. First the method on a function whose indices are known,
# then the model.

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Image, display
from SALib.test_functions import Ishigami

import experiments
from experiments.sweep import Factor, load_sweep, run_model_sweep, run_sweep

# %matplotlib inline
pd.set_option("display.width", 160)
out = Path(tempfile.mkdtemp(prefix="nb3_"))

# %% [markdown]
# ## The method on a known answer: the Ishigami function
#
# f(x) = sin x1 + 7 sin² x2 + 0.1 x3⁴ sin x1 on [-π, π]³ has analytic indices
# S1 = (0.314, 0.442, 0) and ST = (0.558, 0.442, 0.244): x3 acts only through its interaction
# with x1, so its S1 is 0 and its ST is not.


# %%
def ishigami(task):
    x = np.array([[v for _, v in task.values]])
    return {"runs": pd.DataFrame({"run": [task.index], "y": Ishigami.evaluate(x)})}


factors = [Factor(f"x{i}", (-np.pi, np.pi)) for i in (1, 2, 3)]
check = run_sweep(factors, ["y"], ishigami, method="sobol", n=512, seed=1, seeds="common", workers=1,
                  progress=False)
known = check.indices.assign(S1_exact=[0.314, 0.442, 0.0], ST_exact=[0.558, 0.442, 0.244])
# the estimates must sit near the analytic values (within 3 bootstrap half-widths)
assert ((known.S1 - known.S1_exact).abs() <= 3 * known.S1_conf + 0.02).all()
assert ((known.ST - known.ST_exact).abs() <= 3 * known.ST_conf + 0.02).all()
known.round(3)

# %% [markdown]
# ## The model: the project's default sweep, with a small budget
#
# `experiments/sweeps/default.yaml` varies three uncertain mechanisms (positive contact,
# readiness threshold, VF stubbornness) and three design choices (when dialogue starts,
# recreation places, the share of places in direct PSS), and measures outcomes at the endline
# week. Sobol with N base samples costs N x (factors + 2) runs: N = 16 gives 128 runs here, far
# too few for firm indices (the sweep file's own budget is N = 1024), but enough to show the
# outputs and how to read them.

# %%
sweep = load_sweep(Path(experiments.__file__).parent / "sweeps" / "default.yaml")
pd.DataFrame([{"factor": f.name, "kind": f.kind, "low": f.bounds[0], "high": f.bounds[1]} for f in sweep.factors])

# %%
res = run_model_sweep(sweep, method="sobol", n=16, out=out / "sweep", workers=2, progress=False)
print(f"{len(res.runs)} runs")
res.indices[res.indices.outcome.isin(["acceptance", "acceptance.Jmisah", "wellbeing"])].round(3)

# %% [markdown]
# The figures `cohesion sweep` writes: first-order and total indices with their intervals per
# outcome (design factors starred), and the total index of every factor on every outcome.

# %%
display(Image(filename=out / "sweep" / "indices_bars.png"), Image(filename=out / "sweep" / "indices_heatmap.png"))

# %% [markdown]
# ## Reading these indices
#
# - Rank factors by ST, and trust a ranking only where the intervals do not overlap.
# - A design factor with a large ST is a lever: the outcome depends on that programme choice. A
#   mechanism with a large ST is an uncertainty that matters: calibrate it (notebook 4) or report
#   results across its range.
# - ST well above S1 for a factor means its effect depends on the others (e.g. dialogue timing
#   mattering only when the readiness threshold is high): look at second-order indices
#   (`cohesion sweep --second-order`) or at scenario comparisons at several parameter values.
# - For firm numbers, run `cohesion sweep experiments/sweeps/default.yaml --n 1024`.
