"""Investment: the expansions the plan may fund (SPEC section 7).

Math (f facility, e expansion, t decision period, t' period; T periods,
0-based; P = period_length_months; r = discount_rate; L = life_years):

    build[f,e,t] >= 0, integer where `lumpy`, for t in [earliest, latest]
    modules[f,e]:     sum_t build[f,e,t] <= modules_e
    capacity[f,t']:   sum_l act[f,l,t'] - availability_f(t') sum_e sum_{t: s(t) <= t'}
                      capacity_e ramp_e(t' - s(t)) build[f,e,t] <= cap_f(t')
    budget[i]:        sum_{f,e matched, t in from..to} capex_e build[f,e,t] <= limit_i   (max_capex)

with s(t) = max(t + ceil(build_months / P), online_f) (a project that slips
delays its expansions), and the objective term per module decided in t

    capex_e crf(r, L) P/12 (T - t) + fixed_cost_e P/12 max(0, T - s(t))

(crf(r, L) = r / (1 - (1 + r)^-L), 1/L at r = 0): capital charged as an
annuity from the decision to the end of the horizon, fixed costs from the
start. `reserved` does not apply to funded capacity; `availability` does.
The budget counts capex in full when committed, as a funding programme
does; without lumpy expansions it is an LP row whose dual is the return on
public money (USD million of plan cost saved per USD million of budget).
"""

from __future__ import annotations

import numpy as np

from ..data import ModelData
from ..instance import MaxCapex, capex_matches
from .families import BuiltModel, DualWords, Terms, rows, variables
from .flows import CAPACITY
from .policies import policy_builder


def _charges(data: ModelData, keys) -> np.ndarray:
    """The objective coefficient of each build column (USD million per module)."""
    found = {(f.id, e.name): (f, e) for f in data.facilities for e in f.expansions}
    return np.array([found[(f_id, name)][1].charge(t, found[(f_id, name)][0]) for f_id, name, t in keys], dtype=float)


def _capacity_coefficients(data: ModelData, keys) -> list[tuple]:
    """Each build column's terms in the capacity rows: (key, CAPACITY, (f, t'), -t per module)."""
    found = {(f.id, e.name): (f, e) for f in data.facilities for e in f.expansions}
    terms = []
    for key in keys:
        facility, expansion = found[key[:2]]
        for later, added in expansion.capacity_terms(key[2], facility):
            if facility.active[later]:
                terms.append((key, CAPACITY, (facility.id, later), -added))
    return terms


def _budget_words(data: ModelData, key, value: float) -> tuple[str, str, str]:
    (i,) = key
    return f"policies[{i}]", "USD million saved per USD million of budget", (
        f"the funding budget policies[{i}] binds: one more USD million of capex allowed would save "
        f"USD {value:,.2f} million of plan cost"
    )


BUILD = variables(
    "build", ("facility", "expansion", "decision"), "modules of an expansion decided in t",
    unit="modules", integer=True,
    objective="capex x crf(r, L) x P/12 x (T - t) + fixed_cost x P/12 x (T - s(t)) USD million per module",
    words="facility {facility} (modules of {expansion} decided in {decision})",
    bounded_by="modules", cost_of=_charges, coefficients_of=_capacity_coefficients,
)
MODULES = rows(
    "modules", ("facility", "expansion"), "modules built over the horizon, at most the expansion's count",
    unit="modules", stage="second", words="the module count of {expansion} at facility {facility}",
)
BUDGET = rows(
    "budget", ("policy",), "capex committed under a max_capex policy, USD million",
    unit="USD million", stage="second", words="the funding budget policies[{policy}]",
    dual=DualWords(_budget_words, scale=-1.0),
    dual_with_builds_fixed=False,
)


def add_expansions(built: BuiltModel, data: ModelData) -> None:
    """Build columns with their charges, the module counts, and the funded
    capacity's terms in the capacity rows (opened by model/flows.py)."""
    keys, integer = [], {}
    for f in data.facilities:
        for e in f.expansions:
            for t in e.decisions:
                keys.append((f.id, e.name, t))
                integer[(f.id, e.name, t)] = e.lumpy
    if not keys:
        return
    build = built.add_columns(BUILD, keys, integer=integer)
    for key, charge in zip(keys, _charges(data, keys)):
        if charge:
            built.objective.append((float(charge), build[key]))
    capacity = built.terms_of(CAPACITY)
    for key, _, row, coefficient in _capacity_coefficients(data, keys):
        capacity.add(row, coefficient, build[key])
    counts = Terms()
    bounds = {}
    for f in data.facilities:
        for e in f.expansions:
            bounds[(f.id, e.name)] = float(e.modules)
            for t in e.decisions:
                counts.add((f.id, e.name), 1.0, build[f.id, e.name, t])
    built.add_rows(MODULES, counts, upper=bounds)


@policy_builder(MaxCapex, BUDGET, upper=lambda policy: policy.limit)
def budget(built: BuiltModel, data: ModelData, policy, rows_: Terms, members: dict) -> None:
    block = built.block(BUILD)
    if block is None:
        return
    build = block.index()
    decided = set(policy.periods)
    for f in data.facilities:
        if not capex_matches(policy.policy, f):
            continue
        for e in f.expansions:
            for t in e.decisions:
                if t in decided and e.capex_musd:
                    rows_.add((policy.index,), e.capex_musd, build[f.id, e.name, t])
                    members[(policy.index,)].append(None)
