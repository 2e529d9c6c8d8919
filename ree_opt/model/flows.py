"""Material flows: activity, labels, lead times, capacity, take-or-pay,
stock, relabelling, disposal, sales and the balance of every product.

Math (SPEC section 3; f facility, p product, l label, m maker, t period):

    capacity[f,t]:      sum_{l,s} act[f,l,s,t] <= cap_f(t)   (+ funded modules: model/investment.py)
    take_or_pay[f,t]:   paid[f,t] - sum_{l,s} act[f,l,s,t] >= 0,  paid[f,t] >= min_take_f(t)
    balance[p,l,m,t]:   inv[p,l,m,t-1] + sum_f out_fp arr[f,l,m,t] + down[p,m,t] (covered)
                        - inv[p,l,m,t] - consumption - deliveries - disc - sell
                        - down[p,m,t] (clean)  =  -initial_stock (clean, t = first)
    consumption[f,p,l,t]: sum_m cons[f,p,l,m,t] = in_fp sum_s act[f,l,s,t]  (tracked p)
    sales_limit[p,t]:   sum_{l,m} sell[p,l,m,t] <= sale_limit_p(t)

with arr[f,l,s,t] = (1 - r) act[f,l,s,t-q] + r act[f,l,s,t-q-1] (pro-rata lead
time); with `end_of_horizon: kept` the arrivals of the last period T sum the
weights of all activity whose output is due at T or later (else it is lost). `s` splits a trader's activity by the maker it passes on; for every
other facility it is the single UNTRACKED key. Untracked products have the
single maker UNTRACKED. Covered-label rows exist only for products that some
covered-label activity makes or consumes (`ModelData.covered_products`):
elsewhere covered stock could only come from relabelling clean stock, which
changes nothing.
"""

from __future__ import annotations

import numpy as np

from .. import dual_words
from ..data import CLEAN, COVERED, STOCK, UNTRACKED, ModelData
from .families import BuiltModel, DualWords, Terms, rows, variables


def _period(data: ModelData, t) -> str:
    return str(data.periods[t])


def side_products(data: ModelData) -> set[str]:
    """Products nobody asks for and no facility consumes (La/Ce oxide beside
    NdPr oxide): left out of what a facility's capacity is said to make."""
    return dual_words.byproducts(
        data.products, (d.product for d in data.demand), (p for f in data.facilities for p in f.inputs)
    )


def _capacity_words(data: ModelData, key, value: float) -> tuple[str, str, str]:
    f_id, t = key
    unit, meaning = dual_words.capacity(data.facility(f_id), _period(data, t), value, side_products(data))
    return f"{f_id} {_period(data, t)}", unit, meaning


def _sales_words(data: ModelData, key, value: float) -> tuple[str, str, str]:
    p, t = key
    return (f"{p} {_period(data, t)}", *dual_words.sales_limit(p, _period(data, t), value))


def _unused_contracts(data: ModelData, view, family, duals, values) -> list[tuple]:
    """Binding rows of the take-or-pay family: the floors paid above what the
    plan takes (a value, not a dual: the cost of a contract not used)."""
    rows_out = []
    side = side_products(data)
    for (f_id, t), unused_t in unused_contracts(view, values).items():
        f = data.facility(f_id)
        value = f.cost_usd_per_kg[t]
        rows_out.append((
            family.name, f"{f_id} {_period(data, t)}", value,
            *dual_words.take_or_pay(f, _period(data, t), value, unused_t, side),
        ))
    return rows_out


def _facility_series(data: ModelData, keys, name: str, axis: int = 0) -> np.ndarray:
    """A facility time series (FacilityData attribute) at each key's (facility, period)."""
    by_id = {f.id: getattr(f, name) for f in data.facilities}
    return np.array([by_id[key[axis]][key[-1]] for key in keys], dtype=float)


