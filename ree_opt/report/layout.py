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
from .data import SECTIONS, STAGE_ORDER, ReportData


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
    value: float
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


def answer(data: ReportData) -> Section:
    s = data.summary
    c = data.comparison
    covered = _join(list(data.instance.covered_countries))
    blocks: list = [
        Paragraph(
            f"Over {data.horizon}, a supply chain that never touches {covered} costs "
            f"USD {fmt.musd(s['premium_musd'])} million more than the baseline plan "
            f"(+{fmt.percent(s['premium_pct'])}): USD {fmt.musd(s['supply_premium_musd'])} million of dearer supply and "
            f"USD {fmt.musd(s['shortfall_premium_musd'])} million of penalties for demand the clean chain cannot meet "
            "(the penalties are assumptions of the instance).",
            "lead",
        ),
        Kpis([
            Kpi("premium_musd", "Non-China premium (USD million)", fmt.musd(s["premium_musd"]), s["premium_musd"],
                f"{fmt.percent(s['premium_pct'])} over the baseline plan"),
            Kpi("baseline_musd", "Baseline plan (USD million)", fmt.musd(s["baseline_musd"]), s["baseline_musd"],
                f"unmet demand {fmt.tonnes(s['unmet_baseline_t'])} t"),
            Kpi("non_china_musd", "Non-China plan (USD million)", fmt.musd(s["non_china_musd"]), s["non_china_musd"],
                f"unmet demand {fmt.tonnes(s['unmet_non_china_t'])} t"),
            Kpi("unmet_non_china_t", "Unmet without China (t)", fmt.tonnes(s["unmet_non_china_t"]),
                s["unmet_non_china_t"], f"over {data.horizon}"),
        ]),
    ]
    products = data.products()
    rows = []
    for row in products.itertuples():
        first = row.first_full_period
        rows.append([
            text(fmt.product_name(row.product)),
            Cell("not by " + str(data.periods[-1]) if first == "never" else str(first)),
            num(row.supply_premium_usd_per_kg, fmt.usd_per_kg),
            num(row.unmet_baseline_t, fmt.tonnes),
            num(row.unmet_non_china_t, fmt.tonnes),
        ])
    blocks.append(Table(
        "table-products", "By product: when the clean chain covers demand, and at what premium",
        ["Product", "Clean chain meets demand in full from", "Supply premium (USD/kg delivered)",
         "Unmet, baseline plan (t)", "Unmet, non-China plan (t)"],
        rows,
    ))
    if c.supply_premium_usd_per_kg:
        blocks.append(Paragraph(
            "Supply premium per kg: the rise in the average supply cost per kg delivered (penalties left out) when "
            "that product alone must be clean.", "note"))
    unmet = data.unmet()
    unmet = unmet[(unmet["baseline_t"] > 0.5) | (unmet["non_china_t"] > 0.5)]
    if not unmet.empty:
        rows = []
        for product in dict.fromkeys(unmet["product"]):
            part = data.unmet()[data.unmet()["product"] == product].set_index("period")
            for column, plan in (("baseline_t", "baseline"), ("non_china_t", "non-China")):
                if part[column].sum() <= 0.5:
                    continue
                rows.append([text(fmt.product_name(product)), text(plan)]
                            + [num(part[column].get(p, 0.0), fmt.tonnes) for p in data.periods])
        blocks.append(Table("table-unmet", "Unmet demand by period (t)",
                            ["Product", "Plan"] + [str(p) for p in data.periods], rows, wide=True))
    else:
        blocks.append(Paragraph("Both plans meet all demand in every period.", "note"))
    return Section("answer", SECTIONS[0][1], blocks)


def mix(data: ReportData) -> Section:
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
    blocks: list = [
        Paragraph(
            "Where each plan buys, stage by stage: tonnes of each stage's main output per period, stacked by the "
            f"country of the plant. Covered countries ({covered}) are in red. The non-China plan uses no covered "
            "plant for the material it delivers."),
        Chart("mix", "Sourcing mix by country and stage: baseline plan (left) beside the non-China plan (right), "
                     "t of output per period"),
    ]
    drops = end_of_horizon_note(data)
    if drops:
        blocks.append(Paragraph(drops, "note"))
    return Section("mix", SECTIONS[1][1], blocks + [
        Table("table-mix", "Activity by plan, stage and country (t of output)",
              ["Plan", "Stage", "Country"] + [str(p) for p in data.periods], rows, wide=True),
    ])


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


def binding(data: ReportData) -> Section:
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
    return Section("binding", SECTIONS[2][1], blocks)


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


def prices(data: ReportData) -> Section:
    products = data.price_products()
    if not products:
        return Section("prices", SECTIONS[3][1], [Paragraph("The instance has none of NdPr, Dy or Tb oxide.", "note")])
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
    return Section("prices", SECTIONS[3][1], [
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
    ])


