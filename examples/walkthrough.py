"""A notebook-style walk through the baseline's answer (run it, or paste the
cells into a notebook). Each cell prints what it found.

    python examples/walkthrough.py
"""

# %% The instance: where the numbers come from
from pathlib import Path

import pandas as pd

import ree_opt
from ree_opt.analysis import premium_curve, scenario_table, sweep

pd.set_option("display.width", 160)
BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"
instance = ree_opt.load_instance(BASELINE)
print(f"{instance.name}: {len(instance.facilities)} facilities, {len(instance.sources)} sources, "
      f"periods {instance.periods[0]}-{instance.periods[-1]}")

# %% 1. The least-cost plan leans on China
baseline = ree_opt.solve(instance)
by_country = baseline.activity.groupby("country")["cost_musd"].sum().sort_values(ascending=False)
print("\nSpend by country (USD million):\n", by_country.round(1).head(8).to_string())
print("\nCovered share of deliveries:\n", baseline.covered_share[["product", "period", "share"]].round(2).to_string(index=False))

# %% 2. The whole-chain non-China plan: its cost, and when it can exist
comparison = ree_opt.non_china_premium(instance)
print(f"\nNon-China premium: USD {comparison.premium_musd:,.0f} million ({comparison.premium_pct:.0f}%), "
      f"of which supply USD {comparison.supply_premium_musd:,.0f} million")
unmet = comparison.unmet.query("non_china_t > 0")
print("Unmet without China (t):\n", unmet.round(0).to_string(index=False))
print("First full year:", comparison.first_full_period)

# %% 3. What binds: heavy rare earths
print("\nShadow prices of the non-China plan:")
print(comparison.non_china.binding[["constraint", "index", "dual", "unit"]].head(6).round(1).to_string(index=False))

# %% 4. Marginal price of clean NdPr oxide beside public references
prices = comparison.non_china.marginal_prices
ndpr = prices[(prices["product"] == "ndpr_oxide") & (prices["label"] == "clean")]
print("\nClean NdPr oxide, USD/kg (model) vs DoD-MP floor 110 and Chinese 2025 average 69:")
print(ndpr[["period", "usd_per_kg"]].round(1).to_string(index=False))

# %% 5. How the cost moves as the allowed covered share is tightened
curve = premium_curve(instance, shares=[1.0, 0.75, 0.5, 0.25, 0.1, 0.0])
print("\nPremium curve:\n", curve[["share", "objective_musd", "premium_musd", "marginal_musd_per_pct"]].round(1).to_string(index=False))

# %% 6. Licence approval rate of Chinese exporters
licences = sweep(instance, "availability", [0.0, 0.25, 0.5, 1.0], where={"id": "cn_dy_oxide_export"}, premium=True)
print("\nChinese Dy licences (x the baseline approval rate):\n",
      licences[["value", "objective_musd", "premium_musd", "unmet_t"]].round(1).to_string(index=False))

# %% 7. The scenarios side by side
table = scenario_table(instance, list(instance.scenarios))
print("\n", table.drop(columns="description").round(1).to_string(index=False))
