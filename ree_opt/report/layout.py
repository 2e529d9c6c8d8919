"""What the report says, section by section, as plain blocks.

The blocks hold plain text (never markup) and the raw numbers behind each
formatted one; the HTML and Markdown renderers escape every piece of text
they are given and lay the same blocks out in their own syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import numbers as fmt
from .data import SIGN_THRESHOLD_MUSD, SIGN_THRESHOLD_T, STAGE_ORDER, ReportData, numbered_sections


@dataclass
class Cell:
    text: str
    value: float | None = None  # the unformatted number behind `text`
    numeric: bool = False
    refs: list[str] = field(default_factory=list)  # source ids, linked to the source list
    url: str | None = None


@dataclass
class Table:
    id: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]]
    wide: bool = False


@dataclass
class Paragraph:
    text: str
    css: str = ""


@dataclass
class Kpi:
    key: str
    label: str
    text: str
    value: float | None  # None: the text is not a number (a year, "not by 2035")
    detail: str = ""


@dataclass
class Kpis:
    items: list[Kpi]


@dataclass
class Chart:
    name: str  # charts.CHARTS key; the element id is chart-<name>
    caption: str


@dataclass
class Heading:
    text: str
    id: str = ""


@dataclass
class SourceList:
    sources: pd.DataFrame


@dataclass
class Section:
    id: str
    title: str
    blocks: list


def num(value, formatter) -> Cell:
    number = None
    try:
        number = float(value)
    except (TypeError, ValueError):
        pass
    if number is not None and np.isnan(number):
        number = None
    return Cell(formatter(value), number, True)


def text(value) -> Cell:
    return Cell("" if value is None else fmt.plain(value))


def _refs(value) -> list[str]:
    return [part.strip() for part in str(value or "").replace(",", ";").split(";") if part.strip()]


def _join(words: list[str]) -> str:
    words = [str(w) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


# --------------------------------------------------------------------------


def _periods_text(periods: list) -> str:
    """2026-2028, or 2026 and 2029 where they are not consecutive."""
    if not periods:
        return ""
    return str(periods[0]) if len(periods) == 1 else f"{periods[0]}-{periods[-1]}"


def _penalty_range(data: ReportData) -> str:
    """The instance's unmet-demand penalties, USD/kg: "150-1,000"."""
    values = []
    for entry in data.instance.demand:
        penalty = entry.shortfall_penalty
        if penalty is None:
            product = data.instance.products.get(entry.product)
            penalty = product.shortfall_penalty if product is not None else None
        if isinstance(penalty, dict):
            values += [float(v) for v in penalty.values()]
        elif penalty is not None:
            values.append(float(penalty))
    if not values:
        return ""
    low, high = min(values), max(values)
    return f"{low:,.0f}" if low == high else f"{low:,.0f}-{high:,.0f}"


def first_clean_period(data: ReportData):
    """The first period from which the non-China plan serves every product in
    full (None: not within the horizon)."""
    firsts = list(data.comparison.first_full_period.values())
    if not firsts or any(f is None for f in firsts):
        return None
    order = {str(p): i for i, p in enumerate(data.periods)}
    return max(firsts, key=lambda p: order.get(str(p), -1))


def first_clean_sentence(data: ReportData) -> str:
    """The first clean year as what it is: a cost trade-off at the assumed
    penalties, with how it moves when the penalties do (the instance's
    penalty-only scenarios)."""
    first = first_clean_period(data)
    penalties = _penalty_range(data)
    unmet = data.summary["unmet_non_china_t"]
    if unmet <= 0.5:
        return "The non-China plan serves all demand in every period: the clean chain is large enough, at a price."
    text = (
        f"The non-China plan serves all demand from {first}" if first is not None
        else f"The non-China plan leaves demand unmet up to {data.periods[-1]}"
    )
    text += (
        ": a cost trade-off at the assumed penalties"
        + (f" (USD {penalties}/kg unmet)" if penalties else "")
        + ", not the first year a clean chain can exist. Where clean supply costs more than the penalty, the plan "
        "leaves demand unmet instead."
    )
    moves = []
    for factor, name, period in data.penalty_years():
        said = ", ".join(map(str, period)) if isinstance(period, list) else str(period)
        said = f"in no year up to {data.periods[-1]}" if said == "never" else f"from {said}"
        moves.append(f"x{factor:g} ({name}): {said}")
    if moves:
        text += " With every penalty " + "; ".join(moves) + "."
    return text


def _funding_sentence(data: ReportData) -> str:
    """What the non-China plan's answer counts on funding, for the first
    screen ("What to fund" says the rest); "" without expansions."""
    if data.budget_curve is None:
        return ""
    builds = data.builds()
    clean = builds[builds["plan"] == "non-China"] if len(builds) else builds
    funding = data.funding()
    none, unlimited = funding.iloc[0], funding.iloc[-1]
    if not len(clean):
        return " The non-China plan funds none of the expansions offered."
    first, more = _first_builds(clean, data.values())
    sentence = (f" It counts on USD {fmt.musd(unlimited.non_china_capex_musd)} million of capex, funding "
                f"{_series(first)}" + (f" (and {more} more)" if more else ""))
    if none.first_clean_period in (None, "never") and unlimited.first_clean_period not in (None, "never"):
        sentence += f"; without any funding it would not serve all demand by {data.periods[-1]}"
    sentence += (f" (premium USD {fmt.musd(none.premium_musd)} million at a budget of 0; see What to fund)."
                 if abs(float(none.premium_musd) - float(unlimited.premium_musd)) > 0.05 else ".")
    return sentence


