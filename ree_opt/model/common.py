"""Small helpers shared by the constraint families."""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression


class Terms(defaultdict):
    """Row key -> list of (coefficient, variable): the linear body of a row."""

    def __init__(self):
        super().__init__(list)

    def add(self, key, coef: float, var) -> None:
        if coef:
            self[key].append((coef, var))


def linear(terms) -> LinearExpression:
    return LinearExpression(
        constant=0,
        linear_coefs=[c for c, _ in terms],
        linear_vars=[v for _, v in terms],
    )


def add_rows(model, name: str, rows: Terms, lower=None, upper=None, doc: str = "") -> None:
    """An indexed constraint `lower <= sum(terms) <= upper` per row key.

    `lower`/`upper` are numbers or dicts key -> number. Rows without terms are
    dropped (an empty row can only be trivially satisfied: the model is
    always feasible by construction).
    """
    keys = [key for key, terms in rows.items() if terms]

    def bound(value, key):
        return value.get(key) if isinstance(value, dict) else value

    def rule(_, *key):
        key = key if len(key) > 1 else key[0]
        return (bound(lower, key), linear(rows[key]), bound(upper, key))

    component = pyo.Constraint(keys, rule=rule, doc=doc) if keys else pyo.Constraint(pyo.Set(initialize=[], dimen=None), doc=doc)
    model.add_component(name, component)


def nonnegative(model, name: str, keys, doc: str = "", lower=None) -> pyo.Var:
    """A non-negative variable per key (optionally with a lower bound per key)."""
    keys = list(keys)
    if lower is None:
        var = pyo.Var(keys, domain=pyo.NonNegativeReals, doc=doc, dense=True) if keys else pyo.Var(pyo.Set(initialize=[], dimen=None), doc=doc)
    else:
        var = pyo.Var(keys, domain=pyo.NonNegativeReals, bounds=lambda _, *k: (lower[k if len(k) > 1 else k[0]], None), doc=doc, dense=True)
    model.add_component(name, var)
    return var
