"""Does handing short runs to workers several at a time pay? One batch of Qayyarah runs to the
endline through ``runner.run_batch``: wall time and this process's CPU time.

    COHESION_CHUNK=1 .venv/bin/python -m benchmarks.chunks --runs 300   # one run per worker task
    .venv/bin/python -m benchmarks.chunks --runs 300                    # the runner's chunks

Run the two alternately; a first batch of 4 runs starts the fork server and the workers before
the timed one.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:  # pragma: no cover
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from benchmarks.bench import base_scenario
    from model import Params
    from runner import Task, run_batch

    scenario = base_scenario()
    tasks = [Task(index=k, scenario=scenario, params=Params(), root_seed=7, seed_key=k, replicate=k, stop="endline")
             for k in range(args.runs)]
    run_batch(tasks[:4], workers=args.workers, progress=False)
    wall, cpu = time.perf_counter(), time.process_time()
    run_batch(tasks, workers=args.workers, progress=False)
    print(f"chunks: {os.environ.get('COHESION_CHUNK', 'by the runner')}; {args.workers} workers, {args.runs} runs: "
          f"{time.perf_counter() - wall:.2f} s wall, this process {time.process_time() - cpu:.2f} s CPU; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":  # pragma: no cover
    main()
