"""The benchmark suite (issue 6): speed per run, the array step against the reference step, the
floor, scaling to a million households, and the runner's throughput.

    cohesion bench                       # everything; writes results/bench/benchmark.{json,md}
    .venv/bin/python -m benchmarks.bench --quick   # small sizes, a few seconds (smoke test)

Not part of the test run. Every figure is measured on the machine it runs on; the table in
docs/performance.md was written by this script (see the command there).

1. ``qayyarah``: one run of scenarios/qayyarah.yaml to its horizon, median of ``repeats``, split
   into set-up (``CohesionModel(...)``: population, network, programme, week-0
   observation), stepping (``run()``: draws, the week, observation) and the survey.
2. ``reference``: the same run with ``step_mode="reference"`` (every mechanism's one-household-
   at-a-time form), in the same process; the figure is the ratio of stepping times.
3. ``floor``: ``week.advance`` (the mechanisms' array forms) alone over every week, on a freshly built state and world with
   every week's draws made beforehand: no Mesa, no data collection, no survey.
4. ``scaling``: the scenario scaled to 10^3 ... 10^6 households (households and places in
   proportion, same mean degree), 52 weeks, each size in a fresh subprocess so that its peak
   resident memory (``ru_maxrss``) is its own; a least-squares fit of log time on log households.
5. ``throughput``: runs per second of ``runner.run_batch`` with 1 and 2 workers.
6. ``science`` (only with ``--science``, about 10 minutes): the commands researchers wait for,
   timed as a user runs them, each in a fresh process on all cores: ``cohesion calibrate
   --budget default`` (into ``calibration/results/bench-calibration``, removed afterwards) and
   ``cohesion sweep experiments/sweeps/default.yaml --method sobol --n 1024`` (into a temporary
   folder).

And the compilation (``first_call``): the first run of a fresh process with an empty kernel cache
(numba compiles model/kernels.py's kernels) and with the cache it wrote, against a second run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCALING_SIZES = (10**3, 10**4, 10**5, 10**6)
SCALING_WEEKS = 52
SEED = 7


# --- scenarios --------------------------------------------------------------------------------
def base_scenario():
    from scenarios import DEFAULT_SCENARIO, load_scenario
    return load_scenario(DEFAULT_SCENARIO)


def scaled_scenario(n_households: int, weeks: int | None = None):
    """The Qayyarah scenario with ``n_households`` households, in the same proportions.

    Households of every (village, group) cell and the places of every programme entry are scaled
    by the same factor (places at least 1), so that the share of households the programme reaches
    stays the same; the network's mean degree is per household, so tie density per household is
    unchanged. ``weeks`` shortens the horizon (endline moved inside it if needed).
    """
    from model.activities import catalogue
    from scenarios.schema import Scenario

    base = base_scenario()
    raw = base.model_dump(mode="python")
    factor = n_households / base.n_households()
    cells = [(v, g) for v, spec in raw["population"]["villages"].items() for g in spec["households"]]
    exact = {c: raw["population"]["villages"][c[0]]["households"][c[1]] * factor for c in cells}
    counts = {c: int(math.floor(x)) for c, x in exact.items()}
    # largest remainders, so the total is exactly n_households
    short = n_households - sum(counts.values())
    for c in sorted(cells, key=lambda c: exact[c] - counts[c], reverse=True)[:max(short, 0)]:
        counts[c] += 1
    for (v, g), k in counts.items():
        raw["population"]["villages"][v]["households"][g] = k
    for entry in raw["programme"]:
        places = entry["places"] if entry["places"] is not None else catalogue()[entry["activity"]].places_per_session
        entry["places"] = max(1, round(places * factor))
    if weeks is not None:
        raw["horizon_weeks"] = weeks
        raw["survey"]["endline_week"] = min(raw["survey"]["endline_week"], weeks)
        raw["programme"] = [e for e in raw["programme"] if e["start_week"] <= weeks]
    raw["survey"]["sample_size"] = min(raw["survey"]["sample_size"], n_households // 2)
    raw["name"] = f"{base.name}_x{n_households}"
    return Scenario.model_validate(raw)


# --- 1 and 2: one run, array and reference step -----------------------------------------------
def time_run(scenario, step_mode: str = "array", seed: int = SEED) -> dict[str, float]:
    from model import CohesionModel

    c0, t0 = time.process_time(), time.perf_counter()
    m = CohesionModel(scenario, rng=seed, step_mode=step_mode)
    c1, t1 = time.process_time(), time.perf_counter()
    m.run()
    c2, t2 = time.process_time(), time.perf_counter()
    m.survey_results()
    t3 = time.perf_counter()
    return {"setup": t1 - t0, "stepping": t2 - t1, "survey": t3 - t2, "total": t3 - t0,
            "cpu_setup": c1 - c0, "cpu_stepping": c2 - c1, "cpu_total": time.process_time() - c0}


def median_runs(scenario, repeats: int, step_mode: str = "array") -> dict[str, float]:
    time_run(scenario, step_mode)  # warm-up: imports, caches
    runs = [time_run(scenario, step_mode) for _ in range(repeats)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]} | {"repeats": repeats}


# --- 3: the floor -----------------------------------------------------------------------------
def time_floor(scenario, repeats: int, seed: int = SEED) -> dict[str, float]:
    """``week.advance`` over every week on a prebuilt state, draws made beforehand."""
    from model import CohesionModel
    from model.draws import WeekDraws
    from model.week import advance

    # the week's draws, recorded on one run and replayed on each timed run (same seed, same states)
    m = CohesionModel(scenario, rng=seed)
    weeks = range(1, scenario.horizon_weeks + 1)
    recorded = []
    for w in weeks:
        recorded.append(WeekDraws.draw(m.streams["dynamics"], m.state.n, m.programme.active_indices(w), record=True))
        advance(m.state, m.world, w, recorded[-1])
    times = []
    for _ in range(repeats + 1):
        m = CohesionModel(scenario, rng=seed)
        draws = [d.replay() for d in recorded]
        state, world = m.state, m.world
        c0, t0 = time.process_time(), time.perf_counter()
        for w, d in zip(weeks, draws):
            advance(state, world, w, d)
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return {"stepping": statistics.median(t for t, _ in times[1:]),
            "cpu_stepping": statistics.median(c for _, c in times[1:]), "repeats": repeats}


# --- 4: scaling -------------------------------------------------------------------------------
def scale_one(n_households: int, weeks: int) -> dict[str, float]:
    """One run at one size, in this process (call it in a fresh subprocess: peak memory is the
    process's own)."""
    from model import CohesionModel

    rss_start = peak_rss_mb()
    scenario = scaled_scenario(n_households, weeks)
    c0, t0 = time.process_time(), time.perf_counter()
    m = CohesionModel(scenario, rng=SEED)
    t1 = time.perf_counter()
    m.run()
    t2 = time.perf_counter()
    m.survey_results()
    t3 = time.perf_counter()
    return {"households": m.state.n, "ties": m.network.n_ties, "weeks": weeks, "setup": t1 - t0,
            "stepping": t2 - t1, "survey": t3 - t2, "total": t3 - t0, "cpu_total": time.process_time() - c0,
            "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_start}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def scaling(sizes, weeks: int) -> dict:
    rows = []
    for n in sizes:
        cmd = [sys.executable, "-m", "benchmarks.bench", "--scale-one", str(n), "--weeks", str(weeks)]
        out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  {n:>9,} households: {rows[-1]['total']:.2f} s, {rows[-1]['peak_rss_mb']:.0f} MB peak", flush=True)
    return {"weeks": weeks, "rows": rows, "exponent": fitted_exponent(rows),
            "exponent_upper_half": fitted_exponent(rows[len(rows) // 2:])}


def fitted_exponent(rows) -> float:
    """Slope of log(total time) on log(households), least squares."""
    if len(rows) < 2:
        return float("nan")
    x = np.log([r["households"] for r in rows])
    y = np.log([r["total"] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


# --- 5: runner throughput ---------------------------------------------------------------------
def throughput(scenario, runs: int, workers_list=(1, 2)) -> dict:
    """Runs per second through ``run_batch``: of a whole batch of ``runs`` runs (starting its
    worker processes included), and in the steady state, from the extra time a batch of
    ``2 * runs`` takes. The fork server the runner starts its workers from is started once per
    session (with the model imported); it is started first, by a batch of 2 runs on 2 workers
    (``fork_server_seconds``), so that each timed batch pays for its workers but not for it."""
    from runner import Task, run_batch
    from model import Params

    def batch_seconds(n: int, workers: int) -> float:
        tasks = [Task(index=k, scenario=scenario, params=Params(), root_seed=SEED, seed_key=k, replicate=k)
                 for k in range(n)]
        t0 = time.perf_counter()
        run_batch(tasks, workers=workers, progress=False)
        return time.perf_counter() - t0

    out: dict = {"runs": runs, "fork_server_seconds": batch_seconds(2, 2)}
    for w in workers_list:
        short, long = batch_seconds(runs, w), batch_seconds(2 * runs, w)
        out[f"workers_{w}"] = {"seconds": short, "runs_per_second": runs / short,
                               "seconds_double_batch": long, "steady_runs_per_second": runs / max(long - short, 1e-9)}
    if "workers_1" in out and "workers_2" in out:
        one, two = out["workers_1"], out["workers_2"]
        out["speedup_2_over_1"] = two["runs_per_second"] / one["runs_per_second"]
        out["steady_speedup_2_over_1"] = two["steady_runs_per_second"] / one["steady_runs_per_second"]
        out["machine_ceiling"] = machine_ceiling(runs)
    return out


def serial_runs(runs: int) -> None:
    """Qayyarah runs one after another in this process, no runner; prints the seconds they took."""
    from runner import Task, run
    from model import Params

    scenario = base_scenario()
    t0 = time.perf_counter()
    for k in range(runs):
        run(Task(index=k, scenario=scenario, params=Params(), root_seed=SEED, seed_key=k, replicate=k))
    print(time.perf_counter() - t0)


def machine_ceiling(runs: int) -> dict:
    """What two cores give this workload without any runner: the same runs in two independent
    processes started together, against one process alone. The runner cannot beat this ratio;
    on a machine whose two vCPUs do not deliver two cores' work it is well under 2."""
    code = f"from benchmarks.bench import serial_runs; serial_runs({runs})"

    def together(n: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
                 for _ in range(n)]
        return max(float(p.communicate()[0].strip().splitlines()[-1]) for p in procs)

    alone, two = together(1), together(2)
    return {"one_process_seconds": alone, "two_processes_seconds": two, "speedup": 2 * alone / two}


# --- 6: the commands researchers wait for -----------------------------------------------------
SCIENCE = {
    "calibration": ["calibrate", "--budget", "default", "--name", "bench-calibration", "--restart"],
    "sweep": ["sweep", "experiments/sweeps/default.yaml", "--method", "sobol", "--n", "1024", "--out", "{tmp}"],
}


def science(which=tuple(SCIENCE)) -> dict:
    """Wall seconds of each command of ``SCIENCE`` run as a user runs it (``cohesion ...``, all
    cores), with its last line of output; the calibration's folder is removed afterwards."""
    import shutil
    import tempfile
    out = {}
    cohesion = [sys.executable, "-m", "experiments.cli"]
    for name in which:
        with tempfile.TemporaryDirectory() as tmp:
            args = [a.format(tmp=tmp) for a in SCIENCE[name]]
            t0 = time.perf_counter()
            r = subprocess.run([*cohesion, *args], cwd=ROOT, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
        if name == "calibration":
            shutil.rmtree(ROOT / "calibration" / "results" / "bench-calibration", ignore_errors=True)
        if r.returncode != 0:
            raise RuntimeError(f"cohesion {' '.join(args)} failed ({r.returncode}): {r.stderr[-2000:]}")
        lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
        out[name] = {"command": "cohesion " + " ".join(SCIENCE[name]).replace("{tmp}", "<tmp>"), "seconds": seconds,
                     "last_lines": lines[-6:]}
    return out


# --- report -----------------------------------------------------------------------------------
# --- compilation: the kernels' first call ------------------------------------------------------
FIRST_CALL = ("import json; from benchmarks.bench import base_scenario, time_run; s = base_scenario(); "
              "a = time_run(s)['total']; b = time_run(s)['total']; print(json.dumps([a, b]))")


def first_call() -> dict:
    """The first Qayyarah run of a fresh process whose kernel cache is empty (numba compiles every
    kernel and writes the cache) and of one that finds the cache written (it loads them), each
    against the second run of the same process. A temporary ``NUMBA_CACHE_DIR``, so the
    project's own cache (``model/__pycache__``) is left as it is."""
    import tempfile
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = os.environ | {"NUMBA_CACHE_DIR": cache}
        for label in ("compiling", "cached"):
            r = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, cwd=ROOT, capture_output=True,
                               text=True, check=True)
            first, second = json.loads(r.stdout.strip().splitlines()[-1])
            out[label] = {"first_run": first, "second_run": second}
    return out


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import mesa
    import scipy
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "memory_gib": round(mem, 1),
            "os": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "mesa": mesa.__version__}


def targets(res: dict) -> dict[str, dict]:
    """Each target of issues 6 and 15 (compiled kernels): the measured figure, the bound and
    whether it is met."""
    out = {}
    q, f = res["qayyarah"], res["floor"]
    out["one Qayyarah run (set-up, stepping, survey), median"] = {
        "measured": 1000 * q["total"], "target": "<= 30 ms", "met": q["total"] <= 0.030}
    if "reference" in res:
        ratio = res["reference"]["stepping"] / q["stepping"]
        out["array step vs reference step"] = {"measured": ratio, "target": ">= 300x", "met": ratio >= 300}
        if "cpu_stepping" in q:
            ratio = res["reference"]["cpu_stepping"] / q["cpu_stepping"]
            out["array step vs reference step, CPU time"] = {"measured": ratio, "target": ">= 300x", "met": ratio >= 300}
    whole = q["setup"] + q["stepping"]
    bound = f["stepping"] + q["setup"]
    out["whole run / (floor + set-up)"] = {"measured": whole / bound, "target": "<= 1.5", "met": whole / bound <= 1.5}
    if "cpu_stepping" in q:
        ratio = (q["cpu_setup"] + q["cpu_stepping"]) / (f["cpu_stepping"] + q["cpu_setup"])
        out["whole run / (floor + set-up), CPU time"] = {"measured": ratio, "target": "<= 1.5", "met": ratio <= 1.5}
    out["set-up / stepping"] = {"measured": q["setup"] / q["stepping"], "target": "<= 1",
                                "met": q["setup"] <= q["stepping"]}
    if "scaling" in res:
        rows = res["scaling"]["rows"]
        big = max(rows, key=lambda r: r["households"])
        if big["households"] >= 10**6:
            out["10^6 households, 52 weeks: time"] = {"measured": big["total"], "target": "<= 20 s",
                                                     "met": big["total"] <= 20}
            out["10^6 households, 52 weeks: CPU time"] = {"measured": big["cpu_total"], "target": "<= 20 s",
                                                         "met": big["cpu_total"] <= 20}
            out["10^6 households: set-up"] = {"measured": big["setup"], "target": "<= 5 s", "met": big["setup"] <= 5}
            out["10^6 households, 52 weeks: peak memory"] = {"measured": big["peak_rss_mb"], "target": "<= 2048 MB",
                                                            "met": big["peak_rss_mb"] <= 2048}
        e = res["scaling"]["exponent"]
        out["exponent of time vs households"] = {"measured": e, "target": "< 1.1", "met": e < 1.1}
    if "science" in res:
        bounds = {"calibration": ("calibration, default budget", 300), "sweep": ("Sobol sweep of the default sweep, N = 1024", 240)}
        for name, r in res["science"].items():
            label, bound = bounds[name]
            out[label] = {"measured": r["seconds"], "target": f"<= {bound // 60} min", "met": r["seconds"] <= bound}
    if "first_call" in res:
        c = res["first_call"]["compiling"]["first_run"]
        out["first run of a process that compiles the kernels (once per machine)"] = {
            "measured": c, "target": "(reported)", "met": True}
    if "throughput" in res and "speedup_2_over_1" in res["throughput"]:
        s = res["throughput"]["steady_speedup_2_over_1"]
        out["runner: 2 workers / 1 worker, steady state"] = {"measured": s, "target": ">= 1.8", "met": s >= 1.8}
        t = res["throughput"]
        s = t["workers_1"]["seconds_double_batch"] / t["workers_2"]["seconds_double_batch"]
        out[f"runner: 2 workers / 1 worker, whole batch of {2 * t['runs']} (starting workers included)"] = {
            "measured": s, "target": ">= 1.8", "met": s >= 1.8}
        if "machine_ceiling" in res["throughput"]:
            c = res["throughput"]["machine_ceiling"]["speedup"]
            out["machine: 2 independent processes / 1, no runner (the ceiling)"] = {
                "measured": c, "target": "(not a target)", "met": c >= 1.8}
    return out


def science_lines(res: dict) -> list[str]:
    if "science" not in res:
        return []
    lines = ["", "**6. The commands researchers wait for** (each in a fresh process, all cores, wall time)", "",
             "| command | time |", "|---|---:|"]
    for r in res["science"].values():
        lines.append(f"| `{r['command']}` | {r['seconds']:.0f} s ({r['seconds'] / 60:.1f} min) |")
    return lines


def markdown(res: dict) -> str:
    q, f = res["qayyarah"], res["floor"]
    ms = lambda s: f"{1000 * s:.1f} ms"  # noqa: E731
    lines = [f"Machine: {res['machine']['cpu']}, {res['machine']['cores']} cores, "
             f"{res['machine']['memory_gib']} GiB; Python {res['machine']['python']}, numpy "
             f"{res['machine']['numpy']}, scipy {res['machine']['scipy']}, Mesa {res['machine']['mesa']}.",
             f"Command: `{res['command']}`", "",
             f"Load average at the start: {res['load_average']}.", "",
             f"**1-3. One run of {res['scenario']}** ({res['households']:,} households, {res['weeks']} weeks; "
             f"median of {q['repeats']} runs; wall time, and CPU time of the process in the last columns)", "",
             "| | set-up | stepping | survey | total | CPU set-up | CPU stepping |", "|---|---:|---:|---:|---:|---:|---:|"]
    rows = [("array step", q)] + ([("reference step (one household at a time)", res["reference"])] if "reference" in res else [])
    for name, r in rows:
        lines.append(f"| {name} | {ms(r['setup'])} | {ms(r['stepping'])} | {ms(r['survey'])} | {ms(r['total'])} "
                     f"| {ms(r['cpu_setup'])} | {ms(r['cpu_stepping'])} |")
    lines.append(f"| floor: `week.advance` alone | | {ms(f['stepping'])} | | | | {ms(f['cpu_stepping'])} |")
    if "scaling" in res:
        sc = res["scaling"]
        lines += ["", f"**4. Scaling** ({sc['weeks']} weeks, each size in a fresh process; peak RSS includes "
                  f"the interpreter and libraries, {sc['rows'][0]['rss_after_imports_mb']:.0f} MB after imports)", "",
                  "| households | ties | set-up | stepping | survey | total | total CPU | peak memory |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in sc["rows"]:
            lines.append(f"| {row['households']:,} | {row['ties']:,} | {row['setup']:.2f} s | {row['stepping']:.2f} s "
                         f"| {row['survey']:.2f} s | {row['total']:.2f} s | {row['cpu_total']:.2f} s "
                         f"| {row['peak_rss_mb']:,.0f} MB |")
        lines.append(f"\nFitted exponent of total time against households: {sc['exponent']:.2f} over all sizes, "
                     f"{sc['exponent_upper_half']:.2f} over the larger half.")
    if "first_call" in res:
        c = res["first_call"]
        lines += ["", "**Compilation** (first Qayyarah run of a fresh process, against its second run)", "",
                  f"- kernel cache empty (compiles and writes it, once per machine): {ms(c['compiling']['first_run'])}"
                  f" (second run {ms(c['compiling']['second_run'])})",
                  f"- kernel cache found (loads it): {ms(c['cached']['first_run'])} (second run "
                  f"{ms(c['cached']['second_run'])})"]
    if "throughput" in res:
        t = res["throughput"]
        lines += ["", f"**5. Runner throughput** (`run_batch`, batches of {t['runs']} and {2 * t['runs']} runs; "
                  "steady state = the extra runs over the extra time; the runner's fork server started first, "
                  f"by a batch of 2 runs on 2 workers: {t.get('fork_server_seconds', float('nan')):.2f} s)", "",
                  f"| workers | {t['runs']} runs | runs per second | {2 * t['runs']} runs | steady runs per second |",
                  "|---:|---:|---:|---:|---:|"]
        for w in (1, 2):
            if f"workers_{w}" in t:
                r = t[f"workers_{w}"]
                lines.append(f"| {w} | {r['seconds']:.2f} s | {r['runs_per_second']:.2f} | {r['seconds_double_batch']:.2f} s "
                             f"| {r['steady_runs_per_second']:.2f} |")
        if "machine_ceiling" in t:
            c = t["machine_ceiling"]
            lines.append(f"\nThe machine's own ceiling, no runner: {t['runs']} runs in one process took "
                         f"{c['one_process_seconds']:.2f} s; the same in each of two processes started together "
                         f"{c['two_processes_seconds']:.2f} s: two processes deliver {c['speedup']:.2f}x one.")
    lines += science_lines(res)
    lines += ["", "**Targets**", "", "| target | measured | bound | met |", "|---|---:|---:|---|"]
    for name, t in res["targets"].items():
        lines.append(f"| {name} | {t['measured']:.3g} | {t['target']} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def run_suite(repeats: int = 7, sizes=SCALING_SIZES, weeks: int = SCALING_WEEKS, runs: int = 100,
              reference_repeats: int = 3, out: Path | None = ROOT / "results" / "bench",
              parts=("qayyarah", "reference", "floor", "first_call", "scaling", "throughput"), command: str = "",
              scenario=None) -> dict:
    scenario = scenario or base_scenario()
    res: dict = {"machine": machine(), "command": command or "cohesion bench", "scenario": scenario.name,
                 "households": scenario.n_households(), "weeks": scenario.horizon_weeks,
                 "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    print(f"1. one {scenario.name} run, median of {repeats}", flush=True)
    res["qayyarah"] = median_runs(scenario, repeats)
    if "reference" in parts and reference_repeats > 0:
        print(f"2. the same with the reference step, median of {reference_repeats}", flush=True)
        res["reference"] = median_runs(scenario, reference_repeats, step_mode="reference")
    print("3. the floor", flush=True)
    res["floor"] = time_floor(scenario, repeats)
    if "first_call" in parts:
        print("   compilation: first call with and without the kernel cache", flush=True)
        res["first_call"] = first_call()
    if "scaling" in parts and sizes:
        print(f"4. scaling, {weeks} weeks", flush=True)
        res["scaling"] = scaling(sizes, weeks)
    if "throughput" in parts and runs:
        print(f"5. runner throughput, {runs} runs", flush=True)
        res["throughput"] = throughput(scenario, runs)
    if "science" in parts:
        print("6. calibration (default budget) and Sobol sweep (N = 1024), as a user runs them", flush=True)
        res["science"] = science()
    res["targets"] = targets(res)
    table = markdown(res)
    print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "benchmark.json").write_text(json.dumps(res, indent=1))
        (out / "benchmark.md").write_text(table)
        print(f"wrote {out / 'benchmark.json'} and {out / 'benchmark.md'}")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7, help="runs behind each median (array step, floor)")
    ap.add_argument("--reference-repeats", type=int, default=3)
    ap.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",") if x], default=list(SCALING_SIZES),
                    help="households, comma-separated (default 1e3,1e4,1e5,1e6)")
    ap.add_argument("--weeks", type=int, default=SCALING_WEEKS)
    ap.add_argument("--runs", type=int, default=100,
                    help="runs for the throughput test, batches of RUNS and 2 x RUNS (0: skip)")
    ap.add_argument("--households", type=int, default=0,
                    help="parts 1-3 and 5 on the Qayyarah scenario scaled to this size (default: as it is)")
    ap.add_argument("--horizon", type=int, default=None, help="and shortened to this many weeks")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    ap.add_argument("--no-first-call", action="store_true", help="skip the compilation figures (two processes)")
    ap.add_argument("--science", action="store_true",
                    help="also time `cohesion calibrate --budget default` and the default Sobol sweep at N = 1024 "
                         "(about 10 minutes)")
    ap.add_argument("--scale-one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.scale_one:
        print(json.dumps(scale_one(args.scale_one, args.weeks)))
        return 0
    if args.quick:
        args.repeats, args.reference_repeats, args.sizes, args.weeks, args.runs = 1, 1, [200, 400], 6, 2
        args.households, args.horizon = args.households or 200, args.horizon or 6
        args.no_first_call = True
    scenario = None
    if args.households or args.horizon:
        scenario = scaled_scenario(args.households or base_scenario().n_households(), args.horizon)
    command = " ".join(["python -m benchmarks.bench", *(argv if argv is not None else sys.argv[1:])])
    parts = (("qayyarah", "reference", "floor", "scaling", "throughput") + (() if args.no_first_call else ("first_call",))
             + (("science",) if args.science else ()))
    run_suite(args.repeats, args.sizes, args.weeks, args.runs, args.reference_repeats, args.out, command=command,
              scenario=scenario, parts=parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
