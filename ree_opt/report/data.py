"""Every number of the report, computed once.

`collect` runs the solves (the non-China premium with its per-product
supply premiums, the premium curve, the tornado and the scenario table) and
derives the tables the report shows. The HTML, Markdown and CSV renderings
read only a `ReportData`, so all three show the same numbers, and a test can
check those numbers against the library's.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import Comparison, Factor, default_factors, non_china_premium, premium_curve, scenario_table, tornado
from ..instance import Instance, Scale, Scenario
from ..loading import load_instance
from ..ranging import tie_count, tightest

#: Allowed covered share, loose to tight: the x axis of the premium curve.
DEFAULT_SHARES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0)

#: The oxides whose marginal prices section 4 shows, in this order.
PRICE_PRODUCTS = ("ndpr_oxide", "dy_oxide", "tb_oxide")

#: Public reference prices (USD/kg), from ../shared/data/ree_facts.md
#: section 4: USGS Mineral Commodity Summaries 2026 (Argus, FOB China) and
#: the DoD-MP Materials price floor. Not instance data: the same for every
#: instance, shown only for the products the instance has.
REFERENCE_PRICES = [
    {"product": "ndpr_oxide", "reference": "DoD-MP Materials price floor (10 years from Oct 2025)", "label": "DoD floor",
     "usd_per_kg": 110.0, "source": "MP Materials / US DoD agreement, July 2025"},
    {"product": "ndpr_oxide", "reference": "China 2025 average, FOB (Argus)", "label": "China 2025",
     "usd_per_kg": 69.0, "source": "USGS Mineral Commodity Summaries 2026"},
    {"product": "dy_oxide", "reference": "China 2025 average, FOB (Argus)", "label": "China 2025",
     "usd_per_kg": 239.0, "source": "USGS Mineral Commodity Summaries 2026 (approximate)"},
    {"product": "tb_oxide", "reference": "China 2025 average, FOB (Argus)", "label": "China 2025",
     "usd_per_kg": 1010.0, "source": "USGS Mineral Commodity Summaries 2026 (approximate)"},
]

#: The ex-China heavy rare-earth price multiple the tornado swings when the
#: instance has no scenario pair for it: x1 (normal times) to x3 (Europe
#: after China's April 2025 controls, Argus May 2025; ree_facts s4c).
HEAVY_PRICE_LOW, HEAVY_PRICE_HIGH = 1.0, 3.0
HEAVY_PRODUCTS = ("dy_oxide", "tb_oxide")
HEAVY_PAIR = "heavy_price_multiple"

#: Stages upstream to downstream: the order of the sourcing-mix rows.
STAGE_ORDER = ["mine", "recycling", "separation", "metal", "magnet", "trade"]

#: Under `end_of_horizon: lost`, a stage whose activity in the last period
#: falls below this share of the period before is flagged under the
#: sourcing-mix chart as an end-of-horizon effect (activity of at most
#: `END_DROP_MIN_T` tonnes in the period before is not a drop).
END_DROP_SHARE = 0.5
END_DROP_MIN_T = 0.5

BINDING_TOP = 10
RANGING_TOP = 8
SECTIONS = [
    ("answer", "1. The answer"),
    ("mix", "2. Sourcing mix"),
    ("binding", "3. What binds"),
    ("prices", "4. Marginal prices"),
    ("curve", "5. The premium curve"),
    ("tornado", "6. What moves the premium"),
    ("inputs", "7. Scenarios, assumptions and sources"),
    ("uncertainty", "8. Decide now, under uncertainty"),
]

#: The CVaR weights of the report's risk frontier (instances with `uncertainty`).
FRONTIER_OMEGAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _created() -> str:
    """Today, or the day of SOURCE_DATE_EPOCH (seconds since 1970, UTC) where
    it is set: the reproducible-builds convention, so a report can be rebuilt
    byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).date().isoformat()
        except (ValueError, OverflowError, OSError):
            pass  # not a number of seconds: ignored, as other tools do
    return _dt.date.today().isoformat()


