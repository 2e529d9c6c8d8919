"""Plain-text renderings of solutions and comparisons, for the terminal."""

from __future__ import annotations

import pandas as pd

from .analysis import Comparison
from .ranging import tie_count, tightest
from .solution import Solution


def musd(value: float) -> str:
    return f"{value:,.2f}"


def by_period(frame: pd.DataFrame, index: list[str], periods: list, value: str = "quantity_t") -> pd.DataFrame:
    """Rows `index`, one column per period (tonnes, rounded)."""
    if frame.empty:
        return frame
    table = frame.pivot_table(index=index, columns="period", values=value, aggfunc="sum", fill_value=0.0, sort=False)
    columns = [p for p in periods if p in table.columns]
    return table.reindex(columns=columns).round(0).astype(int)


def render_table(frame: pd.DataFrame, indent: str = "  ") -> str:
    if frame.empty:
        return f"{indent}(none)"
    text = frame.to_string()
    return "\n".join(indent + line for line in text.splitlines())


def solution_text(solution: Solution, top: int = 5) -> str:
    name = solution.instance_name + (f" [{solution.scenario}]" if solution.scenario else "")
    if not solution.optimal:
        return f"{name}: {solution.status}. {solution.message}"
    b = solution.cost_breakdown
    lines = [
        f"{name}: optimal, cost USD {musd(solution.objective)} million",
        f"  supply {musd(b['supply'])} | holding {musd(b['holding'])} | sales {musd(b['sales'])}"
        f" | unmet-demand penalty {musd(b['shortfall'])}",
        "",
        "Sourcing, t of activity:",
        render_table(by_period(solution.activity, ["facility", "country", "label"], solution.periods)),
        "",
        "Deliveries, t:",
        render_table(by_period(solution.deliveries, ["segment", "product", "label"], solution.periods)),
        "",
        "Unmet demand, t:",
        render_table(by_period(solution.shortfall, ["segment", "product"], solution.periods)),
    ]
    if not solution.binding.empty:
        lines += ["", f"What binds (largest shadow prices, top {top}):"]
        lines += [f"  - {m}" for m in solution.binding["meaning"].head(top)]
    tight = tightest(solution.ranging, top)
    if not tight.empty:
        ties = tie_count(solution.ranging)
        note = f"; {ties} price{'s are ties' if ties != 1 else ' is a tie'}, left out" if ties else ""
        lines += ["", f"Tightest ranges (least room before the plan may change, top {top}{note}):"]
        lines += [f"  - {m}" for m in tight["meaning"]]
    return "\n".join(lines)


def comparison_text(comparison: Comparison, title: str = "", top: int = 3) -> str:
    if not comparison.ok:
        bad = comparison.baseline if not comparison.baseline.optimal else comparison.non_china
        return f"{title}: {bad.status}. {bad.message}"
    c = comparison
    width = 34
    base_kg, clean_kg = c.supply_usd_per_kg
    lines = [
        f"Non-China premium: {title}".rstrip(": "),
        f"  {'supply premium':<{width}} USD {musd(c.supply_premium_musd):>12} million"
        f"  ({clean_kg - base_kg:+,.1f} USD/kg delivered: {clean_kg:,.1f} against {base_kg:,.1f}; no penalty in it)",
        f"  {'premium with unmet-demand penalty':<{width}} USD {musd(c.premium_musd):>12} million ({c.premium_pct:,.1f}%)",
        f"  {'  of which supply':<{width}} USD {musd(c.supply_premium_musd):>12} million",
        f"  {'  of which unmet-demand penalty':<{width}} USD {musd(c.shortfall_premium_musd):>12} million"
        "  (penalties are assumptions)",
        f"  {'baseline cost':<{width}} USD {musd(c.baseline.objective):>12} million",
        f"  {'non-China (whole chain) cost':<{width}} USD {musd(c.non_china.objective):>12} million",
    ]
    if len(c.supply_premium_usd_per_kg) > 1:
        parts = [f"{p} USD {v:+,.1f}/kg" for p, v in c.supply_premium_usd_per_kg.items()]
        lines.append("  supply premium per product (its clean cap alone): " + ", ".join(parts))
    unmet = c.unmet
    unmet = unmet[unmet["non_china_t"] > 0.5]
    lines += ["", "Unmet demand without China, t:"]
    if unmet.empty:
        lines.append("  (none: the clean chain meets all demand)")
    else:
        table = unmet.pivot_table(index="product", columns="period", values="non_china_t", aggfunc="sum", fill_value=0.0, sort=False)
        table = table.reindex(columns=[p for p in c.periods if p in table.columns]).round(0).astype(int)
        lines.append(render_table(table))
    firsts = []
    for product, period in c.first_full_period.items():
        firsts.append(f"{product} {period}" if period is not None else f"{product} not by {c.periods[-1]}")
    lines += ["", "First period the non-China plan serves all demand: " + ", ".join(firsts)]
    if not unmet.empty:
        lines.append("  (at the assumed penalties: a cost trade-off, not the first period a clean chain can exist)")
    binding = c.non_china.binding
    if not binding.empty:
        lines += ["", f"What binds the non-China plan hardest (shadow prices, top {top}):"]
        lines += [f"  {i + 1}. {m}" for i, m in enumerate(binding["meaning"].head(top))]
    return "\n".join(lines)
