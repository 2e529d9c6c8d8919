"""Questions asked of many solves: the non-China premium, sweeps, curves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from .data import demanded_products
from .display import comparison_html, comparison_summary
from .executors import automatic, even_chunks, is_serial, run_chunks
from .instance import POLICY_MODELS, InstanceError, MaxCoveredShare, Problem, Scenario, online_index
from .loading import load_instance
from .plan import InstanceLike, Plan, facilities_where
from .scenarios import apply_scenario
from .solution import Solution

NON_CHINA = MaxCoveredShare(type="max_covered_share", share=0.0)


def supply_cost(solution: Solution) -> float:
    """Cost of supply: paid activity and holding, less sales, and the capital
    charges of what the plan funds (SPEC section 7) (USD million)."""
    b = solution.cost_breakdown
    return float(b["supply"] + b["holding"] + b["sales"] + b.get("investment", 0.0))


#: Unmet tonnes below this are the solver's tolerance, not a shortfall (the
#: tie-break solve may leave a few grams within its objective slack).
UNMET_TOLERANCE_T = 1e-3


def first_full_period(solution: Solution, product: str, periods: list):
    """The first period from which every later period meets `product`'s demand
    in full; None if the last period still falls short."""
    short = solution.shortfall
    short = short[short["quantity_t"] > UNMET_TOLERANCE_T]
    short_periods = {str(p) for p in short.loc[short["product"] == product, "period"]}
    first = None
    for period in reversed(periods):
        if str(period) in short_periods:
            break
        first = period
    return first


@dataclass
class Comparison:
    """The baseline beside the whole-chain non-China plan (USD million)."""

    baseline: Solution
    non_china: Solution
    products: list[str]
    periods: list
    supply_premium_usd_per_kg: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.baseline.optimal and self.non_china.optimal

    @property
    def premium_musd(self) -> float:
        return self.non_china.objective - self.baseline.objective

    @property
    def premium_pct(self) -> float:
        base = self.baseline.objective
        return 100.0 * self.premium_musd / base if base else float("nan")

    @property
    def supply_premium_musd(self) -> float:
        return supply_cost(self.non_china) - supply_cost(self.baseline)

    @property
    def supply_usd_per_kg(self) -> tuple[float, float]:
        """Average supply cost per kg delivered: baseline, non-China."""
        return supply_usd_per_kg(self.baseline), supply_usd_per_kg(self.non_china)

    @property
    def shortfall_premium_musd(self) -> float:
        return float(self.non_china.cost_breakdown["shortfall"] - self.baseline.cost_breakdown["shortfall"])

    @property
    def unmet(self) -> pd.DataFrame:
        """Unmet tonnes per product and period, baseline and non-China."""
        rows = []
        base = self.baseline.unmet_t().set_index(["product", "period"])["quantity_t"]
        clean = self.non_china.unmet_t().set_index(["product", "period"])["quantity_t"]
        for product in self.products:
            for period in self.periods:
                rows.append((
                    product, period,
                    float(base.get((product, period), 0.0)),
                    float(clean.get((product, period), 0.0)),
                ))
        return pd.DataFrame(rows, columns=["product", "period", "baseline_t", "non_china_t"])

    @property
    def first_full_period(self) -> dict:
        """Per product, the first period from which the clean chain meets demand in full."""
        return {p: first_full_period(self.non_china, p, self.periods) for p in self.products}

    def __repr__(self) -> str:
        return comparison_summary(self)

    def _repr_html_(self) -> str:
        return comparison_html(self)

    def summary(self) -> pd.Series:
        return pd.Series(
            {
                "baseline_musd": self.baseline.objective,
                "non_china_musd": self.non_china.objective,
                "premium_musd": self.premium_musd,
                "premium_pct": self.premium_pct,
                "supply_premium_musd": self.supply_premium_musd,
                "shortfall_premium_musd": self.shortfall_premium_musd,
                "unmet_baseline_t": float(self.baseline.shortfall["quantity_t"].sum()),
                "unmet_non_china_t": float(self.non_china.shortfall["quantity_t"].sum()),
            }
        )


def supply_usd_per_kg(solution: Solution) -> float:
    """Average supply cost per kg delivered (all products): what the plan pays
    for what it actually gets, independent of the shortfall penalties."""
    delivered = float(solution.deliveries["quantity_t"].sum())
    return 1000.0 * supply_cost(solution) / delivered if delivered > 0 else float("nan")


def non_china_premium(
    instance: InstanceLike,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    by_product: bool = False,
    tie_break: bool = True,
    time_limit: float | None = None,
) -> Comparison:
    """The optimum with `max_covered_share: 0` on every product minus the optimum
    without it; `by_product` also prices each product's supply premium per kg
    delivered (one more solve per demanded product, the clean cap on it
    alone): the rise in average supply cost per kg delivered. `time_limit`
    (seconds) applies to each solve."""
    policies = list(policies)
    base_plan = Plan(instance, scenario, policies, time_limit)
    baseline = base_plan.solve(tie_break)
    non_china = Plan(base_plan.base, scenario, policies + [NON_CHINA], time_limit).solve(tie_break)
    products = demanded_products(base_plan.instance)
    comparison = Comparison(baseline, non_china, products, list(base_plan.instance.periods))
    if by_product and comparison.ok:
        base_kg, clean_kg = comparison.supply_usd_per_kg
        for product in products:
            if len(products) == 1:  # its cap alone is the whole-chain cap
                comparison.supply_premium_usd_per_kg[product] = clean_kg - base_kg
                continue
            only = MaxCoveredShare(type="max_covered_share", share=0.0, products=[product])
            alone = Plan(base_plan.base, scenario, policies + [only], time_limit).solve(tie_break=False)
            if alone.optimal:
                comparison.supply_premium_usd_per_kg[product] = supply_usd_per_kg(alone) - base_kg
    return comparison


def scenario_table(instance: InstanceLike, names: Iterable[str] = (), progress=None) -> pd.DataFrame:
    """Baseline and each scenario: cost, non-China cost, premium, unmet tonnes
    and the first period the clean chain meets each product in full."""
    instance = load_instance(instance)
    rows = []
    for name in [None] + list(names):
        comparison = non_china_premium(instance, scenario=name)
        row = {
            "scenario": name or "(baseline)",
            "description": (instance.scenarios[name].description or "") if name else "",
        }
        if comparison.ok:
            row.update(
                cost_musd=comparison.baseline.objective,
                non_china_musd=comparison.non_china.objective,
                premium_musd=comparison.premium_musd,
                premium_pct=comparison.premium_pct,
                supply_premium_musd=comparison.supply_premium_musd,
                unmet_baseline_t=float(comparison.baseline.shortfall["quantity_t"].sum()),
                unmet_non_china_t=float(comparison.non_china.shortfall["quantity_t"].sum()),
            )
            for product, period in comparison.first_full_period.items():
                row[f"first_full_{product}"] = period if period is not None else "never"
        else:
            row["status"] = comparison.baseline.status
        rows.append(row)
        if progress:
            progress(1)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Sweeps: one model, many points, levers changed in place


#: policy type -> the field a sweep moves (from the policy registry, instance.py)
SHARE_PARAMETERS = {kind: model.swept for kind, model in POLICY_MODELS.items() if model.swept}
FACILITY_PARAMETERS = ("cost", "capacity", "availability")


@dataclass
class Lever:
    """What a sweep moves, and how: a policy's share or limit, or a multiplier."""

    parameter: str
    where: dict | None = None
    policy: dict | None = None  # fields of an added policy (products, segments, ...)

    def extra_policies(self, value: float) -> list:
        if self.parameter in SHARE_PARAMETERS:
            spec = {"type": self.parameter, SHARE_PARAMETERS[self.parameter]: value}
            spec.update(self.policy or {})
            return [spec]
        return []

    def open_facilities(self, instance) -> list[str]:
        if self.parameter in ("capacity", "availability"):
            return facilities_where(instance, self.where)
        return []

    def policy_index(self, plan: Plan) -> int | None:
        if self.parameter in SHARE_PARAMETERS:
            return len(plan.instance.policies) - 1  # the policy this lever added
        if self.parameter.startswith("policies["):
            return int(self.parameter[len("policies["):].split("]")[0])
        return None

    def apply(self, plan: Plan, value: float) -> None:
        index = self.policy_index(plan)
        if index is not None:
            plan.set_policy_value(index, value)
        elif self.parameter == "cost":
            plan.set_cost_factor(plan.facilities_where(self.where), value)
        elif self.parameter == "capacity":
            plan.set_capacity_factor(plan.facilities_where(self.where), capacity=value)
        elif self.parameter == "availability":
            plan.set_capacity_factor(plan.facilities_where(self.where), availability=value)
        elif self.parameter == "demand":
            plan.set_demand_factor(plan.demand_where(self.where), value)
        else:
            raise ValueError(self.describe_unknown())

    def describe_unknown(self) -> str:
        return (
            f"unknown sweep parameter {self.parameter!r}; expected one of "
            f"{', '.join(list(SHARE_PARAMETERS) + list(FACILITY_PARAMETERS) + ['demand', 'policies[i]'])}"
        )

    def check(self) -> None:
        known = set(SHARE_PARAMETERS) | set(FACILITY_PARAMETERS) | {"demand"}
        if self.parameter not in known and not self.parameter.startswith("policies["):
            raise InstanceError([Problem("parameter", self.describe_unknown())])


