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

from . import dual_words
from .data import COVERED, STOCK, UNTRACKED, ModelData
from .display import solution_html, solution_summary
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
        }

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
    """Values of one Var component, by key."""

    def __init__(self, compiled: CompiledModel, component, values: np.ndarray):
        self.keys, cols = compiled.columns_of(component)
        self.values = values[cols]

    def items(self):
        return zip(self.keys, self.values)


def build_solution(
    data: ModelData, compiled: CompiledModel, outcome: Outcome, scenario: str | None = None
) -> Solution:
    name = data.instance.name
    if outcome.status != "optimal":
        return empty_solution(outcome.status, outcome.message, name, scenario)
    model, x = compiled.model, outcome.values
    periods = data.periods
    facilities = {f.id: f for f in data.facilities}

    act = Reader(compiled, model.act, x)
    paid = dict(Reader(compiled, model.paid, x).items())
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

    deliv = Reader(compiled, model.deliv, x)
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

    short_rows = []
    for (d_index, t), value in Reader(compiled, model.short, x).items():
        if value > TOLERANCE_T:
            entry = data.demand[d_index]
            short_rows.append(
                (entry.segment, entry.product, periods[t], value, value * entry.shortfall_penalty[t] / 1000.0)
            )
    shortfall = pd.DataFrame(short_rows, columns=SHORTFALL_COLUMNS)

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
    for (p, label, _, t), value in Reader(compiled, model.inv, x).items():
        holding += value * data.products[p].holding_cost[t] / 1000.0
        stock_rows[(p, label, t)] = stock_rows.get((p, label, t), 0.0) + value
    stock = pd.DataFrame(
        [(p, l, periods[t], v) for (p, l, t), v in stock_rows.items() if v > TOLERANCE_T],
        columns=STOCK_COLUMNS,
    )
    sale_rows: dict = {}
    for (p, _, _, t), value in Reader(compiled, model.sell, x).items():
        sale_rows[(p, t)] = sale_rows.get((p, t), 0.0) + value
    sales = pd.DataFrame(
        [
            (p, periods[t], v, v * data.products[p].sale_price[t] / 1000.0)
            for (p, t), v in sale_rows.items()
            if v > TOLERANCE_T
        ],
        columns=SALES_COLUMNS,
    )

    breakdown = pd.Series(
        {
            "supply": float(activity["cost_musd"].sum()),
            "holding": holding,
            "sales": -float(sales["revenue_musd"].sum()),
            "shortfall": float(shortfall["penalty_musd"].sum()),
        },
        name="cost_musd",
    )

    return Solution(
        status="optimal",
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
        periods=list(periods),
        ranging=ranging,
    )


def capacity_duals(compiled: CompiledModel, duals: np.ndarray) -> dict:
    """(facility, t) -> what one more tonne of capacity saves, USD/kg."""
    keys, rows = compiled.rows_of("capacity")
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
    keys, rows = compiled.rows_of("balance")
    out = []
    for (p, label, maker, t), row in zip(keys, rows):
        if row < 0:
            continue
        country, risk = maker_name(data, maker)
        out.append((p, label, data.periods[t], duals[row] * 1000.0, country, risk))
    return pd.DataFrame(out, columns=PRICE_COLUMNS)


def _period(data, t):
    return data.periods[t]


def unused_contracts(data: ModelData, compiled: CompiledModel, values: np.ndarray) -> dict:
    """(facility, t) -> t paid for under take-or-pay but not taken."""
    taken: dict = {}
    for (f_id, _, _, t), value in Reader(compiled, compiled.model.act, values).items():
        taken[(f_id, t)] = taken.get((f_id, t), 0.0) + value
    return {
        key: paid - taken.get(key, 0.0)
        for key, paid in Reader(compiled, compiled.model.paid, values).items()
        if paid - taken.get(key, 0.0) > TOLERANCE_T
    }


def binding(data: ModelData, compiled: CompiledModel, duals: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """The inequality rows with a non-zero dual, largest first, in words
    (dual_words.py: the product words and unit of each family's dual); and
    the take-or-pay floors paid above what the plan takes."""
    facilities = {f.id: f for f in data.facilities}
    side = dual_words.byproducts(
        data.products, (d.product for d in data.demand), (p for f in data.facilities for p in f.inputs)
    )
    rows = []

    def read(family):
        keys, index = compiled.rows_of(family)
        for key, row in zip(keys, index):
            if row >= 0 and abs(duals[row]) > DUAL_TOLERANCE:
                yield key, duals[row]

    for (f_id, t), dual in read("capacity"):
        value = -dual * 1000.0
        rows.append(("capacity", f"{f_id} {_period(data, t)}", value,
                     *dual_words.capacity(facilities[f_id], _period(data, t), value, side)))
    for (f_id, t), unused_t in unused_contracts(data, compiled, values).items():
        value = facilities[f_id].cost_usd_per_kg[t]
        rows.append(("take_or_pay", f"{f_id} {_period(data, t)}", value,
                     *dual_words.take_or_pay(facilities[f_id], _period(data, t), value, unused_t, side)))
    for (p, t), dual in read("sales_limit"):
        value = -dual * 1000.0
        rows.append(("sales_limit", f"{p} {_period(data, t)}", value, *dual_words.sales_limit(p, _period(data, t), value)))
    for (i, p, t), dual in read("covered_share"):
        value = -dual * 1000.0
        rows.append(("covered_share", f"policies[{i}] {p} {_period(data, t)}", value,
                     *dual_words.covered_share(p, _period(data, t), value)))
    for (i, p, c, t), dual in read("country_share"):
        value = -dual * 1000.0
        rows.append(("country_share", f"policies[{i}] {p} {c} {_period(data, t)}", value,
                     *dual_words.country_share(p, c, _period(data, t), value)))
    for (i, p, t), dual in read("average_risk"):
        value = -dual * 1000.0
        rows.append(("average_risk", f"policies[{i}] {p} {_period(data, t)}", value,
                     *dual_words.average_risk(p, _period(data, t), value)))
    frame = pd.DataFrame(rows, columns=BINDING_COLUMNS)
    if frame.empty:
        return frame
    order = frame["dual"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)
