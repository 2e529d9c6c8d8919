"""Synthetic sourcing instances of a chosen size, for benchmarks.

`groups` independent mine -> separation -> magnet chains (one per material
family), each with facilities in several countries (CN covered), lead
times, ramp-ups, take-or-pay floors, byproduct sales and two demand
segments (one clean-only). Columns grow as groups x facilities x periods.
"""

from __future__ import annotations

import random

COUNTRIES = ["AU", "CA", "US", "MY", "BR", "EE", "KR", "CN", "CN"]


def synthetic_instance(groups: int = 10, facilities_per_group: int = 12, periods: int = 10, seed: int = 0) -> dict:
    rng = random.Random(seed)
    labels = list(range(2026, 2026 + periods))
    products = {"lace": {"shortfall_penalty": 0, "sale_price": 1.5, "sale_limit": 1000.0 * groups}}
    facilities, demand = [], []
    for g in range(groups):
        conc, ox, mag = f"conc_{g}", f"ox_{g}", f"mag_{g}"
        products[conc] = {"shortfall_penalty": 0}
        products[ox] = {"shortfall_penalty": 300, "holding_cost": 1.0, "initial_stock": 50}
        products[mag] = {"shortfall_penalty": 200, "holding_cost": 0.5}
        for k in range(facilities_per_group):
            kind = ("mine", "separation", "magnet", "export")[k % 4]
            country = rng.choice(COUNTRIES)
            item = {
                "id": f"g{g}_f{k}",
                "country": country,
                "capacity": rng.choice([200, 500, 1000, 2000]),
                "cost": rng.choice([5, 10, 20, 40, 60]),
                "lead_time_months": rng.choice([0, 3, 6, 15]),
                "risk": 0.8 if country == "CN" else rng.choice([0.0, 0.1, 0.3]),
            }
            if kind == "mine":
                item.update(stage="mine", outputs={conc: 1.0})
            elif kind == "separation":
                item.update(stage="separation", inputs={conc: 4.0}, outputs={ox: 1.0, "lace": 2.5})
            elif kind == "magnet":
                item.update(stage="magnet", inputs={ox: 0.32}, outputs={mag: 1.0}, cost=item["cost"] / 2)
            else:
                item.update(stage="trade", outputs={rng.choice([ox, mag]): 1.0}, country="CN", risk=0.8)
                item["availability"] = rng.choice([0.25, 0.5, 1.0])
            if rng.random() < 0.3:
                item["online"] = rng.choice(labels[: max(1, periods // 2)])
                item["ramp_up"] = [0.4, 0.8]
            if rng.random() < 0.1:
                item["min_take"] = 50
            facilities.append(item)
        demand.append({"segment": "defense", "product": mag, "quantity": rng.choice([50, 100]), "clean_only_from": labels[min(1, periods - 1)]})
        demand.append({"segment": "commercial", "product": mag, "quantity": rng.choice([500, 1000, 1500])})
        demand.append({"segment": "commercial", "product": ox, "quantity": rng.choice([100, 300])})
    return {
        "name": f"synthetic-{groups}x{facilities_per_group}x{periods}",
        "periods": labels,
        "products": products,
        "facilities": facilities,
        "demand": demand,
    }
