"""Check that refactoring or optimising the model did not change what it computes.

    .venv/bin/python -m benchmarks.check_same_states save  benchmarks/states_before.npz
    .venv/bin/python -m benchmarks.check_same_states check benchmarks/states_before.npz

``save`` runs every scenario file under ``scenarios/`` with seeds 0, 1 and 2 and stores, by
name, every state array, the network, the weekly time series, the survey and the cost, with the
git commit it was made from; ``check`` runs them again and compares array by array, by name
(np.allclose, rtol 1e-12, and integer/bool arrays exactly; float arrays that are close but not
bit-identical are listed). Arrays that exist only in the new run (new state fields) are allowed
and listed; an array of the saved run that is missing or differs fails. Exit status 1 if anything
differs.

The time series is compared by (week, group, village) and the survey by (wave, item, group,
village), so a change in row order or an added column does not count as a difference.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from model import CohesionModel
from scenarios import LIBRARY, load_scenario

SEEDS = (0, 1, 2)
TIMESERIES_KEYS = ("week", "group", "village")
SURVEY_KEYS = ("wave", "item", "group", "village")


def scenario_files() -> list[Path]:
    """Every scenario of the library, sorted by its path under ``scenarios/``."""
    return sorted(LIBRARY.rglob("*.yaml"))


def _label(path: Path) -> str:
    return path.relative_to(LIBRARY).with_suffix("").as_posix()


def _keyed(df, keys: tuple[str, ...], prefix: str) -> dict[str, np.ndarray]:
    """A table as arrays by column name, rows sorted by ``keys`` (stored as one string array)."""
    df = df.sort_values(list(keys)).reset_index(drop=True)
    out = {f"{prefix}.keys": df[list(keys)].astype(str).agg("/".join, axis=1).to_numpy(str)}
    for col in df.columns:
        if col in keys or col in ("scenario", "replicate"):
            continue
        out[f"{prefix}.{col}"] = df[col].to_numpy(float if df[col].dtype.kind == "f" else df[col].dtype)
    return out


def snapshot_one(path: Path, seed: int) -> dict[str, np.ndarray]:
    m = CohesionModel(load_scenario(path), rng=seed).run()
    out = {f"state.{k}": np.asarray(v) for k, v in vars(m.state).items() if isinstance(v, np.ndarray)}
    net = m.network
    out["network.src"], out["network.dst"] = net.src, net.dst
    out["network.new_src"], out["network.new_dst"] = net.new_src, net.new_dst
    out.update(_keyed(m.timeseries(), TIMESERIES_KEYS, "timeseries"))
    out.update(_keyed(m.survey_results(), SURVEY_KEYS, "survey"))
    out["cost"] = np.array([m.cost])
    return out


def snapshot(paths: list[Path] | None = None, seeds=SEEDS) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for path in paths or scenario_files():
        for seed in seeds:
            for k, v in snapshot_one(path, seed).items():
                out[f"{_label(path)}@{seed}:{k}"] = v
    return out


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def compare(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> tuple[list[str], list[str]]:
    """Problems (missing or different arrays of ``before``) and the names new in ``after``."""
    problems = []
    for k in sorted(before):
        if k not in after:
            problems.append(f"{k}: missing in the new run")
            continue
        a, b = before[k], after[k]
        if a.shape != b.shape:
            problems.append(f"{k}: shape {a.shape} -> {b.shape}")
        elif a.dtype.kind in "fc":
            if not np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True):
                problems.append(f"{k}: max |diff| {np.nanmax(np.abs(a - b.astype(a.dtype))):.3g}")
            elif not np.array_equal(a, b, equal_nan=True):
                print(f"close, not identical: {k} (max |diff| {np.nanmax(np.abs(a - b)):.3g})")
        elif not np.array_equal(a, b):
            problems.append(f"{k}: {int(np.sum(a != b))} entries differ")
    return problems, sorted(set(after) - set(before))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print(__doc__)
        return 2
    path = Path(argv[1])
    if argv[0] == "save":
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **snapshot(), _commit=np.array(git_commit()))
        print(f"saved {path} ({len(scenario_files())} scenarios x seeds {SEEDS}) from commit {git_commit()}")
        return 0
    with np.load(path) as f:
        before = dict(f)
    made_from = str(before.pop("_commit", "unknown"))
    print(f"before: {path}, made from commit {made_from}")
    problems, new = compare(before, snapshot())
    if new:
        print(f"new arrays (allowed): {len(new)}, e.g. {', '.join(sorted({n.split(':', 1)[1] for n in new})[:8])}")
    for p in problems:
        print("DIFFERS", p)
    n = len({k.split(":")[0] for k in before})
    print(f"same states ({n} scenario-seed runs)" if not problems else f"{len(problems)} arrays differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
