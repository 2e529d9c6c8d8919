"""ree_opt: rare-earth procurement planning with linear programming.

The public names load on first use (PEP 562): `import ree_opt` and the
command line's `--help` and `validate` do not pay for the solver, pandas,
Pyomo or the report's charts.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

#: public name -> (module, attribute in it)
_PUBLIC = {
    "Comparison": (".analysis", "Comparison"),
    "Evaluation": (".stochastic.evaluate", "Evaluation"),
    "Instance": (".instance", "Instance"),
    "InstanceError": (".instance", "InstanceError"),
    "Plan": (".plan", "Plan"),
    "Solution": (".solution", "Solution"),
    "budget_curve": (".funding", "budget_curve"),
    "StochasticSolution": (".stochastic", "StochasticSolution"),
    "evaluate": (".stochastic.evaluate", "evaluate"),
    "expansion_value": (".funding", "expansion_value"),
    "frontier": (".analysis", "frontier"),
    "load_instance": (".loading", "load_instance"),
    "non_china_premium": (".analysis", "non_china_premium"),
    "premium_curve": (".analysis", "premium_curve"),
    "report": (".report", "build_report"),
    "risk_frontier": (".stochastic", "risk_frontier"),
    "scenario_table": (".analysis", "scenario_table"),
    "solve": (".plan", "solve"),
    "solve_stochastic": (".stochastic", "solve_stochastic"),
    "sweep": (".analysis", "sweep"),
    "tornado": (".analysis", "tornado"),
}

__all__ = sorted(_PUBLIC)
__version__ = "0.1.0"


def __getattr__(name: str):
    try:
        module, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'ree_opt' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


class _Package(types.ModuleType):
    """`ree_opt.report` is the function `build_report`, as it always was,
    though a subpackage of that name exists: importing the subpackage binds
    its name on the package, which would hide the function; this property
    keeps the function in its place."""

    @property
    def report(self):
        return getattr(importlib.import_module(".report", __name__), "build_report")

    @report.setter
    def report(self, _subpackage) -> None:
        pass


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # for type checkers and editors, which do not run __getattr__
    from .analysis import Comparison, frontier, non_china_premium, premium_curve, scenario_table, sweep, tornado
    from .funding import budget_curve, expansion_value
    from .instance import Instance, InstanceError
    from .loading import load_instance
    from .plan import Plan, solve
    from .report import build_report as report
    from .solution import Solution
    from .stochastic import StochasticSolution, risk_frontier, solve_stochastic
    from .stochastic.evaluate import Evaluation, evaluate
