"""The items about perceived change: reading of the state -> answer (docs/survey.md).

    .venv/bin/python docs/measurements/survey_items.py

For each scenario and seeds 0-2, at default parameters: the mean over every household of the
survey's frame (no sampling noise) of each item's reading of the state and of its answer by the
respondent model (model/respondent.py), printed as the markdown table of docs/survey.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from model import CohesionModel, respondent  # noqa: E402
from scenarios import load_scenario  # noqa: E402

PATHS = ["scenarios/no_intervention.yaml", "scenarios/sequencing/pss_only.yaml", "scenarios/qayyarah.yaml"]


def _mean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.nanmean(x)) if np.isfinite(x).any() else np.nan


def measure(path: str, seeds=(0, 1, 2)) -> dict[str, list]:
    out: dict[str, list] = {"frame": []}
    for seed in seeds:
        m = CohesionModel(load_scenario(path), rng=seed).run(weeks=52)
        r = m.snapshots["endline"].rows(np.flatnonzero(m.survey_frame()))
        out["frame"].append(r.n)
        for name, (answer, reading) in respondent.ITEMS.items():
            out.setdefault(name, []).append((_mean(reading(r)), _mean(answer(r))))
    return out


def main() -> None:
    results = [measure(p) for p in PATHS]
    print("| item | " + " | ".join(Path(p).stem for p in PATHS) + " |")
    print("| --- |" + " --- |" * len(PATHS))
    print("| frame (households) | " + " | ".join(f"{np.mean(r['frame']):.0f}" for r in results) + " |")
    for name in respondent.ITEMS:
        cells = []
        for r in results:
            v = np.array(r[name])
            cells.append("not asked" if np.isnan(v).all() else f"{np.nanmean(v[:, 0]):.2f} → {np.nanmean(v[:, 1]):.2f}")
        print(f"| `{name}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
