"""Where a run's time goes: CPU seconds per part of set-up, per mechanism of the week, observation.

    .venv/bin/python -m benchmarks.breakdown 1000000 --weeks 52
    .venv/bin/python -m benchmarks.breakdown qayyarah --repeats 5

Wraps the model's functions with timers (``time.process_time``, CPU time of this process, so
that other processes on a shared machine inflate the figures less than wall time would) and
runs the scenario; prints a table, largest first. Only for reading: the wrappers are removed
at the end, and the model itself is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import sys
import time
from collections import defaultdict

from benchmarks.bench import base_scenario, scaled_scenario

# (module, attribute, label): what to time. Labels group them in the table. Each mechanism of the
# week (model/mechanisms.py) is timed through its ``step`` method, whatever the list holds.
SETUP = [
    ("model.model", "build_population", "set-up: population"),
    ("model.model", "generate_ties", "set-up: network ties"),
    ("model.model", "SocialNetwork", "set-up: sparse matrices"),
    ("model.model", "Programme", "set-up: programme"),
    ("model.influence", "settle", "set-up: settle attitudes"),
    ("model.stressors", "settle", "set-up: settle well-being"),
    ("model.agents.Household", "__init__", "set-up: Mesa agents"),
]
OTHER = [
    ("model.draws.WeekDraws", "draw", "week: random draws"),
    ("model.observer.Observer", "observe", "observation (time series, DataCollector)"),
    ("model.model.CohesionModel", "survey_results", "survey"),
]


def timed_parts() -> list[tuple[str, str, str]]:
    from model.mechanisms import MECHANISMS
    weekly = [(f"{cls.__module__}.{cls.__qualname__}", "step", f"week: {cls.name}") for cls in MECHANISMS]
    return SETUP + weekly + OTHER


def _resolve(path: str):
    import importlib
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


@contextlib.contextmanager
def timers():
    """Replace each timed function by a timing wrapper; yield the totals (label -> seconds)."""
    totals: dict[str, float] = defaultdict(float)
    active: list[str] = []
    undo = []

    def wrap(fn, label):
        def timed(*args, **kwargs):
            if active:  # nested in another timed part: counted there
                return fn(*args, **kwargs)
            active.append(label)
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] += time.process_time() - t0
                active.pop()
        return timed

    for owner_path, attr, label in timed_parts():
        owner = _resolve(owner_path)
        try:
            original = inspect.getattr_static(owner, attr)
        except AttributeError:  # a part the model no longer has (its time falls under "rest")
            continue
        own = attr in vars(owner)
        if isinstance(original, classmethod):
            replacement = classmethod(wrap(original.__func__, label))
        else:
            replacement = wrap(original, label)
        setattr(owner, attr, replacement)
        undo.append((owner, attr, original if own else None))
    try:
        yield totals
    finally:
        for owner, attr, original in reversed(undo):
            if original is None:
                delattr(owner, attr)  # was inherited
            else:
                setattr(owner, attr, original)


def breakdown(scenario, repeats: int = 1, seed: int = 7) -> tuple[dict[str, float], float]:
    from model import CohesionModel
    with timers() as totals:
        t0 = time.process_time()
        for _ in range(repeats):
            CohesionModel(scenario, rng=seed).run().survey_results()
        total = time.process_time() - t0
    return {k: v / repeats for k, v in totals.items()}, total / repeats


def table(parts: dict[str, float], total: float) -> str:
    # milliseconds with a decimal for short runs (the Qayyarah run's parts are a few ms each)
    unit, scale, fmt = ("CPU ms", 1000.0, ".1f") if total < 1 else ("CPU s", 1.0, ".3f")
    lines = [f"| part | {unit} | share |", "|---|---:|---:|"]
    for label, sec in sorted(parts.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {label} | {sec * scale:{fmt}} | {100 * sec / total:.0f}% |")
    rest = total - sum(parts.values())
    lines.append(f"| rest (Mesa step wrapper, programme cost, ...) | {rest * scale:{fmt}} | {100 * rest / total:.0f}% |")
    lines.append(f"| **total** | {total * scale:{fmt}} | 100% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.breakdown", description=__doc__.split("\n\n")[0])
    ap.add_argument("size", help="'qayyarah' or a number of households")
    ap.add_argument("--weeks", type=int, default=52, help="horizon of a scaled scenario")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)
    scenario = base_scenario() if args.size == "qayyarah" else scaled_scenario(int(float(args.size)), args.weeks)
    if args.repeats > 1:
        breakdown(scenario, 1)  # warm-up
    parts, total = breakdown(scenario, args.repeats)
    print(f"{scenario.name}: {scenario.n_households():,} households, {scenario.horizon_weeks} weeks, "
          f"CPU time per run (mean of {args.repeats})\n")
    print(table(parts, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
