"""ree_opt: rare-earth procurement planning with linear programming.

The public names load on first use (PEP 562): `import ree_opt` and the
command line's `--help` and `validate` do not pay for the solver, pandas,
Pyomo or the report's charts.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
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
    "StochasticSolution": (".stochastic", "StochasticSolution"),
    "evaluate": (".stochastic.evaluate", "evaluate"),
    "frontier": (".analysis", "frontier"),
    "load_instance": (".instance", "load_instance"),
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

# Registrations every use of the instance format relies on: the scenario
# check of instance loading (scenarios.py appends it to instance.LATE_CHECKS)
# and the workbook readers (instance.READERS). They need ree_opt.instance,
# which loads pydantic, so they are made the moment ree_opt.instance loads,
# however it is reached (`ree_opt.load_instance`, `from ree_opt.instance
# import ...`, any module importing it), and not for `ree-opt --help`.
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")  # those ree_opt.excel registers


def _register(instance) -> None:
    importlib.import_module(".scenarios", __name__)
    for suffix in _WORKBOOK_SUFFIXES:
        instance.READERS.setdefault(suffix, _workbook_reader(instance.READERS, suffix))


def _workbook_reader(readers: dict, suffix: str):
    """A reader that loads ree_opt.excel (and pandas) on the first workbook read."""

    def read(path):
        importlib.import_module(".excel", __name__)  # registers its readers in place of this one
        reader = readers.get(suffix)
        if reader is read:
            raise RuntimeError(f"ree_opt.excel registered no reader for {suffix} (a bug in ree_opt)")
        return reader(path)

    return read


class _RegisterWhenInstanceLoads(importlib.abc.MetaPathFinder):
    """Finds ree_opt.instance as the other finders would, and has `_register`
    run right after the module is executed. Removes itself once used."""

    name = f"{__name__}.instance"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        execute = spec.loader.exec_module

        def exec_module(module) -> None:
            execute(module)
            _register(module)

        spec.loader.exec_module = exec_module
        return spec


if f"{__name__}.instance" in sys.modules:  # a reload of the package
    _register(sys.modules[f"{__name__}.instance"])
else:
    sys.meta_path.insert(0, _RegisterWhenInstanceLoads())


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
    from .instance import Instance, InstanceError, load_instance
    from .plan import Plan, solve
    from .report import build_report as report
    from .solution import Solution
    from .stochastic import StochasticSolution, risk_frontier, solve_stochastic
    from .stochastic.evaluate import Evaluation, evaluate
