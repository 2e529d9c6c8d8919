"""ree_opt: rare-earth procurement planning with linear programming."""

from . import scenarios  # noqa: F401  (registers the scenario check of instance loading)
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
from . import excel  # noqa: F401  (registers the .xlsx reader with load_instance)
from .plan import Plan, solve
from .report import build_report as report
from .solution import Solution
from .stochastic import StochasticSolution, risk_frontier, solve_stochastic

__all__ = [
    "Comparison",
    "Instance",
    "InstanceError",
    "Plan",
    "Solution",
    "StochasticSolution",
    "frontier",
    "load_instance",
    "non_china_premium",
    "premium_curve",
    "report",
    "risk_frontier",
    "scenario_table",
    "solve",
    "solve_stochastic",
    "sweep",
    "tornado",
]
__version__ = "0.1.0"
