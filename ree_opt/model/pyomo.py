"""The built model as an ordinary Pyomo model, for when a Pyomo model is
the point: writing an LP file, handing it to another Pyomo solver, or to
mpi-sppy (ph.py). Everything else compiles the `BuiltModel` straight to
HiGHS (solver.py) without making a Pyomo object.

Each variable family becomes a `Var` of the family's name indexed by its
keys (integer where the family has integer columns), each row family a
`Constraint` of its name, and the cost the `Objective` `cost`.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .families import BuiltModel


def _index(model: pyo.ConcreteModel, name: str, keys: list) -> pyo.Set:
    index = pyo.Set(initialize=keys, dimen=len(keys[0]) if keys else None, ordered=True)
    model.add_component(name, index)
    return index


def linear(terms, variables: list) -> LinearExpression:
    """The Pyomo expression of (coefficient, column) terms."""
    return LinearExpression(
        constant=0,
        linear_coefs=[c for c, _ in terms],
        linear_vars=[variables[col] for _, col in terms],
    )


def column_variables(model: pyo.ConcreteModel, built: BuiltModel) -> list:
    """The Pyomo variable of each column, in column order."""
    variables = []
    for name in built.columns:
        variables.extend(getattr(model, name).values())
    return variables


def to_pyomo(built: BuiltModel) -> pyo.ConcreteModel:
    """A Pyomo model of the built model: the same columns, rows and cost."""
    if built.objective is None:
        raise ValueError("this model's rows were released after compiling: build it again for Pyomo")
    model = pyo.ConcreteModel(name=built.name)
    for name, block in built.columns.items():
        index = _index(model, f"{name}_index", block.keys)
        lower = block.lower if block.lower is not None else np.zeros(len(block))
        upper = block.upper if block.upper is not None else np.full(len(block), np.inf)
        integer = block.integer if block.integer is not None else np.zeros(len(block), dtype=bool)
        position = {key: i for i, key in enumerate(block.keys)}

        def bounds(_, *key, position=position, lower=lower, upper=upper):
            i = position[key if len(key) > 1 else key[0]]
            return (float(lower[i]), None if np.isinf(upper[i]) else float(upper[i]))

        def domain(_, *key, position=position, integer=integer):
            i = position[key if len(key) > 1 else key[0]]
            return pyo.NonNegativeIntegers if integer[i] else pyo.NonNegativeReals

        model.add_component(name, pyo.Var(index, domain=domain, bounds=bounds, doc=block.family.doc, dense=True))
    variables = column_variables(model, built)
    for name, block in built.rows.items():
        position = {k: i for i, k in enumerate(block.keys)}

        def rule(_, *key, block=block, position=position):
            i = position[key if len(key) > 1 else key[0]]
            lower = None if np.isinf(block.lower[i]) else float(block.lower[i])
            upper = None if np.isinf(block.upper[i]) else float(block.upper[i])
            return (lower, linear(block.terms[i], variables), upper)

        index = _index(model, f"{name}_rows", block.keys)
        model.add_component(name, pyo.Constraint(index, rule=rule, doc=block.family.doc))
    model.cost = pyo.Objective(expr=linear(built.objective, variables), sense=pyo.minimize)
    return model
