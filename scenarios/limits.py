"""Size and week limits of a scenario file, checked before it is validated and long before a run.

Without them a typo costs minutes or the machine: 10^9 households asked numpy for 7.45 GiB and died
with MemoryError, a programme entry ending after the horizon was silently cut short. The bounds:

- households in all (the villages' households plus arrivals): at most ``MAX_HOUSEHOLDS``
  (2 x 10^6; the benchmark's 10^6 households take about 1.6 GB and 50 s for 52 weeks,
  docs/performance.md);
- tie ends (households x ``network.mean_degree``): at most ``MAX_TIE_ENDS`` (2 x 10^6 households
  at the default mean degree of 8), as the network is held in memory too;
- ``horizon_weeks``: at most ``MAX_HORIZON_WEEKS`` (ten years);
- programme entries, events and movements: at most ``MAX_ENTRIES``, ``MAX_EVENTS``,
  ``MAX_MOVEMENTS`` (each entry holds an eligibility row over all households, and movements are
  checked pairwise); places per village at most ``MAX_HOUSEHOLDS``;
- weeks inside the run: a programme entry's ``end_week`` and an event's ``week`` at most
  ``horizon_weeks``.

``check_limits`` reads the scenario's mapping as written (after ``extends``), so that it costs
nothing whatever the file holds; values of the wrong type are left to the schema's validation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from common.errors import InputError

MAX_HOUSEHOLDS = 2_000_000
MAX_TIE_ENDS = 16_000_000
DEFAULT_MEAN_DEGREE = 8.0     # scenarios.schema.Network's default
MAX_HORIZON_WEEKS = 520
MAX_ENTRIES = 100
MAX_EVENTS = 1000
MAX_MOVEMENTS = 1000


def _number(x: Any) -> float | int | None:
    """``x`` if it is a finite number (not a yes/no value), else None: the schema reports the rest."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return x if isinstance(x, int) or math.isfinite(x) else None


def _show(x: float | int) -> str:
    """A number for a message, whatever its size (``str`` refuses integers of over 4300 digits)."""
    if isinstance(x, float) and not math.isfinite(x):
        return "more than 10^308"
    if abs(x) >= 1e15:
        return f"about {'-' if x < 0 else ''}10^{int(math.log10(abs(x)))}"
    return f"{x:,}" if isinstance(x, int) or float(x).is_integer() else f"{x:g}"


def _mapping(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _items(x: Any) -> list[tuple[int, dict]]:
    return [(i, e) for i, e in enumerate(x) if isinstance(e, dict)] if isinstance(x, list) else []


def household_count(raw: dict) -> int:
    """Households of the scenario in all: the villages' households and those that arrive (summed as
    whole numbers, so that no size overflows)."""
    population = _mapping(raw.get("population"))
    counts = [n for village in _mapping(population.get("villages")).values()
              for n in _mapping(_mapping(village).get("households")).values()]
    counts += [m.get("households") for _, m in _items(population.get("movements")) if m.get("kind") == "arrive"]
    return sum(int(n) for n in map(_number, counts) if n is not None and n > 0)


def size_problems(raw: dict) -> list[str]:
    """Households, ties, horizon and list lengths beyond the bounds."""
    problems = []
    households = household_count(raw)
    if households > MAX_HOUSEHOLDS:
        problems.append(f"population: {_show(households)} households in all (villages and arrivals); allowed: at "
                        f"most {MAX_HOUSEHOLDS:,} (every household is held in memory: 10^6 take about 1.6 GB)")
    degree = _number(_mapping(raw.get("network")).get("mean_degree", DEFAULT_MEAN_DEGREE))
    if degree is not None and households <= MAX_HOUSEHOLDS and households * degree > MAX_TIE_ENDS:
        problems.append(f"network.mean_degree: {_show(degree)} ties per household over {_show(households)} "
                        f"households make {_show(households * degree)} tie ends; allowed: at most {MAX_TIE_ENDS:,} "
                        f"(e.g. {MAX_HOUSEHOLDS:,} households at mean degree {DEFAULT_MEAN_DEGREE:g})")
    horizon = _number(raw.get("horizon_weeks"))
    if horizon is not None and horizon > MAX_HORIZON_WEEKS:
        problems.append(f"horizon_weeks: {_show(horizon)}; allowed: at most {MAX_HORIZON_WEEKS} (ten years)")
    population = _mapping(raw.get("population"))
    for field, items, most in (("programme", raw.get("programme"), MAX_ENTRIES),
                               ("events", raw.get("events"), MAX_EVENTS),
                               ("population.movements", population.get("movements"), MAX_MOVEMENTS)):
        if isinstance(items, list) and len(items) > most:
            problems.append(f"{field}: {len(items):,} entries; allowed: at most {most:,}")
    for i, entry in _items(raw.get("programme")):
        places = _number(entry.get("places"))
        if places is not None and places > MAX_HOUSEHOLDS:
            problems.append(f"programme[{i}].places: {_show(places)}; allowed: at most {MAX_HOUSEHOLDS:,} "
                            "(the most households a scenario may have)")
    return problems


def week_problems(raw: dict) -> list[str]:
    """Programme entries that end, and events that happen, after the run's last week."""
    horizon = _number(raw.get("horizon_weeks"))
    if horizon is None or horizon < 1:   # the schema says what a horizon may be
        return []
    problems = []
    for i, entry in _items(raw.get("programme")):
        end = _number(entry.get("end_week"))
        if end is not None and end > horizon:
            problems.append(f"programme[{i}].end_week: {_show(end)} is after horizon_weeks {_show(horizon)}; allowed: "
                            f"at most {_show(horizon)} (the run stops there: end the entry earlier or lengthen "
                            "the horizon)")
    for i, event in _items(raw.get("events")):
        week = _number(event.get("week"))
        if week is not None and week > horizon:
            problems.append(f"events[{i}].week: {_show(week)} is after horizon_weeks {_show(horizon)}; allowed: at "
                            f"most {_show(horizon)} (it would never happen)")
    return problems


def check_limits(path: str | Path, raw: Any) -> None:
    """Refuse a scenario (its mapping as read, ``extends`` resolved) beyond the bounds above.

    Raises
    ------
    InputError
        naming the file, each field beyond a bound and the bound.
    """
    if not isinstance(raw, dict):
        return
    problems = size_problems(raw) + week_problems(raw)
    if problems:
        raise InputError(path, problems)