def _plans(instance, lever: Lever, reference: float, scenario, policies, premium: bool):
    """The plan (and its non-China twin when the premium is asked) of a sweep,
    built at the reference value and solved once there."""
    base = load_instance(instance)
    patched = apply_scenario(base, scenario, policies)
    opened = lever.open_facilities(patched)
    swept = lever.extra_policies(reference)  # last, where Lever.policy_index finds it
    plans = [Plan(base, scenario, list(policies) + swept, open_facilities=opened)]
    if premium:
        plans.append(Plan(base, scenario, list(policies) + [NON_CHINA] + swept, open_facilities=opened))
    for plan in plans:
        lever.apply(plan, reference)
        plan.compiled.solve()
    return plans


#: A sweep visits its values in this many runs of neighbours; each run starts
#: from the basis of the reference point. Serial and parallel executors run
#: the same runs, so their results (duals included) are the same.
SWEEP_RUNS = 4
#: From this many values on, executor="auto" spreads a sweep over processes.
LONG_SWEEP = 32


def _run_points(
    instance, lever: Lever, reference: float, runs: list, scenario, policies, premium: bool, tie_break: bool, progress=None
) -> list[dict]:
    plans = _plans(instance, lever, reference, scenario, policies, premium)
    starts = [plan.compiled.highs.getBasis() for plan in plans]
    rows = []
    for values in runs:
        for plan, start in zip(plans, starts):
            plan.compiled.highs.setBasis(start)
        for value in values:
            rows.append(_sweep_row(plans, lever, value, premium, tie_break))
            if progress:
                progress(1)
    return rows


