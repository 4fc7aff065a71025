"""Check that optimising the model did not change what it computes.

    .venv/bin/python -m benchmarks.check_same_states save  results/bench/states_before.npz
    .venv/bin/python -m benchmarks.check_same_states check results/bench/states_before.npz

``save`` runs the Qayyarah scenario with seed 7 and stores every state array, the network, the
weekly time series and the survey; ``check`` runs it again and compares them (np.allclose,
rtol 1e-12, and integer/bool arrays exactly; float arrays that are close but not bit-identical
are listed). Exit status 1 if anything differs.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from model import CohesionModel
from scenarios import DEFAULT_SCENARIO, load_scenario

SEED = 7


def snapshot(seed: int = SEED) -> dict[str, np.ndarray]:
    m = CohesionModel(load_scenario(DEFAULT_SCENARIO), rng=seed).run()
    out = {f"state.{k}": np.asarray(v) for k, v in m.state.__dict__.items() if isinstance(v, np.ndarray)}
    out["network.src"], out["network.dst"] = m.network.src, m.network.dst
    out["network.new_src"], out["network.new_dst"] = m.network.new_src, m.network.new_dst
    out["timeseries"] = m.timeseries().drop(columns=["scenario", "group", "village"]).to_numpy(float)
    survey = m.survey_results()
    out["survey.value"] = survey["value"].to_numpy(float)
    out["survey.n"] = survey["n"].to_numpy(int)
    out["survey.keys"] = (survey["wave"] + "/" + survey["item"] + "/" + survey["group"] + "/"
                          + survey["village"]).to_numpy(str)
    out["cost"] = np.array([m.cost])
    return out


def source_hashes() -> dict[str, str]:
    """Hash of every model source file, to tell which files changed between save and check."""
    root = Path(__file__).resolve().parent.parent
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest()[:12] for p in sorted((root / "model").glob("*.py"))}


def compare(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> list[str]:
    problems = []
    for k in sorted(set(before) | set(after)):
        if k not in before or k not in after:
            problems.append(f"{k}: only in {'before' if k in before else 'after'}")
            continue
        a, b = before[k], after[k]
        if a.shape != b.shape:
            problems.append(f"{k}: shape {a.shape} -> {b.shape}")
        elif a.dtype.kind in "fc":
            if not np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True):
                problems.append(f"{k}: max |diff| {np.nanmax(np.abs(a - b)):.3g}")
            elif not np.array_equal(a, b, equal_nan=True):
                print(f"close, not identical: {k} (max |diff| {np.nanmax(np.abs(a - b)):.3g})")
        elif not np.array_equal(a, b):
            problems.append(f"{k}: {int((a != b).sum())} entries differ")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("save", "check"):
        print(__doc__)
        return 2
    path = Path(argv[1])
    if argv[0] == "save":
        path.parent.mkdir(parents=True, exist_ok=True)
        sources = np.array([f"{k}={v}" for k, v in source_hashes().items()])
        np.savez(path, **snapshot(), _sources=sources)
        print(f"saved {path}")
        return 0
    with np.load(path) as f:
        before = dict(f)
    saved = dict(s.split("=") for s in before.pop("_sources", np.array([], dtype=str)))
    changed = [k for k, v in source_hashes().items() if saved.get(k) != v]
    print("model files changed since save:", ", ".join(changed) or "none")
    problems = compare(before, snapshot())
    for p in problems:
        print("DIFFERS", p)
    print("same states" if not problems else f"{len(problems)} arrays differ")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