def _capacity_bounds(data: ModelData, keys) -> tuple[np.ndarray, np.ndarray]:
    """cap_f(t) where the facility is active in t, else 0 (an exclusion, a slip)."""
    active = {f.id: f.active for f in data.facilities}
    upper = _facility_series(data, keys, "capacity_t") * np.array([active[f][t] for f, t in keys], dtype=float)
    return np.full(len(keys), -np.inf), upper


ACTIVITY = variables(
    "act", ("facility", "label", "maker", "period"), "t of activity of f producing label-l output in t",
    objective="cost_f(t) USD/kg of activity, unless a take-or-pay floor pays it (paid)",
    words="facility {facility} ({label} activity, {period})",
    bounded_by="facility",
)
PAID = variables(
    "paid", ("facility", "period"), "t of activity paid for (take-or-pay)",
    objective="cost_f(t) USD/kg of activity paid for", words="facility {facility} (paid activity, {period})",
    cost_of=lambda data, keys: _facility_series(data, keys, "cost_usd_per_kg") / 1000.0,
    floor_of=lambda data, keys: _facility_series(data, keys, "min_take_t"),
    bounded_by="facility",
)
STOCK_HELD = variables(
    "inv", ("product", "label", "maker", "period"), "t in stock at the end of t",
    objective="holding_p(t) USD/kg per period", words="product {product} ({label} stock, {period})",
    bounded_by="product",
)
DISPOSAL = variables(
    "disc", ("product", "label", "maker", "period"), "t disposed of",
    words="product {product} ({label} disposal, {period})",
    bounded_by="product",
)
SALES = variables(
    "sell", ("product", "label", "maker", "period"), "t of surplus sold",
    objective="minus sale_price_p(t) USD/kg", words="product {product} (sales, {period})",
    bounded_by="product",
)
RELABELLING = variables(
    "down", ("product", "maker", "period"), "t of clean material relabelled covered",
    words="product {product} (clean relabelled covered, {period})",
    bounded_by="product",
)
CONSUMPTION_BY_MAKER = variables(
    "cons", ("facility", "product", "label", "maker", "period"), "t of tracked p from maker m consumed by f",
    words="facility {facility} (input {product}, {period})",
    bounded_by="product",
)

CAPACITY = rows(
    "capacity", ("facility", "period"), "capacity of f in t, t of activity",
    words="the capacity of facility {facility} ({period})",
    dual=DualWords(_capacity_words), bounds_of=_capacity_bounds,
)
TAKE_OR_PAY = rows(
    "take_or_pay", ("facility", "period"), "paid >= activity",
    words="the take-or-pay of facility {facility} ({period})", binding=_unused_contracts,
)
SALES_LIMIT = rows(
    "sales_limit", ("product", "period"), "sales of p in t, t",
    words="the sales limit of product {product} ({period})",
    dual=DualWords(_sales_words),
)
CONSUMPTION = rows(
    "consumption", ("facility", "product", "label", "period"), "tracked inputs drawn on makers",
    words="the input {product} of facility {facility} ({period})",
)
BALANCE = rows(
    "balance", ("product", "label", "maker", "period"), "supply - use of p (label l, maker m) in t, t",
    words="the {label} balance of product {product} ({period})",
)


def product_labels(data: ModelData, product: str) -> tuple[str, ...]:
    return (CLEAN, COVERED) if product in data.covered_products else (CLEAN,)


def output_maker(facility, product: str, data: ModelData, split: str) -> str:
    if not data.products[product].tracked:
        return UNTRACKED
    if product == facility.passes_through:
        return split
    return facility.maker