def _sweep_row(plans, lever: Lever, value: float, premium: bool, tie_break: bool) -> dict:
    row = {"value": value}
    results = []
    for plan in plans:
        lever.apply(plan, value)
        results.append(plan.solve_point(tie_break=tie_break, share_policy=lever.policy_index(plan)))
    base = results[0]
    row.update(status=base.status, objective_musd=base.objective)
    if premium:
        clean = results[1]
        ok = base.status == clean.status == "optimal"
        row.update(
            non_china_musd=clean.objective,
            premium_musd=(clean.objective - base.objective) if ok else None,
            non_china_unmet_t=clean.unmet_t,
        )
    row.update(
        covered_share=base.covered_t / base.delivered_t if base.delivered_t and base.delivered_t > 0 else float("nan"),
        unmet_t=base.unmet_t,
        average_risk=base.average_risk,
    )
    if base.share_cap_dual_musd_per_pct is not None:
        row["share_dual_musd_per_pct"] = base.share_cap_dual_musd_per_pct
    for product, price in (base.clean_price_usd_per_kg or {}).items():
        row[f"clean_price_usd_per_kg_{product}"] = price
    return row


def _run_one_run(instance, lever, reference, options, values):
    return _run_points(instance, lever, reference, [values], **options)


def sweep(
    instance: InstanceLike,
    parameter: str,
    values: Iterable[float],
    where: dict | None = None,
    policy: dict | None = None,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    premium: bool = False,
    tie_break: bool = False,
    executor="auto",
    progress=None,
) -> pd.DataFrame:
    """One row per value: objective, premium (if asked), covered share, unmet
    tonnes, the marginal clean price of each demanded product, status.

    parameter: `max_covered_share`, `max_country_share`, `max_average_risk`
    (a policy of that type is added, `policy` gives its other fields), or
    `policies[i]` (an existing policy's share or limit); or a multiplier:
    `cost`, `capacity`, `availability` on the facilities matching `where`
    (country, stage, company, id, ...), `demand` on the entries matching
    `where` (segment, product).

    The model is built once (per worker) and each value changes it in place.
    executor: None (serial), "processes" (a local pool), a
    dask.distributed Client or scheduler address, or "auto" (processes for
    sweeps of LONG_SWEEP values or more on a machine with several cores,
    serial otherwise). Results are identical and in the order of `values`.

    clean_price_usd_per_kg_<product> is the mean over periods of the dual of
    the product's clean balance (the highest over makers where makers are
    tracked): what one more clean tonne is worth to the plan.
    """
    values = [float(v) for v in values]
    lever = Lever(parameter, where, policy)
    lever.check()
    if not values:
        return pd.DataFrame(columns=["value", "status", "objective_musd"])
    instance = load_instance(instance)
    executor = automatic(executor, len(values), LONG_SWEEP)
    options = dict(scenario=scenario, policies=list(policies), premium=premium, tie_break=tie_break)
    runs = even_chunks(values, SWEEP_RUNS)
    if is_serial(executor):  # one model for every run
        rows = _run_points(instance, lever, values[0], runs, progress=progress, **options)
    else:
        function = partial(_run_one_run, instance, lever, values[0], options)
        rows = [row for chunk in run_chunks(function, runs, executor, progress) for row in chunk]
    frame = pd.DataFrame(rows)
    frame.insert(0, "parameter", parameter)
    return frame


