"""What a chain that never touches China costs, and what binds it.

    python examples/non_china_premium.py [scenario]
"""

import sys
from pathlib import Path

import ree_opt

BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"
scenario = sys.argv[1] if len(sys.argv) > 1 else None

comparison = ree_opt.non_china_premium(BASELINE, scenario=scenario, by_product=True)
print(f"baseline   USD {comparison.baseline.objective:>10,.1f} million")
print(f"non-China  USD {comparison.non_china.objective:>10,.1f} million")
print(f"premium    USD {comparison.premium_musd:>10,.1f} million ({comparison.premium_pct:.1f}%)")
print(f"  supply   USD {comparison.supply_premium_musd:>10,.1f} million")
print(f"  unmet    USD {comparison.shortfall_premium_musd:>10,.1f} million (penalties are assumptions)")
for product, usd_per_kg in comparison.supply_premium_usd_per_kg.items():
    print(f"supply premium of {product}: USD {usd_per_kg:,.1f}/kg delivered")
print("first year the clean chain meets demand in full:", comparison.first_full_period)
print()
print("What binds the non-China plan:")
for meaning in comparison.non_china.binding["meaning"].head(5):
    print(" -", meaning)