def curve(data: ReportData) -> Section:
    statuses = (data.curve["status"] != "optimal").any()  # a column only when a point is not optimal
    rows = [
        [num(r.share, fmt.share), num(r.objective_musd, fmt.musd), num(r.premium_musd, fmt.musd),
         num(r.marginal_musd_per_pct, fmt.musd), num(r.covered_share, fmt.share), num(r.unmet_t, fmt.tonnes)]
        + ([text(r.status)] if statuses else [])
        for r in data.curve.itertuples()
    ]
    return Section("curve", SECTIONS[4][1], [
        Paragraph(
            "The cost of the plan as the share of covered material allowed in deliveries falls from 100% (no cap) "
            "to 0% (non-China), each point a least-cost plan under that cap. The bars are the marginal cost of "
            "de-risking: USD million per percentage point the cap is tightened (the shadow price of the cap)."),
        Chart("curve", "Premium curve: total cost against the allowed covered share"),
        Table("table-curve", "Premium curve",
              ["Allowed covered share", "Cost (USD million)", "Premium over no cap (USD million)",
               "Marginal cost (USD million per point)", "Covered share delivered", "Unmet (t)"]
              + (["Status"] if statuses else []), rows),
    ])


def tornado(data: ReportData) -> Section:
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
    return Section("tornado", SECTIONS[5][1], blocks)


def inputs(data: ReportData) -> Section:
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
        scenario_note += f" (not on top of {data.scenario}, the scenario of sections 1-6)"
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
    return Section("inputs", SECTIONS[6][1], blocks)


def uncertainty(data: ReportData) -> Section:
    s = data.stochastic
    reveal = s.reveal
    blocks: list = [
        Paragraph(
            f"What to sign and stock before {reveal}, when the future is not known: the plan that serves all "
            f"{len(s.futures)} futures of the instance's `uncertainty` section at least "
            + ("expected cost" if s.omega == 0 else
               f"(1 - {s.omega:g}) x expected cost + {s.omega:g} x CVaR (the mean of the worst "
               f"{fmt.percent(100 * (1 - s.alpha))} of futures)")
            + f". Expected cost USD {fmt.musd(s.expected_cost)} million; the worst {fmt.percent(100 * (1 - s.alpha))} "
            f"of futures average USD {fmt.musd(s.cvar)} million (CVaR). Signing the deterministic plan instead "
            f"would cost USD {fmt.musd(s.vss)} million more (VSS); knowing the future would save "
            f"USD {fmt.musd(s.evpi)} million (EVPI).",
            "lead",
        ),
        Kpis([
            Kpi("expected_cost_musd", "Expected cost (USD million)", fmt.musd(s.expected_cost), s.expected_cost,
                f"over {len(s.futures)} futures"),
            Kpi("cvar_musd", f"CVaR {fmt.percent(100 * s.alpha)} (USD million)", fmt.musd(s.cvar), s.cvar,
                "the mean of the worst futures"),
            Kpi("vss_musd", "Value of the stochastic plan (USD million)", fmt.musd(s.vss), s.vss,
                "against signing the deterministic plan"),
            Kpi("evpi_musd", "Value of perfect information (USD million)", fmt.musd(s.evpi), s.evpi,
                "what knowing the future would save"),
        ]),
        Chart("futures", "The cost of each future (USD million), probability on the vertical axis, "
                         "with the expected cost and CVaR"),
    ]
    offtakes = s.offtakes
    if offtakes.empty:
        blocks.append(Paragraph("No offtake is worth signing now.", "note"))
    else:
        periods = list(dict.fromkeys(offtakes["period"]))
        rows = []
        for facility in dict.fromkeys(offtakes["facility"]):
            part = offtakes[offtakes["facility"] == facility].set_index("period")
            rows.append([text(facility)] + [num(part["quantity_t"].get(p, 0.0), fmt.tonnes) for p in periods]
                        + [num(part["fee_musd"].sum(), fmt.musd)])
        blocks.append(Table("table-offtakes", "Offtakes to sign now: t of activity reserved per period",
                            ["Facility"] + [str(p) for p in periods] + ["Fees (USD million)"], rows, wide=True))
    stock = s.stockpile
    blocks.append(
        Table("table-stockpile", f"Stockpile at the end of the first stage (before {reveal}), t",
              ["Product", "Label", "Stock (t)"],
              [[text(fmt.product_name(r.product)), text(r.label), num(r.quantity_t, fmt.tonnes)]
               for r in stock.itertuples()])
        if not stock.empty else Paragraph("No stock is worth building before the future is known.", "note")
    )
    frontier = data.risk_frontier
    blocks += [
        Chart("frontier", "Risk frontier: expected cost against CVaR as the weight omega on CVaR rises"),
        Table("table-frontier", "Risk frontier",
              ["omega", "Objective (USD million)", "Expected cost (USD million)", "CVaR (USD million)"],
              [[text(f"{r.omega:g}"), num(r.objective_musd, fmt.musd), num(r.expected_cost_musd, fmt.musd),
                num(r.cvar_musd, fmt.musd)] for r in frontier.itertuples()]),
    ]
    worst = s.worst_futures(5)
    blocks.append(Table(
        "table-worst-futures", "The costliest futures",
        ["Future", "Scenarios", "Probability", "Cost (USD million)", "Unmet (t)"],
        [[text(r.future), text(r.scenario or "as the instance is"), num(r.probability, lambda v: f"{v:.3g}"),
          num(r.cost_musd, fmt.musd), num(r.shortfall_t, fmt.tonnes)] for r in worst.itertuples()],
    ))
    return Section("uncertainty", SECTIONS[7][1], blocks)


def sections(data: ReportData) -> list[Section]:
    found = [answer(data), mix(data), binding(data), prices(data), curve(data), tornado(data), inputs(data)]
    if data.stochastic is not None:
        found.append(uncertainty(data))
    return found


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
