"""Tables of a batch of replicates: the survey table, and the household-weighted trajectories
that the trajectory figure draws (experiments/drawing.py, ``group_trajectory_figure``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model import outcomes


def survey_table(survey: pd.DataFrame) -> pd.DataFrame:
    """Median and 5-95% interval across replicates of every item, wave, group and village."""
    keys = ["item", "group", "village", "wave"]
    q = survey.groupby(keys, sort=False)["value"].quantile([0.05, 0.5, 0.95]).unstack()
    q.columns = ["p05", "median", "p95"]
    q["n"] = survey.groupby(keys, sort=False)["n"].median()
    q["replicates"] = survey.groupby(keys, sort=False)["value"].size()
    out = q.reset_index()
    # items in the survey's order; splits overall, then groups, then villages in scenario order
    item_order = {item: i for i, item in enumerate(outcomes.item_names())}
    groups = [g for g in dict.fromkeys(survey["group"]) if g != "all"]  # the scenario's order
    split_order = {("all", "all"): 0, **{(g, "all"): 1 + k for k, g in enumerate(groups)}}
    villages = [v for v in dict.fromkeys(survey["village"]) if v != "all"]
    split_order.update({("all", v): 1 + len(groups) + k for k, v in enumerate(villages)})
    out["_i"] = out["item"].map(item_order)
    out["_s"] = [split_order.get((g, v), 99) for g, v in zip(out["group"], out["village"])]
    out = out.sort_values(["_i", "_s", "wave"], kind="stable")
    return out.drop(columns=["_i", "_s"]).reset_index(drop=True)


def split_label(group: str, village: str) -> str:
    if group == "all" and village == "all":
        return "all"
    return group if village == "all" else village


def fmt(median: float, lo: float, hi: float) -> str:
    if np.isnan(median):
        return ""
    return f"{100 * median:.0f}% [{100 * lo:.0f}-{100 * hi:.0f}]"


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per item and split, baseline and endline side by side, as printable text."""
    rows = []
    for (item, group, village), sub in table.groupby(["item", "group", "village"], sort=False):
        row = {"item": item, "split": split_label(group, village)}
        for wave in ("baseline", "endline"):
            w = sub[sub.wave == wave]
            row[wave] = fmt(*w[["median", "p05", "p95"]].iloc[0]) if len(w) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def group_trajectories(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Household-weighted mean of a metric per replicate, week and group (villages pooled)."""
    df = ts.assign(_w=ts[metric] * ts["households"])
    g = df.groupby(["replicate", "week", "group"], as_index=False)[["_w", "households"]].sum()
    g[metric] = g["_w"] / g["households"]
    return g.drop(columns=["_w"])


def overall_trajectory(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    df = ts.assign(_w=ts[metric] * ts["households"])
    g = df.groupby(["replicate", "week"], as_index=False)[["_w", "households"]].sum()
    g[metric] = g["_w"] / g["households"]
    return g.drop(columns=["_w"])


# --- one self-contained HTML page of a results folder (``cohesion report``) -------------------------
# A comparison folder (``cohesion compare``: ranking.csv, outcomes.csv, summary.json) is reported in
# full; a plan folder (``cohesion plan``: pareto.csv, recommended.yaml, summary.json) with whatever of
# those files and figures it holds. Figures are embedded (base64 data URIs); the page loads nothing.

REPORT_NAME = "report.html"
STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ddd;padding:.25em .5em}
th{background:#f3f3f3}td{text-align:right}td:first-child{text-align:left}img{max-width:100%}
.flag{color:#b00;font-weight:bold}.note{color:#555;font-size:.9em}pre{background:#f7f7f7;padding:.6em;overflow:auto}"""


def folder_kind(folder) -> str:
    """``compare`` or ``plan``, from the files present; InputError for anything else."""
    from pathlib import Path

    from common.errors import InputError

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, ["not a folder; allowed: a results folder of cohesion compare or cohesion plan"])
    if (folder / "ranking.csv").is_file() and (folder / "outcomes.csv").is_file():
        return "compare"
    if any((folder / f).is_file() for f in ("pareto.csv", "recommended.yaml")):
        return "plan"
    raise InputError(folder, ["holds neither a comparison (ranking.csv, outcomes.csv: cohesion compare) nor a "
                              "plan (pareto.csv or recommended.yaml: cohesion plan)"])


