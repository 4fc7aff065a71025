"""Scenario files and their validation: the programme designer's input."""

from pathlib import Path

from common.errors import InputError

from .schema import Event, Network, Population, ProgrammeEntry, Scenario, Survey, load_scenario

LIBRARY = Path(__file__).parent
DEFAULT_SCENARIO = LIBRARY / "qayyarah.yaml"
SEQUENCING = LIBRARY / "sequencing"

__all__ = ["DEFAULT_SCENARIO", "Event", "InputError", "LIBRARY", "Network", "Population",
           "ProgrammeEntry", "SEQUENCING", "Scenario", "Survey", "load_scenario"]
