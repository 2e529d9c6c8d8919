"""What a plan builds and what funding buys, as a director reads it (SPEC
section 7): facilities by name, the product a module adds, budgets in
words. The report's "What to fund", the answer workbook and its summary
sheet read the same tables from here.

    builds_table(solution, instance)            -> one row per build
    funding_table(curve, comparison, instance)  -> the budget curve, a "no limit" row last
    values_table(values)                        -> expansion_value, most valuable to a clean chain first
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .dual_words import byproducts, main_outputs, product_name
from .funding import first_clean_period

BUILD_COLUMNS = [
    "facility", "name", "country", "expansion", "decided", "online", "modules", "product", "added_t",
    "available_t", "capex_musd", "charge_musd",
]
FUNDING_COLUMNS = [
    "budget", "limit_musd", "non_china_capex_musd", "baseline_capex_musd", "non_china_musd", "baseline_musd",
    "premium_musd", "saved_musd", "first_clean_period", "non_china_unmet_t", "non_china_builds", "baseline_builds",
]

#: Two budgets' plans are the same purchase when their premiums differ by less than this (USD million).
SAME_MUSD = 0.05

#: The funding budgets of the answer (report and workbook), USD million of
#: capex the plans may commit to expansions over the horizon: what USD 0.25,
#: 0.5, 1 and 2 billion buy, beside no funding at all.
ANSWER_BUDGETS = (0.0, 250.0, 500.0, 1000.0, 2000.0)


def _side_products(instance) -> set:
    return byproducts(instance.products, (d.product for d in instance.demand),
                      (p for f in instance.facilities for p in f.inputs))


def named(name: str, country: str) -> str:
    """A facility with its country: "Australian refinery (AU)"; "Lynas
    Malaysia plant (full HRE suite), MY" where the name ends in brackets."""
    name = str(name).rstrip()
    return f"{name}, {country}" if name.endswith(")") else f"{name} ({country})"


def expansion_words(name: str) -> str:
    """An expansion's name as words: second_line -> second line."""
    return str(name).replace("_", " ")


def builds_table(solution, instance) -> pd.DataFrame:
    """The plan's builds: facility id and name, country, expansion, the
    period decided and the first with capacity (None: after the horizon),
    modules, the main product the module makes, `added_t`, t of it a period
    at full rate (capacity_t times the output per t of activity), and
    `available_t`, the share of it this buyer gets (times the facility's
    availability in the first period with capacity, or the last: SPEC
    section 7 applies availability to funded capacity), capex committed and
    the charge in the plan's cost (USD million)."""
    from .data import resolve_series

    table = solution.investments
    if table is None or table.empty:
        return pd.DataFrame(columns=BUILD_COLUMNS)
    facilities = {f.id: f for f in instance.facilities}
    side = _side_products(instance)
    labels = [str(p) for p in instance.periods]
    rows = []
    for row in table.itertuples(index=False):
        facility = facilities[row.facility]
        product = main_outputs(facility.outputs, side)[0] if facility.outputs else ""
        ratio = float(facility.outputs.get(product, 1.0)) if product else 1.0
        start = labels.index(str(row.online)) if str(row.online) in labels else len(labels) - 1
        share = float(resolve_series(facility.availability, labels)[start])
        added = float(row.capacity_t) * ratio
        rows.append((
            row.facility, facility.display_name, facility.country, row.expansion, row.period, row.online,
            float(row.modules), product, added, added * share, float(row.capex_musd), float(row.charge_musd),
        ))
    return pd.DataFrame(rows, columns=BUILD_COLUMNS)


def modules_words(modules: float) -> str:
    if abs(modules - round(modules)) < 1e-6:
        count = int(round(modules))
        return f"{count} module{'s' if count != 1 else ''}"
    return f"{modules:.2f} of a module"


def build_sentence(row, last_period) -> str:
    """One build in words: "Lynas Malaysia (MY), second line: 1 module
    decided in 2026, capacity from 2028 (+250 t Dy oxide a period at full
    rate); capex USD 58.5 million"."""
    start = (f"capacity from {row.online}" if row.online is not None and not _missing(row.online)
             else f"no capacity by {last_period}")
    product = f" {product_name(row.product)}" if row.product else ""
    share = "" if abs(row.available_t - row.added_t) < 0.5 else f", {row.available_t:,.0f} t of it for this buyer"
    return (
        f"{named(row.name, row.country)}, {expansion_words(row.expansion)}: {modules_words(row.modules)} decided in "
        f"{row.decided}, {start} (+{row.added_t:,.0f} t{product} a period at full rate{share}); capex USD "
        f"{row.capex_musd:,.1f} million"
    )


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def builds_lines(solution, instance, heading: str, indent: str = "  ") -> list[str]:
    """A plan's builds as summary lines: the heading, then one line a build."""
    table = builds_table(solution, instance)
    if table.empty:
        return [f"{heading}: none (no expansion is worth its charge to this plan)"]
    last = list(instance.periods)[-1]
    return [f"{heading}:"] + [indent + build_sentence(row, last) for row in table.itertuples(index=False)]


_BUILD = re.compile(r"^(?P<key>.+) x(?P<modules>[^ ]+) \((?P<period>[^)]*)\)$")


