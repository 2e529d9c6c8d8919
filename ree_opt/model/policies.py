"""Policies: one builder per `type`, registered by it.

Math (policy i, product p, period t in the policy's from..to):

    covered_share[i,p,t]:   sum_{d} deliv[d,covered,t] <= share * sum_{d,l} deliv[d,l,t]
                            (d: entries for p in the policy's segments, pooled)
    country_share[i,p,c,t]: sum_{m in c} used_m[p,t] <= share * use[p,t]
    average_risk[i,p,t]:    sum_m risk_m used_m[p,t] <= limit * use[p,t]

used_m[p,t] counts what the buyer uses of tracked p from maker m: its
deliveries and what non-trade facilities consume. `exclude` acts on the data
(activity is not created where it is excluded, see data.py).

Each row is stored as `lhs <= 0` with the policy's parameter inside the
coefficients; `PolicyRow.members` records, for each variable, what its
coefficient is made of, so a sweep can set a new share in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ..data import COVERED, ModelData, demanded_products
from .common import Terms, add_rows

BUILDERS: dict[str, Callable] = {}


def policy_builder(kind: str):
    def register(function):
        BUILDERS[kind] = function
        return function

    return register


def coefficient(kind: str, member, value: float) -> float:
    """The coefficient of a variable in a policy row, for share/limit `value`.

    member: True/False (inside the capped group or not) for the share caps,
    the maker's risk for the average-risk cap.
    """
    if kind == "average_risk":
        return member - value
    return (1.0 - value) if member else -value


def _add(rows: Terms, members: dict, key, kind: str, value: float, var, member) -> None:
    rows[key].append((coefficient(kind, member, value), var))
    members[key].append(member)


@policy_builder("max_covered_share")
def covered_share(model, data: ModelData, policy, rows: Terms, members: dict) -> None:
    spec = policy.policy
    products = spec.products or demanded_products(data.instance)
    segments = set(spec.segments) if spec.segments else None
    entries = [
        d for d in data.demand if d.product in products and (segments is None or d.segment in segments)
    ]
    deliv = model.delivery_columns
    by_entry = defaultdict(list)
    for key in deliv:
        by_entry[key[0]].append(key)
    for t in policy.periods:
        for p in products:
            key = (policy.index, p, t)
            group = [k for d in entries if d.product == p for k in by_entry[d.index] if k[3] == t]
            if not any(k[1] == COVERED for k in group):
                continue
            for k in group:
                _add(rows, members, key, "covered_share", spec.share, deliv[k], k[1] == COVERED)


def uses(model, data: ModelData) -> dict:
    """(p, t) -> maker -> [columns]: what the buyer uses of tracked products."""
    found: dict = defaultdict(lambda: defaultdict(list))
    for key, var in model.delivery_columns.items():
        d_index, _, maker, t = key
        p = data.demand[d_index].product
        if data.products[p].tracked:
            found[(p, t)][maker].append(var)
    stages = {f.id: f.stage for f in data.facilities}
    for key, var in model.consumption_columns.items():
        f_id, p, _, maker, t = key
        if stages[f_id] != "trade":
            found[(p, t)][maker].append(var)
    return found


@policy_builder("max_country_share")
def country_share(model, data: ModelData, policy, rows: Terms, members: dict) -> None:
    spec = policy.policy
    used = data.uses
    for p in spec.products or demanded_products(data.instance):
        makers = data.products[p].makers
        countries = spec.countries or sorted({data.makers[m][0] for m in makers if data.makers[m][0]})
        for t in policy.periods:
            by_maker = used.get((p, t), {})
            for country in countries:
                if not any(data.makers[m][0] == country for m in by_maker):
                    continue
                key = (policy.index, p, country, t)
                for maker, variables in by_maker.items():
                    inside = data.makers[maker][0] == country
                    for var in variables:
                        _add(rows, members, key, "country_share", spec.share, var, inside)


@policy_builder("max_average_risk")
def average_risk(model, data: ModelData, policy, rows: Terms, members: dict) -> None:
    spec = policy.policy
    used = data.uses
    for p in spec.products or demanded_products(data.instance):
        for t in policy.periods:
            by_maker = used.get((p, t), {})
            key = (policy.index, p, t)
            for maker, variables in by_maker.items():
                for var in variables:
                    _add(rows, members, key, "average_risk", spec.limit, var, data.makers[maker][1])


@policy_builder("exclude")
def exclude(model, data, policy, rows, members) -> None:
    """Applied to the data: excluded activity is never created."""


FAMILY = {
    "max_covered_share": "covered_share",
    "max_country_share": "country_share",
    "max_average_risk": "average_risk",
}


def add_policies(model, data: ModelData) -> dict:
    """Build every policy's rows; returns family -> (rows, members)."""
    data.uses = uses(model, data)
    built = {family: (Terms(), defaultdict(list)) for family in FAMILY.values()}
    for policy in data.policies:
        family = FAMILY.get(policy.kind)
        rows, members = built[family] if family else (None, None)
        BUILDERS[policy.kind](model, data, policy, rows, members)
    for family, (rows, _) in built.items():
        # Keep rows whose coefficients are all zero for now (a sweep may need them).
        add_rows(model, family, rows, upper=0.0, doc=f"{family} policy rows")
    return built
