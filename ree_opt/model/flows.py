"""Material flows: activity, labels, lead times, capacity, take-or-pay,
stock, relabelling, disposal, sales and the balance of every product.

Math (SPEC section 3; f facility, p product, l label, m maker, t period):

    capacity[f,t]:      sum_{l,s} act[f,l,s,t] <= cap_f(t)
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
covered-label activity makes or consumes: elsewhere covered stock could only
come from relabelling clean stock, which changes nothing.
"""

from __future__ import annotations

from ..data import CLEAN, COVERED, STOCK, UNTRACKED, ModelData
from .common import Terms, add_rows, nonnegative


def covered_products(data: ModelData) -> set[str]:
    needed = set()
    for facility in data.facilities:
        if COVERED in facility.labels:
            needed.update(facility.outputs)
            needed.update(facility.inputs)
    return needed


def product_labels(data: ModelData, product: str) -> tuple[str, ...]:
    return (CLEAN, COVERED) if product in data.covered_set else (CLEAN,)


def output_maker(facility, product: str, data: ModelData, split: str) -> str:
    if not data.products[product].tracked:
        return UNTRACKED
    if product == facility.passes_through:
        return split
    return facility.maker


def add_flows(model, data: ModelData, balance: Terms, objective: list) -> None:
    periods = range(data.period_count)
    data.covered_set = covered_products(data)
    facilities = data.facilities

    act_keys = [
        (f.id, label, split, t)
        for f in facilities
        for label in f.labels
        for split in f.splits
        for t in periods
        if f.active[t]
    ]
    act = nonnegative(model, "act", act_keys, "t of activity of f producing label-l output in t")
    paid_floor = {
        (f.id, t): f.min_take_t[t]
        for f in facilities
        for t in periods
        if f.min_take_t[t] > 0 or (f.contracted is not None and f.contracted[t])
    }
    paid = nonnegative(model, "paid", paid_floor, "t of activity paid for (take-or-pay)", lower=paid_floor)

    capacity, take_or_pay, cap_rhs = Terms(), Terms(), {}
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
    add_rows(model, "capacity", capacity, upper=cap_rhs, doc="capacity of f in t, t of activity")
    add_rows(model, "take_or_pay", take_or_pay, lower=0.0, doc="paid >= activity")

    # Stock, relabelling, disposal and sales, per product, label and maker.
    stock_keys, down_keys, sell_keys = [], [], []
    for p, product in data.products.items():
        for maker in product.makers:
            for t in periods:
                for label in product_labels(data, p):
                    stock_keys.append((p, label, maker, t))
                    if product.sale_limit_t[t] > 0:
                        sell_keys.append((p, label, maker, t))
                if p in data.covered_set:
                    down_keys.append((p, maker, t))
    inv = nonnegative(model, "inv", stock_keys, "t in stock at the end of t")
    disc = nonnegative(model, "disc", stock_keys, "t disposed of")
    sell = nonnegative(model, "sell", sell_keys, "t of surplus sold")
    down = nonnegative(model, "down", down_keys, "t of clean material relabelled covered")

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
    add_rows(
        model, "sales_limit", sales,
        upper={(p, t): data.products[p].sale_limit_t[t] for (p, t) in sales},
        doc="sales of p in t, t",
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
    cons = nonnegative(model, "cons", cons_keys, "t of tracked p from maker m consumed by f")
    model.consumption_columns = cons
    for key in cons_keys:
        f_id, p, label, maker, t = key
        consumption.add((f_id, p, label, t), 1.0, cons[key])
        balance.add((p, label, maker, t), -1.0, cons[key])
    add_rows(model, "consumption", consumption, lower=0.0, upper=0.0, doc="tracked inputs drawn on makers")


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
