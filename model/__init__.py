"""Agent-based model of community cohesion after conflict under MHPSS programmes."""

from .activities import CHANNELS, GROUPS, catalogue
from .agents import Household
from .errors import InputError
from .model import CohesionModel
from .params import Params

__version__ = "0.1.0"

__all__ = ["CHANNELS", "GROUPS", "CohesionModel", "Household", "InputError", "Params", "catalogue",
           "__version__"]
