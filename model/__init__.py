"""Agent-based model of community cohesion after conflict under MHPSS programmes."""

from common.vocabulary import CHANNELS, GROUP_ROLES

from .activities import catalogue
from .agents import Household
from common.errors import InputError
from .model import CohesionModel
from .params import Params

__version__ = "0.1.0"

__all__ = ["CHANNELS", "GROUP_ROLES", "CohesionModel", "Household", "InputError", "Params", "catalogue",
           "__version__"]