def answer(data: ReportData) -> list:
    s = data.summary
    c = data.comparison
    covered = _join(list(data.instance.covered_countries))
    base_kg, clean_kg = c.supply_usd_per_kg
    unmet = data.unmet()
    short = unmet[unmet["non_china_t"] > 0.5]
    short_products = _and([fmt.product_name(p) for p in dict.fromkeys(short["product"])]) if len(short) else ""
    short_periods = _periods_text(list(dict.fromkeys(short["period"]))) if len(short) else ""
    more = "more" if s["supply_premium_musd"] >= 0 else "less"
    lead = (
        f"Over {data.horizon}, buying only from a supply chain that never touches {covered} costs "
        f"USD {fmt.musd(abs(s['supply_premium_musd']))} million {more} in supply: USD {abs(clean_kg - base_kg):,.1f} "
        f"{'more' if clean_kg >= base_kg else 'less'} on every kg delivered ({clean_kg:,.1f} against "
        f"{base_kg:,.1f} USD/kg)."
    )
    if s["unmet_non_china_t"] > 0.5:
        lead += (
            f" That chain cannot yet meet all demand: it leaves {fmt.tonnes(s['unmet_non_china_t'])} t of "
            f"{short_products} unmet in {short_periods}, which the instance prices at "
            f"USD {fmt.musd(s['shortfall_premium_musd'])} million of assumed penalties: USD {fmt.musd(s['premium_musd'])} "
            f"million in all (+{fmt.percent(s['premium_pct'])} over the least-cost plan)."
        )
    lead += _funding_sentence(data)
    first = first_clean_period(data)
    blocks: list = [
        Paragraph(lead, "lead"),
        Kpis([
            Kpi("supply_premium_musd", "Supply premium (USD million)", fmt.musd(s["supply_premium_musd"]),
                s["supply_premium_musd"], f"{clean_kg - base_kg:+,.1f} USD/kg delivered; no assumed penalty in it"),
            Kpi("unmet_non_china_t", "Unmet without China (t)", fmt.tonnes(s["unmet_non_china_t"]),
                s["unmet_non_china_t"],
                f"{short_products}, {short_periods}" if len(short) else f"over {data.horizon}"),
            Kpi("premium_musd", "Premium with penalties (USD million)", fmt.musd(s["premium_musd"]), s["premium_musd"],
                f"+{fmt.percent(s['premium_pct'])}; {fmt.musd(s['shortfall_premium_musd'])} of it assumed penalties"),
            Kpi("first_clean_period", "Non-China plan serves all demand from",
                str(first) if first is not None else f"not by {data.periods[-1]}", None,
                "at the assumed penalties: a cost trade-off"),
        ]),
        Paragraph(first_clean_sentence(data), "note"),
    ]
    costs = []
    for label, solution in (("Least-cost (baseline) plan", c.baseline), ("Non-China plan", c.non_china)):
        b = solution.cost_breakdown
        costs.append([
            text(label), num(b["supply"] + b["holding"] + b["sales"] + b.get("investment", 0.0), fmt.musd),
            num(b["shortfall"], fmt.musd),
            num(solution.objective, fmt.musd), num(solution.shortfall["quantity_t"].sum(), fmt.tonnes),
        ])
    costs.append([text("Non-China premium"), num(s["supply_premium_musd"], fmt.musd),
                  num(s["shortfall_premium_musd"], fmt.musd), num(s["premium_musd"], fmt.musd),
                  num(s["unmet_non_china_t"] - s["unmet_baseline_t"], fmt.tonnes)])
    blocks.append(Table(
        "table-costs", f"What each plan costs, USD million over {data.horizon}",
        ["Plan", "Supply (paid, held, less sales" + (", capital charges of builds)" if c.baseline.has_expansions else ")"),
         "Unmet-demand penalty (assumed)", "Total", "Unmet demand (t)"],
        costs,
    ))
    products = data.products()
    rows = []
    for row in products.itertuples():
        first_full = row.first_full_period
        rows.append([
            text(fmt.product_name(row.product)),
            Cell("not by " + str(data.periods[-1]) if first_full == "never" else str(first_full)),
            num(row.supply_premium_usd_per_kg, fmt.usd_per_kg),
            num(row.unmet_baseline_t, fmt.tonnes),
            num(row.unmet_non_china_t, fmt.tonnes),
        ])
    blocks.append(Table(
        "table-products", "By product: when the non-China plan serves all demand, and at what supply premium",
        ["Product", "Non-China plan serves all demand from (at the assumed penalties)",
         "Supply premium (USD/kg delivered)", "Unmet, baseline plan (t)", "Unmet, non-China plan (t)"],
        rows,
    ))
    if c.supply_premium_usd_per_kg:
        blocks.append(Paragraph(
            "Supply premium per kg: the rise in the average supply cost per kg delivered (penalties left out) when "
            "that product alone must be clean.", "note"))
    if not short.empty or (unmet["baseline_t"] > 0.5).any():
        rows = []
        for product in dict.fromkeys(unmet.loc[(unmet["baseline_t"] > 0.5) | (unmet["non_china_t"] > 0.5), "product"]):
            part = unmet[unmet["product"] == product].set_index("period")
            for column, plan in (("baseline_t", "baseline"), ("non_china_t", "non-China")):
                if part[column].sum() <= 0.5:
                    continue
                rows.append([text(fmt.product_name(product)), text(plan)]
                            + [num(part[column].get(p, 0.0), fmt.tonnes) for p in data.periods])
        blocks.append(Table("table-unmet", "Unmet demand by period (t)",
                            ["Product", "Plan"] + [str(p) for p in data.periods], rows, wide=True))
    else:
        blocks.append(Paragraph("Both plans meet all demand in every period.", "note"))
    return blocks


def mix(data: ReportData) -> list:
    table = data.mix()
    rows = []
    if not table.empty:
        pivot = table.pivot_table(index=["plan", "stage", "country"], columns="period", values="quantity_t",
                                  aggfunc="sum", fill_value=0.0, sort=False)
        plans = {name: i for i, (name, _) in enumerate(data.plans())}
        stages = {name: i for i, name in enumerate(STAGE_ORDER)}
        totals = pivot.sum(axis=1)
        order = sorted(pivot.index, key=lambda k: (plans.get(k[0], 99), stages.get(k[1], 99), str(k[1]), -totals[k]))
        for plan, stage, country in order:
            values = pivot.loc[(plan, stage, country)]
            rows.append([text(plan), text(stage), text(country)]
                        + [num(values.get(p, 0.0), fmt.tonnes) for p in data.periods])
    covered = ", ".join(data.instance.covered_countries)
    products = _and([fmt.product_name(p) for p in data.chart_products()])
    blocks: list = [
        Paragraph(
            f"What each plan gets of {products} per period, by the country of the plant that makes it: tonnes of "
            "that product arriving in the period, after the plant's lead time (resellers left out, since what they "
            "sell is made elsewhere). The solid line is what buyers ask for; where a product is only an input, the "
            "dashed line is what the plan uses (consumed by its plants or delivered). Bars short of the solid line "
            "are unmet demand, unless stock fills the gap; bars above a line are stock built, sold or discarded. "
            f"A country keeps its colour in every chart; covered countries ({covered}) are in red. "
            "The non-China plan uses no covered plant for anything it delivers."),
        Chart("mix", "What each plan gets, by product and country: baseline plan (left) beside the non-China plan "
                     "(right), t of product arriving per period"),
    ]
    drops = end_of_horizon_note(data)
    if drops:
        blocks.append(Paragraph(drops, "note"))
    return blocks + [
        Table("table-mix", "Activity by plan, stage and country (t of each stage's main output)",
              ["Plan", "Stage", "Country"] + [str(p) for p in data.periods], rows, wide=True),
    ]


