"""How fast one calibration simulation is here: CPU and wall seconds per run, one process.

    .venv/bin/python -m benchmarks.calibration_speed --runs 20

CPU seconds per run do not depend on what else the machine is doing; wall seconds do. The
simulations per second a calibration reaches are printed by ``cohesion calibrate`` itself.
"""

from __future__ import annotations

import argparse
import os
import time

from runner import Task, run
from model.params import Params
from scenarios import DEFAULT_SCENARIO, load_scenario

from calibration.simulate import survey_at_endline


def main() -> None:  # pragma: no cover
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    spec = load_scenario(DEFAULT_SCENARIO)
    print(f"{spec.name}: {spec.n_households()} households; load average {os.getloadavg()[0]:.1f} "
          f"on {len(os.sched_getaffinity(0))} cores")
    for name, fn in (("calibration (survey at endline)", survey_at_endline), ("runner.run (to horizon)", run)):
        cpu, wall = time.process_time(), time.perf_counter()
        for k in range(args.runs):
            fn(Task(index=k, scenario=spec, params=Params(), root_seed=1, seed_key=k))
        cpu, wall = (time.process_time() - cpu) / args.runs, (time.perf_counter() - wall) / args.runs
        print(f"{name}: {cpu:.3f} CPU s/run, {wall:.3f} wall s/run")


if __name__ == "__main__":  # pragma: no cover
    main()
