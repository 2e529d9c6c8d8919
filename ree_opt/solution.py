"""The Solution: status, objective and tidy tables of the reported plan.

Every number traces to an input and a constraint: activity to `capacity`
and `take_or_pay`, deliveries and shortfall to `demand`, marginal prices to
`balance` duals (USD/kg: the objective is in USD million, quantities in t,
so one USD million per t is 1000 USD/kg), binding rows to their families.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import COVERED, STOCK, UNTRACKED, ModelData
from .display import solution_html, solution_summary
from .model.demand import DELIVERY, SHORTFALL
from .dual_words import activity_words
from .model.flows import ACTIVITY, BALANCE, CAPACITY, PAID, SALES, STOCK_HELD, side_products
from .model.investment import BUILD
from .ranging import RawRanging, empty_ranging, ranging_table
from .solver import CompiledModel, Outcome

ACTIVITY_COLUMNS = ["facility", "country", "stage", "label", "period", "quantity_t", "cost_musd"]
DELIVERY_COLUMNS = ["segment", "product", "label", "period", "quantity_t"]
SHORTFALL_COLUMNS = ["segment", "product", "period", "quantity_t", "penalty_musd"]
PRICE_COLUMNS = ["product", "label", "period", "usd_per_kg", "maker", "maker_risk"]
BINDING_COLUMNS = ["constraint", "index", "dual", "unit", "meaning"]
SHARE_COLUMNS = ["product", "period", "covered_t", "delivered_t", "share"]
STOCK_COLUMNS = ["product", "label", "period", "quantity_t"]
SALES_COLUMNS = ["product", "period", "quantity_t", "revenue_musd"]
INVESTMENT_COLUMNS = ["facility", "expansion", "period", "online", "modules", "capacity_t", "capex_musd", "charge_musd"]

TOLERANCE_T = 1e-7
DUAL_TOLERANCE = 1e-9  # USD million per unit of the row


@dataclass
class Solution:
    """The answer of one solve. Tables are empty when the status is not optimal."""

    status: str
    objective: float | None
    cost_breakdown: pd.Series
    activity: pd.DataFrame
    deliveries: pd.DataFrame
    shortfall: pd.DataFrame
    marginal_prices: pd.DataFrame
    binding: pd.DataFrame
    covered_share: pd.DataFrame
    stock: pd.DataFrame
    sales: pd.DataFrame
    instance_name: str = ""
    scenario: str | None = None
    message: str = ""
    periods: list = field(default_factory=list)
    #: How far each facility's cost (USD/kg) and capacity (t) may move per
    #: period with the plan unchanged: read at the cost-minimal solve, before
    #: the tie-break (ranging.py). Columns: kind (cost | capacity), facility,
    #: name, country, period, value, lower, upper (+-inf: no limit), unit,
    #: used_t, room_pct, tie (less than a cent or a thousandth of a tonne of room), meaning.
    ranging: pd.DataFrame = field(default_factory=empty_ranging)
    solver: str = "highs"
    #: What the user should know about the numbers: families of coefficients
    #: that span more than 1e9 (naming the entities), HiGHS's own warnings.
    warnings: list[str] = field(default_factory=list)
    #: The builds of the plan (SPEC section 7): facility, expansion, period
    #: (decided), online (first period with capacity; None past the horizon),
    #: modules, capacity_t (per period at full rate), capex_musd (committed),
    #: charge_musd (in the objective). Empty without expansions.
    investments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INVESTMENT_COLUMNS))
    #: The proven relative gap of the integer solve (section 7); 0.0 for an LP.
    mip_gap: float = 0.0
    #: Does the instance offer expansions (then `investments` is one of the tables)?
    has_expansions: bool = False
    #: What a tonne of capacity of each facility that offers expansions is,
    #: in words ("Dy/Tb separation"): how the screens say what a build adds.
    capacity_words: dict[str, str] = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def tables(self) -> dict:
        """Every table by name: the CSV files of `--out`, the sheets of a workbook."""
        return {
            "cost_breakdown": self.cost_breakdown,
            "activity": self.activity,
            "deliveries": self.deliveries,
            "shortfall": self.shortfall,
            "covered_share": self.covered_share,
            "marginal_prices": self.marginal_prices,
            "binding": self.binding,
            "ranging": self.ranging,  # no-limit ends (+-inf): blank cells in a workbook; `meaning` says so
            "stock": self.stock,
            "sales": self.sales,
        } | ({"investments": self.investments} if self.has_expansions else {})

    def unmet_t(self) -> pd.DataFrame:
        """Unmet tonnes per product and period."""
        if self.shortfall.empty:
            return pd.DataFrame(columns=["product", "period", "quantity_t"])
        return self.shortfall.groupby(["product", "period"], as_index=False, sort=False)["quantity_t"].sum()

    def __repr__(self) -> str:
        return solution_summary(self)

    def _repr_html_(self) -> str:
        return solution_html(self)


def empty_solution(status: str, message: str, name: str = "", scenario=None) -> Solution:
    frame = lambda columns: pd.DataFrame(columns=columns)  # noqa: E731
    return Solution(
        status=status,
        objective=None,
        cost_breakdown=pd.Series(dtype=float, name="cost_musd"),
        activity=frame(ACTIVITY_COLUMNS),
        deliveries=frame(DELIVERY_COLUMNS),
        shortfall=frame(SHORTFALL_COLUMNS),
        marginal_prices=frame(PRICE_COLUMNS),
        binding=frame(BINDING_COLUMNS),
        covered_share=frame(SHARE_COLUMNS),
        stock=frame(STOCK_COLUMNS),
        sales=frame(SALES_COLUMNS),
        instance_name=name,
        scenario=scenario,
        message=message,
    )


class Reader:
    """Values of one variable family, by key. `view` is a CompiledModel, or
    anything with `columns_of(family)` (the first stage of an extensive form)."""

    def __init__(self, view, family, values: np.ndarray):
        self.keys, cols = view.columns_of(family)
        self.values = values[cols]

    def items(self):
        return zip(self.keys, self.values)


def build_solution(
    data: ModelData, compiled: CompiledModel, outcome: Outcome, scenario: str | None = None
) -> Solution:
    name = data.instance.name
    if outcome.values is None:
        return empty_solution(outcome.status, outcome.message, name, scenario)
    x = outcome.values
    periods = data.periods
    facilities = {f.id: f for f in data.facilities}

    act = Reader(compiled, ACTIVITY, x)
    paid = dict(Reader(compiled, PAID, x).items())
    by_facility: dict = {}
    for (f_id, label, _, t), value in act.items():
        by_facility.setdefault((f_id, t), {}).setdefault(label, 0.0)
        by_facility[(f_id, t)][label] += value
    for key in paid:
        by_facility.setdefault(key, {})
    rows = []
    for (f_id, t), labels in by_facility.items():
        f = facilities[f_id]
        total = sum(labels.values())
        bought = paid.get((f_id, t), total)
        price = f.cost_usd_per_kg[t] / 1000.0
        if total <= TOLERANCE_T:
            if bought > TOLERANCE_T:
                rows.append((f_id, f.country, f.stage, f.labels[0], periods[t], 0.0, price * bought))
            continue
        for label, value in labels.items():
            if value > TOLERANCE_T:
                rows.append((f_id, f.country, f.stage, label, periods[t], value, price * bought * value / total))
    activity = _sorted(pd.DataFrame(rows, columns=ACTIVITY_COLUMNS), data, ["facility", "label"])

    deliv = Reader(compiled, DELIVERY, x)
    delivered: dict = {}
    for (d_index, label, _, t), value in deliv.items():
        entry = data.demand[d_index]
        key = (entry.segment, entry.product, label, t)
        delivered[key] = delivered.get(key, 0.0) + value
    deliveries = pd.DataFrame(
        [(s, p, l, periods[t], v) for (s, p, l, t), v in delivered.items() if v > TOLERANCE_T],
        columns=DELIVERY_COLUMNS,
    )
    deliveries = _sorted(deliveries, data, ["segment", "product", "label"])

    shortfall = shortfall_table(data, compiled, x)

    ranging = ranging_table(
        data,
        outcome.at_optimum if isinstance(outcome.at_optimum, RawRanging) else None,
        capacity_duals(compiled, outcome.duals),
    )

    share_rows = []
    totals: dict = {}
    for (segment, product, label, t), value in delivered.items():
        covered, total = totals.get((product, t), (0.0, 0.0))
        totals[(product, t)] = (covered + (value if label == COVERED else 0.0), total + value)
    for (product, t), (covered, total) in totals.items():
        if total > TOLERANCE_T:
            share_rows.append((product, periods[t], covered, total, covered / total))
    covered_share = _sorted(pd.DataFrame(share_rows, columns=SHARE_COLUMNS), data, ["product"])

    stock_rows, holding = {}, 0.0
    for (p, label, _, t), value in Reader(compiled, STOCK_HELD, x).items():
        holding += value * data.products[p].holding_cost[t] / 1000.0
        stock_rows[(p, label, t)] = stock_rows.get((p, label, t), 0.0) + value
    stock = pd.DataFrame(
        [(p, l, periods[t], v) for (p, l, t), v in stock_rows.items() if v > TOLERANCE_T],
        columns=STOCK_COLUMNS,
    )
    sale_rows: dict = {}
    for (p, _, _, t), value in Reader(compiled, SALES, x).items():
        sale_rows[(p, t)] = sale_rows.get((p, t), 0.0) + value
    sales = pd.DataFrame(
        [
            (p, periods[t], v, v * data.products[p].sale_price[t] / 1000.0)
            for (p, t), v in sale_rows.items()
            if v > TOLERANCE_T
        ],
        columns=SALES_COLUMNS,
    )

    lines = {
        "supply": float(activity["cost_musd"].sum()),
        "holding": holding,
        "sales": -float(sales["revenue_musd"].sum()),
        "shortfall": float(shortfall["penalty_musd"].sum()),
    }
    has_expansions = any(f.expansions for f in data.facilities)
    investments = investment_table(data, compiled, x)
    if has_expansions:
        lines["investment"] = float(investments["charge_musd"].sum())
    breakdown = pd.Series(lines, name="cost_musd")

    return Solution(
        status=outcome.status,
        objective=outcome.objective,
        cost_breakdown=breakdown,
        activity=activity,
        deliveries=deliveries,
        shortfall=shortfall,
        marginal_prices=marginal_prices(data, compiled, outcome.duals),
        binding=binding(data, compiled, outcome.duals, outcome.values),
        covered_share=covered_share,
        stock=stock,
        sales=sales,
        instance_name=name,
        scenario=scenario,
        message=outcome.message,
        periods=list(periods),
        ranging=ranging,
        investments=investments,
        mip_gap=outcome.mip_gap,
        has_expansions=has_expansions,
        capacity_words=expansion_capacity_words(data),
    )


def expansion_capacity_words(data: ModelData) -> dict[str, str]:
    """facility id -> what its capacity is, for the facilities that offer expansions."""
    side = side_products(data)
    return {f.id: activity_words(f.stage, f.outputs, side) for f in data.facilities if f.expansions}


def shortfall_table(data: ModelData, view, values: np.ndarray) -> pd.DataFrame:
    """Unmet demand: one row per demand entry and period with some left unmet."""
    rows = []
    for (d_index, t), value in Reader(view, SHORTFALL, values).items():
        if value > TOLERANCE_T:
            entry = data.demand[d_index]
            rows.append((entry.segment, entry.product, data.periods[t], value, value * entry.shortfall_penalty[t] / 1000.0))
    return pd.DataFrame(rows, columns=SHORTFALL_COLUMNS)


def investment_table(data: ModelData, view, values: np.ndarray) -> pd.DataFrame:
    """The builds: one row per expansion and decision period with modules > 0."""
    keys, cols = view.columns_of(BUILD)
    if not len(keys):
        return pd.DataFrame(columns=INVESTMENT_COLUMNS)
    found = {(f.id, e.name): (f, e) for f in data.facilities for e in f.expansions}
    count = data.period_count
    rows = []
    for (f_id, name, t), modules in zip(keys, values[cols]):
        if modules <= TOLERANCE_T:
            continue
        facility, expansion = found[(f_id, name)]
        start = expansion.start(t, int(facility.online_t[-1]))
        rows.append((
            f_id, name, data.periods[t], data.periods[start] if start < count else None, float(modules),
            float(modules) * expansion.capacity_t, float(modules) * expansion.capex_musd,
            float(modules) * expansion.charge(t, facility),
        ))
    return pd.DataFrame(rows, columns=INVESTMENT_COLUMNS)


def capacity_duals(compiled: CompiledModel, duals: np.ndarray) -> dict:
    """(facility, t) -> what one more tonne of capacity saves, USD/kg."""
    keys, rows = compiled.rows_of(CAPACITY)
    return {key: -duals[row] * 1000.0 for key, row in zip(keys, rows)}


def _sorted(frame: pd.DataFrame, data: ModelData, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame.reset_index(drop=True)
    order = {str(p): i for i, p in enumerate(data.periods)}
    frame = frame.assign(_t=frame["period"].map(lambda p: order[str(p)]))
    return frame.sort_values(["_t"] + columns, kind="stable").drop(columns="_t").reset_index(drop=True)


def maker_name(data: ModelData, maker: str) -> tuple[str | None, float | None]:
    if maker == UNTRACKED:
        return None, None
    if maker == STOCK:
        return "stock", 0.0
    country, risk = data.makers[maker]
    return country, risk


def marginal_prices(data: ModelData, compiled: CompiledModel, duals: np.ndarray) -> pd.DataFrame:
    """Duals of the balances: what one more tonne of p (label, maker) in t is
    worth to the plan, USD/kg."""
    keys, rows = compiled.rows_of(BALANCE)
    out = []
    for (p, label, maker, t), row in zip(keys, rows):
        if row < 0:
            continue
        country, risk = maker_name(data, maker)
        out.append((p, label, data.periods[t], duals[row] * 1000.0, country, risk))
    return pd.DataFrame(out, columns=PRICE_COLUMNS)


def binding(data: ModelData, compiled, duals: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """The rows with a non-zero dual, largest first, in words (each row
    family's record says how its dual reads, model/families.py), and what
    a family reads from the plan instead (take-or-pay floors paid above
    what is taken), in the model's family order."""
    rows = []
    builds_fixed = getattr(compiled, "is_mip", False)
    for family in row_families(compiled):
        if family.binding is not None:
            rows += family.binding(data, compiled, family, duals, values)
        if family.dual is None or (builds_fixed and not family.dual_with_builds_fixed):
            continue
        keys, index = compiled.rows_of(family)
        for key, row in zip(keys, index):
            if row >= 0 and abs(duals[row]) > DUAL_TOLERANCE:
                value = family.dual.scale * duals[row]
                where, unit, meaning = family.dual.describe(data, key, value)
                rows.append((family.name, where, value, unit, meaning))
    frame = pd.DataFrame(rows, columns=BINDING_COLUMNS)
    if frame.empty:
        return frame
    order = frame["dual"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def row_families(view) -> list:
    """The row families' records, in the model's row order."""
    return [block.family for block in view.model.rows.values()]
