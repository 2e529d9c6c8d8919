"""Solve the baseline and print the sourcing mix.

    python examples/quickstart.py
"""

from pathlib import Path

import ree_opt

BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"

solution = ree_opt.solve(BASELINE)
print(f"{solution.instance_name}: {solution.status}, USD {solution.objective:,.1f} million")
print(solution.cost_breakdown.round(1).to_string(), end="\n\n")

# Where the material comes from: tonnes of activity by country and label, per year.
mix = solution.activity.pivot_table(
    index=["country", "label"], columns="period", values="quantity_t", aggfunc="sum", fill_value=0
)
print(mix.round(0).astype(int).to_string(), end="\n\n")

# How much of what the buyer receives touched a covered country.
print(solution.covered_share.round(3).to_string(index=False))
