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


def builds_text(solution: Solution, heading: str = "Builds (SPEC section 7)") -> list[str]:
    """The plan's builds, one line each; nothing where the instance offers no expansions."""
    if not solution.has_expansions:
        return []
    lines = [f"{heading}:"]
    if solution.investments.empty:
        return lines + ["  (none: no expansion is worth its charge)"]
    for row in solution.investments.itertuples(index=False):
        what = solution.capacity_words.get(row.facility, "the facility's")
        start = f"capacity from {row.online}" if row.online is not None else "no capacity within the horizon"
        lines.append(
            f"  - {row.facility} {row.expansion}: {row.modules:g} module{'s' if row.modules != 1 else ''} decided in "
            f"{row.period}, {start} (+{row.capacity_t:,.0f} t a period of {what} capacity); capex USD "
            f"{musd(row.capex_musd)} million, charged USD {musd(row.charge_musd)} million"
        )
    if solution.mip_gap > 1e-6:
        lines.append(f"  (integer builds proven within {100 * solution.mip_gap:.2g}% of the optimum)")
    return lines


def solution_text(solution: Solution, top: int = 5) -> str:
    name = solution.instance_name + (f" [{solution.scenario}]" if solution.scenario else "")
    if solution.objective is None:
        return f"{name}: {solution.status}. {solution.message}"
    b = solution.cost_breakdown
    investment = f" | investment {musd(b['investment'])}" if "investment" in b else ""
    state = "optimal" if solution.optimal else f"{solution.status} (best plan found)"
    lines = [
        f"{name}: {state}, cost USD {musd(solution.objective)} million",
        f"  supply {musd(b['supply'])} | holding {musd(b['holding'])} | sales {musd(b['sales'])}"
        f" | unmet-demand penalty {musd(b['shortfall'])}{investment}",
    ]
    if solution.has_expansions:
        lines += [""] + builds_text(solution)
    lines += [
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
    if c.baseline.has_expansions:
        lines += [""] + builds_text(c.baseline, "Builds of the baseline plan")
        lines += [""] + builds_text(c.non_china, "Builds of the non-China plan")
    binding = c.non_china.binding
    if not binding.empty:
        lines += ["", f"What binds the non-China plan hardest (shadow prices, top {top}):"]
        lines += [f"  {i + 1}. {m}" for i, m in enumerate(binding["meaning"].head(top))]
    return "\n".join(lines)


def invest_text(comparison: Comparison, values: pd.DataFrame, curve: pd.DataFrame, title: str = "") -> str:
    """`ree-opt invest`: the builds of both plans, each expansion's value, the budget curve."""
    if not comparison.ok:
        bad = comparison.baseline if not comparison.baseline.optimal else comparison.non_china
        return f"{title}: {bad.status}. {bad.message}"
    c = comparison
    lines = [
        f"What to build and fund: {title}".rstrip(": "),
        f"  baseline cost USD {musd(c.baseline.objective)} million; non-China cost USD "
        f"{musd(c.non_china.objective)} million; premium USD {musd(c.premium_musd)} million",
        "",
    ]
    lines += builds_text(c.baseline, "Builds of the baseline plan") + [""]
    lines += builds_text(c.non_china, "Builds of the non-China plan") + [""]
    lines.append("What each expansion is worth (USD million: the plan's cost without it, all others allowed, "
                 "minus its cost with all):")
    if values.empty:
        lines.append("  (no expansions)")
    else:
        table = values.set_index(["facility", "expansion"])[
            ["capex_musd", "value_musd", "non_china_value_musd", "baseline_modules", "non_china_modules"]
        ].sort_values("non_china_value_musd", ascending=False, kind="stable")
        table.columns = ["capex/module", "value (baseline)", "value (non-China)", "built (baseline)", "built (non-China)"]
        lines.append(render_table(table.round(1)))
    lines += ["", "The budget curve (public capex over the whole horizon, USD million):"]
    if curve.empty:
        lines.append("  (no budgets)")
    else:
        table = curve[["limit_musd", "non_china_capex_musd", "non_china_musd", "premium_musd", "first_clean_period"]].copy()
        table.columns = ["budget", "capex used", "non-China cost", "premium", "first clean year"]
        lines.append(render_table(table.set_index("budget").round(1)))
        lines.append("  (first clean year: the first period from which the non-China plan meets all demand, at the "
                     "instance's shortfall penalties)")
    return "\n".join(lines)