def end_of_horizon_note(data: ReportData) -> str:
    """The sentence under the sourcing-mix chart when, under `end_of_horizon:
    lost`, some stage's last-period activity falls below half of the period
    before (`ReportData.end_of_horizon_drops`); "" otherwise."""
    drops = data.end_of_horizon_drops()
    if drops.empty:
        return ""
    previous, last = drops["previous_period"].iloc[0], drops["last_period"].iloc[0]
    parts = []
    for plan in dict.fromkeys(drops["plan"]):
        rows = drops[drops["plan"] == plan]
        stages = ", ".join(f"{r.stage} {fmt.tonnes(r.previous_t)} t to {fmt.tonnes(r.last_t)} t"
                           for r in rows.itertuples())
        parts.append(f"{plan} plan: {stages}")
    order = {name: i for i, name in enumerate(STAGE_ORDER)}
    stages = sorted(dict.fromkeys(drops["stage"]), key=lambda s: (order.get(s, 99), str(s)))
    noun = "stage" if len(stages) == 1 else "stages"
    return (
        f"In {last}, the activity of the {_and(stages)} {noun} falls below half of {previous}'s "
        f"({'; '.join(parts)}). This is an "
        "end-of-horizon effect, not a feature of supply: the instance uses end_of_horizon: lost, under which output "
        f"due after {last} never arrives, so the plan buys the last period's material a period early and holds it. "
        f"The option end_of_horizon: kept counts that output in {last} instead (SPEC section 3)."
    )


