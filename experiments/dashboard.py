"""The interactive dashboard: Mesa's SolaraViz page for programme designers (``cohesion dashboard``).

Pick a scenario from the library (and, for a side-by-side run, a second one on the same seed),
move the main programme, context and dynamics parameters within their declared ranges, press
Reset to apply them, then Step or Play. The page shows the network (households coloured by group,
shaded by attitude or well-being, three village clusters, cross-group ties in red), live charts
with the activity timeline and the survey weeks, this week's values, and the survey table once
the baseline (and later the endline) week has passed.

The page is ``page`` in this module: ``solara run experiments.dashboard`` serves it, and so does
``cohesion dashboard``. The scenario library is the folder in ``$COHESION_LIBRARY`` (default:
the project's ``scenarios/``).
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from dataclasses import dataclass, fields
from html import escape
from pathlib import Path

import mesa
import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.user_param import Slider
from mesa.visualization.utils import update_counter

from experiments.dashboard_assets import fetch_assets
from experiments.drawing import SHADES, ChartsView, NetworkView, chart_data_html, current_values_html, survey_html
from model import CohesionModel, Params
from model.params import ranges
from common.errors import InputError
from scenarios import LIBRARY, Scenario, load_scenario
from scenarios.design import DesignFactor, apply_design, shift_context

LIBRARY_ENV = "COHESION_LIBRARY"
NONE = "(none)"
DEFAULT_SEED = 7


# --- the sliders: named once, here ------------------------------------------------------------
@dataclass(frozen=True)
class SliderSpec:
    """One slider of the sidebar, shown under its name. The sidebar (``model_params``), the page's
    table of what the sliders mean (``parameter_table_html``) and ``DashboardModel`` read it."""

    name: str                   # the DashboardModel keyword it sets
    low: float
    high: float
    start: float | None         # the value the page starts from; None: a model parameter, from base_params
    source: str
    meaning: str                # one line
    step: float | None = None   # None: slider_step(low, high); an int step (int range and start): whole numbers
    label: str = ""             # in words, as the sidebar shows it (not the code name)
    unit: str = ""

    def shown(self) -> str:
        """The sidebar's label: the words and the unit."""
        return f"{self.label or self.name} ({self.unit})" if self.unit else (self.label or self.name)

    def value(self, given: float) -> float | int:
        """The slider's value as the model takes it: whole weeks on a whole-number slider; else
        without the floating-point noise the browser's sliders send (min + k * step)."""
        if isinstance(self.step, int):
            return int(round(float(given)))
        return round(float(given), 9)


WORDS = {
    # a dynamics parameter in a designer's words and its unit; the one-line explanation is the
    # parameter's own ``doc`` (model/params.py)
    "outreach": ("Pull of the programme's mobilisation", "weight, 0-1"),
    "join_rate": ("Chance a willing household takes a free place", "probability per week"),
    "w_stigma": ("How much MHPSS stigma holds households back", "weight"),
    "w_need": ("How much material need pulls towards income work", "weight"),
    "readiness_threshold": ("Readiness needed for contact to go well", "readiness level, 0-1"),
    "alpha_contact_pos": ("Attitude gained from positive contact", "attitude points per unit of contact"),
    "alpha_contact_neg": ("Attitude lost to negative contact", "attitude points per unit of contact"),
    "contact_neg_ratio": ("Weight of negative contact against positive", "times the positive"),
    "tie_rate": ("Chance a mixed activity makes a new friend across groups", "probability per week"),
    "outgroup_credibility": ("Trust in what other groups' members say", "relative to one's own group, 0-1"),
    "shock_damping": ("Share of a shock absorbed by mediation", "share, 0-1"),
}