def html_report(folder, sweep=None, out=None):
    """Write one self-contained HTML page of a results folder; returns its path.

    ``sweep``: a sensitivity sweep's results folder (``cohesion sweep``: indices.csv), for the
    assumptions that matter most; ``out``: the page (default ``<folder>/report.html``).
    """
    from pathlib import Path

    folder = Path(folder)
    kind = folder_kind(folder)
    body = compare_sections(folder, sweep) if kind == "compare" else plan_sections(folder)
    title = "Comparison of programmes" if kind == "compare" else "Plan under a budget"
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{_esc(title)}</h1>"
            f"<p class='note'>Results folder: {_esc(str(folder))}</p>{''.join(body)}</body></html>")
    path = Path(out) if out is not None else folder / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    return path


def _esc(text) -> str:
    import html

    return html.escape(str(text), quote=True)


def _summary(folder) -> dict:
    import json

    path = folder / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _figure(path, caption: str = "") -> str:
    """A PNG or SVG file as an embedded image (base64), or nothing if it is absent."""
    import base64

    if not path.is_file():
        return ""
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = _esc(caption or path.stem)
    return (f"<figure><img alt='{alt}' src='data:{mime};base64,{data}'>"
            f"<figcaption class='note'>{_esc(caption)}</figcaption></figure>")


def _table(df: pd.DataFrame, digits: int = 3) -> str:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else (f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{digits}g}")
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return f"{v:,}"
        return v
    return df.map(cell).to_html(index=False, escape=True, border=0)


def _list(lines) -> str:
    return "<ul>" + "".join(f"<li>{_esc(line)}</li>" for line in lines) + "</ul>"


def compare_sections(folder, sweep=None) -> list[str]:
    """The sections of a comparison's page: the question, what to conclude, ranking, cost-effectiveness,
    harm, equal terms (variants), assumptions that matter most, figures, provenance."""
    s = _summary(folder)
    rank_by = s.get("rank_by", "acceptance")
    ranking = pd.read_csv(folder / "ranking.csv")
    names = ", ".join(ranking.scenario)
    question = (f"<h2>The question</h2><p>Which of these programmes ({_esc(names)}) raises endline "
                f"<b>{_esc(rank_by)}</b> most, which buys the most of it per dollar, and which is the best buy at "
                f"each budget, without doing harm? Compared against <b>{_esc(s.get('reference'))}</b> on the same "
                f"households, seeds and posterior draws (common random numbers); "
                f"{_esc(s.get('replicates', '?'))} replicates, seed {_esc(s.get('seed', '?'))}, parameters "
                f"{_esc(s.get('params', '?'))}.</p>")
    concl = "<h2>What to conclude</h2>" + _list(s.get("conclusions", [])) + _list(s.get("ranking_changes", []))
    rank = ("<h2>Ranking and its uncertainty</h2><p>P(best): the share of replicates in which the programme has "
            f"the highest endline {_esc(rank_by)}; P(harm): the share in which it does harm (below).</p>"
            + _table(ranking))
    return [question, concl, rank, *cea_sections(folder, s), harm_section(folder, s), *variant_sections(folder, s),
            assumption_section(sweep, rank_by), figure_section(folder), provenance_section(s)]


