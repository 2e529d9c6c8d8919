"""How results show themselves: a short readable summary (their `repr`,
what a terminal or a notebook prints) and an HTML table for Jupyter
(`_repr_html_`).

Every piece of text that comes from an instance (names, scenario names,
messages) is escaped in the HTML; tables go through pandas' `to_html`,
which escapes too. The functions read results by their attributes only, so
this module sits below solution.py, analysis.py and stochastic/ and they
all call it.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from .ranging import tie_count, tightest

STYLE = "border-collapse:collapse;margin:0.3em 0"
TOP = 3


def musd(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:,.2f}"


def _title(kind: str, name: str, scenario: str | None = None) -> str:
    return f"{kind} {name!r}" + (f" [{scenario}]" if scenario else "")


def _by_period(frame: pd.DataFrame, index: list[str], periods: list) -> pd.DataFrame:
    """Rows `index`, one column per period, tonnes rounded."""
    if frame.empty:
        return frame
    table = frame.pivot_table(index=index, columns="period", values="quantity_t", aggfunc="sum", fill_value=0.0,
                              sort=False)
    table = table.reindex(columns=[p for p in periods if p in table.columns])
    return table.round(0).astype(int)


def _pairs_html(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{escape(k)}</th>'
        f'<td style="text-align:right">{escape(v)}</td></tr>'
        for k, v in rows
    )
    return f'<table style="{STYLE}">{body}</table>'


def _frame_html(frame: pd.DataFrame, caption: str, index: bool = True) -> str:
    if frame is None or frame.empty:
        return f"<p><em>{escape(caption)}: none</em></p>"
    table = frame.to_html(index=index, escape=True, border=0, float_format=lambda v: f"{v:,.2f}")
    return f"<details open><summary>{escape(caption)}</summary>{table}</details>"


def _list_html(title: str, items) -> str:
    items = list(items)
    if not items:
        return ""
    return f"<p>{escape(title)}</p><ul>" + "".join(f"<li>{escape(str(i))}</li>" for i in items) + "</ul>"


def _wrap(kind: str, parts: list[str]) -> str:
    return f'<div class="ree-opt-{kind}">' + "".join(parts) + "</div>"


# --------------------------------------------------------------------------
# Solution


def _solution_facts(sol) -> list[tuple[str, str]]:
    b = sol.cost_breakdown
    share = sol.covered_share
    delivered = float(share["delivered_t"].sum()) if not share.empty else 0.0
    covered = float(share["covered_t"].sum()) if not share.empty else 0.0
    unmet = float(sol.shortfall["quantity_t"].sum()) if not sol.shortfall.empty else 0.0
    horizon = f"{sol.periods[0]}-{sol.periods[-1]}" if len(sol.periods) > 1 else str(sol.periods[0]) if sol.periods else ""
    return [
        ("cost, USD million", musd(sol.objective)),
        ("  supply", musd(b.get("supply"))),
        ("  holding", musd(b.get("holding"))),
        ("  sales", musd(b.get("sales"))),
        ("  unmet-demand penalty", musd(b.get("shortfall"))),
        ("periods", horizon),
        ("delivered, t", f"{delivered:,.0f}"),
        ("covered share of deliveries", f"{100 * covered / delivered:,.1f}%" if delivered else "n/a"),
        ("unmet demand, t", f"{unmet:,.0f}"),
        ("sources used", f"{sol.activity['facility'].nunique()} facilities in {sol.activity['country'].nunique()} countries"),
    ]


def solution_summary(sol) -> str:
    head = _title("Solution", sol.instance_name, sol.scenario)
    if not sol.optimal:
        return f"{head}: {sol.status}. {sol.message}".rstrip()
    facts = dict(_solution_facts(sol))
    lines = [
        f"{head}: optimal, cost USD {facts['cost, USD million']} million",
        f"  supply {facts['  supply']} | holding {facts['  holding']} | sales {facts['  sales']}"
        f" | unmet-demand penalty {facts['  unmet-demand penalty']}",
        f"  {facts['periods']}: {facts['delivered, t']} t delivered ({facts['covered share of deliveries']} covered), "
        f"{facts['unmet demand, t']} t unmet; {facts['sources used']}",
    ]
    if not sol.binding.empty:
        lines.append(f"  binds hardest: {sol.binding['meaning'].iloc[0]}")
    tight = tightest(sol.ranging, 1)
    if not tight.empty:
        lines.append(f"  tightest range: {tight['meaning'].iloc[0]}")
    lines.append(
        "  tables: activity, deliveries, shortfall, covered_share, marginal_prices, binding, ranging, stock, sales"
    )
    return "\n".join(lines)


def solution_html(sol) -> str:
    head = _title("Solution", sol.instance_name, sol.scenario)
    if not sol.optimal:
        return _wrap("solution", [f"<p><strong>{escape(head)}</strong>: {escape(sol.status)}. {escape(sol.message)}</p>"])
    ties = tie_count(sol.ranging)
    parts = [
        f"<p><strong>{escape(head)}</strong>: optimal, cost USD {escape(musd(sol.objective))} million</p>",
        _pairs_html(_solution_facts(sol)),
        _frame_html(_by_period(sol.activity, ["facility", "country", "label"], sol.periods), "Sourcing, t of activity"),
        _frame_html(_by_period(sol.shortfall, ["segment", "product"], sol.periods), "Unmet demand, t"),
        _list_html(f"What binds (largest shadow prices, top {TOP}):", sol.binding["meaning"].head(TOP)),
        _list_html(
            f"Tightest ranges (top {TOP}" + (f"; {ties} ties left out" if ties else "") + "):",
            tightest(sol.ranging, TOP)["meaning"],
        ),
    ]
    return _wrap("solution", parts)


# --------------------------------------------------------------------------
# Comparison (the non-China premium)


def _comparison_rows(c) -> list[tuple[str, str]]:
    base_kg, clean_kg = c.supply_usd_per_kg
    return [
        ("baseline, USD million", musd(c.baseline.objective)),
        ("non-China (whole chain), USD million", musd(c.non_china.objective)),
        ("premium, USD million", f"{musd(c.premium_musd)} ({c.premium_pct:+,.1f}%)"),
        ("  of which supply", musd(c.supply_premium_musd)),
        ("  of which unmet-demand penalty", musd(c.shortfall_premium_musd)),
        ("supply cost per kg delivered, USD/kg", f"{base_kg:,.1f} -> {clean_kg:,.1f}"),
        ("unmet without China, t", f"{float(c.unmet['non_china_t'].sum()):,.0f}"),
    ]


def _first_full(c) -> str:
    last = c.periods[-1] if c.periods else ""
    return ", ".join(
        f"{product} {period}" if period is not None else f"{product} not by {last}"
        for product, period in c.first_full_period.items()
    )


def comparison_summary(c) -> str:
    head = _title("Comparison", c.baseline.instance_name, c.baseline.scenario)
    if not c.ok:
        bad = c.baseline if not c.baseline.optimal else c.non_china
        return f"{head}: {bad.status}. {bad.message}".rstrip()
    rows = dict(_comparison_rows(c))
    return "\n".join([
        f"{head}: the non-China premium is USD {musd(c.premium_musd)} million ({c.premium_pct:+,.1f}%)",
        f"  of which supply USD {musd(c.supply_premium_musd)} million (no penalty in it), unmet-demand penalty "
        f"USD {musd(c.shortfall_premium_musd)} million (assumed)",
        f"  baseline USD {musd(c.baseline.objective)} million, non-China (whole chain) "
        f"USD {musd(c.non_china.objective)} million",
        f"  unmet without China: {rows['unmet without China, t']} t; the non-China plan serves all demand from "
        f"(at the assumed penalties): {_first_full(c) or 'n/a'}",
        "  .baseline and .non_china are Solutions; .summary(), .unmet",
    ])


def comparison_html(c) -> str:
    head = _title("Comparison", c.baseline.instance_name, c.baseline.scenario)
    if not c.ok:
        bad = c.baseline if not c.baseline.optimal else c.non_china
        return _wrap("comparison", [f"<p><strong>{escape(head)}</strong>: {escape(bad.status)}. {escape(bad.message)}</p>"])
    unmet = c.unmet
    unmet = unmet[unmet["non_china_t"] > 0.5]
    table = (
        unmet.pivot_table(index="product", columns="period", values="non_china_t", aggfunc="sum", fill_value=0.0,
                          sort=False).round(0)
        if not unmet.empty else unmet
    )
    parts = [
        f"<p><strong>{escape(head)}</strong>: the non-China premium is USD {escape(musd(c.premium_musd))} million "
        f"({escape(f'{c.premium_pct:+,.1f}%')})</p>",
        _pairs_html(_comparison_rows(c) + [("serves all demand from (at the assumed penalties)", _first_full(c) or "n/a")]),
        _frame_html(table, "Unmet demand without China, t"),
        _list_html(f"What binds the non-China plan hardest (top {TOP}):", c.non_china.binding["meaning"].head(TOP)),
    ]
    return _wrap("comparison", parts)


# --------------------------------------------------------------------------
# StochasticSolution (SPEC section 6)


def _stochastic_rows(s) -> list[tuple[str, str]]:
    rows = [
        ("futures", f"{len(s.futures)}, revealed in {s.reveal}"),
        ("objective, USD million", f"{musd(s.objective)} ((1 - omega) E + omega CVaR, omega {s.omega:g})"),
        ("expected cost, USD million", musd(s.expected_cost)),
        (f"CVaR (worst {100 * (1 - s.alpha):g}%), USD million", musd(s.cvar)),
        ("VaR, USD million", musd(s.var)),
    ]
    if s.vss is not None:
        rows += [("VSS, USD million", musd(s.vss)), ("EVPI, USD million", musd(s.evpi))]
    if not s.offtakes.empty:
        rows.append(("offtake fees, USD million", musd(float(s.offtakes["fee_musd"].sum()))))
    return rows


def stochastic_summary(s) -> str:
    head = _title("StochasticSolution", s.instance_name)
    if not s.optimal:
        return f"{head}: {s.status}. {s.message}".rstrip()
    lines = [f"{head}: optimal, {len(s.futures)} futures, revealed in {s.reveal}"]
    lines.append(
        f"  objective USD {musd(s.objective)} million; expected cost USD {musd(s.expected_cost)} million; "
        f"CVaR (worst {100 * (1 - s.alpha):g}%) USD {musd(s.cvar)} million"
    )
    if s.vss is not None:
        lines.append(f"  VSS USD {musd(s.vss)} million; EVPI USD {musd(s.evpi)} million")
    if s.offtakes.empty:
        lines.append("  offtakes to sign now: none")
    else:
        signed = s.offtakes.groupby("facility", sort=False)["quantity_t"].sum()
        lines.append("  offtakes to sign now: " + ", ".join(f"{f} {q:,.0f} t" for f, q in signed.items()))
    worst = s.worst_futures(1)
    if not worst.empty:
        row = worst.iloc[0]
        lines.append(
            f"  worst future: {row['future']} [{row['scenario'] or 'as the instance is'}], "
            f"USD {musd(row['cost_musd'])} million"
        )
    lines.append("  tables: futures, offtakes, stockpile, future_shortfall, first_stage (a Solution); summary()")
    return "\n".join(lines)


def stochastic_html(s) -> str:
    head = _title("StochasticSolution", s.instance_name)
    if not s.optimal:
        return _wrap("stochastic", [f"<p><strong>{escape(head)}</strong>: {escape(s.status)}. {escape(s.message)}</p>"])
    parts = [
        f"<p><strong>{escape(head)}</strong>: optimal, objective USD {escape(musd(s.objective))} million</p>",
        _pairs_html(_stochastic_rows(s)),
        _frame_html(s.offtakes, "Offtakes to sign now", index=False),
        _frame_html(s.stockpile, f"Stockpile before {s.reveal}, t", index=False),
        _frame_html(s.worst_futures(TOP), f"The {TOP} costliest futures", index=False),
    ]
    return _wrap("stochastic", parts)
