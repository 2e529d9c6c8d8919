"""The report's charts, drawn with matplotlib from a ReportData.

Figures are built with the object interface (`matplotlib.figure.Figure`),
never pyplot, so no GUI backend is chosen and a user's own backend is left
alone: SVG and PNG are rendered by matplotlib's SVG and Agg canvases. Text
is never parsed as mathtext, so a `$` in an instance's names stays a `$`;
the SVG backend escapes every string it writes.
"""

from __future__ import annotations

import io
import re
import textwrap

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..colors import instance_colors
from .data import ReportData
from .numbers import product_name

INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#d9dee4"
CLEAN = "#1f6fb2"
COVERED = "#c0392b"
NON_CHINA = "#117a65"
LOW_SIDE = "#5b8fc7"
HIGH_SIDE = "#d9822b"

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "text.parse_math": False,
    "svg.fonttype": "none",
}

thousands = FuncFormatter(lambda value, _: f"{value:,.0f}")


def _period_ticks(ax, periods: list, every: int | None = None) -> None:
    """One tick per period, labelled every `every` (every other beyond 6 periods)."""
    every = every or (1 if len(periods) <= 6 else 2)
    ax.set_xticks(np.arange(len(periods)), [str(p) if i % every == 0 else "" for i, p in enumerate(periods)])


def _text(value) -> str:
    """An instance string as chart text: one line."""
    return " ".join(str(value).split())


# --------------------------------------------------------------------------
# Rendering


def render_svg(figure: Figure, name: str) -> str:
    """The figure as an inline <svg> element (no XML prolog), with ids salted
    by `name` so that several charts share one HTML document."""
    buffer = io.StringIO()
    with rc_context({**STYLE, "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    # scale with the page: keep the viewBox, drop the fixed size
    svg = re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    # matplotlib numbers its groups per figure (figure_1, axes_1, ...): prefix every id and
    # every reference to one, so that ids stay unique in a page of several charts
    ids = set(re.findall(r' id="([^"]+)"', svg))
    svg = re.sub(r' id="([^"]+)"', lambda m: f' id="{name}-{m.group(1)}"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: m.group(1) + (f"{name}-{m.group(2)}" if m.group(2) in ids else m.group(2)), svg)
    return svg.replace("<svg", f'<svg role="img" aria-labelledby="{name}-caption" class="chart-svg"', 1)


def render_png(figure: Figure, dpi: int = 150) -> bytes:
    buffer = io.BytesIO()
    with rc_context(STYLE):
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------
# The charts


def _country_colors(data: ReportData, countries: list[str] | None = None) -> dict:
    """A country's colour, the same in every chart (ree_opt.colors)."""
    return instance_colors(data.instance)


def mix_chart(data: ReportData) -> Figure:
    """Tonnes of each product per country, one row per product, baseline beside
    non-China, with demand (solid) or what the plan uses (dashed) drawn."""
    supply = data.supply()
    demand = data.demand()
    used = data.used()
    periods = data.periods
    products = data.chart_products()
    colors = _country_colors(data)
    covered = list(data.instance.covered_countries)
    shown = supply[supply["product"].isin(products)]
    totals = shown.groupby("country")["quantity_t"].sum().sort_values(ascending=False) if len(shown) else pd.Series(dtype=float)
    totals = totals[totals > 0.5]
    countries = [c for c in covered if c in totals.index] + [c for c in totals.index if c not in covered]
    plans = [name for name, _ in data.plans()]
    asked = set(demand["product"])
    with rc_context(STYLE):
        rows = max(1, len(products))
        figure = Figure(figsize=(10, 1.0 + 2.0 * rows), layout="constrained")
        axes = figure.subplots(rows, 2, sharex=True, sharey="row", squeeze=False)
        x = np.arange(len(periods))
        for r, product in enumerate(products or ["(none)"]):
            for c, plan in enumerate(plans):
                ax = axes[r][c]
                part = supply[(supply["plan"] == plan) & (supply["product"] == product)]
                table = part.pivot_table(index="country", columns="period", values="quantity_t", aggfunc="sum",
                                         fill_value=0.0)
                bottom = np.zeros(len(periods))
                for country in countries:
                    if country not in table.index:
                        continue
                    values = np.array([float(table.loc[country].get(p, 0.0)) for p in periods])
                    ax.bar(x, values, bottom=bottom, color=colors.get(country, MUTED), width=0.75, linewidth=0)
                    bottom += values
                if product in asked:
                    line = demand[demand["product"] == product].set_index("period")["quantity_t"]
                    style, width = "-", 1.6
                else:
                    mine = used[(used["plan"] == plan) & (used["product"] == product)]
                    line = mine.set_index("period")["quantity_t"]
                    style, width = "--", 1.3
                values = np.array([float(line.get(p, 0.0)) for p in periods])
                if values.any():
                    ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[values, values[-1]], where="post", color=INK,
                            linestyle=style, linewidth=width)
                if r == 0:
                    ax.set_title(f"{plan} plan", loc="left")
                if c == 0:
                    ax.set_ylabel(f"{_text(product_name(product))}\nt per period")
                ax.yaxis.set_major_formatter(thousands)
                ax.grid(axis="x", visible=False)
                _period_ticks(ax, periods, 1 if len(periods) <= 12 else 2)
        handles = [Patch(color=colors.get(c, MUTED), label=_text(c) + (" (covered)" if c in covered else ""))
                   for c in countries]
        handles.append(Line2D([], [], color=INK, linewidth=1.6, label="demand"))
        if any(p not in asked for p in products):
            handles.append(Line2D([], [], color=INK, linewidth=1.3, linestyle="--", label="used by the plan"))
        figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 8), title="country")
    return figure


