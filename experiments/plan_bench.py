"""Benchmark of the planner: the hypervolume of the front against trials and wall time, with 1 and
2 workers, on a plan file (default experiments/plans/qayyarah_budget.yaml, its default search).

    python -m experiments.plan_bench [plan.yaml] [--workers 1 2] [--trials N] [--out results/plan_bench]

(Here rather than under benchmarks/: benchmarks sit below experiments in the layers,
tests/test_architecture.py.) The hypervolume is over the trials that met the search's constraints,
on (first objective, mean cost / budget), towards the reference point (worst first objective, the
budget): 0 when no trial met them. Writes ``hypervolume.csv`` and prints one line per worker count.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .plan import LOWER_IS_BETTER
from .plan_outputs import make_plan
from .plan_search import completed, feasible

DEFAULT_PLAN = Path(__file__).with_name("plans") / "qayyarah_budget.yaml"


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume of minimisation ``points`` (n x 2) against ``reference`` (a sweep over the first axis)."""
    pts = points[(points < reference).all(axis=1)]
    if not len(pts):
        return 0.0
    pts = pts[np.argsort(pts[:, 0])]
    area, best = 0.0, reference[1]
    for x, y in pts:
        if y < best:
            area += (reference[0] - x) * (best - y)
            best = y
    return float(area)


def history(study, objectives: list[str], budget: float, t0: float) -> pd.DataFrame:
    """Hypervolume after each completed trial, with the wall time it completed at."""
    first = objectives[0]
    sign = 1.0 if first in LOWER_IS_BETTER else -1.0
    rows, pts = [], []
    for t in sorted(completed(study), key=lambda t: t.datetime_complete):
        s = t.user_attrs.get("summary")
        if s is not None and feasible(t):
            pts.append([sign * s[first], s["cost"] / budget])
        ref = np.array([sign * (1e9 if sign > 0 else 0.0), 1.0])
        rows.append({"trials": len(rows) + 1, "seconds": t.datetime_complete.timestamp() - t0,
                     "hypervolume": hypervolume(np.array(pts).reshape(-1, 2), ref)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan", nargs="?", default=str(DEFAULT_PLAN))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--out", default="results/plan_bench")
    a = ap.parse_args(argv)
    frames, lines = [], []
    for w in a.workers:
        import optuna

        out = Path(a.out) / f"workers-{w}"
        t0 = time.time()
        summary = make_plan(Path(a.plan), out=out, workers=w, trials=a.trials)
        wall = time.time() - t0
        study = optuna.load_study(study_name=summary["plan"], storage=f"sqlite:///{(out / 'study.db').resolve()}")
        from .plan import load_plan

        plan, _, _ = load_plan(a.plan, trials=a.trials)
        h = history(study, plan.objectives, plan.budget, t0).assign(workers=w)
        frames.append(h)
        lines.append({"workers": w, "trials": int(h.trials.max()), "wall_seconds": round(wall, 1),
                      "search_seconds": round(float(h.seconds.max()), 1),
                      "final_hypervolume": float(h.hypervolume.iloc[-1]), "findings": summary["findings"]})
        print(json.dumps(lines[-1]), flush=True)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    pd.concat(frames).to_csv(Path(a.out) / "hypervolume.csv", index=False)
    (Path(a.out) / "bench.json").write_text(json.dumps(lines, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