def parameter_slider(name: str) -> SliderSpec:
    """A dynamics parameter's slider: its range, source and meaning as model/params.py declares them,
    labelled in words with its unit (``WORDS``)."""
    meta = next(f.metadata for f in fields(Params) if f.name == name)
    low, high = meta["range"]
    label, unit = WORDS.get(name, (meta["doc"][:1].upper() + meta["doc"][1:], ""))
    return SliderSpec(name, low, high, None, meta["source"], meta["doc"], label=label, unit=unit)


SLIDERS = (
    # programme and context knobs applied to the chosen scenario (the arguments of ``adjusted``);
    # 52: the latest start week offered for dialogue
    SliderSpec("dialogue_start", 0, 52, 0, "programme design (the sweeps' start_week change)",
               "week dialogue starts, length kept (0: as in the scenario)", step=1,
               label="Week dialogue starts", unit="week; 0 keeps the scenario's"),
    # the scenario files assume 0.5x-2x of their places per activity
    SliderSpec("places_scale", 0.5, 2.0, 1.0, "scenario files: places assumed, range 0.5x-2x",
               "places per activity, times the scenario's", label="Places per activity", unit="times the scenario's"),
    # tension and leadership shift every village's value within the schema's [0, 1]
    SliderSpec("tension_shift", -0.3, 0.3, 0.0, "context", "added to every village's tension (kept in [0, 1])",
               label="Change in every village's tension", unit="on a 0-1 scale"),
    SliderSpec("leadership_shift", -0.3, 0.3, 0.0, "context",
               "added to every village's leadership (kept in [0, 1])", label="Change in every village's leadership",
               unit="on a 0-1 scale"),
    # the dynamics parameters a designer is most likely to question (docs/model.md, section 7),
    # each spanning its declared range (model/params.py)
    *(parameter_slider(name) for name in ("outreach", "join_rate", "w_stigma", "w_need", "readiness_threshold",
                                          "alpha_contact_pos", "contact_neg_ratio", "tie_rate",
                                          "outgroup_credibility", "shock_damping")),
)
SLIDER = {s.name: s for s in SLIDERS}
DYNAMICS = tuple(s.name for s in SLIDERS if s.start is None)   # model parameters
KNOBS = tuple(s.name for s in SLIDERS if s.start is not None)  # scenario adjustments


# --- the scenario library ---------------------------------------------------------------------
def library_folder() -> Path:
    return Path(os.environ.get(LIBRARY_ENV) or LIBRARY)


OPEN_ENV = "COHESION_OPEN"
OPENED = "opened"


def opened_files() -> dict[str, Path]:
    """Scenario files opened beside the library (``cohesion dashboard --open``, e.g. the planner's
    recommended.yaml), by name ``opened/<file name>``; listed in ``$COHESION_OPEN`` (os.pathsep)."""
    files = [Path(p) for p in os.environ.get(OPEN_ENV, "").split(os.pathsep) if p]
    return {f"{OPENED}/{p.parent.name}-{p.stem}" if p.stem == "recommended" else f"{OPENED}/{p.stem}": p
            for p in files}


def library(folder: Path | None = None) -> dict[str, Path]:
    """Scenario files of the library by name (``sequencing/dialogue_early`` for sub-folders), then
    any opened beside it (``opened_files``)."""
    folder = Path(folder or library_folder())
    if not folder.is_dir():
        raise InputError(folder, ["scenario library: not a folder"])
    files = sorted(folder.rglob("*.yaml"))
    found = {p.relative_to(folder).with_suffix("").as_posix(): p for p in files}
    if not found:
        raise InputError(folder, ["scenario library: no .yaml scenario files in it"])
    return {**found, **opened_files()}


def check_library(folder: Path | None = None) -> dict[str, Scenario]:
    """Load every scenario of the library; the first invalid one is refused with its problems."""
    return {name: load_scenario(path) for name, path in library(folder).items()}


def default_scenario(names: list[str]) -> str:
    """An opened file (the planner's recommendation) first, else qayyarah, else the first."""
    opened = [n for n in names if n.startswith(f"{OPENED}/")]
    return opened[0] if opened else "qayyarah" if "qayyarah" in names else names[0]


