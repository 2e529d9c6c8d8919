"""Small helpers shared by the constraint families.

A family's rows are kept as data, `RowFamily`: a key per row, the row's
linear terms over Pyomo variables, and its bounds. The solver compiles
them straight to HiGHS (solver.py); `pyomo_constraints` turns them into
ordinary Pyomo `Constraint` components when a user wants the Pyomo model
itself (to write an LP file or use another solver).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


class Terms(defaultdict):
    """Row key -> list of (coefficient, column): the linear body of a row.

    A column is the position of a Pyomo variable in the model's column order
    (see `nonnegative`); `pyomo_constraints` maps it back to the variable."""

    def __init__(self):
        super().__init__(list)

    def add(self, key, coef: float, var) -> None:
        if coef:
            self[key].append((coef, var))


@dataclass
class RowFamily:
    """`lower <= sum(terms) <= upper`, one row per key, named after the business."""

    name: str
    keys: list
    terms: list  # per key: list of (coefficient, column)
    lower: np.ndarray
    upper: np.ndarray
    doc: str = ""

    def __len__(self) -> int:
        return len(self.keys)


def linear(terms, variables: list) -> LinearExpression:
    """The Pyomo expression of (coefficient, column) terms."""
    return LinearExpression(
        constant=0,
        linear_coefs=[c for c, _ in terms],
        linear_vars=[variables[col] for _, col in terms],
    )


def add_rows(model, name: str, rows: Terms, lower=None, upper=None, doc: str = "") -> None:
    """Register a family of rows `lower <= sum(terms) <= upper` on the model.

    `lower`/`upper` are numbers, dicts key -> number, or None (unbounded).
    Rows without terms are dropped (they could only be trivially satisfied:
    the model is feasible by construction).
    """
    keys = [key for key, terms in rows.items() if terms]

    def bounds(value, infinite):
        if value is None:
            return np.full(len(keys), infinite)
        if isinstance(value, dict):
            return np.array([value.get(k, 0.0) for k in keys], dtype=float)
        return np.full(len(keys), float(value))

    family = RowFamily(name, keys, [rows[k] for k in keys], bounds(lower, -np.inf), bounds(upper, np.inf), doc)
    if not hasattr(model, "row_families"):
        model.row_families = {}
    model.row_families[name] = family


def nonnegative(model, name: str, keys, doc: str = "", lower=None) -> dict:
    """A non-negative Pyomo variable per key (optionally with a lower bound
    per key), placed in the model's column order after those declared
    before it. Returns key -> column: the families write their rows over
    columns, which the solver reads directly (no Pyomo lookups, no map from
    variable objects back to columns)."""
    keys = list(keys)
    index = pyo.Set(initialize=keys, dimen=len(keys[0]) if keys else None, ordered=True)
    model.add_component(f"{name}_index", index)
    if lower is None:
        var = pyo.Var(index, domain=pyo.NonNegativeReals, doc=doc, dense=True)
    else:
        var = pyo.Var(index, domain=pyo.NonNegativeReals, bounds=lambda _, *k: (lower[k if len(k) > 1 else k[0]], None), doc=doc, dense=True)
    model.add_component(name, var)
    if not hasattr(model, "columns"):
        model.columns, model.column_count, model.floors = {}, 0, {}
    start = model.column_count
    model.columns[name] = (keys, start)
    model.column_count += len(keys)
    model.floors[name] = np.array([lower[k] for k in keys], dtype=float) if lower is not None else None
    return {key: start + offset for offset, key in enumerate(keys)}


def column_variables(model) -> list:
    """The Pyomo variable of each column, in column order."""
    variables = []
    for name in model.columns:
        variables.extend(getattr(model, name).values())
    return variables


def pyomo_constraints(model) -> None:
    """Turn every row family into a Pyomo Constraint component of the same name."""
    variables = column_variables(model)
    for family in model.row_families.values():
        def rule(_, *key, family=family, position={k: i for i, k in enumerate(family.keys)}):
            i = position[key if len(key) > 1 else key[0]]
            lower = None if np.isinf(family.lower[i]) else float(family.lower[i])
            upper = None if np.isinf(family.upper[i]) else float(family.upper[i])
            return (lower, linear(family.terms[i], variables), upper)

        index = pyo.Set(initialize=family.keys, dimen=len(family.keys[0]) if family.keys else None, ordered=True)
        model.add_component(f"{family.name}_rows", index)
        model.add_component(family.name, pyo.Constraint(index, rule=rule, doc=family.doc))
