"""The tables of docs/calibration.md, generated from the committed posterior (calibration/fit/).

    .venv/bin/python -m calibration.doc_tables      # rewrites the generated blocks in place

Each block sits between ``<!-- name:start -->`` and ``<!-- name:end -->``; the test suite
checks that the document shows what calibration/fit/ holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from common.vocabulary import WAVES
from scenarios import DEFAULT_SCENARIO, load_scenario
from model import outcomes

from .command import INSTALLED

DOC = Path(__file__).resolve().parents[1] / "docs" / "calibration.md"


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{100 * x:.0f}%"


def _where(group: str, village: str) -> str:
    return group if village == "all" else village


def fit_block(folder: Path = INSTALLED) -> str:
    fit = pd.read_csv(folder / "fit.csv")
    lines = ["| target | wave | observed | assumed n | predicted median | 90% interval | fit |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in fit.itertuples():
        observed = "not reported" if pd.isna(r.observed) else _pct(r.observed)
        status = {"inside": "inside", "missed": "**missed**"}.get(r.status, r.status)
        lines.append(f"| {r.item}, {_where(r.group, r.village)} | {r.wave} | {observed} | {r.sample_size} | "
                     f"{_pct(r.median)} | {_pct(r.p05)}-{_pct(r.p95)} | {status} |")
    return "\n".join(lines)


def intervals_block(folder: Path = INSTALLED) -> str:
    ci = pd.read_csv(folder / "intervals.csv")
    lines = ["| parameter | default | prior range | posterior median | 90% credible interval | width / prior's |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in ci.itertuples():
        lines.append(f"| `{r.parameter}` | {r.default:g} | {r.prior_low:g}-{r.prior_high:g} | {r.median:.3g} | "
                     f"{r.low:.3g}-{r.high:.3g} | {r.width_vs_prior:.2f} |")
    return "\n".join(lines)


def generations_block(folder: Path = INSTALLED) -> str:
    g = pd.read_csv(folder / "generations.csv")
    s = json.loads((folder / "summary.json").read_text())
    lines = ["| generation | epsilon | simulations | acceptance rate | simulations so far |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    for r in g.itertuples():
        label = "prior sample (sets epsilon)" if r.t < 0 else str(r.t)
        eps, rate = ("", "") if r.t < 0 else (f"{r.epsilon:.2f}", f"{100 * r.acceptance_rate:.0f}%")
        lines.append(f"| {label} | {eps} | {r.samples} | {rate} | {r.total_simulations} |")
    lines.append("")
    session = s.get("session_simulations", s["simulations"])
    resumed = f" ({s['simulations'] - session} of them in earlier sessions of the same command, resumed)" \
        if session != s["simulations"] else ""
    check = s.get("predictive_check")
    predictive = (f"{s['predictive_runs']} posterior-predictive runs in {s['predictive_seconds']:.0f} s" if not check else
                  f"the posterior-predictive check ({s['predictive_runs']} runs, {s['predictive_seconds']:.0f} s) was "
                  f"made again with the model at commit {check['versions'].get('git', 'unknown')} by "
                  f"`{check['command']}`")
    lines.append(f"Command: `{s['command']}`; {s['simulations']} simulations in all{resumed}. Last session: "
                 f"{session} simulations in {s['abc_seconds']:.0f} s of ABC ({s['simulations_per_second']} "
                 f"simulations/s){', then ' if not check else '; '}{predictive}.")
    return "\n".join(lines)


REGISTRATION = Path(__file__).with_name("validation") / "predictions.csv"


def predictions_block(path: Path = REGISTRATION) -> str:
    """The registered prediction (``cohesion validate --predict``) of the figures not fitted."""
    p = pd.read_csv(path, comment="#")
    p = p[p.used_for != "fit"] if "used_for" in p else p
    cells = {(r.item, r.group, r.village, r.wave): f"{_pct(r.median)} [{_pct(r.p05)}-{_pct(r.p95)}]"
             for r in p.itertuples()}
    villages = [v for v in dict.fromkeys(p.village) if v != "all"]
    groups = load_scenario(DEFAULT_SCENARIO).group_names()  # the committed fit is of the Qayyarah scenario
    splits = [("all", "all")] + [(g, "all") for g in groups] + [("all", v) for v in villages]
    lines = ["| item | split | baseline | endline |", "| --- | --- | ---: | ---: |"]
    for o in outcomes.survey_items():
        for group, village in splits if o.headline else splits[:1]:  # headline items by group and village too
            base, end = (cells.get((o.name, group, village, wave)) for wave in WAVES)
            if base or end:
                lines.append(f"| {o.name} | {_where(group, village)} | {base or ''} | {end or ''} |")
    return "\n".join(lines)


BLOCKS = {"fit": fit_block, "intervals": intervals_block, "generations": generations_block,
          "predictions": predictions_block}


def current_block(text: str, tag: str) -> str | None:
    m = re.search(rf"<!-- {tag}:start -->\n(.*?)\n<!-- {tag}:end -->", text, flags=re.DOTALL)
    return m.group(1) if m else None


def render(text: str) -> str:
    for tag, make in BLOCKS.items():
        text = re.sub(rf"(<!-- {tag}:start -->\n).*?(<!-- {tag}:end -->)",
                      lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text, flags=re.DOTALL)
    return text


def main() -> None:  # pragma: no cover
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {DOC}")


if __name__ == "__main__":  # pragma: no cover
    main()