@dataclass
class ReportData:
    """The solves and the tables of one report. Money in USD million unless a
    column says otherwise, quantities in tonnes, prices in USD/kg."""

    instance: Instance
    instance_path: str | None
    scenario: str | None
    comparison: Comparison
    curve: pd.DataFrame
    tornado: pd.DataFrame
    scenarios: pd.DataFrame
    tornado_note: str = ""
    stochastic: object | None = None  # StochasticSolution, for instances with `uncertainty`
    risk_frontier: pd.DataFrame | None = None
    created: str = field(default_factory=lambda: _created())
    version: str = field(default_factory=lambda: _version())

    # -- the answer ------------------------------------------------------------
    @property
    def summary(self) -> pd.Series:
        """baseline_musd, non_china_musd, premium_musd, premium_pct, ... (Comparison.summary)."""
        return self.comparison.summary()

    @property
    def periods(self) -> list:
        return list(self.comparison.periods)

    @property
    def horizon(self) -> str:
        periods = self.periods
        return f"{periods[0]}-{periods[-1]}" if len(periods) > 1 else str(periods[0])

    def products(self) -> pd.DataFrame:
        """Per demanded product: first period the clean chain meets it in full,
        supply premium per kg delivered, unmet tonnes over the horizon."""
        c = self.comparison
        unmet = c.unmet.groupby("product", sort=False)[["baseline_t", "non_china_t"]].sum()
        rows = []
        for product in c.products:
            first = c.first_full_period.get(product)
            rows.append({
                "product": product,
                "first_full_period": "never" if first is None else first,
                "supply_premium_usd_per_kg": c.supply_premium_usd_per_kg.get(product, np.nan),
                "unmet_baseline_t": float(unmet["baseline_t"].get(product, 0.0)),
                "unmet_non_china_t": float(unmet["non_china_t"].get(product, 0.0)),
            })
        return pd.DataFrame(rows, columns=[
            "product", "first_full_period", "supply_premium_usd_per_kg", "unmet_baseline_t", "unmet_non_china_t",
        ])

    def unmet(self) -> pd.DataFrame:
        """Unmet tonnes per product and period, baseline and non-China."""
        return self.comparison.unmet

    def meta(self) -> list[str]:
        """What the report was made from, one phrase each (its header line)."""
        return [
            f"instance {self.instance_path or self.instance.name}",
            f"scenario {self.scenario}" if self.scenario else "no scenario applied",
            f"horizon {self.horizon}",
            f"covered countries {', '.join(self.instance.covered_countries)}",
            f"ree_opt {self.version}, {self.created}",
        ]

    # -- sourcing mix ----------------------------------------------------------
    def plans(self) -> list[tuple[str, object]]:
        return [("baseline", self.comparison.baseline), ("non-China", self.comparison.non_china)]

    def mix(self) -> pd.DataFrame:
        """Tonnes of activity per plan, stage, country and period."""
        frames = []
        for plan, solution in self.plans():
            activity = solution.activity
            if activity.empty:
                continue
            grouped = activity.groupby(["stage", "country", "period"], as_index=False, sort=False)["quantity_t"].sum()
            grouped.insert(0, "plan", plan)
            frames.append(grouped)
        if not frames:
            return pd.DataFrame(columns=["plan", "stage", "country", "period", "quantity_t"])
        return pd.concat(frames, ignore_index=True)

    def end_of_horizon_drops(self) -> pd.DataFrame:
        """Under `end_of_horizon: lost`, each plan and stage whose activity
        (t of output, all countries) in the last period falls below half of
        the period before: output due after the horizon is lost, so the plan
        buys the last period's material a period early and holds it (SPEC
        section 3). Empty under `kept` and for a one-period horizon."""
        columns = ["plan", "stage", "previous_period", "last_period", "previous_t", "last_t"]
        periods = self.periods
        if self.instance.end_of_horizon != "lost" or len(periods) < 2:
            return pd.DataFrame(columns=columns)
        previous, last = periods[-2], periods[-1]
        totals = self.mix().groupby(["plan", "stage", "period"], sort=False)["quantity_t"].sum()
        stages = {name: i for i, name in enumerate(STAGE_ORDER)}
        rows = []
        for plan, _ in self.plans():
            if plan not in totals.index.get_level_values("plan"):
                continue
            part = totals.loc[plan]
            for stage in sorted(dict.fromkeys(part.index.get_level_values("stage")),
                                key=lambda s: (stages.get(s, 99), str(s))):
                before = float(part.get((stage, previous), 0.0))
                after = float(part.get((stage, last), 0.0))
                if before > END_DROP_MIN_T and after < END_DROP_SHARE * before:
                    rows.append([plan, stage, previous, last, before, after])
        return pd.DataFrame(rows, columns=columns)

    # -- what binds ------------------------------------------------------------
    def binding(self, top: int = BINDING_TOP) -> pd.DataFrame:
        """The rows with the largest shadow prices of each plan, in words."""
        frames = []
        for plan, solution in reversed(self.plans()):  # the non-China plan first: what the question is about
            table = solution.binding.head(top).copy()
            table.insert(0, "rank", range(1, len(table) + 1))
            table.insert(0, "plan", plan)
            frames.append(table)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # -- ranging ---------------------------------------------------------------
    def ranging(self, top: int = RANGING_TOP) -> pd.DataFrame:
        """The baseline plan's tightest ranges (Solution.ranging): the facility
        prices and capacities the least-cost plan is most sensitive to, least
        room first, ties left out (see `ranging_ties`)."""
        table = tightest(self.comparison.baseline.ranging, top)
        table.insert(0, "rank", range(1, len(table) + 1))
        return table

    def ranging_ties(self) -> int:
        """Facility-periods of the baseline plan whose price has no room at
        all: an equally cheap alternative exists."""
        return tie_count(self.comparison.baseline.ranging)

    # -- prices ----------------------------------------------------------------
    def price_products(self) -> list[str]:
        present = set(self.comparison.baseline.marginal_prices["product"])
        return [p for p in PRICE_PRODUCTS if p in present]

    def prices(self) -> pd.DataFrame:
        """Marginal prices (USD/kg) of clean and covered oxides per period: the
        baseline's clean and covered balances, and the non-China plan's clean
        one. Where makers are tracked, the highest over makers (as `sweep`)."""
        frames = []
        products = self.price_products()
        for plan, solution in self.plans():
            prices = solution.marginal_prices
            prices = prices[prices["product"].isin(products)]
            if plan != "baseline":
                prices = prices[prices["label"] == "clean"]
            if prices.empty:
                continue
            table = prices.groupby(["product", "label", "period"], as_index=False, sort=False)["usd_per_kg"].max()
            table.insert(2, "plan", plan)
            frames.append(table)
        if not frames:
            return pd.DataFrame(columns=["product", "label", "plan", "period", "usd_per_kg"])
        table = pd.concat(frames, ignore_index=True)
        table["usd_per_kg"] = table["usd_per_kg"].where(table["usd_per_kg"].abs() > 1e-9, 0.0)
        return table

    def reference_prices(self) -> pd.DataFrame:
        products = self.price_products()
        return pd.DataFrame([r for r in REFERENCE_PRICES if r["product"] in products],
                            columns=["product", "reference", "label", "usd_per_kg", "source"])

    # -- inputs ----------------------------------------------------------------
    def assumptions(self) -> pd.DataFrame:
        """Every assumption the instance states: its own, its products',
        facilities', demand entries', policies' and scenarios'."""
        inst = self.instance
        rows = []

        def add(kind, key, name, entity):
            if entity.assumption or entity.notes:
                rows.append({"kind": kind, "id": key, "name": name or "", "assumption": entity.assumption or "",
                             "notes": entity.notes or "", "source": entity.source or ""})

        add("instance", inst.name, "", inst)
        for key, product in inst.products.items():
            add("product", key, "", product)
        for facility in inst.facilities:
            label = facility.name or ""
            if facility.company and facility.company not in label:
                label = f"{label} ({facility.company})" if label else facility.company
            add("facility", facility.id, label, facility)
        for entry in inst.demand:
            add("demand", f"{entry.segment} / {entry.product}", "", entry)
        for index, policy in enumerate(inst.policies):
            add("policy", f"policies[{index}]", policy.type, policy)
        for key, scenario in inst.scenarios.items():
            add("scenario", key, scenario.description, scenario)
        return pd.DataFrame(rows, columns=["kind", "id", "name", "assumption", "notes", "source"])

    def sources(self) -> pd.DataFrame:
        rows = []
        for source in self.instance.sources:
            if isinstance(source, dict):
                rows.append({k: "" if source.get(k) is None else str(source.get(k))
                             for k in ("id", "title", "publisher", "date", "url")})
            else:
                rows.append({"id": "", "title": str(source), "publisher": "", "date": "", "url": ""})
        return pd.DataFrame(rows, columns=["id", "title", "publisher", "date", "url"])

    # -- everything, for CSV and tests -----------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report, by name (the CSV file names)."""
        summary = self.summary.rename("value").rename_axis("quantity").reset_index()
        return {
            "summary": summary,
            "products": self.products(),
            "unmet": self.unmet(),
            "mix": self.mix(),
            "binding": self.binding(),
            "ranging": self.ranging(),
            "prices": self.prices(),
            "reference_prices": self.reference_prices(),
            "premium_curve": self.curve,
            "tornado": self.tornado,
            "scenarios": self.scenarios,
            "assumptions": self.assumptions(),
            "sources": self.sources(),
        } | self.uncertainty_tables()

    def uncertainty_tables(self) -> dict[str, pd.DataFrame]:
        """Section 8's tables, for instances with `uncertainty`."""
        if self.stochastic is None:
            return {}
        s = self.stochastic
        return {
            "futures": s.futures,
            "offtakes": s.offtakes,
            "stockpile": s.stockpile,
            "risk_frontier": self.risk_frontier,
            "stochastic_summary": s.summary().rename("value").rename_axis("quantity").reset_index(),
        }


