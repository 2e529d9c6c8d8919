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