def premium_curve(
    instance: InstanceLike,
    shares: Iterable[float] = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0),
    scenario: str | Sequence[str] | None = None,
    executor="auto",
    progress=None,
) -> pd.DataFrame:
    """Cost against the allowed covered share, with the marginal cost of
    de-risking: USD million per percentage point the cap is tightened (the
    dual of the share cap, summed over its rows)."""
    table = sweep(instance, "max_covered_share", shares, scenario=scenario, executor=executor, progress=progress)
    unconstrained = sweep(instance, "max_covered_share", [1.0], scenario=scenario)["objective_musd"].iloc[0]
    return pd.DataFrame(
        {
            "share": table["value"],
            "objective_musd": table["objective_musd"],
            "premium_musd": table["objective_musd"] - unconstrained,
            "marginal_musd_per_pct": -table["share_dual_musd_per_pct"],
            "covered_share": table["covered_share"],
            "unmet_t": table["unmet_t"],
            "status": table["status"],
        }
    )


def frontier(
    instance: InstanceLike,
    x: str = "covered_share",
    n: int = 11,
    scenario: str | Sequence[str] | None = None,
    executor="auto",
) -> pd.DataFrame:
    """The cost-risk Pareto frontier by the epsilon-constraint method: the cap
    on `x` (covered share, or average policy risk of what the buyer uses)
    from loose to tight, and the least cost at each."""
    if x == "covered_share":
        table = sweep(instance, "max_covered_share", np.linspace(1.0, 0.0, n), scenario=scenario, executor=executor, tie_break=True)
        achieved = table["covered_share"]
    elif x == "average_risk":
        top = max((f.risk for f in load_instance(instance).facilities), default=0.0)
        table = sweep(instance, "max_average_risk", np.linspace(top, 0.0, n), scenario=scenario, executor=executor)
        achieved = table["average_risk"]
    else:
        raise ValueError(f"x must be 'covered_share' or 'average_risk', not {x!r}")
    return pd.DataFrame(
        {"epsilon": table["value"], x: achieved, "objective_musd": table["objective_musd"], "status": table["status"]}
    )


# --------------------------------------------------------------------------
# Tornado: one input at a time, low and high


@dataclass
class Factor:
    """An uncertain input and its range. Either a lever (a multiplier or a
    policy value moved in place) or a pair of scenarios (low, high)."""

    name: str
    low: float | str
    high: float | str
    parameter: str | None = None
    where: dict | None = None
    shift: dict | None = None  # {where: ..., low: -1, high: 2}: online years, rebuilt
    scale: str | None = None  # a field every entity's value is multiplied by (low, high), rebuilt: "capex"


def projects_not_yet_operating(instance) -> list[str]:
    """Facilities that come online after the first period."""
    return [
        f.id for f in instance.facilities
        if f.online is not None and (online_index(instance, f.online) or 0) > 0
    ]