def add_activity(built: BuiltModel, data: ModelData) -> dict:
    """Activity and payment columns, the capacity rows (open: funded modules
    add their terms) and the take-or-pay rows. Returns the activity columns."""
    periods = range(data.period_count)
    facilities = data.facilities
    objective = built.objective

    act_keys = [
        (f.id, label, split, t)
        for f in facilities
        for label in f.labels
        for split in f.splits
        for t in periods
        if f.active[t]
    ]
    act = built.add_columns(ACTIVITY, act_keys)
    paid_floor = {
        (f.id, t): f.min_take_t[t]
        for f in facilities
        for t in periods
        if f.min_take_t[t] > 0 or (f.contracted is not None and f.contracted[t])
    }
    paid = built.add_columns(PAID, paid_floor, lower=paid_floor)

    cap_rhs: dict = {}
    capacity = built.open_rows(CAPACITY, upper=cap_rhs)
    take_or_pay = Terms()
    for f in facilities:
        for t in periods:
            if (f.id, t) in paid_floor:
                take_or_pay.add((f.id, t), 1.0, paid[f.id, t])
                objective.append((f.cost_usd_per_kg[t] / 1000.0, paid[f.id, t]))
            if not f.active[t]:
                continue
            cap_rhs[(f.id, t)] = f.capacity_t[t]
            for label in f.labels:
                for split in f.splits:
                    var = act[f.id, label, split, t]
                    capacity.add((f.id, t), 1.0, var)
                    if (f.id, t) in paid_floor:
                        take_or_pay.add((f.id, t), -1.0, var)
                    else:
                        objective.append((f.cost_usd_per_kg[t] / 1000.0, var))
    built.add_rows(TAKE_OR_PAY, take_or_pay, lower=0.0)
    return act


def add_flows(built: BuiltModel, data: ModelData, act: dict, balance: Terms) -> None:
    """Stock, relabelling, disposal, sales, arrivals and consumption: every
    flow's terms in the balance rows."""
    periods = range(data.period_count)
    facilities = data.facilities
    objective = built.objective
    covered = data.covered_products

    # Stock, relabelling, disposal and sales, per product, label and maker.
    stock_keys, down_keys, sell_keys = [], [], []
    for p, product in data.products.items():
        for maker in product.makers:
            for t in periods:
                for label in product_labels(data, p):
                    stock_keys.append((p, label, maker, t))
                    if product.sale_limit_t[t] > 0:
                        sell_keys.append((p, label, maker, t))
                if p in covered:
                    down_keys.append((p, maker, t))
    inv = built.add_columns(STOCK_HELD, stock_keys)
    disc = built.add_columns(DISPOSAL, stock_keys)
    sell = built.add_columns(SALES, sell_keys)
    down = built.add_columns(RELABELLING, down_keys)

    for key in stock_keys:
        p, label, maker, t = key
        balance.add(key, -1.0, inv[key])
        if t > 0:
            balance.add(key, 1.0, inv[p, label, maker, t - 1])
        balance.add(key, -1.0, disc[key])
        holding = data.products[p].holding_cost[t]
        if holding:
            objective.append((holding / 1000.0, inv[key]))
    sales = Terms()
    for key in sell_keys:
        p, label, maker, t = key
        balance.add(key, -1.0, sell[key])
        sales.add((p, t), 1.0, sell[key])
        objective.append((-data.products[p].sale_price[t] / 1000.0, sell[key]))
    built.add_rows(
        SALES_LIMIT, sales, upper={(p, t): data.products[p].sale_limit_t[t] for (p, t) in sales},
    )
    for key in down_keys:
        p, maker, t = key
        balance.add((p, CLEAN, maker, t), -1.0, down[key])
        balance.add((p, COVERED, maker, t), 1.0, down[key])

    # Arrivals (pro-rata lead times) and consumption.
    kept = data.instance.end_of_horizon == "kept"
    consumption = Terms()
    cons_keys = []
    for f in facilities:
        q, r = f.lead
        for (label, split, t) in ((l, s, t) for l in f.labels for s in f.splits for t in periods if f.active[t]):
            var = act[f.id, label, split, t]
            for p, out in f.outputs.items():
                maker = output_maker(f, p, data, split)
                for arrival, share in arrivals(t, q, r, data.period_count, kept):
                    balance.add((p, label, maker, arrival), out * share, var)
            for p, use in f.inputs.items():
                product = data.products[p]
                if not product.tracked:
                    balance.add((p, label, UNTRACKED, t), -use, var)
                elif p == f.passes_through:
                    balance.add((p, label, split, t), -use, var)
                else:
                    if (f.id, p, label, t) not in consumption:
                        cons_keys += [(f.id, p, label, m, t) for m in product.makers]
                    consumption.add((f.id, p, label, t), -use, var)
    cons = built.add_columns(CONSUMPTION_BY_MAKER, cons_keys)
    for key in cons_keys:
        f_id, p, label, maker, t = key
        consumption.add((f_id, p, label, t), 1.0, cons[key])
        balance.add((p, label, maker, t), -1.0, cons[key])
    built.add_rows(CONSUMPTION, consumption, lower=0.0, upper=0.0)


