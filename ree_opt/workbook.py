"""Results as one Excel workbook: a summary in words, a sheet per table, charts.

:func:`write_workbook` takes a title, summary lines and a dict of DataFrames,
so any command can use it; :func:`solution_sheets` and
:func:`comparison_sheets` make those from a `Solution` and a `Comparison`.
Tables keep their column names (``quantity_t``, ``cost_musd``); a second
header row spells the unit. Header rows are frozen, numbers formatted, and
the sourcing mix is drawn with Excel's own stacked bar charts, so the
workbook stays editable.
"""

from __future__ import annotations

import io
import math
import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from .analysis import Comparison
from .dual_words import product_name
from .instance import STAGES
from .outputs import write_bytes
from .ranging import tie_count, tightest
from .solution import Solution

#: A summary line: text, or (label, number, unit).
Line = str | tuple[str, float, str]

COVERED_COLOR = "C0392B"
PALETTE = ["1F77B4", "FF7F0E", "2CA02C", "9467BD", "8C564B", "E377C2", "7F7F7F", "BCBD22", "17BECF",
           "AEC7E8", "FFBB78", "98DF8A", "C5B0D5", "C49C94", "F7B6D2", "DBDB8D", "9EDAE5"]


@dataclass
class StackedBars:
    """A stacked column chart: one bar per row of `table` (periods), one stacked
    segment per column (countries)."""

    title: str
    table: pd.DataFrame
    y_title: str = "t"
    x_title: str = "period"
    red: Sequence[str] = field(default_factory=tuple)  # series drawn in red (covered countries)
    chart_title: str | None = None  # a shorter title on the chart itself (default: title)
    colors: Mapping[str, str] = field(default_factory=dict)  # series -> "#rrggbb": a country's colour in every chart


def column_unit(name: str) -> tuple[str, str | None]:
    """The unit spelled out, and an Excel number format, from a column name."""
    if name.endswith("usd_per_kg"):
        return "USD/kg", "#,##0.00"
    if name.endswith("_musd") or name == "cost_musd":
        return "USD million", "#,##0.00"
    if name.endswith("_t") or name == "quantity_t":
        return "t (tonnes)", "#,##0.0"
    if name.endswith("_pct"):
        return "%", "0.0"
    if name == "share":
        return "share (0-1)", "0.0%"
    if name in ("risk", "maker_risk"):
        return "risk score (0-1)", "0.00"
    if name == "dual":
        return "unit in column `unit`", "#,##0.00"
    if name == "modules" or name.endswith("_modules"):
        return "modules", "#,##0.##"
    if name == "mip_gap":
        return "relative gap (0-1)", "0.0E+00"
    return "", None


