"""Random small supply chains, for property tests. Every number is constant
over time so a test can recompute costs without the library's help."""

import random

COUNTRIES = ["AU", "CA", "CN", "US", "MY", "IN", "EE"]


def random_instance(seed: int, periods=(2026, 2027, 2028)) -> dict:
    rng = random.Random(seed)
    products = {
        "conc": {"shortfall_penalty": 0},
        "ox": {"shortfall_penalty": rng.choice([150, 300]), "holding_cost": rng.choice([0, 1.0])},
        "magnet": {"shortfall_penalty": rng.choice([200, 400]), "initial_stock": rng.choice([0, 50])},
        "lace": {"shortfall_penalty": 0, "sale_price": 2.0, "sale_limit": 300},
    }
    facilities = []
    for index in range(rng.randint(5, 9)):
        country = rng.choice(COUNTRIES)
        kind = rng.choice(["mine", "separation", "magnet", "trade", "oxide_seller"])
        item = {
            "id": f"f{index}",
            "country": country,
            "capacity": rng.choice([100, 300, 800]),
            "cost": rng.choice([5, 20, 60, 90]),
            "risk": rng.choice([0.0, 0.2, 0.5, 0.9]),
            "lead_time_months": rng.choice([0, 0, 3, 6, 15]),
        }
        if kind == "mine":
            item.update(stage="mine", outputs={"conc": 1.0})
        elif kind == "separation":
            item.update(stage="separation", inputs={"conc": 1.0}, outputs={"ox": 0.25, "lace": 0.7})
        elif kind == "magnet":
            item.update(stage="magnet", inputs={"ox": 0.3}, outputs={"magnet": 1.0})
        elif kind == "trade":
            item.update(stage="trade", inputs={"ox": 1.0}, outputs={"ox": 1.0}, cost=2)
        else:
            item.update(stage="separation", outputs={"ox": 1.0})
        if rng.random() < 0.3:
            item["online"] = rng.choice([2025, 2027, 2028])
            item["ramp_up"] = [0.5]
        if rng.random() < 0.3:
            item["availability"] = rng.choice([0.0, 0.4])
        if rng.random() < 0.2:
            item["min_take"] = 50
        if rng.random() < 0.2:
            item["reserved"] = 50
        facilities.append(item)
    demand = [
        {"segment": "defense", "product": "magnet", "quantity": rng.choice([20, 60]), "clean_only_from": 2027},
        {"segment": "commercial", "product": "magnet", "quantity": rng.choice([100, 400])},
        {"segment": "commercial", "product": "ox", "quantity": rng.choice([0, 50, 150])},
    ]
    policies = []
    if rng.random() < 0.4:
        policies.append({"type": "max_country_share", "share": rng.choice([0.6, 0.8])})
    if rng.random() < 0.4:
        policies.append({"type": "max_average_risk", "limit": rng.choice([0.3, 0.6])})
    return {
        "name": f"random-{seed}",
        "periods": list(periods),
        "products": products,
        "facilities": facilities,
        "demand": demand,
        "policies": policies,
    }
