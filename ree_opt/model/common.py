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
    """Row key -> list of (coefficient, variable): the linear body of a row."""

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
    terms: list  # per key: list of (coefficient, variable)
    lower: np.ndarray
    upper: np.ndarray
    doc: str = ""

    def __len__(self) -> int:
        return len(self.keys)


def linear(terms) -> LinearExpression:
    return LinearExpression(
        constant=0,
        linear_coefs=[c for c, _ in terms],
        linear_vars=[v for _, v in terms],
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
    """A non-negative Pyomo variable per key (optionally with a lower bound per
    key). Returns key -> variable as a plain dict: the families look variables
    up hundreds of thousands of times, and a dict is several times faster
    than indexing the component."""
    keys = list(keys)
    index = pyo.Set(initialize=keys, dimen=len(keys[0]) if keys else None, ordered=True)
    model.add_component(f"{name}_index", index)
    if lower is None:
        var = pyo.Var(index, domain=pyo.NonNegativeReals, doc=doc, dense=True)
    else:
        var = pyo.Var(index, domain=pyo.NonNegativeReals, bounds=lambda _, *k: (lower[k if len(k) > 1 else k[0]], None), doc=doc, dense=True)
    model.add_component(name, var)
    lookup = dict(zip(keys, var.values()))
    if not hasattr(model, "variables"):
        model.variables, model.floors = {}, {}
    model.variables[name] = lookup
    model.floors[name] = np.array([lower[k] for k in keys], dtype=float) if lower is not None else None
    return lookup


def pyomo_constraints(model) -> None:
    """Turn every row family into a Pyomo Constraint component of the same name."""
    for family in model.row_families.values():
        def rule(_, *key, family=family, position={k: i for i, k in enumerate(family.keys)}):
            i = position[key if len(key) > 1 else key[0]]
            lower = None if np.isinf(family.lower[i]) else float(family.lower[i])
            upper = None if np.isinf(family.upper[i]) else float(family.upper[i])
            return (lower, linear(family.terms[i]), upper)

        index = pyo.Set(initialize=family.keys, dimen=len(family.keys[0]) if family.keys else None, ordered=True)
        model.add_component(f"{family.name}_rows", index)
        model.add_component(family.name, pyo.Constraint(index, rule=rule, doc=family.doc))