def cea_sections(folder, s: dict) -> list[str]:
    ce = s.get("cost_effectiveness")
    if not ce or not (folder / "cea_frontier.csv").is_file():
        return ["<h2>Cost-effectiveness</h2><p>Not available: the comparison had no reference scenario.</p>"]
    front = pd.read_csv(folder / "cea_frontier.csv")
    cols = ["option", "cost", "effect", "effect_p05", "effect_p95", "per_10k", "status", "compared_with", "icer"]
    out = [f"<h2>Cost-effectiveness</h2><p>Effect: <b>{_esc(ce['unit'])}</b>, the gain over the reference paired "
           "by replicate; cost: mean USD up to the endline at the catalogue's unit costs (places filled, "
           "facilitators' sessions, running cost of handed-over activities). Frontier and ICERs as in Drummond et "
           "al. (2015): dominated options cost no less and gain no more than another; extendedly dominated ones "
           "are beaten by a mix of two others. per_10k: effect per 10,000 USD beyond the reference.</p>",
           _table(front[[c for c in cols if c in front]])]
    if (folder / "best_by_budget.csv").is_file():
        out += ["<h3>Best buy at each budget</h3>", _table(pd.read_csv(folder / "best_by_budget.csv"))]
    out += [_figure(folder / "ce_plane.png", "Cost-effectiveness plane: replicates, means and the frontier"),
            _figure(folder / "ceac.png", "Acceptability curve: P(best buy) per willingness to pay, over replicates, "
                                         "posterior draws and unit-cost draws within their ranges (Fenwick et al. 2001)")]
    gain = pd.read_csv(folder / "outcomes.csv")
    if "per_10k" in gain:
        g = gain[gain.per_10k.notna() & ~gain.outcome.str.contains(r"\.", regex=True)]
        out += ["<h3>Gain over the reference per 10,000 USD, every outcome (shares as fractions)</h3>",
                _table(g[["outcome", "scenario", "per_10k", "per_10k_p05", "per_10k_p95"]])]
    return out


def harm_section(folder, s: dict) -> str:
    """The registry's harm signals and each programme's P(harm)."""
    from model import outcomes

    below = [o.name for o in outcomes.population_measures() if o.harm_if_below_baseline]
    above = [o.name for o in outcomes.population_measures() if o.harm_above_share]
    threshold = s.get("harm_tension", 0.2)
    ranking = pd.read_csv(folder / "ranking.csv")
    flagged = ranking[ranking.p_harm > 0]
    text = (f"<h2>Harm</h2><p>A replicate counts as harmful when some group's or village's {_esc(', '.join(below))} "
            f"ends below its baseline, or more than {_esc(threshold)} of participants report "
            f"{_esc(', '.join(above))} (the outcome registry's harm flags; measured on all households).</p>")
    rows = [f"<span class='flag'>{_esc(r.scenario)}</span>: P(harm) {r.p_harm:.2f}" for r in flagged.itertuples()]
    text += ("<ul>" + "".join(f"<li>{r}</li>" for r in rows) + "</ul>") if rows else "<p>No programme did harm in any replicate.</p>"
    return text + _figure(folder / "forest.png", "Endline difference from the reference by group and village")


def variant_sections(folder, s: dict) -> list[str]:
    """The comparison at an equal budget and without hand-over, when they were run."""
    out = []
    if (folder / "ranking_changes.csv").is_file():
        out += ["<h2>On equal terms: how the ranking changes</h2>",
                _list(s.get("ranking_changes", [])), _table(pd.read_csv(folder / "ranking_changes.csv"))]
    for name in (s.get("variants") or {}).values():
        sub = folder / name
        if not (sub / "ranking.csv").is_file():
            continue
        ss = _summary(sub)
        out += [f"<h3>{_esc(ss.get('variant', name))}</h3>", _list(ss.get("conclusions", []))]
        if (sub / "at_budget.csv").is_file():
            b = pd.read_csv(sub / "at_budget.csv").fillna("")
            out += ["<p>Places rescaled by one factor per scenario; mean cost over all replicates and whether it is "
                    "within 2% of the budget (flag: not reached).</p>", _table(b)]
        out.append(_figure(sub / "ce_plane.png", f"Cost-effectiveness plane, {ss.get('variant', name)}"))
    return out


