"""ree_opt: rare-earth procurement planning with linear programming."""

from .instance import Instance, InstanceError, load_instance
from .plan import Plan, solve
from .solution import Solution

__all__ = ["Instance", "InstanceError", "Plan", "Solution", "load_instance", "solve"]
__version__ = "0.1.0"