# --------------------------------------------------------------------------
# The tornado's factors


def heavy_price_facilities(instance: Instance) -> list[str]:
    """Ex-covered sellers of Dy/Tb oxide (facilities outside the covered
    countries that make, not buy, Dy or Tb oxide), and the outside producers
    of feeds only they consume (xenotime concentrate for a heavy circuit)."""
    covered = set(instance.covered_countries)
    outside = [f for f in instance.facilities if f.country not in covered]
    sellers = [
        f for f in outside
        if any(p in f.outputs for p in HEAVY_PRODUCTS) and not any(p in f.inputs for p in HEAVY_PRODUCTS)
    ]
    seller_ids = {f.id for f in sellers}
    feeds = {p for f in sellers for p in f.inputs}
    only_theirs = {
        p for p in feeds
        if all(f.id in seller_ids for f in instance.facilities if p in f.inputs)
    }
    suppliers = [f for f in outside if f.id not in seller_ids and any(p in only_theirs for p in f.outputs)]
    return [f.id for f in sellers + suppliers]


def report_factors(instance: Instance) -> tuple[Instance, list[Factor], str]:
    """The tornado's factors: the library's defaults (`analysis.default_factors`),
    plus the ex-China Dy/Tb price multiple (x1 / x3) when the instance has
    heavy sellers outside the covered countries and no scenario pair for it.
    That factor is a scenario pair added to a copy of the instance, which is
    returned with the factors and a note on what the tornado leaves out."""
    names = set(instance.scenarios)
    heavy = heavy_price_facilities(instance)
    if heavy and f"{HEAVY_PAIR}_low" not in names and f"{HEAVY_PAIR}_high" not in names:
        def scaled(factor):
            return Scenario(
                description=f"Ex-China Dy/Tb sellers at x{factor:g} their price (report tornado)",
                scale=[Scale(where={"id": f_id}, field="cost", factor=factor) for f_id in heavy],
            )

        scenarios = dict(instance.scenarios)
        scenarios[f"{HEAVY_PAIR}_low"] = scaled(HEAVY_PRICE_LOW)
        scenarios[f"{HEAVY_PAIR}_high"] = scaled(HEAVY_PRICE_HIGH)
        instance = instance.model_copy(update={"scenarios": scenarios})
    factors = default_factors(instance)
    for factor in factors:
        if factor.name == HEAVY_PAIR:
            factor.name = f"ex-China Dy/Tb prices (x{HEAVY_PRICE_LOW:g} / x{HEAVY_PRICE_HIGH:g})"
    pairs = [f.name for f in factors if f.parameter is None and f.shift is None and f.name != HEAVY_PAIR]
    note = (
        "Each bar is one input at its low and high value, every other input at its central value. "
        "Any scenario pair NAME_low / NAME_high in the instance becomes a bar: that is how conflicting "
        "source figures (capacities, demand readings) enter."
    )
    if not any("Dy/Tb" in f.name or f.name.startswith(HEAVY_PAIR) for f in factors):
        note += " This instance has no ex-China Dy/Tb seller, so Dy/Tb prices have no bar."
    if not [p for p in pairs if "Dy/Tb" not in p]:
        note += " This instance defines no such pair, so conflicting figures are not swung here."
    return instance, factors, note


