"""What to sign and stock in 2026, before the future is known (SPEC section 6).

The baseline's `uncertainty` section: heavy-licence levels, a Chinese halt,
project slips and a demand surge (24 futures). A risk-neutral buyer beside
one that puts half its weight on the worst 10% of futures.

    python examples/decide_under_uncertainty.py
"""

from pathlib import Path

import ree_opt

BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"

for omega in (0.0, 0.5):
    plan = ree_opt.solve_stochastic(BASELINE, omega=omega)
    print(f"omega {omega}: expected cost USD {plan.expected_cost:,.1f} million, "
          f"CVaR {plan.cvar:,.1f}, VSS {plan.vss:,.1f}, EVPI {plan.evpi:,.1f}")
    heavy = plan.offtakes[plan.offtakes["facility"].str.contains("dy|tb|hre|heavy")]
    print("  Dy/Tb offtakes to sign now (t of activity reserved):")
    print(heavy.pivot_table(index="facility", columns="period", values="quantity_t", fill_value=0)
          .round(0).astype(int).to_string())
    print("  stock to hold at the end of 2026 (t):")
    print(plan.stockpile.round(0).to_string(index=False), end="\n\n")

# Expected cost against CVaR as the weight on the tail rises.
print(ree_opt.risk_frontier(BASELINE, omegas=[0, 0.25, 0.5, 1]).round(2).to_string(index=False))