def _python(value):
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def _frame(table: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A table as a frame; a Series of named quantities (baseline_musd,
    premium_pct) as rows of item, value and the item's unit."""
    if isinstance(table, pd.Series):
        name = table.name or "value"
        items = [str(i) for i in table.index]
        frame = pd.DataFrame({"item": items, name: table.to_numpy()})
        if not column_unit(name)[0]:  # the values' units are in their names (baseline_musd, premium_pct)
            frame["unit"] = [column_unit(i)[0] for i in items]
        return frame
    return table


#: Text columns wrapped in print instead of widening the sheet (and shrinking every page to fit).
WRAPPED = {"meaning": 70, "description": 50, "scenario": 40, "assumption": 60, "notes": 60,
           "non_china_builds": 60, "baseline_builds": 60}


def _table_sheet(workbook, name: str, table: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(name[:31])
    columns = [str(c) for c in table.columns]
    units = [column_unit(c) for c in columns]
    if columns[:3] == ["item", columns[1], "unit"] and "item" in table:  # named quantities: a unit per row
        units[1] = ("in column `unit`", None)
    sheet.append(columns)
    sheet.append([u for u, _ in units])
    for row in table.itertuples(index=False):
        sheet.append([_python(v) for v in row])
    fill = PatternFill("solid", fgColor="DDE5F0")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="555555")
        cell.fill = fill
    for index, (column, (unit, number_format)) in enumerate(zip(columns, units), start=1):
        letter = get_column_letter(index)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = number_format
        sample = [len(column), len(unit)] + [len(f"{v:,.2f}" if isinstance(v, float) else str(v)) for v in table.iloc[:200, index - 1]]
        width = min(max(sample) + 2, 40)
        if column in WRAPPED:  # long text wraps in its column: the page stays readable at fit-to-width
            width = min(max(sample) + 2, WRAPPED[column])
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = width
    wrapped = [(index, WRAPPED[column]) for index, column in enumerate(columns) if column in WRAPPED]
    if wrapped:  # a wrapped row is as tall as its longest cell (spreadsheets do not grow rows they are given)
        for cells in sheet.iter_rows(min_row=3):
            for cell in cells:  # every cell of a tall row reads from its top, beside the wrapped text
                cell.alignment = Alignment(wrap_text=cell.alignment.wrap_text, vertical="top")
        for number, row in enumerate(table.itertuples(index=False), start=3):
            lines = max(math.ceil(len(str(row[i] or "")) / max(width - 2, 1)) for i, width in wrapped)
            if lines > 1:
                sheet.row_dimensions[number].height = 15 * lines
    if units[1][0] == "in column `unit`":  # each value in its own unit's format
        for value_cell, unit_cell in sheet.iter_rows(min_row=3, min_col=2, max_col=3):
            value_cell.number_format = _unit_format(unit_cell.value)
    sheet.freeze_panes = "A3"
    _print_setup(sheet, f"A1:{get_column_letter(max(1, len(columns)))}{max(2, len(table) + 2)}", header_rows="1:2")


def _unit_format(unit: str | None) -> str:
    """The number format of a value in `unit` (column_unit's words)."""
    for suffix in ("_musd", "usd_per_kg", "_t", "_pct", "share"):
        words, number_format = column_unit("x" + suffix if suffix != "share" else "share")
        if words == unit:
            return number_format
    return "#,##0.00"


def _chart_sheet(workbook, name: str, charts: Sequence[StackedBars]) -> None:
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.shapes import GraphicalProperties
    from openpyxl.styles import Alignment, Font

    from openpyxl.worksheet.pagebreak import Break

    sheet = workbook.create_sheet(name[:31])
    row = 1
    widest = 1
    for number, spec in enumerate(charts):
        if number and number % CHARTS_PER_PAGE == 0:  # whole blocks per printed page: no chart cut by a page break
            sheet.row_breaks.append(Break(id=row - 1))
        table = spec.table
        sheet.cell(row=row, column=1, value=spec.title).font = Font(bold=True)
        top = row + 1
        sheet.cell(row=top, column=1, value=spec.x_title).font = Font(bold=True)
        for j, series in enumerate(table.columns, start=2):
            head = sheet.cell(row=top, column=j, value=str(series))
            head.font = Font(bold=True)
            head.alignment = Alignment(horizontal="right")
        for i, (category, values) in enumerate(table.iterrows(), start=1):
            sheet.cell(row=top + i, column=1, value=_python(category)).alignment = Alignment(horizontal="left")
            for j, value in enumerate(values, start=2):
                sheet.cell(row=top + i, column=j, value=_python(value)).number_format = "#,##0"
        bottom = top + len(table)
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "stacked"
        chart.overlap = 100
        chart.gapWidth = 60
        chart.title = spec.chart_title or spec.title
        chart.y_axis.title = spec.y_title
        chart.x_axis.title = spec.x_title
        chart.y_axis.scaling.min = 0
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        chart.height, chart.width = 7.5, 16
        if len(table.columns) and len(table):
            data = Reference(sheet, min_col=2, max_col=1 + len(table.columns), min_row=top, max_row=bottom)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=bottom))
            colors = iter(PALETTE * 4)
            for series, name in zip(chart.series, table.columns):
                given = spec.colors.get(str(name))
                color = given.lstrip("#").upper() if given else (COVERED_COLOR if str(name) in spec.red else next(colors))
                series.graphicalProperties = GraphicalProperties(solidFill=color)
                series.graphicalProperties.line.solidFill = color
        anchor_column = len(table.columns) + 3
        sheet.add_chart(chart, f"{_letter(anchor_column)}{top}")  # below the block's title, which stays readable
        widest = max(widest, anchor_column + CHART_COLUMNS)
        row = max(bottom + 3, top + CHART_ROWS + 1)
    sheet.column_dimensions["A"].width = 12
    _print_setup(sheet, f"A1:{_letter(widest)}{max(1, row - 1)}")


#: A chart block: the chart spans about this many rows and columns (16 x 7.5 cm).
CHART_ROWS, CHART_COLUMNS = 16, 10
#: Chart blocks per printed page (landscape, fit to width).
CHARTS_PER_PAGE = 2