def _and(words: list[str]) -> str:
    words = [str(w) for w in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def binding(data: ReportData) -> list:
    table = data.binding()
    blocks: list = [Paragraph(
        "The constraints with the largest shadow prices: what one more unit of each would save. They say "
        "where money buys the most clean supply.")]
    for plan, title in (("non-China", "Non-China plan"), ("baseline", "Baseline plan")):
        part = table[table["plan"] == plan] if not table.empty else table
        rows = [
            [num(row.rank, lambda v: f"{int(v)}"), text(row.meaning), num(row.dual, fmt.usd_per_kg), text(row.unit),
             text(row.constraint)]
            for row in part.itertuples()
        ]
        slug = "non-china" if plan == "non-China" else "baseline"
        if rows:
            blocks.append(Table(f"table-binding-{slug}", f"{title}: what binds hardest",
                                ["#", "In words", "Shadow price", "Unit", "Constraint"], rows))
        else:
            blocks.append(Paragraph(f"{title}: no constraint binds.", "note"))
    blocks += ranging(data)
    return blocks


def _end(value, formatter, missing: str) -> Cell:
    return num(value, formatter) if np.isfinite(value) else Cell(missing, None, True)


def ranging(data: ReportData) -> list:
    """The baseline's tightest price and capacity ranges (ranging.py)."""
    table = data.ranging()
    ties = data.ranging_ties()
    blocks: list = [Heading("How far prices and capacities may move", "ranging"), Paragraph(
        "For each facility's price (USD/kg) and capacity (t) in each period, the range over which the "
        "least-cost plan's basis stays optimal, read at the cost-minimal solve: inside it the plan certainly "
        "holds, just past an end it may change. The tightest ones, least room first." + (
            f" Left out: {ties} tie{'s' if ties != 1 else ''} (less than a cent of room: an alternative as "
            "cheap to within a cent exists, so any move may change the plan)." if ties else ""))]
    rows = []
    for r in table.itertuples():
        formatter = (lambda v: f"{v:,.1f}") if r.kind == "cost" else fmt.tonnes
        rows.append([
            num(r.rank, lambda v: f"{int(v)}"), text(r.meaning), num(r.value, formatter),
            _end(r.lower, formatter, "no lower limit"), _end(r.upper, formatter, "no upper limit"),
            text(r.unit), num(r.room_pct, fmt.percent),
        ])
    if rows:
        blocks.append(Table("table-ranging", "Baseline plan: the tightest ranges",
                            ["#", "In words", "Now", "Lower end", "Upper end", "Unit", "Room"], rows))
    else:
        blocks.append(Paragraph("The baseline plan has no range to show.", "note"))
    return blocks


def prices(data: ReportData) -> list:
    products = data.price_products()
    if not products:
        return [Paragraph("The instance has none of NdPr, Dy or Tb oxide.", "note")]
    table = data.prices()
    rows = []
    for product in products:
        for plan, label in (("baseline", "clean"), ("baseline", "covered"), ("non-China", "clean")):
            part = table[(table["product"] == product) & (table["plan"] == plan) & (table["label"] == label)]
            if part.empty:
                continue
            series = part.set_index("period")["usd_per_kg"]
            rows.append([text(fmt.product_name(product)), text(f"{label}, {plan} plan")]
                        + [num(series.get(p), fmt.usd_per_kg) for p in data.periods])
    refs = [
        [text(fmt.product_name(r.product)), text(r.reference), num(r.usd_per_kg, fmt.usd_per_kg), text(r.source)]
        for r in data.reference_prices().itertuples()
    ]
    return [
        Paragraph(
            "A marginal price is what one more tonne of the oxide, clean or covered, would be worth to the plan in "
            "that period (the shadow price of its balance), in USD/kg. Clean and covered oxide fetch the same "
            "price while the baseline plan may use either; where they part, clean material is scarce. The "
            "non-China plan's clean price is what clean oxide is worth once covered material is barred. "
            "Dotted lines: public reference prices."),
        Chart("prices", "Marginal prices of clean and covered oxide, USD/kg, beside public reference prices"),
        Table("table-prices", "Marginal prices (USD/kg)", ["Product", "Price of"] + [str(p) for p in data.periods],
              rows, wide=True),
        Table("table-reference-prices", "Public reference prices", ["Product", "Reference", "USD/kg", "Source"], refs),
    ]


def curve(data: ReportData) -> list:
    statuses = (data.curve["status"] != "optimal").any()  # a column only when a point is not optimal
    rows = [
        [num(r.share, fmt.share), num(r.objective_musd, fmt.musd), num(r.premium_musd, fmt.musd),
         num(r.marginal_musd_per_pct, fmt.musd), num(r.covered_share, fmt.share), num(r.unmet_t, fmt.tonnes)]
        + ([text(r.status)] if statuses else [])
        for r in data.curve.itertuples()
    ]
    return [
        Paragraph(
            "The cost of the plan as the share of covered material allowed in deliveries falls from 100% (no cap) "
            "to 0% (non-China), each point a least-cost plan under that cap. The bars are the marginal cost of "
            "de-risking: USD million per percentage point the cap is tightened (the shadow price of the cap)."),
        Chart("curve", "Premium curve: total cost against the allowed covered share"),
        Table("table-curve", "Premium curve",
              ["Allowed covered share", "Cost (USD million)", "Premium over no cap (USD million)",
               "Marginal cost (USD million per point)", "Covered share delivered", "Unmet (t)"]
              + (["Status"] if statuses else []), rows),
    ]


def tornado(data: ReportData) -> list:
    table = data.tornado
    rows = [
        [text(r.factor), text(fmt.multiple(r.low) if not isinstance(r.low, str) else r.low),
         text(fmt.multiple(r.high) if not isinstance(r.high, str) else r.high),
         num(r.premium_low_musd, fmt.musd), num(r.premium_high_musd, fmt.musd), num(r.swing_musd, fmt.musd)]
        for r in table.itertuples()
    ]
    blocks: list = [
        Paragraph(
            "How far the non-China premium moves when each uncertain input swings across its range, one at a time, "
            f"around the central premium of USD {fmt.musd(data.comparison.premium_musd)} million. Longest bar first."),
    ]
    if rows:
        blocks.append(Chart("tornado", "Tornado: the non-China premium at each input's low and high value, "
                                       "USD million"))
        blocks.append(Table("table-tornado", "Tornado",
                            ["Input", "Low", "High", "Premium at low (USD million)", "Premium at high (USD million)",
                             "Swing (USD million)"], rows))
    else:
        blocks.append(Paragraph("The instance has no uncertain input to swing.", "note"))
    blocks.append(Paragraph(data.tornado_note, "note"))
    return blocks


def inputs(data: ReportData) -> list:
    table = data.scenarios
    firsts = [c for c in table.columns if c.startswith("first_full_")]
    rows = []
    for r in table.to_dict("records"):
        rows.append(
            [text(r.get("scenario")), text(r.get("description") or "")]
            + [num(r.get(k), fmt.musd) for k in ("cost_musd", "non_china_musd", "premium_musd")]
            + [num(r.get("premium_pct"), fmt.percent)]
            + [num(r.get(k), fmt.tonnes) for k in ("unmet_baseline_t", "unmet_non_china_t")]
            + [text(r.get(k)) for k in firsts]
        )
    headers = (["Scenario", "Description", "Cost (USD million)", "Non-China cost (USD million)",
                "Premium (USD million)", "Premium (%)", "Unmet, baseline (t)", "Unmet, non-China (t)"]
               + [f"{fmt.product_name(k[len('first_full_'):])}: clean in full from" for k in firsts])
    scenario_note = "Each scenario applied alone to the instance"
    if data.scenario:
        scenario_note += f" (not on top of {data.scenario}, the scenario of the sections before)"
    assumptions = [
        [text(r.kind), text(r.id if not r.name else f"{r.id}: {r.name}"),
         text(" ".join(part for part in (r.assumption, r.notes) if part)), Cell("", refs=_refs(r.source))]
        for r in data.assumptions().itertuples()
    ]
    blocks: list = [
        Heading("Scenarios", "scenario-table"),
        Paragraph(scenario_note + "; the first row is the instance as it stands."),
        Table("table-scenarios", "Scenario table", headers, rows, wide=True),
        Heading("Assumptions", "assumptions"),
        Paragraph("What the instance assumes, in its own words: where a figure is weak or conflicting it states the "
                  "central value taken."),
        Table("table-assumptions", "Assumptions of the instance", ["Kind", "Entity", "Assumption and notes", "Sources"],
              assumptions) if assumptions else Paragraph("The instance states no assumption.", "note"),
        Heading("Sources", "sources"),
        SourceList(data.sources()),
    ]
    return blocks


def _plan_label(omega: float) -> str:
    return "risk-neutral" if omega == 0 else f"risk-averse (omega {omega:g})"


def sign_rows(data: ReportData, covered_only: bool) -> list[list[Cell]]:
    """Rows of the "what to sign" table: per facility, one row per plan, in
    tonnes of the facility's main product, reservations worth less than
    SIGN_THRESHOLD_MUSD left out, the rest rounded to whole tonnes."""
    from ..dual_words import byproducts, main_outputs

    instance = data.instance
    facilities = {f.id: f for f in instance.facilities}
    covered = set(instance.covered_countries)
    side = byproducts(instance.products, (d.product for d in instance.demand),
                      (p for f in instance.facilities for p in f.inputs))
    periods = [p for p in data.periods if any(str(p) == str(q) for s in data.stochastic_plans.values()
                                              for q in s.offtakes["period"])]
    rows = []
    ids = list(dict.fromkeys(f for s in data.stochastic_plans.values() for f in s.offtakes["facility"]))
    for f_id in ids:
        facility = facilities[f_id]
        if (facility.country in covered) != covered_only:
            continue
        main = main_outputs(facility.outputs, side)[0]
        ratio = float(facility.outputs[main])
        plan_rows = []
        for omega, solution in data.stochastic_plans.items():
            part = solution.offtakes[solution.offtakes["facility"] == f_id]
            reserved = {str(p): q for p, q in zip(part["period"], part["quantity_t"])}
            signed = [worth_signing(data, facility, p, reserved.get(str(p), 0.0)) for p in periods]
            cells = [num(reserved.get(str(p), 0.0) * ratio, fmt.tonnes) if keep else Cell(fmt.MISSING, None, True)
                     for p, keep in zip(periods, signed)]
            plan_rows.append((omega, cells, float(part["fee_musd"].sum()), any(signed)))
        if not any(row[3] for row in plan_rows):
            continue
        for position, (omega, cells, fee, _) in enumerate(plan_rows):
            country = facility.country + (" (covered)" if facility.country in covered else "")
            rows.append([text(facility.name or f_id if position == 0 else ""), text(country if position == 0 else ""),
                         text(fmt.product_name(main) if position == 0 else ""), text(_plan_label(omega))]
                        + cells + [num(fee, fmt.musd)])
    return rows


def worth_signing(data: ReportData, facility, period, reserved_t: float) -> bool:
    """Whether a reservation (t of activity) is one to sign: at least
    SIGN_THRESHOLD_T t of the facility's main product, or worth at least
    SIGN_THRESHOLD_MUSD at the seller's price."""
    from ..data import resolve_series
    from ..dual_words import main_outputs

    labels = [str(p) for p in data.periods]
    cost = resolve_series(facility.cost, labels)[labels.index(str(period))]
    product_t = reserved_t * float(facility.outputs[main_outputs(facility.outputs, _byproducts(data))[0]])
    return product_t >= SIGN_THRESHOLD_T - 0.5 or reserved_t * cost / 1000.0 >= SIGN_THRESHOLD_MUSD


def _byproducts(data: ReportData) -> set:
    from ..dual_words import byproducts

    instance = data.instance
    return byproducts(instance.products, (d.product for d in instance.demand),
                      (p for f in instance.facilities for p in f.inputs))


def sign_periods(data: ReportData) -> list:
    return [p for p in data.periods if any(str(p) == str(q) for s in data.stochastic_plans.values()
                                           for q in s.offtakes["period"])]


def covered_contracts_sentence(data: ReportData) -> str:
    """Which plan signs with covered-country sellers, for which years and what."""
    from ..dual_words import byproducts, main_outputs

    instance = data.instance
    covered = set(instance.covered_countries)
    facilities = {f.id: f for f in instance.facilities}
    side = byproducts(instance.products, (d.product for d in instance.demand),
                      (p for f in instance.facilities for p in f.inputs))
    parts = []
    for omega, solution in data.stochastic_plans.items():
        offtakes = solution.offtakes
        if offtakes.empty:
            continue
        what = []
        for f_id in dict.fromkeys(offtakes["facility"]):
            facility = facilities[f_id]
            if facility.country not in covered:
                continue
            main = main_outputs(facility.outputs, side)[0]
            part = offtakes[(offtakes["facility"] == f_id)]
            part = part[[worth_signing(data, facility, p, q) for p, q in zip(part["period"], part["quantity_t"])]]
            if part.empty:
                continue
            years = list(part["period"])
            most = float(part["quantity_t"].max()) * float(facility.outputs[main])
            what.append(f"{fmt.product_name(main)} from {facility.country} in {_periods_text(years)} "
                        f"(up to {fmt.tonnes(most)} t a period)")
        if what:
            parts.append(f"the {_plan_label(omega)} plan signs for {_and(what)}")
    if not parts:
        return ""
    countries = ", ".join(instance.covered_countries)
    text_ = "; ".join(parts)
    return (
        text_[0].upper() + text_[1:] + f". Material from a covered country ({countries}) fails the non-China test of "
        "section 1, and for defence deliveries under clean_only_from it may not be used at all: these contracts "
        "buy cheap supply in the futures where licences flow, not a clean chain."
    )


def uncertainty(data: ReportData) -> list:
    plans = data.stochastic_plans or {data.stochastic.omega: data.stochastic}
    omegas = list(plans)
    neutral, averse = plans[omegas[0]], plans[omegas[-1]]
    s = data.stochastic
    reveal, tail = s.reveal, f"{100 * (1 - s.alpha):.3g}%"
    blocks: list = [Paragraph(
        f"Before {reveal} the buyer signs offtakes and builds stock without knowing which of the {len(s.futures)} "
        f"futures of the instance's uncertainty section comes. Two plans, side by side: the risk-neutral plan, of "
        f"least expected cost, and the risk-averse plan, which puts a weight of {omegas[-1]:g} on the mean cost of "
        f"the worst {tail} of futures (CVaR). The risk-averse plan costs USD "
        f"{fmt.musd(averse.expected_cost - neutral.expected_cost)} million more on average and USD "
        f"{fmt.musd(neutral.cvar - averse.cvar)} million less in the worst {tail} of futures.",
        "lead",
    )] if len(plans) > 1 else [Paragraph(
        f"What to sign and stock before {reveal}, when the future is not known: expected cost USD "
        f"{fmt.musd(s.expected_cost)} million; the worst {tail} of futures average USD {fmt.musd(s.cvar)} million.",
        "lead")]
    if data.mip_gap is not None:
        blocks.append(Paragraph(
            f"A draft: the plans of this section (their builds are whole modules) are proven only within "
            f"{100 * data.mip_gap:.3g}% of their optima (--mip-gap {data.mip_gap:g}), not 1e-6; their costs may be "
            "that much above the best plans.", "note"))
    blocks.append(Kpis([
        Kpi("expected_cost_musd", f"Expected cost, {_plan_label(neutral.omega)} (USD million)",
            fmt.musd(neutral.expected_cost), neutral.expected_cost, f"over {len(s.futures)} futures"),
        Kpi("cvar_musd", f"Worst {tail}, {_plan_label(neutral.omega)} (USD million)", fmt.musd(neutral.cvar),
            neutral.cvar, "mean cost of the worst futures (CVaR)"),
        Kpi("expected_cost_averse_musd", f"Expected cost, {_plan_label(averse.omega)} (USD million)",
            fmt.musd(averse.expected_cost), averse.expected_cost,
            f"{averse.expected_cost - neutral.expected_cost:+,.1f} against risk-neutral"),
        Kpi("cvar_averse_musd", f"Worst {tail}, {_plan_label(averse.omega)} (USD million)", fmt.musd(averse.cvar),
            averse.cvar, f"{averse.cvar - neutral.cvar:+,.1f} against risk-neutral"),
    ]))

    def fees(solution) -> float:
        return float(solution.offtakes["fee_musd"].sum()) if len(solution.offtakes) else 0.0

    measures = [
        ("Expected cost", lambda x: x.expected_cost),
        (f"CVaR: mean cost of the worst {tail} of futures", lambda x: x.cvar),
        ("Offtake fees signed now", fees),
        ("VSS: saved against signing the deterministic plan", lambda x: x.vss),
        ("EVPI: what knowing the future would be worth", lambda x: x.evpi),
    ]
    blocks.append(Table(
        "table-plans", "The two plans, USD million over the horizon",
        [""] + [_plan_label(w).capitalize() for w in plans],
        [[text(label)] + [num(get(x), fmt.musd) for x in plans.values()] for label, get in measures],
    ))
    periods = sign_periods(data)
    note = (f"Reservations under {SIGN_THRESHOLD_T:g} t of product a period are left out (shown {fmt.MISSING}) "
            f"unless worth USD {SIGN_THRESHOLD_MUSD:g} million or more at the seller's price (a few tonnes of Tb "
            "oxide are); the rest are rounded to whole tonnes. The plan leaves slivers no one would sign. Fees count "
            "everything reserved. Periods are when the material is made; it arrives after the seller's lead time.")
    clean_rows, covered_rows = sign_rows(data, False), sign_rows(data, True)
    headers = ["Facility", "Country", "Product (t per period)", "Plan"] + [str(p) for p in periods] + ["Fees (USD million)"]
    if clean_rows:
        blocks.append(Table("table-sign", "What to sign now: offtakes outside the covered countries, t of product "
                            "reserved per period", headers, clean_rows, wide=True))
    else:
        blocks.append(Paragraph("No offtake outside the covered countries is worth signing now.", "note"))
    if covered_rows:
        blocks.append(Table("table-sign-covered", "Contracts with sellers in covered countries: they fail the "
                            "non-China test", headers, covered_rows, wide=True))
        blocks.append(Paragraph(covered_contracts_sentence(data)))
    blocks.append(Paragraph(note, "note"))

    stock_rows = []
    keys = list(dict.fromkeys((r.product, r.label) for x in plans.values() for r in x.stockpile.itertuples()))
    for product, label in keys:
        cells = []
        for x in plans.values():
            part = x.stockpile[(x.stockpile["product"] == product) & (x.stockpile["label"] == label)]
            cells.append(num(float(part["quantity_t"].sum()), fmt.tonnes))
        stock_rows.append([text(fmt.product_name(product)), text(label)] + cells)
    blocks.append(
        Table("table-stockpile", f"Stock to hold at the end of the first stage (before {reveal}), t",
              ["Product", "Label"] + [f"{_plan_label(w).capitalize()} (t)" for w in plans], stock_rows)
        if stock_rows else Paragraph("No stock is worth building before the future is known.", "note")
    )
    frontier = data.risk_frontier
    blocks += [
        Chart("futures", "The cost of each future under each plan (USD million), probability on the vertical "
                         "axis, with each plan's expected cost and CVaR"),
        Chart("frontier", "Risk frontier: expected cost against CVaR as the weight omega on CVaR rises "
                          "(omega 1: the least expected cost among plans of least CVaR)"),
    ]
    unproven = unproven_frontier(data)
    if unproven:
        blocks.append(Paragraph(unproven, "note"))
    blocks.append(Table(
        "table-frontier", "Risk frontier",
        ["omega", "Objective (USD million)", "Expected cost (USD million)", "CVaR (USD million)", "Proven optimal"],
        [[text(f"{r.omega:g}"), num(r.objective_musd, fmt.musd), num(r.expected_cost_musd, fmt.musd),
          num(r.cvar_musd, fmt.musd), text(_proven(r.mip_gap))] for r in frontier.itertuples()]))
    worst = neutral.worst_futures(5)
    averse_cost = averse.futures.set_index("future")["cost_musd"]
    blocks.append(Table(
        "table-worst-futures", "The costliest futures of the risk-neutral plan",
        ["Future", "Scenarios", "Probability", "Cost, risk-neutral (USD million)",
         f"Cost, {_plan_label(averse.omega)} (USD million)", "Unmet, risk-neutral (t)"],
        [[text(r.future), text((r.scenario or "as the instance is").replace(",", ", ")), num(r.probability, lambda v: f"{v:.3g}"),
          num(r.cost_musd, fmt.musd), num(averse_cost.get(r.future), fmt.musd), num(r.shortfall_t, fmt.tonnes)]
         for r in worst.itertuples()],
    ))
    return blocks


def _objective_words(omega: float) -> str:
    """What the frontier's objective is at omega, as a reader says it."""
    if omega == 0:
        return "the least expected cost"
    if omega == 1:
        return "the least CVaR"
    return "the least weighted cost"


def _gap_percent(gap: float) -> str:
    """A proven gap as a percentage, two significant figures: 0.36%, 0.012%."""
    return f"{100 * gap:.2g}%"


def _proven(gap) -> str:
    """The frontier table's "Proven" cell."""
    if gap is None or np.isnan(gap):
        return "no plan found"
    if not np.isfinite(gap):
        return "no"
    return "yes" if gap == 0 else f"within {_gap_percent(gap)}"


def _duration(seconds: float) -> str:
    """120 -> "2 minutes", 90 -> "90 seconds", 150 -> "2.5 minutes"."""
    if seconds < 100:
        return f"{seconds:g} seconds"
    minutes = seconds / 60
    return f"{minutes:.2g} minutes" if minutes < 10 else f"{minutes:,.0f} minutes"


def unproven_frontier(data: ReportData) -> str:
    """The frontier's points not proven to the gap, in the reader's words
    (empty where every point is): "Not every point of the frontier is proven
    optimal: at omega 1 the best plan found in 2 minutes is within 0.023%
    (USD 3.4 million) of the least CVaR. ..." """
    frontier = data.risk_frontier
    if frontier is None or "mip_gap" not in frontier or not (frontier["mip_gap"].fillna(1.0) > 0).any():
        return ""
    limit = data.frontier_time_limit
    found_in = f"found in {_duration(limit)}" if limit else "found"
    phrases = []
    for r in frontier.itertuples():
        if np.isnan(r.mip_gap):
            phrases.append(f"at omega {r.omega:g} no plan was {found_in} (the point is not drawn)")
        elif r.mip_gap > 0:
            amount = fmt.musd(r.mip_gap * abs(r.objective_musd)) if np.isfinite(r.mip_gap) else fmt.MISSING
            within = (f"within {_gap_percent(r.mip_gap)}" + (f" (USD {amount} million)" if amount != "0.0" else "")
                      if np.isfinite(r.mip_gap) else "not proven near")
            lead = "" if phrases else f"the best plan {found_in} is "
            phrases.append(f"at omega {r.omega:g} {lead}{within} of {_objective_words(r.omega)}")
    plans = len(data.stochastic_plans or {}) or 1
    return (
        "Not every point of the frontier is proven optimal: " + ("; " if len(phrases) > 2 else ", and ").join(phrases)
        + f". {'The two plans compared above are' if plans == 2 else 'The plan above is'} proven optimal"
        + (" (--frontier-time-limit gives the points more time)." if limit else ".")
    )


# --------------------------------------------------------------------------
# What to fund (SPEC section 7)


def _clean_from(first, last) -> str:
    """The first clean period as a table cell: a year, or "not by 2035"."""
    return f"not by {last}" if first in (None, "never") else str(first)


def _served(first, last) -> str:
    """ "all demand served from 2029", or "demand unmet up to 2035"."""
    return f"demand unmet up to {last}" if first in (None, "never") else f"all demand served from {first}"


def _series(phrases: list[str]) -> str:
    """Phrases that hold commas, joined by semicolons: "a, b; c, d; and e, f"."""
    return phrases[0] if len(phrases) == 1 else "; ".join(phrases[:-1]) + "; and " + phrases[-1]


def _first_builds(builds: pd.DataFrame, values: pd.DataFrame, top: int = 3) -> tuple[list[str], int]:
    """The non-China plan's builds as phrases, earliest decision first (then
    the most valuable to it): "Lynas Malaysia (MY): second line, decided in
    2026, capacity from 2028". Returns the first `top` and how many more."""
    from ..builds import expansion_words, named

    worth = {(r.facility, r.expansion): r.non_china_value_musd for r in values.itertuples()} if len(values) else {}
    order = {str(p): i for i, p in enumerate(builds["decided"])}
    rows = sorted(builds.itertuples(), key=lambda r: (order.get(str(r.decided), 0), str(r.decided),
                                                      -(worth.get((r.facility, r.expansion)) or 0.0)))
    seen, phrases = set(), []
    for r in rows:
        if (r.facility, r.expansion) in seen:
            continue
        seen.add((r.facility, r.expansion))
        start = f"capacity from {r.online}" if r.online is not None and not pd.isna(r.online) else "no capacity within the horizon"
        phrases.append(f"{named(r.name, r.country)}: {expansion_words(r.expansion)}, decided in {r.decided}, {start}")
    return phrases[:top], max(0, len(phrases) - top)


def what_each_budget_buys(funding: pd.DataFrame, last) -> str:
    """Budgets in ascending order, each against the one before: "USD 250
    million cuts the premium to USD 3,411.7 million (all demand served from
    2029); USD 500 million, USD 1 billion and USD 2 billion buy nothing more"."""
    from ..builds import SAME_MUSD

    parts, idle = [], []
    rows = list(funding.itertuples(index=False))
    for before, row in zip(rows, rows[1:]):
        if abs(float(row.premium_musd) - float(before.premium_musd)) < SAME_MUSD:
            idle.append(row.budget)
            continue
        if idle:
            parts.append(f"{_and(idle)} {'buys' if len(idle) == 1 else 'buy'} nothing more")
            idle = []
        moved = "cuts" if row.premium_musd < before.premium_musd else "raises"
        clean = (f"all demand served from {row.first_clean_period}" if row.first_clean_period not in (None, "never")
                 else f"demand still unmet up to {last}")
        who = "with no budget limit, the plan" if row.budget == "no limit" else row.budget
        parts.append(f"{who} {moved} the premium to USD {fmt.musd(row.premium_musd)} million "
                     f"(capex used USD {fmt.musd(row.non_china_capex_musd)} million; {clean})")
    if idle:
        if idle[-1] == "no limit":
            idle[-1] = "any larger budget"
        parts.append(f"{_and(idle)} {'buys' if len(idle) == 1 else 'buy'} nothing more")
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def fund(data: ReportData) -> list:
    """The builds of both plans, what each budget buys and what each expansion is worth."""
    from ..builds import SAME_MUSD, budget_words, expansion_words

    c = data.comparison
    last = data.periods[-1]
    covered = _join(list(data.instance.covered_countries))
    builds = data.builds()
    funding = data.funding()
    values = data.values()
    clean_builds = builds[builds["plan"] == "non-China"] if len(builds) else builds
    base_builds = builds[builds["plan"] == "baseline"] if len(builds) else builds
    none, unlimited = funding.iloc[0], funding.iloc[-1]

    def clean_words(first) -> str:
        return (f"serves all demand from {first}" if first not in (None, "never")
                else f"leaves demand unmet up to {last}")

    if len(clean_builds):
        first, more = _first_builds(clean_builds, values)
        lead = (f"A chain that never touches {covered} should fund first: {_series(first)}"
                + (f" (and {more} more, in the table below)" if more else "") + ". ")
    else:
        lead = f"The non-China plan funds no expansion: none is worth its charge to a chain that never touches {covered}. "
    fewer = float(none.non_china_unmet_t) - float(unlimited.non_china_unmet_t)
    lead += (
        f"Without funding ({budget_words(none.limit_musd) if none.limit_musd > 0 else 'a budget of 0'}), "
        f"the non-China premium is USD {fmt.musd(none.premium_musd)} million and the plan "
        f"{clean_words(none.first_clean_period)}; with its builds funded (USD "
        f"{fmt.musd(unlimited.non_china_capex_musd)} million of capex), it is USD {fmt.musd(unlimited.premium_musd)} "
        f"million and the plan {clean_words(unlimited.first_clean_period)}"
        + (f", leaving {fmt.tonnes(fewer)} t less demand unmet over the horizon (the premium counts unmet demand at "
           f"the assumed penalties, USD {_penalty_range(data)}/kg)" if fewer > 0.5 else "")
        + "."
    )
    # the no-limit plans stay feasible, so optimal, under any budget that covers both plans' capex
    enough = max(float(unlimited.non_china_capex_musd), float(unlimited.baseline_capex_musd))
    rest = float(unlimited.limit_musd) - float(unlimited.non_china_capex_musd)
    if len(clean_builds) and rest > SAME_MUSD:
        lead += (
            f" A budget of USD {fmt.musd(enough)} million is enough for that: the rest of what is offered (USD "
            f"{fmt.musd(rest)} million of capex) is not worth its charge to the clean chain at the instance's prices "
            "and penalties."
        )
    if len(base_builds):
        names = list(dict.fromkeys(f"{r.name}: {expansion_words(r.expansion)}" for r in base_builds.itertuples()))
        lead += f" The least-cost plan, free to buy from {covered}, builds too: {_and(names)}."
    else:
        lead += f" The least-cost plan, free to buy from {covered}, builds none of them."
    top = values.iloc[0] if len(values) else None
    blocks: list = [
        Paragraph(lead, "lead"),
        Kpis([
            Kpi("premium_unfunded_musd", "Non-China premium without funding (USD million)", fmt.musd(none.premium_musd),
                none.premium_musd, ("no capex for expansions" if none.limit_musd == 0 else budget_words(none.limit_musd))
                + f"; {fmt.tonnes(none.non_china_unmet_t)} t unmet; {_served(none.first_clean_period, last)}"),
            Kpi("premium_funded_musd", "Non-China premium, its builds funded (USD million)",
                fmt.musd(unlimited.premium_musd), unlimited.premium_musd,
                f"{fmt.musd(unlimited.saved_musd)} less; {fmt.tonnes(unlimited.non_china_unmet_t)} t unmet; "
                f"{_served(unlimited.first_clean_period, last)}"),
            Kpi("capex_funded_musd", "Capex the non-China plan commits (USD million)",
                fmt.musd(unlimited.non_china_capex_musd), unlimited.non_china_capex_musd,
                f"{len(clean_builds)} build{'s' if len(clean_builds) != 1 else ''}"
                + (f", the first decided in {clean_builds['decided'].iloc[0]}" if len(clean_builds) else "")),
            Kpi("top_value_musd", "Worth most to the clean chain (USD million)",
                fmt.musd(top.non_china_value_musd) if top is not None else fmt.MISSING,
                None if top is None else top.non_china_value_musd,
                "" if top is None else f"{top['name']}: {expansion_words(top.expansion)}"),
        ]),
    ]
    buys = what_each_budget_buys(funding, last)
    statuses = (data.budget_curve["status"] != "optimal").any()
    rows = []
    for r in funding.itertuples(index=False):
        rows.append(
            [text(r.budget), num(r.non_china_capex_musd, fmt.musd), num(r.non_china_musd, fmt.musd),
             num(r.baseline_musd, fmt.musd), num(r.premium_musd, fmt.musd), num(r.saved_musd, fmt.musd),
             num(r.non_china_unmet_t, fmt.tonnes), Cell(_clean_from(r.first_clean_period, last)),
             text(r.non_china_builds or "none")]
            + ([text("optimal" if r.budget == "no limit" else data.budget_curve.set_index("limit_musd")["status"]
                     .get(r.limit_musd, ""))] if statuses else []))
    blocks += [
        Heading("What each budget buys", "budget"),
        Paragraph(
            "Each point solves both plans again with a funding budget: the most capex, USD million over the horizon, "
            "the plans may commit to the expansions (counted in full when decided, as a funding programme counts it). "
            "The last point has no limit: the plans of sections 1-6. " + buys),
        Chart("budget", "The budget curve: what each plan costs, and the non-China premium, against the funding "
                        "budget (USD million); labels give the first year the non-China plan serves all demand"),
        Table("table-budget", "What each budget buys, USD million over " + data.horizon,
              ["Budget", "Capex used by the non-China plan", "Non-China cost", "Baseline cost",
               "Premium (unmet demand at the assumed penalties)", "Saved against no funding",
               "Unmet, non-China plan (t)", "Non-China plan serves all demand from (at the assumed penalties)",
               "What the non-China plan builds"] + (["Status"] if statuses else []),
              rows, wide=True),
        Paragraph(
            "The first year the non-China plan serves all demand is a cost trade-off at the assumed penalties "
            f"(USD {_penalty_range(data)}/kg unmet), not the first year a clean chain can exist: where clean supply "
            "costs more than the penalty, the plan leaves demand unmet instead.", "note"),
        Heading("What each plan builds", "builds"),
    ]
    if len(builds):
        blocks.append(Paragraph(
            "Each build from the decision (the capex is committed then) to its first capacity, and its capacity to the "
            "end of the horizon, by facility; the bar's colour is the facility's country. Capacity ramps up over the "
            "first periods as each expansion says."))
        blocks.append(Chart("builds", "Builds of the baseline plan (left) and the non-China plan (right): deciding "
                                      "and building (hatched), then capacity"))
        rows = [
            [text(r.plan), text(r.name), text(r.country), text(expansion_words(r.expansion)),
             num(r.modules, lambda v: f"{v:g}" if abs(v - round(v)) < 1e-6 else f"{v:.2f}"), text(r.decided),
             Cell(str(r.online) if r.online is not None and not pd.isna(r.online) else f"after {last}"),
             num(r.added_t, fmt.tonnes), num(r.available_t, fmt.tonnes),
             text(fmt.product_name(r.product) if r.product else ""),
             num(r.capex_musd, fmt.musd), num(r.charge_musd, fmt.musd)]
            for r in builds.itertuples(index=False)
        ]
        blocks.append(Table(
            "table-builds", "The builds of each plan",
            ["Plan", "Facility", "Country", "Expansion", "Modules", "Decided", "First capacity",
             "Capacity added (t a period, full rate)", "Of it for this buyer (t a period)", "Product",
             "Capex (USD million)", "Charged in the plan's cost (USD million)"], rows, wide=True))
        blocks.append(Paragraph(
            "Of it for this buyer: the capacity added times the facility's availability (others' claims on the plant "
            "apply to the new line as to the old). Charged in the plan's cost: the capex as an annuity over the "
            f"expansion's life for the years the horizon uses (discount rate {100 * float(data.instance.discount_rate):g}%), "
            "plus its fixed cost from first capacity. The capex column is what a funder commits.", "note"))
    else:
        blocks.append(Paragraph("Neither plan builds anything: no expansion is worth its charge.", "note"))
    rows = [
        [text(r["name"]), text(r.country), text(expansion_words(r.expansion)), num(r.capex_musd, fmt.musd),
         num(r.modules, lambda v: f"{int(v)}"), num(r.baseline_modules, lambda v: f"{v:g}"),
         num(r.non_china_modules, lambda v: f"{v:g}"), num(r.value_musd, fmt.musd),
         num(r.non_china_value_musd, fmt.musd)]
        for _, r in values.iterrows()
    ]
    gap = max(c.baseline.mip_gap, c.non_china.mip_gap)
    blocks += [
        Heading("What each expansion is worth", "expansion-values"),
        Paragraph(
            "The value of keeping an option open: what the plan would cost without that expansion (every other one "
            "still allowed) minus what it costs with all, USD million over the horizon. A project worth nothing to "
            "the least-cost plan but much to the non-China plan is worth funding only for a clean chain. Most valuable "
            "to the non-China plan first."),
        Table("table-expansion-values", "What each expansion is worth",
              ["Facility", "Country", "Expansion", "Capex per module (USD million)", "Modules offered",
               "Built, baseline plan", "Built, non-China plan", "Value to the baseline plan (USD million)",
               "Value to the non-China plan (USD million)"], rows, wide=True),
        Paragraph(
            "Builds are whole modules where an expansion is lumpy: a mixed-integer program"
            + (f", its builds proven within {100 * gap:.2g}% of the optimum" if gap > 1e-6 else ", solved to optimality")
            + ". The prices and binding constraints of sections 3 and 4 are those of each plan with its builds as "
            "given.", "note"),
    ]
    return blocks


#: Section id -> the function that writes its blocks (data.SECTIONS orders and numbers them).
BUILDERS = {
    "answer": answer,
    "mix": mix,
    "binding": binding,
    "prices": prices,
    "curve": curve,
    "tornado": tornado,
    "fund": fund,
    "uncertainty": uncertainty,
    "inputs": inputs,
}


def sections(data: ReportData) -> list[Section]:
    """The sections that apply, in the order of data.SECTIONS, numbered."""
    return [Section(key, title, BUILDERS[key](data)) for key, title in numbered_sections(data)]


def source_anchors(data: ReportData) -> dict[str, str]:
    """Source id -> a safe element id (src-1, src-2, ...)."""
    anchors = {}
    for index, source_id in enumerate(data.sources()["id"], start=1):
        if source_id and source_id not in anchors:
            anchors[source_id] = f"src-{index}"
    return anchors


def safe_url(url) -> str | None:
    """Only http(s) addresses become links; anything else (javascript:, data:) stays text."""
    url = str(url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else None
