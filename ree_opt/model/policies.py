"""Policies: one builder per `type`, in one registry.

Math (policy i, product p, period t in the policy's from..to):

    covered_share[i,p,t]:   sum_{d} deliv[d,covered,t] <= share * sum_{d,l} deliv[d,l,t]
                            (d: entries for p in the policy's segments, pooled)
    country_share[i,p,c,t]: sum_{m in c} used_m[p,t] <= share * use[p,t]
    average_risk[i,p,t]:    sum_m risk_m used_m[p,t] <= limit * use[p,t]

used_m[p,t] counts what the buyer uses of tracked p from maker m: its
deliveries and what non-trade facilities consume. `exclude` acts on the data
(activity is not created where it is excluded, see data.py); `max_capex` (a
funding budget) is built with the expansions (model/investment.py).

Each share row is stored as `lhs <= 0` with the policy's parameter inside
the coefficients; `members` records, for each column, what its coefficient
is made of, so a sweep can set a new share in place.

**The registry.** `POLICIES[type]` is a `PolicyKind`: the pydantic model of
the type (instance.py), its builder, the row family it builds, and how a
sweep moves its parameter (the pydantic model's `swept` field): in the
coefficients (`coefficient(member, value)`) or in the row bound. Adding a
policy type is its pydantic model and one builder registered here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .. import dual_words
from ..data import COVERED, ModelData, demanded_products
from ..instance import Exclude, MaxAverageRisk, MaxCountryShare, MaxCoveredShare, policy_type
from .demand import DELIVERY
from .families import BuiltModel, DualWords, Family, Terms, rows
from .flows import CONSUMPTION_BY_MAKER


@dataclass(frozen=True)
class PolicyKind:
    """One policy type: its pydantic model, builder, row family and lever."""

    model: type
    builder: Callable  # (built, data, policy: PolicyData, rows: Terms, members: dict) -> None
    family: Family | None  # the rows it builds (None: it acts on the data)
    #: a sweep's new value: the coefficient of a column from what it is made of
    #: (`members`), or None where the value is the row's bound
    coefficient: Callable[[object, float], float] | None = None
    upper: Callable | None = None  # the row bound from the policy (None: 0)

    @property
    def swept(self) -> str | None:
        """The field a sweep may move (share, limit), or None."""
        return self.model.swept


#: type -> PolicyKind, in the order the types were registered.
POLICIES: dict[str, PolicyKind] = {}


def policy_builder(model: type, family: Family | None = None, coefficient=None, upper=None):
    def register(function):
        POLICIES[policy_type(model)] = PolicyKind(model, function, family, coefficient, upper)
        return function

    return register


def policy_kind(kind: str) -> PolicyKind:
    return POLICIES[kind]


def _share_coefficient(member: bool, value: float) -> float:
    """A column inside the capped group counts (1 - share), outside -share."""
    return (1.0 - value) if member else -value


def _risk_coefficient(risk: float, value: float) -> float:
    return risk - value


def _period(data: ModelData, t) -> str:
    return str(data.periods[t])


def _covered_words(data, key, value):
    i, p, t = key
    return (f"policies[{i}] {p} {_period(data, t)}", *dual_words.covered_share(p, _period(data, t), value))


def _country_words(data, key, value):
    i, p, c, t = key
    return (f"policies[{i}] {p} {c} {_period(data, t)}", *dual_words.country_share(p, c, _period(data, t), value))


def _risk_words(data, key, value):
    i, p, t = key
    return (f"policies[{i}] {p} {_period(data, t)}", *dual_words.average_risk(p, _period(data, t), value))


COVERED_SHARE = rows(
    "covered_share", ("policy", "product", "period"), "covered_share policy rows",
    words="policies[{policy}] on product {product} ({period})",
    dual=DualWords(_covered_words),
)
COUNTRY_SHARE = rows(
    "country_share", ("policy", "product", "country", "period"), "country_share policy rows",
    words="policies[{policy}] on product {product} from {country} ({period})",
    dual=DualWords(_country_words),
)
AVERAGE_RISK = rows(
    "average_risk", ("policy", "product", "period"), "average_risk policy rows",
    words="policies[{policy}] on product {product} ({period})",
    dual=DualWords(_risk_words),
)


def _add(rows_: Terms, members: dict, key, coefficient: Callable, value: float, var, member) -> None:
    rows_[key].append((coefficient(member, value), var))
    members[key].append(member)


@policy_builder(MaxCoveredShare, COVERED_SHARE, coefficient=_share_coefficient)
def covered_share(built: BuiltModel, data: ModelData, policy, rows_: Terms, members: dict) -> None:
    spec = policy.policy
    products = spec.products or demanded_products(data.instance)
    segments = set(spec.segments) if spec.segments else None
    entries = [
        d for d in data.demand if d.product in products and (segments is None or d.segment in segments)
    ]
    keys, cols = built.columns_of(DELIVERY)
    by_entry = defaultdict(list)
    for key, col in zip(keys, cols):
        by_entry[key[0]].append((key, int(col)))
    for t in policy.periods:
        for p in products:
            key = (policy.index, p, t)
            group = [(k, c) for d in entries if d.product == p for k, c in by_entry[d.index] if k[3] == t]
            if not any(k[1] == COVERED for k, _ in group):
                continue
            for k, col in group:
                _add(rows_, members, key, _share_coefficient, spec.share, col, k[1] == COVERED)


def uses(built: BuiltModel, data: ModelData) -> dict:
    """(p, t) -> maker -> [columns]: what the buyer uses of tracked products
    (deliveries, and what facilities other than traders consume)."""
    found: dict = defaultdict(lambda: defaultdict(list))
    keys, cols = built.columns_of(DELIVERY)
    for (d_index, _, maker, t), col in zip(keys, cols):
        p = data.demand[d_index].product
        if data.products[p].tracked:
            found[(p, t)][maker].append(int(col))
    stages = {f.id: f.stage for f in data.facilities}
    keys, cols = built.columns_of(CONSUMPTION_BY_MAKER)
    for (f_id, p, _, maker, t), col in zip(keys, cols):
        if stages[f_id] != "trade":
            found[(p, t)][maker].append(int(col))
    return found


@policy_builder(MaxCountryShare, COUNTRY_SHARE, coefficient=_share_coefficient)
def country_share(built: BuiltModel, data: ModelData, policy, rows_: Terms, members: dict) -> None:
    spec = policy.policy
    used = built.uses
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
                        _add(rows_, members, key, _share_coefficient, spec.share, var, inside)


@policy_builder(MaxAverageRisk, AVERAGE_RISK, coefficient=_risk_coefficient)
def average_risk(built: BuiltModel, data: ModelData, policy, rows_: Terms, members: dict) -> None:
    spec = policy.policy
    used = built.uses
    for p in spec.products or demanded_products(data.instance):
        for t in policy.periods:
            by_maker = used.get((p, t), {})
            key = (policy.index, p, t)
            for maker, variables in by_maker.items():
                for var in variables:
                    _add(rows_, members, key, _risk_coefficient, spec.limit, var, data.makers[maker][1])


@policy_builder(Exclude)
def exclude(built, data, policy, rows_, members) -> None:
    """Applied to the data: excluded activity is never created."""


def add_policies(built: BuiltModel, data: ModelData) -> None:
    """Build every policy's rows, one row family per policy type that has
    one, in the registry's order; what each coefficient is made of goes to
    `built.policy_members` (family name -> (rows, members))."""
    built.uses = uses(built, data)
    families = {kind.family.name: kind for kind in POLICIES.values() if kind.family is not None}
    made = {name: (Terms(), defaultdict(list)) for name in families}
    uppers: dict = {name: {} for name in families}
    for policy in data.policies:
        kind = POLICIES[policy.kind]
        rows_, members = made[kind.family.name] if kind.family else (None, None)
        kind.builder(built, data, policy, rows_, members)
        if kind.upper is not None:
            for key in rows_:
                if key[0] == policy.index:
                    uppers[kind.family.name][key] = kind.upper(policy.policy)
    for name, kind in families.items():
        rows_, members = made[name]
        # Keep rows whose coefficients are all zero for now (a sweep may need them).
        built.add_rows(kind.family, rows_, upper=uppers[name] if kind.upper is not None else 0.0)
        built.policy_members[name] = (rows_, members)