def prices_chart(data: ReportData) -> Figure:
    """Marginal prices of the oxides, one panel per product, with references."""
    prices = data.prices()
    references = data.reference_prices()
    products = data.price_products()
    periods = data.periods
    with rc_context(STYLE):
        count = max(1, len(products))
        figure = Figure(figsize=(10, 3.8), layout="constrained")
        axes = figure.subplots(1, count, squeeze=False)[0]
        x = np.arange(len(periods))
        lines = [  # (plan, label, colour, style, marker, legend, width): clean drawn wide under covered
            ("baseline", "clean", CLEAN, "-", "o", "clean, baseline plan", 3.2),
            ("baseline", "covered", COVERED, "-", "s", "covered, baseline plan", 1.4),
            ("non-China", "clean", NON_CHINA, "--", "^", "clean, non-China plan", 1.6),
        ]
        for ax, product in zip(axes, products):
            highest, lowest = 0.0, np.inf
            for plan, label, color, style, marker, _, width in lines:
                part = prices[(prices["product"] == product) & (prices["plan"] == plan) & (prices["label"] == label)]
                series = part.set_index("period")["usd_per_kg"]
                values = np.array([float(series.get(p, np.nan)) for p in periods])
                ax.plot(x, values, color=color, linestyle=style, marker=marker, markersize=3.5, linewidth=width,
                        alpha=0.55 if width > 3 else 1.0)
                finite = values[np.isfinite(values) & (values > 0)]
                if len(finite):
                    highest, lowest = max(highest, finite.max()), min(lowest, finite.min())
            for ref in references[references["product"] == product].itertuples():
                ax.axhline(ref.usd_per_kg, color=MUTED, linestyle=":", linewidth=1.2)
                ax.annotate(f"{_text(ref.label)} {ref.usd_per_kg:,.0f}", (1, ref.usd_per_kg),
                            xycoords=("axes fraction", "data"), xytext=(-2, 2), textcoords="offset points",
                            ha="right", fontsize=7.5, color=MUTED,
                            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
                highest, lowest = max(highest, ref.usd_per_kg), min(lowest, ref.usd_per_kg)
            if np.isfinite(lowest) and lowest > 0 and highest / lowest > 8:
                ax.set_yscale("log")
                ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                ax.yaxis.set_minor_formatter(NullFormatter())
                ax.set_title(f"{product_name(product)} (log scale)", loc="left")
            else:
                ax.set_ylim(bottom=0)
                ax.set_title(product_name(product), loc="left")
            ax.yaxis.set_major_formatter(thousands)
            _period_ticks(ax, periods)
        axes[0].set_ylabel("USD/kg")
        handles = [
            Line2D([], [], color=color, linestyle=style, marker=marker, markersize=3.5, label=text)
            for _, _, color, style, marker, text, _ in lines
        ]
        handles.append(Line2D([], [], color=MUTED, linestyle=":", label="public reference price"))
        figure.legend(handles=handles, loc="outside lower center", ncol=4)
    return figure


def curve_chart(data: ReportData) -> Figure:
    """Cost against the allowed covered share, and the cost of each step."""
    curve = data.curve
    with rc_context(STYLE):
        figure = Figure(figsize=(10, 4.6), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[2.2, 1])
        shares = curve["share"].to_numpy(dtype=float)
        cost = curve["objective_musd"].to_numpy(dtype=float)
        top.plot(shares, cost, color=CLEAN, marker="o", markersize=4, linewidth=1.8)
        for share, value, premium in zip(shares, cost, curve["premium_musd"]):
            if np.isfinite(value):
                top.annotate(f"+{premium:,.0f}" if premium > 0.05 else f"{value:,.0f}", (share, value),
                             xytext=(0, 6), textcoords="offset points", ha="center", fontsize=7.5, color=MUTED)
        top.set_ylabel("total cost\nUSD million")
        top.yaxis.set_major_formatter(thousands)
        top.set_title("cost of the plan (labels: premium over no cap, USD million)", loc="left")
        marginal = curve["marginal_musd_per_pct"].to_numpy(dtype=float)
        width = 0.6 * (np.min(np.abs(np.diff(shares))) if len(shares) > 1 else 0.1)
        bottom.bar(shares, np.nan_to_num(marginal), width=width, color=HIGH_SIDE)
        bottom.set_ylabel("USD million\nper point")
        bottom.set_title("marginal cost of tightening the cap by one percentage point", loc="left")
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.1f}" if abs(v) < 10 else f"{v:,.0f}"))
        bottom.set_xlim(max(shares.max(), 1.0) + 0.05, min(shares.min(), 0.0) - 0.05)  # loose to tight
        bottom.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
        bottom.set_xlabel("allowed covered share of deliveries (100% = no cap, 0% = non-China)")
    return figure


