"""Deliveries and shortfall.

Math (d demand entry, l label, m maker, t period):

    demand[d,t]:  sum_{l,m} deliv[d,l,m,t] + short[d,t] = quantity_d(t)
    deliv[d,covered,m,t] does not exist from `clean_only_from` on.

Deliveries draw on the balance of their product (label and maker); the
shortfall costs its penalty (USD/kg).
"""

from __future__ import annotations

import numpy as np

from ..data import COVERED, ModelData
from .families import BuiltModel, Terms, rows, variables
from .flows import product_labels

def _demand_series(data: ModelData, keys, name: str) -> np.ndarray:
    return np.array([getattr(data.demand[d], name)[t] for d, t in keys], dtype=float)


def _quantity(data: ModelData, keys) -> tuple[np.ndarray, np.ndarray]:
    quantity = _demand_series(data, keys, "quantity_t")
    return quantity, quantity


DELIVERY = variables(
    "deliv", ("demand", "label", "maker", "period"), "t delivered to demand entry d",
    words="{demand} ({label} delivery, {period})",
    bounded_by="demand product",
)
SHORTFALL = variables(
    "short", ("demand", "period"), "t of demand d left unmet in t",
    objective="shortfall_penalty_d(t) USD/kg", words="{demand} (shortfall, {period})",
    cost_of=lambda data, keys: _demand_series(data, keys, "shortfall_penalty") / 1000.0,
    bounded_by="demand",
)
DEMAND = rows(
    "demand", ("demand", "period"), "demand of d in t, t", words="the quantity of {demand} ({period})",
    bounds_of=_quantity,
)


def add_demand(built: BuiltModel, data: ModelData, balance: Terms) -> None:
    periods = range(data.period_count)
    deliv_keys, short_keys = [], []
    for d in data.demand:
        product = data.products[d.product]
        for t in periods:
            if d.quantity_t[t] <= 0:
                continue
            short_keys.append((d.index, t))
            for label in product_labels(data, d.product):
                if label == COVERED and d.clean_only[t]:
                    continue
                deliv_keys += [(d.index, label, maker, t) for maker in product.makers]
    deliv = built.add_columns(DELIVERY, deliv_keys)
    short = built.add_columns(SHORTFALL, short_keys)

    demand_rows = Terms()
    quantity = {}
    for key in short_keys:
        d_index, t = key
        entry = data.demand[d_index]
        demand_rows.add(key, 1.0, short[key])
        quantity[key] = entry.quantity_t[t]
        built.objective.append((entry.shortfall_penalty[t] / 1000.0, short[key]))
    for key in deliv_keys:
        d_index, label, maker, t = key
        demand_rows.add((d_index, t), 1.0, deliv[key])
        balance.add((data.demand[d_index].product, label, maker, t), -1.0, deliv[key])
    built.add_rows(DEMAND, demand_rows, lower=quantity, upper=quantity)