def _print_setup(sheet, area: str | None = None, header_rows: str | None = None) -> None:
    """Landscape A4, as wide as one page, its print area, and the header rows
    repeated on every printed page: what a print or a PDF of the sheet shows."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.5
    if area:
        sheet.print_area = area
    if header_rows:
        sheet.print_title_rows = header_rows


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


#: Summary text lines are wrapped at this many characters (continued on the next rows).
SUMMARY_WIDTH = 120


def _summary_sheet(workbook, title: str, lines: Sequence[Line]) -> None:
    from openpyxl.styles import Font

    sheet = workbook.active
    sheet.title = "summary"
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    row = 3
    for line in lines:
        if isinstance(line, tuple):
            label, value, unit = line
            sheet.cell(row=row, column=1, value=label)
            cell = sheet.cell(row=row, column=2, value=_python(value))
            cell.number_format = "0.0" if unit == "%" else "#,##0.00"
            sheet.cell(row=row, column=3, value=unit)
        else:
            indent = " " * (len(line) - len(line.lstrip()) + (3 if line.lstrip()[:1].isdigit() else 2))
            parts = textwrap.wrap(line, SUMMARY_WIDTH, subsequent_indent=indent, drop_whitespace=False) or [line]
            for number, part in enumerate(parts):  # a long sentence on a few rows: it prints at a readable size
                cell = sheet.cell(row=row, column=1, value=part.rstrip())
                if line and line.endswith(":"):
                    cell.font = Font(bold=True)
                row += 1 if number < len(parts) - 1 else 0
        row += 1
    sheet.column_dimensions["A"].width = 42
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 14
    # text lines run on to the right of column A: the print area reaches as far as the longest,
    # so that nothing is cut at the page's edge
    longest = max([min(len(str(line)), SUMMARY_WIDTH) for line in lines if isinstance(line, str)] + [len(title), 0])
    spill = max(0, min(int(longest * 1.05) + 2 - 70, 160))
    last = "C"
    if spill:
        sheet.column_dimensions["D"].width = spill
        last = "D"
    _print_setup(sheet, f"A1:{last}{max(1, row - 1)}")


def workbook_bytes(
    title: str,
    summary: Sequence[Line],
    tables: Mapping[str, pd.DataFrame | pd.Series],
    charts: Mapping[str, Sequence[StackedBars]] | None = None,
) -> bytes:
    """The workbook: `summary` first, then each chart sheet, then each table."""
    from openpyxl import Workbook

    workbook = Workbook()
    _summary_sheet(workbook, title, summary)
    for name, specs in (charts or {}).items():
        _chart_sheet(workbook, name, specs)
    for name, table in tables.items():
        _table_sheet(workbook, name, _frame(table))
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def write_workbook(
    path: str | os.PathLike,
    title: str,
    summary: Sequence[Line],
    tables: Mapping[str, pd.DataFrame | pd.Series],
    charts: Mapping[str, Sequence[StackedBars]] | None = None,
    inputs: Iterable = (),
):
    """Write the workbook whole (temporary file, then rename), never over an input."""
    return write_bytes(path, workbook_bytes(title, summary, tables, charts), inputs)


# --------------------------------------------------------------------------
# From solutions


def sourcing_mix(activity: pd.DataFrame, periods: list, label: str = "", red: Sequence[str] = ("CN",),
                 colors: Mapping[str, str] | None = None) -> list[StackedBars]:
    """Activity by country and period, one chart per stage (tonnes of activity
    of different stages are different things, so they are not added up);
    `colors` gives each country its colour (the report's: ree_opt.colors)."""
    charts = []
    if activity.empty:
        return charts
    order = {stage: i for i, stage in enumerate(STAGES)}
    stages = sorted(activity["stage"].unique(), key=lambda s: order.get(s, len(order)))
    for stage in stages:
        part = activity[activity["stage"] == stage]
        table = part.pivot_table(index="period", columns="country", values="quantity_t", aggfunc="sum", fill_value=0.0)
        table = table.reindex([p for p in periods], fill_value=0.0).fillna(0.0)
        table = table[table.sum().sort_values(ascending=False).index]
        table = table.loc[:, table.sum() > 0.5]
        if table.empty or not len(table.columns):
            continue
        charts.append(StackedBars(f"{label}{stage}: activity by country (t of main output)", table, "t of main output",
                                  "period", tuple(red), f"{label}{stage}", dict(colors or {})))
    return charts


def _unmet_lines(frame: pd.DataFrame, value: str, top: int = 8) -> list[str]:
    frame = frame[frame[value] > 0.5]
    if frame.empty:
        return ["  none: every demand is met"]
    lines = [f"  {product_name(row['product'])} {row['period']}: {row[value]:,.0f} t"
             for _, row in frame.head(top).iterrows()]
    if len(frame) > top:
        lines.append(f"  ... and {len(frame) - top} more (sheet unmet or shortfall)")
    return lines


def _binding_lines(binding: pd.DataFrame, top: int) -> list[str]:
    if binding.empty:
        return ["  nothing binds with a shadow price"]
    return [f"  {i + 1}. {m}" for i, m in enumerate(binding["meaning"].head(top))]


def _ranging_lines(ranging: pd.DataFrame, top: int) -> list[str]:
    tight = tightest(ranging, top)
    if tight.empty:
        return ["  no range to show"]
    ties = tie_count(ranging)
    lines = [f"  {i + 1}. {m}" for i, m in enumerate(tight["meaning"])]
    if ties:
        lines.append(f"  ({ties} tie{'s' if ties != 1 else ''} left out: less than a cent of room; sheet ranging)")
    return lines


def solution_sheets(solution: Solution, title: str | None = None, top: int = 5, covered=("CN",), colors=None):
    """(title, summary lines, tables, charts) of one solve."""
    name = solution.instance_name + (f" [{solution.scenario}]" if solution.scenario else "")
    title = title or f"ree-opt: least-cost plan for {name}"
    b = solution.cost_breakdown
    lines: list[Line] = [
        f"Status: {solution.status}. All money in USD million, quantities in tonnes.",
        "",
        ("Cost of the plan", solution.objective, "USD million"),
        ("  supply (paid activity)", b["supply"], "USD million"),
        ("  holding stock", b["holding"], "USD million"),
        ("  sales (negative: earned)", b["sales"], "USD million"),
        ("  unmet-demand penalty", b["shortfall"], "USD million"),
        "",
        "Unmet demand:",
        *_unmet_lines(solution.unmet_t(), "quantity_t"),
        "",
        "Share of deliveries that touched a covered country (China):",
    ]
    share = solution.covered_share
    if share.empty:
        lines.append("  nothing is delivered")
    else:
        for product, part in share.groupby("product", sort=False):
            lines.append(f"  {product}: {part['covered_t'].sum() / max(part['delivered_t'].sum(), 1e-12):.0%} over the horizon "
                         f"(per period {part['share'].min():.0%} to {part['share'].max():.0%})")
    lines += ["", f"What binds (largest shadow prices, top {top}):", *_binding_lines(solution.binding, top)]
    lines += ["", f"How far prices and capacities may move with the plan unchanged (tightest {top}):",
              *_ranging_lines(solution.ranging, top)]
    lines += ["", "Sheets: sourcing_mix (charts), then one table per sheet; the second header row gives the unit."]
    charts = {"sourcing_mix": sourcing_mix(solution.activity, solution.periods, red=covered, colors=colors)}
    return title, lines, solution.tables(), charts


def funding_sheets(comparison: Comparison, instance, values: pd.DataFrame | None = None,
                   curve: pd.DataFrame | None = None, top: int = 5) -> tuple[list[Line], dict]:
    """Summary lines and tables of what the plans build and, where given,
    what each expansion is worth (funding.expansion_value) and what each
    budget buys (funding.budget_curve), SPEC section 7. `instance` is the
    one the plans solved (its scenario applied)."""
    from .builds import (builds_lines, builds_table, expansion_words, funding_lines, funding_table, musd_words,
                         values_table)

    c = comparison
    last = list(c.periods)[-1]
    lines: list[Line] = ["", *builds_lines(c.non_china, instance, "Builds of the non-China plan"),
                         *builds_lines(c.baseline, instance, "Builds of the baseline plan")]
    if max(c.baseline.mip_gap, c.non_china.mip_gap) > 1e-6:
        lines.append(f"  (integer builds proven within {100 * max(c.baseline.mip_gap, c.non_china.mip_gap):.2g}% "
                     "of the optimum)")
    tables: dict = {"non_china_builds": builds_table(c.non_china, instance),
                    "baseline_builds": builds_table(c.baseline, instance)}
    if curve is not None:
        funding = funding_table(curve, comparison, instance)
        lines += ["", "What each funding budget buys (the most capex the plans may commit to expansions over the "
                  "horizon; the first clean year at the assumed penalties):", *funding_lines(funding, last)]
        tables["budget_curve"] = funding
    if values is not None:
        ranked = values_table(values)
        lines += ["", f"What each expansion is worth (the plan's cost without it, every other allowed, minus its cost "
                  f"with all; top {top} to the non-China plan):"]
        for row in ranked.head(top).itertuples(index=False):
            lines.append(
                f"  {row.name}, {expansion_words(row.expansion)}: USD {musd_words(row.non_china_value_musd)} million to "
                f"the non-China plan, USD {musd_words(row.value_musd)} million to the baseline plan (capex USD "
                f"{musd_words(row.capex_musd)} million a module; modules built: {row.non_china_modules:g} by the "
                f"non-China plan, {row.baseline_modules:g} by the baseline plan)")
        if len(ranked) > top:
            lines.append(f"  ... and {len(ranked) - top} more (sheet expansion_values)")
        tables["expansion_values"] = ranked
    return lines, tables


def investment_sheets(comparison: Comparison, instance, values: pd.DataFrame, curve: pd.DataFrame,
                      title: str | None = None):
    """(title, summary lines, tables, charts) of `ree-opt invest`: what to build and fund."""
    c = comparison
    title = title or f"ree-opt: what to build and fund for {c.baseline.instance_name}"
    lines: list[Line] = [
        "The builds of the least-cost plan and of a plan whose every unit never touched a covered country, what each "
        "expansion is worth and what each funding budget buys. Money in USD million over the horizon.",
        "",
        ("Baseline cost (least cost, its builds funded)", c.baseline.objective, "USD million"),
        ("Non-China cost (whole chain clean, its builds funded)", c.non_china.objective, "USD million"),
        ("Non-China premium", c.premium_musd, "USD million"),
    ]
    more, tables = funding_sheets(c, instance, values, curve)
    lines += more + ["", "Sheets: one table per sheet; the second header row gives the unit."]
    return title, lines, {"premium": c.summary(), **tables}, {}


def comparison_sheets(comparison: Comparison, title: str | None = None, top: int = 5, covered=("CN",), colors=None,
                      instance=None, values: pd.DataFrame | None = None, curve: pd.DataFrame | None = None):
    """(title, summary lines, tables, charts) of the non-China premium; with
    `instance` (as solved) and expansions, the builds of both plans and,
    where given, each expansion's value and the budget curve too."""
    c = comparison
    title = title or f"ree-opt: the non-China premium of {c.baseline.instance_name}"
    base_kg, clean_kg = c.supply_usd_per_kg
    lines: list[Line] = [
        "A plan whose every unit never touched a covered country, beside the least-cost plan.",
        "",
        ("Supply premium (no assumed penalty in it)", c.supply_premium_musd, "USD million"),
        ("  per kg delivered", clean_kg - base_kg, "USD/kg"),
        ("Supply cost per kg delivered, baseline", base_kg, "USD/kg"),
        ("Supply cost per kg delivered, non-China", clean_kg, "USD/kg"),
        ("Premium with unmet-demand penalties", c.premium_musd, "USD million"),
        ("  as a share of the baseline", c.premium_pct, "%"),
        ("  of which supply", c.supply_premium_musd, "USD million"),
        ("  of which unmet-demand penalty (assumed)", c.shortfall_premium_musd, "USD million"),
        ("Baseline cost (least cost)", c.baseline.objective, "USD million"),
        ("Non-China cost (whole chain clean)", c.non_china.objective, "USD million"),
        "Penalties for unmet demand are assumptions (USD/kg left unmet).",
        "",
        "Unmet demand without China:",
        *_unmet_lines(c.unmet, "non_china_t"),
        "",
        "First period the non-China plan serves all demand (at the assumed penalties: a cost trade-off):",
    ]
    for product, period in c.first_full_period.items():
        lines.append(f"  {product_name(product)}: {period if period is not None else 'not by ' + str(c.periods[-1])}")
    lines += ["", f"What binds the non-China plan hardest (top {top}):", *_binding_lines(c.non_china.binding, top)]
    funded = {}
    if instance is not None and c.baseline.has_expansions:
        more, funded = funding_sheets(c, instance, values, curve, top)
        lines += more
    lines += ["", "Sheets: sourcing mix of each plan (charts), then one table per sheet; the second header row gives the unit."]
    tables = {
        "premium": c.summary(),
        "unmet": c.unmet,
        "baseline_activity": c.baseline.activity,
        "non_china_activity": c.non_china.activity,
        "non_china_deliveries": c.non_china.deliveries,
        "non_china_shortfall": c.non_china.shortfall,
        "baseline_binding": c.baseline.binding,
        "non_china_binding": c.non_china.binding,
        **funded,
    }
    charts = {
        "mix_baseline": sourcing_mix(c.baseline.activity, c.periods, "baseline, ", covered, colors),
        "mix_non_china": sourcing_mix(c.non_china.activity, c.periods, "non-China, ", covered, colors),
    }
    return title, lines, tables, charts