def tornado_chart(data: ReportData) -> Figure:
    """The premium at each factor's low and high value, around the base premium."""
    table = data.tornado
    with rc_context(STYLE):
        rows = max(1, len(table))
        figure = Figure(figsize=(10, 1.3 + 0.55 * rows), layout="constrained")
        ax = figure.subplots()
        base = float(table["base_premium_musd"].iloc[0]) if len(table) else data.comparison.premium_musd
        y = np.arange(len(table))[::-1]
        labels = ["\n".join(textwrap.wrap(_text(name), 42)) for name in table["factor"]]
        for position, row in zip(y, table.itertuples()):
            for value, color, side in ((row.premium_low_musd, LOW_SIDE, row.low), (row.premium_high_musd, HIGH_SIDE, row.high)):
                if value is None or not np.isfinite(value):
                    continue
                ax.barh(position, value - base, left=base, color=color, height=0.6)
                if abs(value - base) < 0.005 * max(abs(base), 1.0):
                    continue  # no bar to label: the premium does not move on this side
                ax.annotate(f"{value:,.0f}", (value, position), xytext=(4 if value >= base else -4, 0),
                            textcoords="offset points", va="center", ha="left" if value >= base else "right",
                            fontsize=7.5, color=MUTED)
        ax.axvline(base, color=INK, linewidth=1.2)
        ax.set_yticks(y, labels)
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(thousands)
        ax.set_xlabel(f"non-China premium, USD million (centre line: {base:,.0f})")
        ax.margins(x=0.12)
        ax.legend(handles=[Patch(color=LOW_SIDE, label="low value"), Patch(color=HIGH_SIDE, label="high value")],
                  loc="lower right")
    return figure


def _plans(data: ReportData) -> list[tuple[str, object, str]]:
    """(label, StochasticSolution, colour) of the plans section 7 compares."""
    plans = data.stochastic_plans or {data.stochastic.omega: data.stochastic}
    colours = [CLEAN, HIGH_SIDE]
    return [("risk-neutral" if w == 0 else f"risk-averse (omega {w:g})", s, colours[i % 2])
            for i, (w, s) in enumerate(plans.items())]


