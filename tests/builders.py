"""Builders for small known-answer instances."""

import copy


def facility(id, country, cost, capacity=1000.0, outputs=None, **fields):
    item = {
        "id": id,
        "country": country,
        "stage": fields.pop("stage", "separation"),
        "outputs": outputs or {"ox": 1.0},
        "capacity": capacity,
        "cost": cost,
    }
    item.update(fields)
    return item


def instance(facilities, demand, periods=(2026,), products=None, policies=(), **extra):
    """A small instance: product `ox` (penalty 100 USD/kg) unless told otherwise."""
    data = {
        "name": "known-answer",
        "periods": list(periods),
        "products": products or {"ox": {"shortfall_penalty": 100}},
        "facilities": [copy.deepcopy(f) for f in facilities],
        "demand": [dict(d) for d in demand],
        "policies": [dict(p) for p in policies],
    }
    data.update(extra)
    return data


def demand(quantity, segment="commercial", product="ox", **fields):
    return {"segment": segment, "product": product, "quantity": quantity, **fields}


def quantity(frame, **where):
    """Tonnes in the rows of a Solution table matching every `column=value`."""
    for key, value in where.items():
        frame = frame[frame[key] == value]
    return float(frame["quantity_t"].sum())


def two_funded_plants() -> dict:
    """Two plants that exist only if funded, beside a cheap Chinese one
    (SPEC section 7; r = 0, so a module's charge is capex x (years of the
    horizon from its decision) / life). 2026-2027, 200 t of NdPr oxide a
    year, unmet tonnes at 50 USD/kg (0.05 USD million a t).

    China makes it at 10 USD/kg: the baseline buys 400 t for 4.0 and builds
    nothing (a plant's 20 USD/kg is dearer before its charge).
    Non-China, each module gives the buyer 100 t a year at 20 USD/kg and
    saves 0.03 a tonne it serves (the Australian line makes 200 t, half of
    it for this buyer: availability 0.5). Australian (capex 2, life 2): decided in 2026 it
    serves 200 t (6.0 saved) for a charge of 2 x 2/2 = 2.0. American (capex
    3, life 2, decided from 2027): 100 t in 2027 (3.0 saved) for 3 x 1/2 =
    1.5. Both built: 2.0 + 1.5 + 300 t made (6.0) + 100 t unmet in 2026
    (5.0) = 14.5, all demand served from 2027; premium 10.5.
    Without the Australian: 1.5 + 2.0 + 300 t unmet (15.0) = 18.5, so it
    is worth 4.0; without the American: 2.0 + 4.0 + 10.0 = 16.0, worth 1.5.
    Budgets: 0 builds nothing, 400 t unmet: 20.0 (premium 16.0); 2 or 3
    fund the Australian alone (the better of the two): 16.0 (premium
    12.0), demand unmet in both years; every module offered costs 5."""
    module = {"name": "line", "capacity": 100, "life_years": 2}
    return {
        "name": "two funded plants",
        "periods": [2026, 2027],
        "discount_rate": 0.0,
        "products": {"ndpr_oxide": {"shortfall_penalty": 50}},
        "facilities": [
            {"id": "cn", "name": "Chinese separator", "country": "CN", "stage": "separation",
             "outputs": {"ndpr_oxide": 1.0}, "capacity": 1000, "cost": 10},
            {"id": "au", "name": "Australian refinery", "country": "AU", "stage": "separation",
             "outputs": {"ndpr_oxide": 1.0}, "capacity": 0, "cost": 20, "availability": 0.5,
             "expansions": [{**module, "capacity": 200, "capex": 2}]},
            {"id": "us", "name": "American refinery", "country": "US", "stage": "separation",
             "outputs": {"ndpr_oxide": 1.0}, "capacity": 0, "cost": 20,
             "expansions": [{**module, "capex": 3, "earliest": 2027}]},
        ],
        "demand": [{"segment": "buyer", "product": "ndpr_oxide", "quantity": 200}],
    }
