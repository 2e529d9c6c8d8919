"""Questions asked of many solves: the non-China premium, sweeps, curves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .data import demanded_products
from .instance import MaxCoveredShare
from .plan import InstanceLike, Plan
from .solution import Solution

NON_CHINA = MaxCoveredShare(type="max_covered_share", share=0.0)


def supply_cost(solution: Solution) -> float:
    """Cost of supply: paid activity and holding, less sales (USD million)."""
    b = solution.cost_breakdown
    return float(b["supply"] + b["holding"] + b["sales"])


def first_full_period(solution: Solution, product: str, periods: list):
    """The first period from which every later period meets `product`'s demand
    in full; None if the last period still falls short."""
    short = solution.shortfall
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


def _delivered_t(solution: Solution, product: str) -> float:
    d = solution.deliveries
    return float(d.loc[d["product"] == product, "quantity_t"].sum())


def non_china_premium(
    instance: InstanceLike,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    by_product: bool = False,
    tie_break: bool = True,
) -> Comparison:
    """The optimum with `max_covered_share: 0` on every product minus the optimum
    without it; `by_product` also prices each product's supply premium per kg
    delivered (one more solve per demanded product, the cap on it alone)."""
    policies = list(policies)
    base_plan = Plan(instance, scenario, policies)
    baseline = base_plan.solve(tie_break)
    non_china = Plan(base_plan.base, scenario, policies + [NON_CHINA]).solve(tie_break)
    products = demanded_products(base_plan.instance)
    comparison = Comparison(baseline, non_china, products, list(base_plan.instance.periods))
    if by_product and comparison.ok:
        for product in products:
            only = MaxCoveredShare(type="max_covered_share", share=0.0, products=[product])
            alone = Plan(base_plan.base, scenario, policies + [only]).solve(tie_break=False)
            delivered = _delivered_t(alone, product)
            if alone.optimal and delivered > 0:
                extra = supply_cost(alone) - supply_cost(baseline)
                comparison.supply_premium_usd_per_kg[product] = 1000.0 * extra / delivered
    return comparison
