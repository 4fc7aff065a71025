"""Victims' families' cumulative contact exposure to each other group, and their endline with
acknowledgement of victims switched off (docs/calibration.md, "The committed posterior").

    .venv/bin/python docs/measurements/victims_exposure.py

1. Exposure: Qayyarah at default parameters, 52 weeks, seeds 0-3, mean over the victims' households of the
   contact exposure (model/contact.py ``exposures``) summed over the weeks, with the scenario's
   targeting (equal shares of places) and with ``targeting: proportional``.
2. Acknowledgement: 60 parameter sets drawn from the committed posterior, each run with and
   without the acknowledgement channel (``w_ready_acknowledgement`` = 0), same seeds; the victims' endline
   acceptance in the survey and on all their households.
"""

import numpy as np

import model.contact as contact
from calibration.posterior import POSTERIOR_PATH, draw_params, load_posterior
from model import CohesionModel
from runner.batch import run_batch
from runner.task import Task
from scenarios import load_scenario


def exposure(scenario) -> dict[str, float]:
    acc = {}
    plain = contact.exposures

    def counting(state, prog, members):
        met, e, d = plain(state, prog, members)
        acc["e"][met] += e
        return met, e, d

    contact.exposures = counting
    try:
        names, vf = scenario.group_names(), scenario.group_roles().index("victims")
        means = []
        for seed in range(4):
            m = CohesionModel(scenario, rng=seed)
            acc["e"] = np.zeros(m.state.attitude.shape)
            m.run(weeks=52)
            means.append(acc["e"][m.state.group == vf].mean(axis=0))
        mean = np.mean(means, axis=0)
        return {names[h]: round(float(mean[h]), 2) for h in range(len(names)) if h != vf}
    finally:
        contact.exposures = plain


def acknowledgement_off(n: int = 60) -> None:
    scenario = load_scenario("scenarios/qayyarah.yaml")
    base = draw_params(load_posterior(POSTERIOR_PATH), n, np.random.default_rng(7))
    tasks = []
    for label, pars in [("on", base), ("off", [p.with_values(w_ready_acknowledgement=0.0) for p in base])]:
        for r, p in enumerate(pars):
            tasks.append(Task(index=len(tasks), scenario=scenario, params=p, root_seed=7, seed_key=r, replicate=r,
                              labels={"ack": label}, stop="endline", tables=("survey", "outcomes")))
    res = run_batch(tasks, progress=False)
    s = res["survey"]
    victims = scenario.group_names()[scenario.group_roles().index("victims")]
    s = s[(s.item == "acceptance") & (s.wave == "endline") & (s.village == "all") & (s.group == victims)]
    print(f"{victims} endline acceptance, survey: median", s.groupby("ack").value.median().round(3).to_dict(),
          "mean", s.groupby("ack").value.mean().round(3).to_dict())
    o = res["outcomes"]
    w = o.pivot(index="replicate", columns="ack", values=f"endline.acceptance.{victims}")
    d = w["on"] - w["off"]
    print(f"all {victims} households: on {w['on'].mean():.3f}, off {w['off'].mean():.3f}; paired difference "
          f"{d.mean():.4f} (sd {d.std():.4f}, {len(d)} pairs)")


if __name__ == "__main__":
    sc = load_scenario("scenarios/qayyarah.yaml")
    print("victims' exposure, equal targeting (the scenario):", exposure(sc))
    print("victims' exposure, proportional targeting:", exposure(sc.model_copy(update={"targeting": "proportional"})))
    acknowledgement_off()