def futures_chart(data: ReportData) -> Figure:
    """The distribution of the futures' costs under each plan: probability at
    each cost, with each plan's expected cost and CVaR marked."""
    plans = _plans(data)
    every = np.concatenate([s.futures["cost_musd"].to_numpy(dtype=float) for _, s, _ in plans])
    with rc_context(STYLE):
        figure = Figure(figsize=(10, 3.6), layout="constrained")
        ax = figure.subplots()
        span = float(every.max() - every.min()) if len(every) > 1 else max(abs(float(every[0])), 1.0)
        bins = np.linspace(every.min() - 0.01 * span, every.max() + 0.01 * span,
                           min(40, max(5, len(every) // len(plans))) + 1)
        handles = []
        for i, (label, s, colour) in enumerate(plans):
            cost = s.futures["cost_musd"].to_numpy(dtype=float)
            probability = s.futures["probability"].to_numpy(dtype=float)
            if i == 0:
                ax.hist(cost, bins=bins, weights=probability, color=colour, alpha=0.55)
            else:
                ax.hist(cost, bins=bins, weights=probability, histtype="step", color=colour, linewidth=2.0)
            for value, style, what in ((s.expected_cost, "--", "expected"), (s.cvar, ":", "CVaR")):
                ax.axvline(value, color=colour, linewidth=1.5, linestyle=style)
            handles.append(Patch(color=colour, alpha=0.7, label=f"{label}: expected {s.expected_cost:,.0f} (dashed), "
                                                               f"CVaR {s.cvar:,.0f} (dotted)"))
        ax.set_xlabel("cost of the future, USD million over the horizon")
        ax.set_ylabel("probability")
        ax.xaxis.set_major_formatter(thousands)
        ax.legend(handles=handles, loc="upper right")
    return figure


def frontier_chart(data: ReportData) -> Figure:
    """Expected cost against CVaR for each omega."""
    frontier = data.risk_frontier.dropna()
    with rc_context(STYLE):
        figure = Figure(figsize=(10, 3.6), layout="constrained")
        ax = figure.subplots()
        ax.plot(frontier["cvar_musd"], frontier["expected_cost_musd"], color=CLEAN, marker="o", linewidth=1.8)
        points: dict = {}  # omegas that reach the same plan share one label
        for row in frontier.itertuples():
            key = (round(row.cvar_musd, 3), round(row.expected_cost_musd, 3))
            points.setdefault(key, []).append(f"{row.omega:g}")
        for (cvar, expected), omegas in points.items():
            ax.annotate(f"omega {', '.join(omegas)}", (cvar, expected), xytext=(6, 4),
                        textcoords="offset points", fontsize=8, color=MUTED)
        for label, s, colour in _plans(data):  # the plans of the section, ringed
            ax.plot([s.cvar], [s.expected_cost], marker="o", markersize=11, markerfacecolor="none",
                    markeredgecolor=colour, markeredgewidth=2.0, linestyle="none", label=f"{label} plan")
        ax.legend(loc="upper right")
        ax.set_xlabel("CVaR: mean cost of the worst futures, USD million")
        ax.set_ylabel("expected cost\nUSD million")
        for axis, values in ((ax.xaxis, frontier["cvar_musd"]), (ax.yaxis, frontier["expected_cost_musd"])):
            narrow = float(values.max() - values.min()) < 20
            axis.set_major_formatter(FuncFormatter(lambda v, _, narrow=narrow: f"{v:,.1f}" if narrow else f"{v:,.0f}"))
    return figure


def budget_chart(data: ReportData) -> Figure:
    """Each plan's cost (top) and the non-China premium (bottom, bars) at
    each funding budget, the budgets evenly spaced and the no-limit plans
    last; each bar labelled with the premium and the first year the
    non-China plan serves all demand."""
    funding = data.funding()
    last = data.periods[-1]
    x = np.arange(len(funding))
    names = [f"{v:,.0f}" for v in funding["limit_musd"].iloc[:-1]]
    names.append(f"no limit\n({funding['limit_musd'].iloc[-1]:,.0f}: all offered)")
    with rc_context(STYLE):
        figure = Figure(figsize=(10, 5.4), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1.15])
        for column, color, marker, label in (("non_china_musd", NON_CHINA, "^", "non-China plan"),
                                             ("baseline_musd", CLEAN, "o", "baseline (least-cost) plan")):
            top.plot(x, funding[column].to_numpy(dtype=float), color=color, marker=marker, markersize=5,
                     linewidth=1.8, label=label)
        top.set_ylabel("cost of the plan\nUSD million")
        top.yaxis.set_major_formatter(thousands)
        top.set_title("what each plan costs over the horizon", loc="left")
        top.legend(loc="upper right")
        top.grid(axis="x", visible=False)
        premium = funding["premium_musd"].to_numpy(dtype=float)
        bottom.bar(x, premium, width=0.6, color=HIGH_SIDE)
        for position, row in zip(x, funding.itertuples(index=False)):
            first = row.first_clean_period
            clean = f"clean from {first}" if first not in (None, "never") else f"unmet to {last}"
            amount = f"{row.premium_musd:,.1f}" if abs(row.premium_musd) < 100 else f"{row.premium_musd:,.0f}"
            bottom.annotate(f"{amount}\n{clean}", (position, max(row.premium_musd, 0.0)), xytext=(0, 3),
                            textcoords="offset points", ha="center", va="bottom", fontsize=8, color=INK)
        high = float(np.nanmax(premium)) if len(premium) else 1.0
        bottom.set_ylim(min(0.0, float(np.nanmin(premium))), high * 1.35 if high > 0 else 1.0)  # room for the labels
        bottom.set_ylabel("non-China premium\nUSD million")
        bottom.yaxis.set_major_formatter(thousands)
        bottom.grid(axis="x", visible=False)
        bottom.set_title("non-China premium (unmet demand at the assumed penalties), and the first year the "
                         "non-China plan serves all demand", loc="left")
        bottom.set_xticks(x, names)
        bottom.set_xlabel("funding budget: the most capex the plans may commit to expansions over the horizon, "
                          "USD million")
    return figure


def builds_chart(data: ReportData) -> Figure:
    """The builds of each plan on a timeline, baseline beside non-China: a
    hatched bar from the decision to the first capacity, then a solid one to
    the horizon's end, one row per facility and expansion (the same rows in
    both panels), in the facility's country colour."""
    from ..builds import expansion_words, named

    builds = data.builds()
    periods = [str(p) for p in data.periods]
    colors = _country_colors(data)
    keys = list(dict.fromkeys((r.facility, r.expansion) for r in builds.itertuples(index=False)))
    names = {(r.facility, r.expansion): (r.name, r.country) for r in builds.itertuples(index=False)}
    labels = ["\n".join(textwrap.wrap(_text(f"{named(*names[k])}: {expansion_words(k[1])}"), 44)) for k in keys]
    plans = [("baseline", "baseline plan"), ("non-China", "non-China plan")]
    end = len(periods) - 0.5
    with rc_context(STYLE):
        figure = Figure(figsize=(10, 1.3 + 0.5 * max(1, len(keys))), layout="constrained")
        axes = figure.subplots(1, 2, sharey=True, squeeze=False)[0]
        y = {key: len(keys) - 1 - i for i, key in enumerate(keys)}
        for ax, (plan, title) in zip(axes, plans):
            part = builds[builds["plan"] == plan]
            for r in part.itertuples(index=False):
                row = y[(r.facility, r.expansion)]
                color = colors.get(r.country, MUTED)
                decided = periods.index(str(r.decided)) - 0.5
                online = periods.index(str(r.online)) - 0.5 if r.online is not None and not pd.isna(r.online) else end
                if online > decided:
                    ax.barh(row, online - decided, left=decided, height=0.5, color="white", edgecolor=color,
                            hatch="////", linewidth=1.0)
                if online < end:
                    ax.barh(row, end - online, left=online, height=0.5, color=color, linewidth=0)
                modules = f"x{r.modules:g}" if abs(r.modules - round(r.modules)) < 1e-6 else f"x{r.modules:.2f}"
                ax.annotate(f"{modules}, USD {r.capex_musd:,.0f}m", (decided, row), xytext=(2, 10),
                            textcoords="offset points", fontsize=7.5, color=INK, va="bottom")
            if part.empty:
                ax.text(0.5, 0.5, "no builds", transform=ax.transAxes, ha="center", va="center", color=MUTED)
            ax.set_title(title, loc="left")
            ax.set_xlim(-0.5, end)
            ax.grid(axis="y", visible=False)
            _period_ticks(ax, periods)
        axes[0].set_yticks(list(y.values()), labels)
        axes[0].set_ylim(-0.7, len(keys) - 0.1)
        countries = list(dict.fromkeys(builds["country"]))
        handles = [Patch(facecolor="white", edgecolor=MUTED, hatch="////", label="decided, being built")]
        handles += [Patch(color=colors.get(c, MUTED), label=f"capacity ({_text(c)})") for c in countries]
        figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6))
    return figure


CHARTS = {
    "budget": budget_chart,
    "builds": builds_chart,
    "mix": mix_chart,
    "prices": prices_chart,
    "curve": curve_chart,
    "tornado": tornado_chart,
    "futures": futures_chart,
    "frontier": frontier_chart,
}