def adjusted(spec: Scenario, places_scale: float = 1.0, tension_shift: float = 0.0,
             leadership_shift: float = 0.0, dialogue_start: int = 0) -> Scenario:
    """The scenario with the page's design and context settings (scenarios/design.py): its places
    scaled (``places_scale`` on every entry), (``dialogue_start`` > 0) its dialogue entries moved
    to start that week, keeping their length (``start_week``), and every village's tension and
    leadership shifted (``shift_context``).

    Raises ValueError when the scenario has no dialogue to move, or the result is not valid.
    """
    design, values = {}, {}
    if dialogue_start:
        if not any(e.activity == "dialogue" for e in spec.programme):
            raise ValueError(f"dialogue_start: {spec.name} has no dialogue to move; its timing is unchanged")
        design["dialogue_start"] = DesignFactor(change="start_week", activities=["dialogue"],
                                                bounds=(1, max(1, dialogue_start)))
        values["dialogue_start"] = dialogue_start
    if places_scale != 1.0 and spec.programme:
        design["places"] = DesignFactor(change="places_scale", activities=sorted({e.activity for e in spec.programme}),
                                        bounds=(min(places_scale, 1.0), max(places_scale, 1.0) + 1.0))
        values["places"] = places_scale
    return shift_context(apply_design(spec, design, values), tension_shift, leadership_shift)


def base_params() -> tuple[Params, str]:
    """The parameters the page starts from, and where they come from.

    The defaults of model/params.py; if a calibrated posterior is installed
    (calibration/posterior.csv, what ``cohesion run`` uses), its calibrated parameters at their
    weighted posterior medians, rounded to the slider's step so that they sit on its grid.
    """
    from calibration.posterior import POSTERIOR_PATH, load_posterior, posterior_medians

    if not POSTERIOR_PATH.is_file():
        return Params(), "model/params.py defaults (no calibrated posterior installed)"
    r = ranges()
    medians = {}
    for name, median in posterior_medians(load_posterior(POSTERIOR_PATH)).items():
        step = slider_step(*r[name])
        medians[name] = round(float(np.clip(round(median / step) * step, *r[name])), 9)
    return Params().with_values(**medians), f"posterior medians of {POSTERIOR_PATH.name} ({', '.join(medians)})"


def parse_seed(seed) -> int:
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise ValueError(f"seed '{seed}' is not a whole number; allowed: 0 or more") from None
    if value < 0:
        raise ValueError(f"seed {value} is negative; allowed: 0 or more")
    return value


