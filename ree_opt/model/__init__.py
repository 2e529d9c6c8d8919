"""The Pyomo model of SPEC section 3, one module per constraint family.

    objective (USD million) = sum cost_f(t) paid / 1000 + sum holding_p inv / 1000
                              + sum penalty_d short / 1000 - sum sale_price_p sell / 1000

Row families are named after the business rows they are: `capacity[f,t]`,
`take_or_pay[f,t]`, `balance[p,l,m,t]`, `consumption[f,p,l,t]`,
`sales_limit[p,t]`, `demand[d,t]`, `covered_share[i,p,t]`,
`country_share[i,p,c,t]`, `average_risk[i,p,t]`; their duals come back on
those keys (see solution.py). The variables are Pyomo variables; the rows
are kept as data and compiled straight to HiGHS (solver.py), and
`to_pyomo(model)` adds them as ordinary Pyomo constraints and objective.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..data import ModelData
from .common import Terms, add_rows, column_variables, linear, pyomo_constraints
from .demand import add_demand
from .flows import add_flows, initial_stock_rhs
from .policies import add_policies


def build_model(data: ModelData) -> pyo.ConcreteModel:
    model = pyo.ConcreteModel(name=data.instance.name)
    balance = Terms()
    objective: list = []
    add_flows(model, data, balance, objective)
    add_demand(model, data, balance, objective)
    rhs = initial_stock_rhs(data)
    add_rows(
        model, "balance", balance,
        lower=lambda_dict(balance, rhs), upper=lambda_dict(balance, rhs),
        doc="supply - use of p (label l, maker m) in t, t",
    )
    model.policy_members = add_policies(model, data)
    model.objective_terms = objective
    return model


def to_pyomo(model: pyo.ConcreteModel) -> pyo.ConcreteModel:
    """Add the rows as Pyomo constraints and the cost as a Pyomo objective, so
    the model can be written out or handed to any Pyomo solver."""
    if not hasattr(model, "cost"):
        pyomo_constraints(model)
        model.cost = pyo.Objective(expr=linear(model.objective_terms, column_variables(model)), sense=pyo.minimize)
    return model


def lambda_dict(rows: Terms, rhs: dict) -> dict:
    return {key: rhs.get(key, 0.0) for key in rows}
