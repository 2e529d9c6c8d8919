"""The model of SPEC sections 3 and 7, one module per constraint family.

    objective (USD million) = sum cost_f(t) paid / 1000 + sum holding_p inv / 1000
                              + sum penalty_d short / 1000 - sum sale_price_p sell / 1000
                              + sum charge_{f,e,t} build[f,e,t]   (section 7)

Each module declares the records of the families it builds (families.py):
flows.py (activity, payment, stock, disposal, sales, relabelling,
consumption; the capacity, take-or-pay, sales-limit, consumption and
balance rows), investment.py (builds, module counts and funding budgets,
section 7), demand.py
(deliveries, shortfall, demand rows), policies.py (one row family per
policy type, in its registry). `build_model` returns a `BuiltModel`: no
Pyomo; solver.py compiles it straight to HiGHS, and `to_pyomo(built)`
makes the ordinary Pyomo model when one is wanted (an LP file, another
solver, mpi-sppy).
"""

from __future__ import annotations

from ..data import ModelData
from .demand import add_demand
from .families import BuiltModel, Terms
from .flows import add_activity, add_balance, add_flows
from .investment import add_expansions
from .policies import add_policies

__all__ = ["BuiltModel", "build_model", "to_pyomo"]


def build_model(data: ModelData) -> BuiltModel:
    """Every family of the model, in the order the solver's columns and rows take."""
    built = BuiltModel(data.instance.name)
    balance = Terms()
    act = add_activity(built, data)  # opens the capacity rows
    add_expansions(built, data)  # funded modules join the capacity rows
    add_flows(built, data, act, balance)
    add_demand(built, data, balance)
    add_balance(built, data, balance)
    add_policies(built, data)
    return built.finish()


def to_pyomo(built: BuiltModel):
    """The ordinary Pyomo model of a built model (model/pyomo.py): Pyomo is
    loaded only here."""
    from .pyomo import to_pyomo as make

    return make(built)