# --- the model the page drives ----------------------------------------------------------------
class DashboardModel(mesa.Model):
    """One run of a library scenario, or two runs side by side on the same seed.

    Each run is a plain ``CohesionModel``; a step advances both by one week. Built by Mesa's
    SolaraViz from the sidebar's values on Reset.
    """

    def __init__(self, scenario_name: str = "qayyarah", compare_with: str = NONE, seed: str | int = DEFAULT_SEED,
                 **sliders: float | None):
        """``sliders``: the sidebar's values by name (``SLIDERS``). One not given (or None) takes
        its start value; a dynamics parameter, its base value (``base_params``). A name that is
        not a slider raises TypeError."""
        unknown = [k for k in sliders if k not in SLIDER]
        if unknown:
            raise TypeError(f"DashboardModel: no slider {unknown}; allowed: {', '.join(SLIDER)}")
        self.problems: list[str] = []
        try:
            self.seed = parse_seed(seed)
        except ValueError as exc:
            self.problems.append(f"{exc}; using {DEFAULT_SEED}")
            self.seed = DEFAULT_SEED
        super().__init__(rng=self.seed)
        given = {k: SLIDER[k].value(v) for k, v in sliders.items() if v is not None}
        base, self.params_source = base_params()
        self.params = base.with_values(**{k: v for k, v in given.items() if k in DYNAMICS})
        self.knobs = {k: given.get(k, SLIDER[k].start) for k in KNOBS}  # the arguments of ``adjusted``
        self.settings = {"seed": self.seed, **self.knobs, **{k: getattr(self.params, k) for k in DYNAMICS}}
        self.settings["dialogue_start"] = self.knobs["dialogue_start"] or "as in the scenario"
        files = library()
        names = [scenario_name] + ([compare_with] if compare_with not in (NONE, "", None) else [])
        self.labels: list[str] = []
        self.runs: list[CohesionModel] = []
        for name in names:
            if name not in files:
                raise InputError(library_folder(), [f"no scenario '{name}'; allowed: {', '.join(files)}"])
            spec = load_scenario(files[name])
            try:
                spec = adjusted(spec, **self.knobs)
            except ValueError as exc:
                self.problems.append(f"{name}: {exc}")
                spec = adjusted(spec, **{**self.knobs, "dialogue_start": 0})
            self.runs.append(CohesionModel(spec, self.params, rng=self.seed))
            self.labels.append(name if name not in self.labels else f"{name} (2)")
        self.running = True
        self._networks: dict[tuple[int, str], NetworkView] = {}
        self._charts: ChartsView | None = None

    @property
    def week(self) -> int:
        return max(run.week for run in self.runs)

    def step(self) -> None:
        for run in self.runs:
            if run.week < run.spec.horizon_weeks:
                run.step()
        self.running = any(run.week < run.spec.horizon_weeks for run in self.runs)

    # views are built once per model (the layout once per population) and redrawn each week
    def network_png(self, k: int, shade: str) -> bytes:
        key = (k, shade)
        if key not in self._networks:
            self._networks[key] = NetworkView(self.runs[k], shade, title=self.labels[k])
        return self._networks[key].png(self.runs[k])

    def charts_png(self) -> bytes:
        if self._charts is None:
            self._charts = ChartsView(self.runs, self.labels)
        return self._charts.png(self.runs)


# Mesa's SolaraViz reads the model's signature: it checks the sidebar's names against it, and it
# would pass a Mesa scenario to a model taking **kwargs. So the signature it sees names every slider.
_signature = inspect.signature(DashboardModel.__init__)
DashboardModel.__init__.__signature__ = _signature.replace(parameters=[
    *(p for p in _signature.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD),
    *(inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=None) for s in SLIDERS)])


def time_weeks(scenario_name: str = "qayyarah", compare_with: str = NONE, weeks: int = 52) -> dict[str, float]:
    """Seconds per week of what the page does each week (step, network pictures, charts, tables),
    median and maximum of wall and CPU time over ``weeks`` weeks, figures already built.

        python -c "from experiments.dashboard import time_weeks; print(time_weeks())"
    """
    import time

    m = DashboardModel(scenario_name=scenario_name, compare_with=compare_with)
    for k in range(len(m.runs)):
        m.network_png(k, SHADES[0])
    m.charts_png()
    wall, cpu = [], []
    for _ in range(weeks):
        t, c = time.perf_counter(), time.process_time()
        m.step()
        for k in range(len(m.runs)):
            m.network_png(k, SHADES[0])
        m.charts_png()
        current_values_html(m.runs, m.labels), chart_data_html(m.runs, m.labels), survey_html(m.runs, m.labels)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"households": m.runs[0].state.n, "runs": len(m.runs), "weeks": weeks,
            "wall_median": float(np.median(wall)), "wall_max": float(np.max(wall)),
            "cpu_median": float(np.median(cpu)), "cpu_max": float(np.max(cpu))}


# --- the page's components --------------------------------------------------------------------
TABLE_CSS = """
<style>
.cohesion table { border-collapse: collapse; font-size: 12px; margin: 4px 0 10px 0; }
.cohesion th, .cohesion td { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: right; }
.cohesion td:first-child, .cohesion th:first-child { text-align: left; }
.cohesion caption { caption-side: top; text-align: left; font-weight: bold; padding: 4px 0; }
</style>
"""


