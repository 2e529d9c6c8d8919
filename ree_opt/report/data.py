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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import Comparison, Factor, default_factors, non_china_premium, premium_curve, scenario_table, tornado
from ..builds import ANSWER_BUDGETS, answer_budgets
from ..instance import Instance, Scale, Scenario
from ..loading import load_instance
from ..ranging import tie_count, tightest
from ..solver import DEFAULT_MIP_GAP

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


@dataclass(frozen=True)
class SectionSpec:
    """One section of the report: its id (the HTML anchor, the layout
    builder's key), its title without a number, and whether it applies to a
    report (default: always). Numbers are given in order to those that apply."""

    id: str
    title: str
    applies: Callable[[ReportData], bool] | None = None


#: The report's sections, in order. A new section is one entry here and one
#: builder in layout.BUILDERS; numbering follows.
SECTIONS = [
    SectionSpec("answer", "The answer"),
    SectionSpec("mix", "Sourcing mix"),
    SectionSpec("binding", "What binds"),
    SectionSpec("prices", "Marginal prices"),
    SectionSpec("curve", "The premium curve"),
    SectionSpec("tornado", "What moves the premium"),
    SectionSpec("fund", "What to fund", lambda data: data.budget_curve is not None),
    SectionSpec("uncertainty", "What to sign now, before the future is known", lambda data: data.stochastic is not None),
    SectionSpec("inputs", "Appendix: scenarios, assumptions and sources"),
]


def numbered_sections(data: ReportData) -> list[tuple[str, str]]:
    """(id, "N. title") of the sections that apply to `data`, numbered in order."""
    shown = [spec for spec in SECTIONS if spec.applies is None or spec.applies(data)]
    return [(spec.id, f"{number}. {spec.title}") for number, spec in enumerate(shown, start=1)]


#: The CVaR weights of the report's risk frontier (instances with `uncertainty`).
FRONTIER_OMEGAS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Seconds each solve of a frontier point besides the two plans may take
#: (`report --frontier-time-limit`; the plans are proven to the gap). @@MEASURED@@
FRONTIER_TIME_LIMIT_S = 120.0
#: The risk-averse plan set beside the risk-neutral one, where the instance's
#: own omega is 0 (else the instance's omega).
RISK_AVERSE_OMEGA = 0.5
#: Reservations under SIGN_THRESHOLD_T tonnes of product a period are left out
#: of the report's "what to sign" table unless worth SIGN_THRESHOLD_MUSD or
#: more at the seller's price, and the rest rounded to whole tonnes: the LP
#: leaves slivers (1 t, then 3 t of Dy oxide; 3 t from a 50 t/yr Dy/Tb circuit
#: after a gap) that no one would sign, while 4 t of Tb oxide (about USD 4
#: million) is a contract.
SIGN_THRESHOLD_T = 5.0
SIGN_THRESHOLD_MUSD = 3.0

#: The funding budgets of the report's budget curve (USD million of capex the
#: plans may commit to expansions), for instances whose facilities offer
#: expansions: 0 and those below the capex of every module offered.
REPORT_BUDGETS = ANSWER_BUDGETS