def builds_in_names(text: str, instance) -> str:
    """funding.describe_builds' `facility/expansion x1 (2026)` with names:
    `Lynas Malaysia: second line x1 (decided 2026)`."""
    if not isinstance(text, str) or not text:
        return ""
    names = {f"{f.id}/{e.name}": f"{f.display_name}: {expansion_words(e.name)}"
             for f in instance.facilities for e in (f.expansions or [])}
    parts = []
    for item in text.split("; "):
        found = _BUILD.match(item)
        if found and found["key"] in names:
            parts.append(f"{names[found['key']]} x{found['modules']} (decided {found['period']})")
        else:
            parts.append(item)
    return "; ".join(parts)


def budget_words(limit_musd) -> str:
    """USD 250 million, USD 1 billion, USD 2.5 billion; USD 0 (no funding); "no limit" for NaN."""
    if limit_musd is None or _missing(limit_musd):
        return "no limit"
    value = float(limit_musd)
    if value == 0:
        return "USD 0 (no funding)"
    if value >= 1000:
        return f"USD {value / 1000:,.3g} billion"
    return f"USD {value:,.4g} million"


def offered_capex(instance) -> float:
    """USD million of capex of every module the instance offers: a budget
    this large cannot bind, so it is the same as no limit."""
    return float(sum(e.capex * e.modules for f in instance.facilities for e in (f.expansions or [])))


def answer_budgets(instance, budgets=None) -> list[float]:
    """The budgets the answer's budget curve solves: 0 and each of `budgets`
    (default ANSWER_BUDGETS) below the capex of every module the instance
    offers (a budget that large cannot bind: the "no limit" row is that
    plan), ascending; [] without expansions."""
    if not any(f.expansions for f in instance.facilities):
        return []
    offered = offered_capex(instance)
    chosen = {0.0} | {float(b) for b in (ANSWER_BUDGETS if budgets is None else budgets) if float(b) < offered}
    return sorted(chosen)


def funding_table(curve: pd.DataFrame, comparison, instance) -> pd.DataFrame:
    """The budget curve (funding.budget_curve), budgets ascending, then a
    "no limit" row: the comparison's own plans (every expansion may be
    funded; its `limit_musd` is the capex of every module offered, which no
    budget beyond can change). `saved_musd` is the premium at the smallest
    budget minus the row's: what the funding buys. Builds by facility name.
    `instance` is the one the plans solved (its scenario applied)."""
    curve = curve.sort_values("limit_musd", kind="stable").reset_index(drop=True)
    rows = []
    for row in curve.itertuples(index=False):
        rows.append([
            budget_words(row.limit_musd), float(row.limit_musd), row.non_china_capex_musd, row.baseline_capex_musd,
            row.non_china_musd, row.baseline_musd, row.premium_musd, np.nan, row.first_clean_period,
            row.non_china_unmet_t, builds_in_names(row.non_china_builds, instance),
            builds_in_names(row.baseline_builds, instance),
        ])
    c = comparison
    products = list(c.products)
    periods = list(c.periods)

    def capex(solution) -> float:
        table = solution.investments
        return 0.0 if table is None or table.empty else float(table["capex_musd"].sum())

    def described(solution) -> str:
        table = builds_table(solution, instance)
        return "; ".join(f"{r.name}: {expansion_words(r.expansion)} x{r.modules:g} (decided {r.decided})"
                         for r in table.itertuples(index=False))

    rows.append([
        "no limit", offered_capex(instance), capex(c.non_china), capex(c.baseline), c.non_china.objective, c.baseline.objective,
        c.premium_musd, np.nan, first_clean_period(c.non_china, products, periods),
        float(c.non_china.shortfall["quantity_t"].sum()), described(c.non_china), described(c.baseline),
    ])
    table = pd.DataFrame(rows, columns=FUNDING_COLUMNS)
    if len(table):
        table["saved_musd"] = float(table["premium_musd"].iloc[0]) - table["premium_musd"].astype(float)
    return table


def values_table(values: pd.DataFrame) -> pd.DataFrame:
    """expansion_value's table, most valuable to the non-China plan first
    (then to the baseline plan), in the instance's order among equals;
    values within 1e-9 of 0 are 0."""
    if values is None or values.empty:
        return values
    values = values.copy()
    for column in ("value_musd", "non_china_value_musd"):  # solver noise (-4e-16) reads as 0
        values[column] = values[column].where(values[column].abs() > 1e-9, 0.0)
    order = values.assign(_clean=values["non_china_value_musd"].fillna(-np.inf).round(6),
                          _base=values["value_musd"].fillna(-np.inf).round(6))
    order = order.sort_values(["_clean", "_base"], ascending=False, kind="stable")
    return order.drop(columns=["_clean", "_base"]).reset_index(drop=True)


def musd_words(value) -> str:
    """USD million, one decimal, never "-0.0"."""
    number = float(value)
    return f"{0.0 if round(number, 1) == 0 else number:,.1f}"


def funding_lines(funding: pd.DataFrame, last_period) -> list[str]:
    """What each budget buys, one summary line each, each against the smallest budget."""
    lines = []
    for index, row in enumerate(funding.itertuples(index=False)):
        first = row.first_clean_period
        clean = (f"serves all demand from {first}" if first not in (None, "never")
                 else f"leaves demand unmet up to {last_period}")
        saved = f" ({musd_words(row.saved_musd)} less)" if index else ""
        lines.append(
            f"  {row.budget}: non-China premium USD {musd_words(row.premium_musd)} million{saved}, capex used USD "
            f"{musd_words(row.non_china_capex_musd)} million; the non-China plan {clean}"
        )
    return lines