# Mesa's grid gives every panel 390 px (10 rows of 30 px); panels scroll inside it, and the user
# can drag or resize them.
PANEL = {"max-height": "385px", "overflow-y": "auto", "width": "100%"}


def html_block(html: str, testid: str):
    return solara.HTML(tag="div", unsafe_innerHTML=TABLE_CSS + html, classes=["cohesion"],
                       attributes={"data-testid": testid})


@solara.component
def Overview(model: DashboardModel):
    """What runs, the week, this week's values."""
    update_counter.get()
    runs = " | ".join(f"<b>{escape(label)}</b>: {escape(run.spec.description or run.spec.name)}"
                      for label, run in zip(model.labels, model.runs))
    horizon = max(run.spec.horizon_weeks for run in model.runs)
    survey = model.runs[0].spec.survey
    with solara.Column(gap="4px", style=PANEL):
        # plain HTML, not solara.Markdown: Markdown loads mermaid and KaTeX from the CDN on every
        # render, which stalls the server where the CDN cannot be reached
        solara.HTML(tag="p", unsafe_innerHTML=f"Week <b>{model.week}</b> of {horizon}, seed {model.seed}. {runs}")
        solara.HTML(tag="p", unsafe_innerHTML=(
            f"Survey weeks: baseline {survey.baseline_week}, endline {survey.endline_week}. "
            f"Parameters: {escape(model.params_source)}, with the sliders' values. "
            "Changes in the sidebar apply on <b>Reset</b>."))
        for problem in model.problems:
            solara.Warning(problem)
        html_block(current_values_html(model.runs, model.labels), "current-values-block")
        with solara.Details("this run's settings"):
            html_block(settings_html(model.settings), "settings")
        with solara.Details("what the sliders mean"):
            html_block(parameter_table_html(), "parameter-table")


@solara.component
def NetworkPanel(model: DashboardModel):
    """The network of each run, shaded by the chosen state."""
    update_counter.get()
    shade, set_shade = solara.use_state(SHADES[0])
    with solara.Column(gap="2px", style=PANEL):
        solara.ToggleButtonsSingle(value=shade, on_value=set_shade, values=list(SHADES))
        pngs = solara.use_memo(lambda: [model.network_png(k, shade) for k in range(len(model.runs))],
                               dependencies=[id(model), model.week, shade])
        with solara.Row(gap="4px", style={"flex-wrap": "nowrap"}):
            for png in pngs:
                with solara.Column(style={"flex": "1 1 0", "min-width": "0", "max-width": "360px"}):
                    solara.Image(png, width="100%")


@solara.component
def ChartsPanel(model: DashboardModel):
    """Live charts and, folded, the numbers behind them."""
    update_counter.get()
    png = solara.use_memo(model.charts_png, dependencies=[id(model), model.week])
    with solara.Column(gap="2px", style=PANEL):
        solara.Image(png, width="100%")
        with solara.Details("numbers behind the charts"):
            html_block(chart_data_html(model.runs, model.labels), "chart-data-block")


@solara.component
def SurveyPanel(model: DashboardModel):
    """The virtual survey of each run at baseline, and at endline once it has passed."""
    update_counter.get()
    html = solara.use_memo(lambda: survey_html(model.runs, model.labels), dependencies=[id(model), model.week])
    with solara.Column(style=PANEL):
        html_block(html, "survey-block")


# --- the sidebar: built from the library and the declared ranges ------------------------------
def slider_step(low: float, high: float) -> float:
    """A round step giving at least 20 positions, so that defaults sit on the slider's grid
    (the browser snaps a slider's value to its grid)."""
    return 10.0 ** np.floor(np.log10((high - low) / 20))