def default_factors(instance) -> list[Factor]:
    """Licence availability of covered exporters, covered-country prices,
    project online years (-1/+2 periods), demand +-20%, the capex of every
    expansion (x0.9 / x1.5) where the instance offers any, and every
    scenario pair NAME_low / NAME_high the instance defines."""
    instance = load_instance(instance)
    covered = set(instance.covered_countries)
    factors = []
    exporters = [f for f in instance.facilities if f.country in covered]
    if exporters:
        top = max(float(np.max(list(f.availability.values()) if isinstance(f.availability, dict) else [f.availability])) for f in exporters)
        high = min(1.5, 1.0 / top) if top > 0 else 1.0
        factors.append(Factor("licence approval rate of covered exporters (x0.5 / x%.2g)" % high, 0.5, high, "availability", {"covered": True}))
        factors.append(Factor("prices in covered countries (x0.75 / x1.5)", 0.75, 1.5, "cost", {"covered": True}))
    if projects_not_yet_operating(instance):
        factors.append(Factor("project online years (-1 / +2 periods)", -1, 2, shift={"low": -1, "high": 2}))
    if instance.demand:
        factors.append(Factor("demand (x0.8 / x1.2)", 0.8, 1.2, "demand", {}))
    if any(f.expansions for f in instance.facilities):
        # the reference class is lopsided: large projects overrun (EY: by 43% on
        # average), they rarely come in much under their estimate
        factors.append(Factor("capex of every expansion (x0.9 / x1.5)", 0.9, 1.5, scale="capex"))
    for name in instance.scenarios:
        if name.endswith("_low") and name[:-4] + "_high" in instance.scenarios:
            factors.append(Factor(name[:-4], name, name[:-4] + "_high"))
    return factors


def _premium_at(instance, factor: Factor, side: str, scenario) -> float | None:
    value = getattr(factor, side)
    if factor.parameter:
        where = factor.where
        if where == {"covered": True}:
            return _covered_lever_premium(instance, factor, value, scenario)
        table = sweep(instance, factor.parameter, [value], where=where or None, scenario=scenario, premium=True)
        return table["premium_musd"].iloc[0]
    if factor.scale:
        patched = apply_scenario(load_instance(instance), scenario)
        scaled = apply_scenario(patched, Scenario(scale=[{"where": {}, "field": factor.scale, "factor": float(value)}]))
        comparison = non_china_premium(scaled, tie_break=False)
        return comparison.premium_musd if comparison.ok else None
    if factor.shift:
        base = load_instance(instance)
        patched = apply_scenario(base, scenario)
        ids = projects_not_yet_operating(patched)
        shifted = apply_scenario(patched, Scenario(shift=[{"where": {"id": i}, "field": "online", "by": int(value)} for i in ids]))
        comparison = non_china_premium(shifted, tie_break=False)
        return comparison.premium_musd if comparison.ok else None
    names = [n for n in (scenario, value) if n]
    comparison = non_china_premium(instance, scenario=",".join(names), tie_break=False)
    return comparison.premium_musd if comparison.ok else None


def _covered_lever_premium(instance, factor: Factor, value: float, scenario) -> float | None:
    """A multiplier on every facility in a covered country (one sweep per country)."""
    base = load_instance(instance)
    lever = Lever(factor.parameter)
    patched = apply_scenario(base, scenario)
    covered = set(patched.covered_countries)
    ids = [f.id for f in patched.facilities if f.country in covered]
    opened = ids if factor.parameter in ("capacity", "availability") else []
    plans = [Plan(base, scenario, open_facilities=opened), Plan(base, scenario, [NON_CHINA], open_facilities=opened)]
    results = []
    for plan in plans:
        if lever.parameter == "cost":
            plan.set_cost_factor(ids, value)
        else:
            plan.set_capacity_factor(ids, **{lever.parameter: value})
        results.append(plan.solve_point())
    if any(r.status != "optimal" for r in results):
        return None
    return results[1].objective - results[0].objective


def tornado(
    instance: InstanceLike,
    factors: Iterable[Factor] | None = None,
    scenario: str | Sequence[str] | None = None,
    executor=None,
    progress=None,
) -> pd.DataFrame:
    """How far the non-China premium moves when each uncertain input swings
    across its range, one at a time; sorted by swing."""
    instance = load_instance(instance)
    factors = list(factors) if factors is not None else default_factors(instance)
    base = non_china_premium(instance, scenario=scenario, tie_break=False)
    jobs = [(factor, side) for factor in factors for side in ("low", "high")]
    function = partial(_tornado_job, instance, scenario=scenario)
    results = [r for chunk in run_chunks(function, even_chunks(jobs, len(jobs)), executor, progress) for r in chunk]
    rows = []
    for index, factor in enumerate(factors):
        low, high = results[2 * index], results[2 * index + 1]
        swing = abs((high if high is not None else np.nan) - (low if low is not None else np.nan))
        rows.append(
            {
                "factor": factor.name,
                "low": factor.low,
                "high": factor.high,
                "premium_low_musd": low,
                "premium_high_musd": high,
                "base_premium_musd": base.premium_musd if base.ok else None,
                "swing_musd": swing,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("swing_musd", ascending=False, kind="stable").reset_index(drop=True)


def _tornado_job(instance, jobs, scenario=None) -> list:
    return [_premium_at(instance, factor, side, scenario) for factor, side in jobs]
