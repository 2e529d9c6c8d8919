"""ree_opt: rare-earth procurement planning with linear programming."""

from .analysis import (
    Comparison,
    frontier,
    non_china_premium,
    premium_curve,
    scenario_table,
    sweep,
    tornado,
)
from .instance import Instance, InstanceError, load_instance
from .plan import Plan, solve
from .report import build_report as report
from .solution import Solution

__all__ = [
    "Comparison",
    "Instance",
    "InstanceError",
    "Plan",
    "Solution",
    "frontier",
    "load_instance",
    "non_china_premium",
    "premium_curve",
    "report",
    "scenario_table",
    "solve",
    "sweep",
    "tornado",
]
__version__ = "0.1.0"
