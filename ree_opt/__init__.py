"""ree_opt: rare-earth procurement planning with linear programming."""

from .analysis import Comparison, non_china_premium
from .instance import Instance, InstanceError, load_instance
from .plan import Plan, solve
from .solution import Solution

__all__ = [
    "Comparison",
    "Instance", "InstanceError", "Plan", "Solution", "load_instance",
    "non_china_premium",
    "solve",
]
__version__ = "0.1.0"