def add_balance(built: BuiltModel, data: ModelData, balance: Terms) -> None:
    rhs = initial_stock_rhs(data)
    bounds = {key: rhs.get(key, 0.0) for key in balance}
    built.add_rows(BALANCE, balance, lower=bounds, upper=bounds)


def arrivals(t: int, q: int, r: float, count: int, kept: bool) -> list[tuple[int, float]]:
    """(period, share) in which the output of activity in t arrives.

    (1 - r) in t + q and r in t + q + 1; what falls after the last period is
    lost (`end_of_horizon: lost`) or lands in the last period (`kept`)."""
    found: dict[int, float] = {}
    for arrival, share in ((t + q, 1.0 - r), (t + q + 1, r)):
        if share <= 0:
            continue
        if arrival >= count:
            if not kept:
                continue
            arrival = count - 1
        found[arrival] = found.get(arrival, 0.0) + share
    return list(found.items())


def initial_stock_rhs(data: ModelData) -> dict:
    """The balance right-hand sides: minus the initial (clean) stock."""
    rhs = {}
    for p, product in data.products.items():
        if product.initial_stock_t > 0:
            maker = STOCK if product.tracked else UNTRACKED
            rhs[(p, CLEAN, maker, 0)] = -product.initial_stock_t
    return rhs


# --------------------------------------------------------------------------
# Readings of the flows, for the layers above


def price_columns(view) -> dict:
    """(facility, t) -> the columns its price sits on: `paid` under
    take-or-pay, else every activity column (labels, maker splits): what
    a cost lever scales and what cost ranging moves together."""
    groups: dict = {}
    paid_keys, paid_cols = view.columns_of(PAID)
    for key, col in zip(paid_keys, paid_cols):
        groups[key] = [col]
    paid = set(paid_keys)
    act_keys, act_cols = view.columns_of(ACTIVITY)
    for (f_id, _, _, t), col in zip(act_keys, act_cols):
        if (f_id, t) not in paid:
            groups.setdefault((f_id, t), []).append(col)
    return {key: np.array(cols, dtype=np.int64) for key, cols in groups.items()}


def activity_by_facility(view, values: np.ndarray) -> dict:
    """(facility, t) -> t of activity (labels and maker splits summed)."""
    taken: dict = {}
    keys, cols = view.columns_of(ACTIVITY)
    for (f_id, _, _, t), value in zip(keys, values[cols]):
        taken[(f_id, t)] = taken.get((f_id, t), 0.0) + value
    return taken


#: Tonnes below this are noise of the solver's tolerances.
TOLERANCE_T = 1e-7


def unused_contracts(view, values: np.ndarray) -> dict:
    """(facility, t) -> t paid for under take-or-pay but not taken."""
    taken = activity_by_facility(view, values)
    keys, cols = view.columns_of(PAID)
    return {
        key: paid - taken.get(key, 0.0)
        for key, paid in zip(keys, values[cols])
        if paid - taken.get(key, 0.0) > TOLERANCE_T
    }