#: Products the sourcing-mix chart draws, in this order, where the instance has them.
CHART_PRODUCTS = ("ndpr_oxide", "dy_oxide", "tb_oxide", "ndfeb_magnet")


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
    stochastic: object | None = None  # StochasticSolution at the instance's omega, for instances with `uncertainty`
    risk_frontier: pd.DataFrame | None = None
    stochastic_plans: dict = field(default_factory=dict)  # omega -> StochasticSolution: risk-neutral and risk-averse
    expansion_values: pd.DataFrame | None = None  # funding.expansion_value, for instances with expansions
    budget_curve: pd.DataFrame | None = None  # funding.budget_curve at the report's budgets, likewise
    mip_gap: float | None = None  # the gap "what to sign now" was solved to, where a draft asked for more than 1e-6
    frontier_time_limit: float | None = None  # seconds each frontier point besides the plans could take (None: no limit)
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

    def chart_products(self) -> list[str]:
        """The products the sourcing-mix chart draws: NdPr, Dy, Tb oxide and
        magnets where the instance makes or asks for them, else what it asks for."""
        made = {p for f in self.instance.facilities for p in f.outputs}
        asked = list(dict.fromkeys(d.product for d in self.instance.demand))
        found = [p for p in CHART_PRODUCTS if p in made or p in asked]
        return found or asked

    def supply(self) -> pd.DataFrame:
        """Tonnes of each product that arrive per plan, country and period:
        activity times the recipe's output, landing after the facility's lead
        time as the model has it (SPEC section 3: pro rata; past the horizon
        lost, or in the last period under `end_of_horizon: kept`), so that it
        compares with demand period by period. Resellers are left out: what
        they sell was made, and counted, elsewhere."""
        from ..data import lead_split

        facilities = {f.id: f for f in self.instance.facilities}
        periods = [str(p) for p in self.periods]
        kept = self.instance.end_of_horizon == "kept"
        frames = []
        for plan, solution in self.plans():
            activity = solution.activity
            if activity.empty:
                continue
            rows = []
            for row in activity.itertuples():
                facility = facilities[row.facility]
                if facility.stage == "trade":
                    continue
                whole, rest = lead_split(facility.lead_time_months, self.instance.period_length_months)
                start = periods.index(str(row.period))
                for share, index in ((1.0 - rest, start + whole), (rest, start + whole + 1)):
                    if share <= 0:
                        continue
                    if index >= len(periods):
                        if not kept:
                            continue
                        index = len(periods) - 1
                    for product, ratio in facility.outputs.items():
                        rows.append((plan, product, row.country, self.periods[index],
                                     row.quantity_t * float(ratio) * share))
            frames.append(pd.DataFrame(rows, columns=["plan", "product", "country", "period", "quantity_t"]))
        if not frames:
            return pd.DataFrame(columns=["plan", "product", "country", "period", "quantity_t"])
        table = pd.concat(frames, ignore_index=True)
        return table.groupby(["plan", "product", "country", "period"], as_index=False, sort=False)["quantity_t"].sum()

    def demand(self) -> pd.DataFrame:
        """Tonnes asked for per product and period (deliveries plus shortfall:
        the same in both plans)."""
        solution = self.comparison.baseline
        parts = [solution.deliveries[["product", "period", "quantity_t"]], solution.shortfall[["product", "period", "quantity_t"]]]
        table = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(not p.empty for p in parts) else (
            pd.DataFrame(columns=["product", "period", "quantity_t"]))
        return table.groupby(["product", "period"], as_index=False, sort=False)["quantity_t"].sum()

    def used(self) -> pd.DataFrame:
        """Tonnes of each product a plan uses per period: consumed by its
        plants (activity times the recipe's input) and delivered."""
        facilities = {f.id: f for f in self.instance.facilities}
        rows = []
        for plan, solution in self.plans():
            for row in solution.activity.itertuples():
                for product, ratio in facilities[row.facility].inputs.items():
                    rows.append((plan, product, row.period, row.quantity_t * float(ratio)))
            for row in solution.deliveries.itertuples():
                rows.append((plan, row.product, row.period, row.quantity_t))
        table = pd.DataFrame(rows, columns=["plan", "product", "period", "quantity_t"])
        return table.groupby(["plan", "product", "period"], as_index=False, sort=False)["quantity_t"].sum()

    def penalty_years(self) -> list[tuple[float, str, object]]:
        """(factor, scenario, first full period of the non-China plan) for each
        scenario of the instance that only scales every unmet-demand penalty
        (shortfall_penalty_low / _high), from the scenario table: how far the
        first clean year hangs on the assumed penalties."""
        table = self.scenarios
        if table is None or table.empty:
            return []
        firsts = [c for c in table.columns if c.startswith("first_full_")]
        found = []
        for name, scenario in self.instance.scenarios.items():
            steps = scenario.scale
            if not steps or scenario.set or scenario.shift or scenario.add_policies:
                continue
            if all(step.field == "shortfall_penalty" and not step.where for step in steps) and len(
                    {step.factor for step in steps}) == 1:
                row = table[table["scenario"] == name]
                if len(row) and firsts:
                    values = [row[c].iloc[0] for c in firsts]
                    found.append((float(steps[0].factor), name, values[0] if len(values) == 1 else values))
        return sorted(found, key=lambda item: item[0])

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

    # -- what to fund (SPEC section 7) -----------------------------------------
    @property
    def solved_instance(self) -> Instance:
        """The instance as the plans solved it (its scenario applied)."""
        from ..scenarios import apply_scenario

        return apply_scenario(self.instance, self.scenario) if self.scenario else self.instance

    def builds(self) -> pd.DataFrame:
        """The builds of each plan (builds.builds_table), the non-China plan first."""
        from ..builds import BUILD_COLUMNS, builds_table

        instance = self.solved_instance
        frames = [builds_table(solution, instance).assign(plan=plan) for plan, solution in reversed(self.plans())]
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame(columns=["plan"] + BUILD_COLUMNS)
        table = pd.concat(frames, ignore_index=True)
        return table[["plan"] + BUILD_COLUMNS]

    def funding(self) -> pd.DataFrame:
        """The budget curve with the no-limit plans last (builds.funding_table)."""
        from ..builds import funding_table

        return funding_table(self.budget_curve, self.comparison, self.solved_instance)

    def values(self) -> pd.DataFrame:
        """What each expansion is worth, most to a clean chain first (builds.values_table)."""
        from ..builds import values_table

        return values_table(self.expansion_values)

    def funding_tables(self) -> dict[str, pd.DataFrame]:
        """Section "What to fund"'s tables, for instances with expansions."""
        if self.budget_curve is None:
            return {}
        return {"builds": self.builds(), "budget_curve": self.funding(), "expansion_values": self.values()}

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
        } | self.funding_tables() | self.uncertainty_tables()

    def uncertainty_tables(self) -> dict[str, pd.DataFrame]:
        """Section 8's tables, for instances with `uncertainty`."""
        if self.stochastic is None:
            return {}
        s = self.stochastic
        plans = self.stochastic_plans or {s.omega: s}

        def by_plan(name):
            frames = [getattr(x, name).assign(omega=w) for w, x in plans.items()]
            return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

        return {
            "futures": s.futures,
            "offtakes": s.offtakes,
            "stockpile": s.stockpile,
            "plans_offtakes": by_plan("offtakes"),
            "plans_stockpile": by_plan("stockpile"),
            "risk_frontier": self.risk_frontier,
            "stochastic_summary": pd.concat(
                [x.summary().rename("value").rename_axis("quantity").reset_index().assign(omega=w)
                 for w, x in plans.items()], ignore_index=True),
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
    pairs = [f.name for f in factors if f.parameter is None and f.shift is None and f.scale is None and f.name != HEAVY_PAIR]
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


#: A scaled field, in words, for the tornado's labels.
FIELD_WORDS = {
    "capacity": "capacity", "cost": "prices", "availability": "availability", "reserved": "reservations",
    "min_take": "take-or-pay floors", "quantity": "demand", "shortfall_penalty": "unmet-demand penalties",
}


def pair_in_words(instance: Instance, stem: str) -> tuple[str, float, float] | None:
    """A scenario pair STEM_low / STEM_high that each scale one field of the
    same entities by one factor, in words with its range: ("capacity of
    Dy/Tb separation (Lynas, MP Materials) (x0.5 / x2)", 0.5, 2.0). None
    where the pair is not of that shape (its label is then its name and its
    scenarios)."""
    from ..dual_words import activity_words, byproducts

    low, high = instance.scenarios.get(f"{stem}_low"), instance.scenarios.get(f"{stem}_high")
    if low is None or high is None:
        return None
    ends = []
    for scenario in (low, high):
        if not scenario.scale or scenario.set or scenario.shift or scenario.add_policies:
            return None
        if len({step.factor for step in scenario.scale}) != 1 or len({step.field for step in scenario.scale}) != 1:
            return None
        ends.append((scenario.scale[0].field, [dict(step.where) for step in scenario.scale], scenario.scale[0].factor))
    (field_low, where_low, factor_low), (field_high, where_high, factor_high) = ends
    if field_low != field_high or where_low != where_high:
        return None
    words = FIELD_WORDS.get(field_low, field_low.replace("_", " "))
    span = f"(x{factor_low:g} / x{factor_high:g})"
    if field_low in ("quantity", "shortfall_penalty"):  # demand entries
        if all(not where for where in where_low):
            return f"{words} {span}", float(factor_low), float(factor_high)
        return f"{words} of {', '.join(str(v) for w in where_low for v in w.values())} {span}", float(factor_low), float(factor_high)
    matched = [f for f in instance.facilities
               if any(all(str(getattr(f, k, None)) == str(v) for k, v in where.items()) for where in where_low)]
    if not matched:
        return None
    side = byproducts(instance.products, (d.product for d in instance.demand),
                      (p for f in instance.facilities for p in f.inputs))
    activities = {activity_words(f.stage, f.outputs, side) for f in matched}
    companies = list(dict.fromkeys(f.company or f.name or f.id for f in matched))
    who = (f"{activities.pop()} ({', '.join(companies)})" if len(activities) == 1 and len(matched) > 1
           else matched[0].name or matched[0].id if len(matched) == 1 else ", ".join(companies))
    return f"{words} of {who} {span}", float(factor_low), float(factor_high)


def tornado_in_words(instance: Instance, spread: pd.DataFrame) -> pd.DataFrame:
    """The tornado with every bar in words and its range: scenario pairs
    (`heavy_separation`) named by what they scale and by how much, their
    ends the factors (0.5, 2) instead of the scenarios' names."""
    if spread.empty:
        return spread
    spread = spread.copy()
    spread["low"] = spread["low"].astype(object)
    spread["high"] = spread["high"].astype(object)
    for index, row in spread.iterrows():
        low = str(row["low"])
        if low == f"{HEAVY_PAIR}_low":  # the report's own pair: price multiples
            spread.loc[index, ["low", "high"]] = [HEAVY_PRICE_LOW, HEAVY_PRICE_HIGH]
            continue
        if not low.endswith("_low") or low[:-4] not in {str(row["factor"])}:
            continue
        found = pair_in_words(instance, low[:-4])
        if found is None:
            spread.loc[index, "factor"] = f"{low[:-4].replace('_', ' ')} (scenarios {low} / {row['high']})"
            continue
        spread.loc[index, ["factor", "low", "high"]] = [found[0], found[1], found[2]]
    return spread


# --------------------------------------------------------------------------
# Collecting


#: The relative cost of the report's steps, in about one LP of the baseline
#: (measured on the baseline: an LP 0.2-0.5 s, a warm-started curve point a
#: tenth of that, an extensive form over 24 futures 10-20 s): what the
#: progress bar advances by, so that it moves with the time spent.
LP_WEIGHT = 1.0
CURVE_POINT_WEIGHT = 0.1
#: A solve of the funding section (SPEC section 7), on a model kept and
#: re-solved in place: each expansion's value takes two (an option closed in
#: each plan), a budget of the budget curve two more. Measured on the
#: baseline with its expansions: 2.6 s for its 20 value solves, 0.5 s for 5
#: budgets, against about 1 s for each tornado solve (a model built anew).
REUSED_SOLVE_WEIGHT = 0.15
BUDGET_POINT_WEIGHT = 2 * REUSED_SOLVE_WEIGHT
DRAW_WEIGHT = 4.0  # charts and the file, after `collect` (the command line ticks it)


def _decision_omegas(instance: Instance) -> tuple[float, ...]:
    """The risk-neutral plan and a risk-averse one: the instance's omega if
    it is above 0, else RISK_AVERSE_OMEGA."""
    own = float(instance.uncertainty.omega) if instance.uncertainty is not None else 0.0
    return (0.0, own if own > 0 else RISK_AVERSE_OMEGA)


def report_budgets(instance: Instance, budgets=None) -> list[float]:
    """The budgets the report's budget curve solves (builds.answer_budgets)."""
    return answer_budgets(instance, budgets)


def step_count(instance, shares=DEFAULT_SHARES, scenario=None, budgets=None,
               frontier_time_limit: float | None = FRONTIER_TIME_LIMIT_S) -> float:
    """What `collect` reports to `progress` in all: each solve weighed by its
    cost (LP_WEIGHT, CURVE_POINT_WEIGHT, REUSED_SOLVE_WEIGHT,
    BUDGET_POINT_WEIGHT, the stochastic weights of stochastic.decision).
    The premium solves its plans and one per product; expansion values two
    plans, then two per expansion."""
    instance = load_instance(instance)
    _, factors, _ = report_factors(instance)
    products = len({d.product for d in instance.demand})
    weight = (2 + products) * LP_WEIGHT + len(list(shares)) * CURVE_POINT_WEIGHT
    weight += (2 * len(factors) + len(instance.scenarios) + 1) * LP_WEIGHT
    expansions = sum(len(f.expansions or []) for f in instance.facilities)
    if expansions:
        from ..scenarios import apply_scenario

        weight += (2 + 2 * expansions) * REUSED_SOLVE_WEIGHT
        weight += len(report_budgets(apply_scenario(instance, scenario), budgets)) * BUDGET_POINT_WEIGHT
    if instance.uncertainty is not None:
        from ..stochastic.decision import decide_weight

        lumpy = any(e.lumpy for f in instance.facilities for e in (f.expansions or []))
        weight += decide_weight(instance.uncertainty.future_count(), _decision_omegas(instance), FRONTIER_OMEGAS,
                                mip=lumpy, frontier_time_limit=frontier_time_limit)
    return weight


def collect(instance, scenario: str | None = None, shares=None, progress=None, budgets=None,
            mip_gap: float | None = None, frontier_time_limit: float | None = FRONTIER_TIME_LIMIT_S) -> ReportData:
    """Run every solve of the report once. `progress(weight, label)` is called
    as steps finish, with the step's weight (their sum is `step_count`) and
    what it was. `budgets` (USD million; default REPORT_BUDGETS) are those
    of the budget curve, for instances whose facilities offer expansions.
    `mip_gap`: the gap the decisions under uncertainty are proven to (a
    draft; default section 7's 1e-6). `frontier_time_limit`: seconds each
    solve of a frontier point besides the two plans may take (None: no
    limit); a point stopped there keeps the best plan found, and the
    section says how close it is proven."""
    path = str(instance) if isinstance(instance, (str, os.PathLike)) else None
    base = load_instance(instance)
    shares = list(DEFAULT_SHARES if shares is None else shares)
    report = progress or (lambda weight, label="": None)

    def ticks(weight: float, label: str):
        """A progress(n) for the library's sweeps: n solves of `weight` each."""
        return lambda done=1: report(done * weight, label)

    products = len({d.product for d in base.demand})
    comparison = non_china_premium(base, scenario=scenario, by_product=True)
    report((2 + products) * LP_WEIGHT, "the non-China premium")
    if not comparison.ok:
        bad = comparison.baseline if not comparison.baseline.optimal else comparison.non_china
        raise ReportError(f"the solve ended {bad.status}: {bad.message}")
    curve = premium_curve(base, shares=shares, scenario=scenario,
                          progress=ticks(CURVE_POINT_WEIGHT, "the premium curve"))
    swung, factors, note = report_factors(base)
    spread = tornado(swung, factors=factors, scenario=scenario, progress=ticks(LP_WEIGHT, "the tornado"))
    spread = tornado_in_words(swung, spread)
    table = scenario_table(base, list(base.scenarios), progress=ticks(LP_WEIGHT, "the scenario table"))
    values, funded = None, None
    if any(f.expansions for f in base.facilities):
        from ..funding import budget_curve, expansion_value
        from ..scenarios import apply_scenario

        values = expansion_value(base, scenario=scenario, progress=ticks(REUSED_SOLVE_WEIGHT, "what each expansion is worth"))
        funded = budget_curve(base, report_budgets(apply_scenario(base, scenario), budgets), scenario=scenario,
                              executor=None, progress=ticks(BUDGET_POINT_WEIGHT, "the budget curve"))
    stochastic, frontier, plans = None, None, {}
    if base.uncertainty is not None:
        from ..stochastic.decision import decide

        omegas = _decision_omegas(base)
        decision = decide(base, plans=omegas, frontier=FRONTIER_OMEGAS, mip_gap=mip_gap,
                          frontier_time_limit=frontier_time_limit,
                          progress=lambda weight, label: report(weight, f"decisions under uncertainty: {label}"))
        plans, frontier = decision.plans, decision.frontier
        for solution in plans.values():
            if not solution.optimal:
                raise ReportError(f"the stochastic solve ended {solution.status}: {solution.message}")
        own = float(base.uncertainty.omega)
        stochastic = plans[own] if own in plans else plans[0.0]
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
        stochastic_plans=plans,
        expansion_values=values,
        budget_curve=funded,
        mip_gap=mip_gap if base.uncertainty is not None and mip_gap is not None and mip_gap > DEFAULT_MIP_GAP else None,
        frontier_time_limit=frontier_time_limit if base.uncertainty is not None else None,
    )


def _version() -> str:
    from .. import __version__  # at call time: ree_opt/__init__ imports this package before defining it

    return __version__


class ReportError(RuntimeError):
    """A report that cannot be built (a solve that is not optimal)."""