def assumption_section(sweep, rank_by: str) -> str:
    """The assumptions that matter most: the sensitivity sweep's largest indices on the ranked
    outcome, or a note that none was given; and the cost assumptions' ranges."""
    from pathlib import Path

    head = "<h2>The assumptions that matter most</h2>"
    path = Path(sweep) / "indices.csv" if sweep is not None else None
    if path is None or not path.is_file():
        where = "none was given" if sweep is None else f"{sweep} holds no indices.csv"
        head += (f"<p>No sensitivity sweep's results: {_esc(where)}. Run <code>cohesion sweep "
                 "experiments/sweeps/default.yaml</code> and pass its folder with <code>--sweep</code>.</p>")
    else:
        ind = pd.read_csv(path)
        key = "ST" if "ST" in ind else "mu_star"
        sub = ind[ind.outcome == rank_by] if (ind.outcome == rank_by).any() else ind[ind.outcome == ind.outcome.iloc[0]]
        top = sub.sort_values(key, ascending=False).head(8)
        head += (f"<p>From {_esc(path)}: the factors with the largest {key} on {_esc(sub.outcome.iloc[0])}.</p>"
                 + _table(top))
    return head + cost_assumptions_html()


def cost_assumptions_html() -> str:
    from model.programme import unit_cost_ranges

    rows = [{"activity": a, "cost part": p, "low": lo, "value": v, "high": hi}
            for (a, p), (lo, v, hi) in unit_cost_ranges().items() if v > 0]
    return ("<h3>Cost assumptions (model/activities.yaml; drawn within their ranges in the acceptability curve)</h3>"
            + _table(pd.DataFrame(rows)))


def figure_section(folder) -> str:
    return "<h2>Outcomes over time</h2>" + _figure(folder / "trajectories.png", "Median and 90% band per programme")


def provenance_section(s: dict) -> str:
    p = s.get("provenance", {})
    return (f"<h2>Provenance</h2><p class='note'>Command: <code>{_esc(p.get('command', '?'))}</code>; code: "
            f"{_esc(p.get('git_revision', '?'))}; made {_esc(p.get('date', '?'))}.</p>")


def plan_sections(folder) -> list[str]:
    """A plan folder's page: its summary, the Pareto front, the recommended plan, its figures and
    any other tables, as far as the folder holds them."""
    import json

    s = _summary(folder)
    out = ["<h2>The question</h2><p>Which plan of activities, order, timing and intensity does the budget allow, "
           "and which is recommended?</p>"]
    if s:
        scalars = {k: v for k, v in s.items() if not isinstance(v, (dict, list))}
        out += ["<h2>Summary</h2>", _table(pd.DataFrame({"item": list(scalars), "value": [str(v) for v in scalars.values()]}))]
        rest = {k: v for k, v in s.items() if isinstance(v, (dict, list)) and k != "provenance"}
        out += [f"<h3>{_esc(k)}</h3><pre>{_esc(json.dumps(v, indent=1, default=str))}</pre>" for k, v in rest.items()]
    if (folder / "pareto.csv").is_file():
        out += ["<h2>Pareto front</h2>", _table(pd.read_csv(folder / "pareto.csv"))]
    if (folder / "recommended.yaml").is_file():
        out += ["<h2>Recommended plan</h2>", f"<pre>{_esc((folder / 'recommended.yaml').read_text(encoding='utf-8'))}</pre>"]
    figures = sorted([*folder.glob("*.png"), *folder.glob("*.svg")])
    if figures:
        out += ["<h2>Figures</h2>", *(_figure(f, f.stem.replace("_", " ")) for f in figures)]
    others = [f for f in sorted(folder.glob("*.csv")) if f.name != "pareto.csv"]
    out += [f"<h3>{_esc(f.name)}</h3>" + _table(pd.read_csv(f).head(50)) for f in others]
    return out + ([provenance_section(s)] if s else [])