# --------------------------------------------------------------------------
# Collecting


def step_count(instance, shares=DEFAULT_SHARES) -> int:
    """How many progress steps `collect` reports: the premium, each curve
    point, each tornado solve, each scenario-table row."""
    instance = load_instance(instance)
    _, factors, _ = report_factors(instance)
    stochastic = 2 if instance.uncertainty is not None else 0
    return 1 + len(list(shares)) + 2 * len(factors) + len(instance.scenarios) + 1 + stochastic


def collect(instance, scenario: str | None = None, shares=None, progress=None) -> ReportData:
    """Run every solve of the report once. `progress(n)` is called with the
    number of steps finished (see `step_count`)."""
    path = str(instance) if isinstance(instance, (str, os.PathLike)) else None
    base = load_instance(instance)
    shares = list(DEFAULT_SHARES if shares is None else shares)
    tick = progress or (lambda done=1: None)

    comparison = non_china_premium(base, scenario=scenario, by_product=True)
    tick(1)
    if not comparison.ok:
        bad = comparison.baseline if not comparison.baseline.optimal else comparison.non_china
        raise ReportError(f"the solve ended {bad.status}: {bad.message}")
    curve = premium_curve(base, shares=shares, scenario=scenario, progress=tick)
    swung, factors, note = report_factors(base)
    spread = tornado(swung, factors=factors, scenario=scenario, progress=tick)
    heavy = spread["low"].astype(str) == f"{HEAVY_PAIR}_low" if not spread.empty else []
    if len(heavy) and heavy.any():  # the added pair's ends are price multiples, not scenarios of the instance
        spread["low"] = spread["low"].astype(object)
        spread["high"] = spread["high"].astype(object)
        spread.loc[heavy, "low"], spread.loc[heavy, "high"] = HEAVY_PRICE_LOW, HEAVY_PRICE_HIGH
    table = scenario_table(base, list(base.scenarios), progress=tick)
    stochastic, frontier = None, None
    if base.uncertainty is not None:
        from ..stochastic import risk_frontier, solve_stochastic

        stochastic = solve_stochastic(base)
        tick(1)
        if not stochastic.optimal:
            raise ReportError(f"the stochastic solve ended {stochastic.status}: {stochastic.message}")
        frontier = risk_frontier(base, omegas=FRONTIER_OMEGAS)
        tick(1)
    return ReportData(
        instance=base,
        instance_path=None if path is None else Path(path).name,
        scenario=scenario,
        comparison=comparison,
        curve=curve,
        tornado=spread,
        scenarios=table,
        tornado_note=note,
        stochastic=stochastic,
        risk_frontier=frontier,
    )


def _version() -> str:
    from .. import __version__  # at call time: ree_opt/__init__ imports this package before defining it

    return __version__


class ReportError(RuntimeError):
    """A report that cannot be built (a solve that is not optimal)."""
