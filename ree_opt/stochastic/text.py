"""The stochastic answer on one screen, for the terminal."""

from __future__ import annotations

import pandas as pd

from ..text import builds_text, by_period, musd, render_table
from .results import StochasticSolution


def future_line(row, tail: str) -> str:
    """One future of a futures table: its scenarios, probability and cost."""
    return (
        f"  future {row['future']} [{row['scenario'] or 'as the instance is'}] p = {row['probability']:.3g}: "
        f"USD {musd(row['cost_musd'])} million; {tail}"
    )


def dropped_line(dropped: int) -> list[str]:
    """The line that says how many futures of probability 0 were dropped (none: no line)."""
    if not dropped:
        return []
    return [f"  {dropped:,} future{'s' if dropped != 1 else ''} of probability 0 dropped (not solved, not reported)"]


def stochastic_text(solution: StochasticSolution, title: str, worst: int = 3, dropped: int = 0) -> str:
    """The answer on one screen; `dropped` futures of probability 0 are named
    on the line after the count."""
    if not solution.optimal:
        return f"{title}: {solution.status}. {solution.message}"
    s = solution
    count = len(s.futures)
    def money(label: str, value: float, tail: str = "") -> str:
        return f"  {label:<40} USD {musd(value):>12} million{tail}"

    lines = [
        f"Decide now, under uncertainty: {title}",
        f"  {count} futures; the future is revealed in {s.reveal}; risk weight omega {s.omega:g}, "
        f"CVaR level alpha {s.alpha:g}",
        *dropped_line(dropped),
        money("objective ((1 - omega) E + omega CVaR)", s.objective),
        money("expected cost", s.expected_cost),
        money(f"CVaR (mean of the worst {100 * (1 - s.alpha):g}%)", s.cvar, f"   (VaR {musd(s.var)})"),
    ]
    if s.vss is not None:
        lines += [
            money("VSS (vs. signing the nominal plan)", s.vss),
            money("EVPI (vs. knowing the future)", s.evpi),
        ]
    if s.first_stage.has_expansions:
        lines += [""] + builds_text(s.first_stage, f"Builds decided before {s.reveal}, shared by every future")
    lines += ["", "Offtakes to sign now (t of activity reserved):"]
    if s.offtakes.empty:
        lines.append("  (none)")
    else:
        table = by_period(s.offtakes, ["facility"], list(s.offtakes["period"].unique()))
        lines.append(render_table(table))
        lines.append(f"  fees USD {musd(float(s.offtakes['fee_musd'].sum()))} million")
    lines += ["", f"Stockpile to hold at the end of the first stage (before {s.reveal}), t:"]
    stock = s.stockpile
    lines.append(render_table(stock.set_index(["product", "label"]).round(0)) if not stock.empty else "  (none)")
    lines += ["", "Bought before the future is known (t of activity):"]
    activity = s.first_stage.activity
    lines.append(
        render_table(by_period(activity, ["facility"], s.first_stage.periods)) if not activity.empty else "  (none)"
    )
    lines += ["", f"The worst {min(worst, count)} futures and what they lack:"]
    for _, row in s.worst_futures(worst).iterrows():
        lacking = s.future_shortfall[s.future_shortfall["future"] == row["future"]]
        lack = ", ".join(
            f"{product} {quantity:,.0f} t"
            for product, quantity in lacking.groupby("product", sort=False)["quantity_t"].sum().items()
        ) or "nothing"
        lines.append(future_line(row, f"unmet: {lack}"))
    if s.message:
        lines += ["", f"note: {s.message}"]
    return "\n".join(lines)


def stochastic_tables(solution: StochasticSolution) -> dict[str, pd.DataFrame | pd.Series]:
    """Every table of the answer, by file name."""
    first = solution.first_stage
    return {
        "summary": solution.summary(),
        "futures": solution.futures,
        "future_shortfall": solution.future_shortfall,
        "offtakes": solution.offtakes,
        "stockpile": solution.stockpile,
        "first_stage_activity": first.activity,
        "first_stage_deliveries": first.deliveries,
        "first_stage_shortfall": first.shortfall,
        "first_stage_stock": first.stock,
    }


def evaluation_text(evaluation, plan: StochasticSolution, title: str, worst: int = 3, dropped: int = 0) -> str:
    """A plan's out-of-sample costs (`ree_opt.evaluate`) on one screen;
    `dropped`: the futures of probability 0 left out of the plan's own."""
    e = evaluation
    low, high = e.confidence_interval

    def money(label: str, value: float, tail: str = "") -> str:
        return f"  {label:<40} USD {musd(value):>12} million{tail}"

    drawn = f"{e.draws:,} draws ({len(e.futures):,} distinct futures)" if e.draws else (
        f"{len(e.futures):,} futures (every combination)"
    )
    lines = [
        f"The plan out of sample: {title}",
        f"  plan chosen on {len(plan.futures):,} futures (in-sample expected cost USD {musd(plan.expected_cost)} "
        f"million); evaluated on {drawn}",
        *dropped_line(dropped),
        money("expected cost", e.expected_cost),
        money("95% confidence interval", low, f" .. {musd(high)}"),
        money(f"CVaR (mean of the worst {100 * (1 - e.alpha):g}%)", e.cvar, f"   (VaR {musd(e.var)})"),
    ]
    if e.omega:
        lines.append(money("objective ((1 - omega) E + omega CVaR)", e.objective))
    if e.gap is not None:
        lines += gap_lines(e.gap)
    lines += ["", f"The worst {min(worst, len(e.futures))} futures:"]
    for _, row in e.futures.sort_values("cost_musd", ascending=False, kind="stable").head(worst).iterrows():
        lines.append(future_line(row, f"unmet {row['shortfall_t']:,.0f} t"))
    if e.message:
        lines += ["", f"note: {e.message}"]
    return "\n".join(lines)


def gap_lines(g) -> list[str]:
    """The SAA optimality gap as a statistician states it: never below 0, the
    bounds in order, a negative point estimate called noise, units everywhere."""
    def money(value: float) -> str:
        return f"USD {musd(value)} million"

    bound = f"; 95% bound {money(g.gap_bound_95)}" if g.gap_bound_95 is not None else ""
    lines = [f"  {'optimality gap (SAA estimate)':<40} USD {musd(g.gap):>12} million{bound}"]
    if g.noise:
        error = f" (standard error {money(g.standard_error)})" if g.standard_error is not None else ""
        lines.append(
            f"    point estimate {money(g.estimate)}: below 0, which only sampling noise gives{error}; taken as 0"
        )
    lower, upper = g.bounds
    source = (f"mean in-sample optimum of {len(g.replications)} samples of {g.size:,}" if g.replications
              else "the plan's own optimum over every combination")
    lines.append(f"    lower bound {money(lower)}: {source}")
    if g.noise:
        lines.append(f"    upper bound {money(upper)}: the out-of-sample estimate ({money(g.upper)}) "
                     "fell below the lower bound, by noise, and is raised to it")
    else:
        lines.append(f"    upper bound {money(upper)}: the plan's objective out of sample")
    return lines
