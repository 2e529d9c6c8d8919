"""Questions asked of investments (SPEC section 7): what each expansion is
worth, and what each further dollar of funding buys.

    expansion_value(instance)                 -> DataFrame, one row per expansion
    budget_curve(instance, limits, where=None) -> DataFrame, one row per budget

Both build the plan and its non-China twin once and re-solve them in place:
an expansion's option is closed by bounding its builds to 0, a budget moves
the bound of one `max_capex` row, the largest budget first (a plan that
fits a smaller budget is its optimum there too). No MIP is given a start: HiGHS 1.16
values a start in presolve's reduced space without presolve's objective
offset (too low an objective and cutoff), and cold solves cost about as much.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from .analysis import NON_CHINA, first_full_period
from .data import demanded_products
from .executors import automatic, even_chunks, run_chunks
from .instance import InstanceError, Problem
from .loading import load_instance
from .plan import InstanceLike, Plan, facilities_where
from .scenarios import apply_scenario
from .solution import INVESTMENT_COLUMNS, SHORTFALL_COLUMNS, Solution, investment_table, shortfall_table

VALUE_COLUMNS = [
    "facility", "name", "country", "expansion", "capex_musd", "modules",
    "value_musd", "non_china_value_musd", "baseline_modules", "non_china_modules",
]
CURVE_COLUMNS = [
    "limit_musd", "baseline_musd", "non_china_musd", "premium_musd", "baseline_capex_musd", "non_china_capex_musd",
    "first_clean_period", "non_china_unmet_t", "mip_gap", "status", "non_china_builds", "baseline_builds",
]


def expansions_of(instance) -> list[tuple]:
    """(facility, expansion) of every expansion the instance offers, in order."""
    return [(f, e) for f in instance.facilities for e in (f.expansions or [])]


def built_modules(solution: Solution, facility: str, expansion: str) -> float:
    table = solution.investments
    if table.empty:
        return 0.0
    picked = table[(table["facility"] == facility) & (table["expansion"] == expansion)]
    return float(picked["modules"].sum())


def _plans(instance, scenario, policies: list) -> list[Plan]:
    base = load_instance(instance)
    return [Plan(base, scenario, policies), Plan(base, scenario, policies + [NON_CHINA])]


def expansion_value(
    instance: InstanceLike,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    progress=None,
) -> pd.DataFrame:
    """For each expansion, what the plan and the non-China plan would cost
    without it (every other expansion still allowed) minus what they cost
    with all: the value of keeping that option open (USD million, >= 0 up
    to the MIP gap), beside the modules each plan builds with all. An
    option a plan does not take is worth 0 to it without a solve: closing it
    leaves that plan feasible, so optimal. `progress(n)` is called with the
    number of plans valued as they finish (2, then 2 per expansion)."""
    progress = progress or (lambda done=1: None)
    plans = _plans(instance, scenario, list(policies))
    every = [plan.solve(tie_break=False, ranging=False) for plan in plans]
    progress(2)
    rows = []
    for facility, expansion in expansions_of(plans[0].instance):
        without = []
        for plan, reference in zip(plans, every):
            if reference.objective is not None and built_modules(reference, facility.id, expansion.name) == 0:
                without.append(0.0)  # the plan is still there without the option, and nothing better appeared
                continue
            plan.set_expansion_modules(facility.id, expansion.name, 0)
            try:
                result = plan.solve(tie_break=False, ranging=False)
            finally:
                plan.set_expansion_modules(facility.id, expansion.name, None)
            ok = result.objective is not None and reference.objective is not None
            without.append(result.objective - reference.objective if ok else np.nan)
        rows.append((
            facility.id, facility.display_name, facility.country, expansion.name, float(expansion.capex),
            int(expansion.modules), without[0], without[1],
            built_modules(every[0], facility.id, expansion.name), built_modules(every[1], facility.id, expansion.name),
        ))
        progress(2)
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def funded_facilities(instance, where: Mapping | None) -> list[str]:
    """Ids of the facilities with expansions that `where` matches (all without `where`)."""
    offering = {f.id for f in instance.facilities if f.expansions}
    if not offering:
        raise InstanceError([Problem("facilities", "no facility offers expansions: there is nothing to fund")])
    matched = [f for f in facilities_where(instance, where) if f in offering] if where else sorted(
        offering, key=[f.id for f in instance.facilities].index
    )
    if not matched:
        raise InstanceError([Problem("where", f"matches no facility with expansions: {dict(where)}")])
    return matched


def describe_builds(solution) -> str:
    """`facility/expansion x modules (decided)` of each build, for a table cell."""
    table = solution.investments
    if table.empty:
        return ""
    return "; ".join(
        f"{row.facility}/{row.expansion} x{row.modules:g} ({row.period})" for row in table.itertuples(index=False)
    )


def first_clean_period(solution, products: list[str], periods: list):
    """The first period from which the plan meets every product's demand in
    full ("never" if the last period still falls short)."""
    if solution.objective is None:
        return None
    firsts = [first_full_period(solution, product, periods) for product in products]
    if any(first is None for first in firsts):
        return "never"
    order = [str(p) for p in periods]
    return max(firsts, key=lambda p: order.index(str(p))) if firsts else periods[0]


def _capex(table: pd.DataFrame, counted: set) -> float:
    if table.empty:
        return 0.0
    return float(table.loc[table["facility"].isin(counted), "capex_musd"].sum())


#: A plan's capex within this much of a budget fits it (USD million).
CAPEX_TOLERANCE_MUSD = 1e-6


@dataclass
class CurvePoint:
    """What a budget curve reads of one solve: no more than it needs."""

    status: str
    objective: float | None
    mip_gap: float
    investments: pd.DataFrame
    shortfall: pd.DataFrame


def _point(plan: Plan) -> CurvePoint:
    """Solve one plan of the curve and read its builds and unmet demand;
    no tie-break, no prices, no other tables."""
    outcome = plan.compiled.solve(duals=False)
    if outcome.values is None:
        return CurvePoint(outcome.status, None, 0.0, pd.DataFrame(columns=INVESTMENT_COLUMNS),
                          pd.DataFrame(columns=SHORTFALL_COLUMNS))
    return CurvePoint(
        outcome.status, outcome.objective, outcome.mip_gap,
        investment_table(plan.data, plan.compiled, outcome.values),
        shortfall_table(plan.data, plan.compiled, outcome.values),
    )


def _curve_run(instance, scenario, policies: list, counted: list[str], limits: list[float]) -> list[tuple]:
    """One run of budgets on one pair of plans, the largest budget first. A
    plan optimal under a budget that commits capex C is optimal under every
    smaller budget down to C (it stays feasible, and nothing better appears
    in a smaller feasible set), so such a budget takes that point without a
    solve: on the baseline, flat from USD 250 million, 2 solves of 8 per plan."""
    budget = {"type": "max_capex", "limit": max(limits), "facilities": counted}
    plans = _plans(instance, scenario, policies + [budget])
    index = len(plans[0].instance.policies) - 1
    products = demanded_products(plans[0].instance)
    periods = list(plans[0].instance.periods)
    counted_ids = set(counted)
    last: list[CurvePoint | None] = [None] * len(plans)
    rows = []
    for limit in sorted(limits, reverse=True):
        results = []
        for k, plan in enumerate(plans):
            point = last[k]
            if point is None or point.status != "optimal" or _capex(point.investments, counted_ids) > limit + CAPEX_TOLERANCE_MUSD:
                plan.set_policy_value(index, limit)
                point = last[k] = _point(plan)
            results.append(point)
        base, clean = results
        ok = base.objective is not None and clean.objective is not None
        rows.append((
            limit, base.objective, clean.objective, clean.objective - base.objective if ok else None,
            _capex(base.investments, set(counted)), _capex(clean.investments, set(counted)),
            first_clean_period(clean, products, periods), float(clean.shortfall["quantity_t"].sum()),
            max(base.mip_gap, clean.mip_gap), clean.status if base.status == "optimal" else base.status,
            describe_builds(clean), describe_builds(base),
        ))
    return rows


def budget_curve(
    instance: InstanceLike,
    limits: Iterable[float] = (0, 250, 500, 1000),
    where: Mapping | None = None,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    executor="auto",
    progress=None,
) -> pd.DataFrame:
    """For each budget (a `max_capex` over the whole horizon on the expansions
    of the facilities `where` matches; default all), the baseline and
    non-China optima, the premium, the capex each plan commits there, the
    first period the clean chain meets demand in full, and the builds: what
    each further dollar of public money buys. Budgets are taken largest
    first; one whose plan still fits a smaller budget is not solved again
    (`_curve_run`); the table is in the order of `limits`."""
    limits = [float(v) for v in limits]
    for value in limits:
        if not value >= 0:
            raise InstanceError([Problem("limits", f"expected budgets >= 0 (USD million), got {value!r}")])
    if not limits:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    instance = load_instance(instance)
    counted = funded_facilities(apply_scenario(instance, scenario), where)
    ascending = sorted(set(limits))
    executor = automatic(executor, len(ascending), 16)
    runs = even_chunks(ascending, 1 if executor in (None, "serial") else 2)
    function = partial(_curve_run, instance, scenario, list(policies), counted)
    rows = [row for run in run_chunks(function, runs, executor, progress) for row in run]
    by_limit = {row[0]: row for row in rows}
    return pd.DataFrame([by_limit[value] for value in limits], columns=CURVE_COLUMNS)