def start_values(base: Params) -> dict[str, float]:
    """Each slider's start value: its own, or (a dynamics parameter) its value in ``base``."""
    return {s.name: getattr(base, s.name) if s.start is None else s.start for s in SLIDERS}


def settings_html(settings: dict) -> str:
    cell = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    body = "".join(f"<tr><td>{k}</td><td>{cell(v)}</td></tr>" for k, v in settings.items())
    return f"<table><tbody>{body}</tbody></table>"


def parameter_table_html() -> str:
    """Name, range, start value, meaning and source of every slider, in the sidebar's order."""
    start = start_values(base_params()[0])
    body = "".join(f"<tr><td>{escape(s.label or s.name)}</td><td>{escape(s.unit)}</td><td>{s.low:g}-{s.high:g}</td>"
                   f"<td>{start[s.name]:g}</td><td style='text-align:left'>{escape(s.meaning)}</td>"
                   f"<td style='text-align:left'>{escape(s.source)}</td></tr>"
                   for s in SLIDERS)
    return ("<table><thead><tr><th>slider</th><th>unit</th><th>range</th><th>start</th><th>what it means</th>"
            f"<th>source</th></tr></thead><tbody>{body}</tbody></table>")


def model_params(folder: Path | None = None) -> dict:
    """The sidebar: the scenario selectors, the seed and one slider per ``SLIDERS`` entry."""
    names = list(library(folder))
    start = start_values(base_params()[0])
    params = {
        "scenario_name": {"type": "Select", "value": default_scenario(names), "values": names, "label": "scenario"},
        "compare_with": {"type": "Select", "value": NONE, "values": [NONE, *names],
                         "label": "side by side with (same seed)"},
        "seed": {"type": "InputText", "value": str(DEFAULT_SEED), "label": "seed"},
    }
    for s in SLIDERS:
        params[s.name] = Slider(s.shown(), value=start[s.name], min=s.low, max=s.high,
                                step=s.step or slider_step(s.low, s.high))
    return params


@solara.component
def Page():
    # a fresh model per browser session: two users do not share a run
    names = list(library())
    model = solara.use_memo(lambda: DashboardModel(scenario_name=default_scenario(names)), dependencies=[])
    params = solara.use_memo(model_params, dependencies=[])
    SolaraViz(model, components=[(Overview, 0), (NetworkPanel, 0), (ChartsPanel, 0), (SurveyPanel, 0)],
              model_params=params, name="Community cohesion after conflict", play_interval=50)


page = Page


# --- serving ----------------------------------------------------------------------------------
def server_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "experiments.dashboard:page", "--host", host, "--port", str(port),
            "--production", "--no-open"]


def serve(host: str = "127.0.0.1", port: int = 8765, folder: Path | None = None,
          opened: list[Path] | None = None) -> int:
    """Check the library (and the scenario files ``opened`` beside it, such as a plan's
    recommended.yaml) and the page's assets, then serve the page until interrupted."""
    folder = Path(folder or LIBRARY).resolve()
    check_library(folder)
    opened = [Path(p).resolve() for p in opened or []]
    for p in opened:
        if not p.is_file():
            raise InputError(p, ["--open: file not found; allowed: a scenario YAML file such as "
                                 "results/plan/<name>/recommended.yaml"])
        load_scenario(p)   # an invalid file is refused here, naming its field
    still = fetch_assets()
    if still:
        print(f"warning: solara's browser assets {still} are not cached and could not be fetched with npm; "
              "the page loads them from the CDN, which needs internet access", file=sys.stderr)
    env = {**os.environ, LIBRARY_ENV: str(folder), OPEN_ENV: os.pathsep.join(map(str, opened))}
    print(f"serving http://{host}:{port} (library {folder}); Ctrl-C stops", flush=True)
    try:
        return subprocess.call(server_command(host, port), env=env, cwd=Path(__file__).resolve().parent.parent)
    except KeyboardInterrupt:
        return 0
