"""Numerical care: the ranges of the numbers handed to the solver.

An LP solver works to absolute tolerances (HiGHS: 1e-7 on feasibility and
optimality); numbers spanning more than nine orders of magnitude in one
family (a recipe of 1e-6 t beside one of 1e6 t, a cost of USD 0.001/kg
beside USD 1 billion/kg) let rounding decide the answer. When the model is
built, each family's range is measured:

- matrix: the coefficients of the rows (recipes, lead-time shares, policy
  shares),
- costs: the objective coefficients (costs, holding costs, penalties, sale
  prices),
- bounds: the column floors (take-or-pay minimum takes),
- right-hand sides: the row bounds (capacities, demand quantities, stock),

and where the largest is more than `SPAN_LIMIT` times the smallest
non-zero one, the Solution carries a warning naming the two entities, in
the instance's words (facility id, product, demand entry, policy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest ratio of the largest to the smallest non-zero magnitude in a family.
SPAN_LIMIT = 1e9


@dataclass(frozen=True)
class Extreme:
    """The smallest or the largest non-zero magnitude of a family, and where."""

    value: float
    row: int | None  # None for costs and bounds
    col: int | None  # None for right-hand sides


@dataclass(frozen=True)
class Span:
    family: str  # matrix coefficients, costs, column floors, row bounds; with units
    smallest: Extreme
    largest: Extreme

    @property
    def ratio(self) -> float:
        return self.largest.value / self.smallest.value


def _extremes(values: np.ndarray, rows, cols) -> tuple[Extreme, Extreme] | None:
    magnitude = np.abs(values)
    keep = np.flatnonzero((magnitude > 0) & np.isfinite(magnitude))
    if not len(keep):
        return None
    low, high = keep[np.argmin(magnitude[keep])], keep[np.argmax(magnitude[keep])]

    def at(i):
        return Extreme(float(magnitude[i]), None if rows is None else int(rows[i]), None if cols is None else int(cols[i]))

    return at(low), at(high)


def spans(matrix, cost: np.ndarray, col_lower: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray) -> list[Span]:
    """The range of each family of numbers of an LP (matrix: scipy CSC)."""
    out = []
    csc = matrix.tocsc()
    cols = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
    found = _extremes(csc.data, csc.indices, cols)
    if found:
        out.append(Span("matrix coefficients (t per t of activity, shares)", *found))
    every_col = np.arange(len(cost))
    found = _extremes(cost, None, every_col)
    if found:
        out.append(Span("costs (USD million per t)", *found))
    found = _extremes(col_lower, None, every_col)
    if found:
        out.append(Span("column floors (t)", *found))
    nrow = len(row_lower)
    found = _extremes(
        np.concatenate([row_lower, row_upper]), np.concatenate([np.arange(nrow), np.arange(nrow)]), None
    )
    if found:
        out.append(Span("row bounds (t: capacities, demand, stock)", *found))
    return out


def wide_spans(found: list[Span], limit: float = SPAN_LIMIT) -> list[Span]:
    return [span for span in found if span.ratio > limit]


class EntityNames:
    """Columns and rows of a built model in the instance's words."""

    def __init__(self, data, compiled):
        self.data = data
        self.columns = sorted((start, name, keys) for name, (keys, start) in compiled.model.columns.items())
        self.rows = sorted((start, name, keys) for name, (keys, start) in compiled.row_blocks.items())

    @staticmethod
    def _find(blocks, index: int):
        for start, name, keys in reversed(blocks):
            if start <= index < start + len(keys):
                return name, keys[index - start]
        return None, None

    def period(self, t) -> str:
        return str(self.data.periods[t]) if isinstance(t, int) and 0 <= t < len(self.data.periods) else str(t)

    def demand(self, d) -> str:
        entry = self.data.demand[d]
        return f"demand[{d}] ({entry.segment} {entry.product})"

    def column(self, col: int) -> str:
        name, key = self._find(self.columns, col)
        words = {
            "act": lambda f, label, _m, t: f"facility {f} ({label} activity, {self.period(t)})",
            "paid": lambda f, t: f"facility {f} (paid activity, {self.period(t)})",
            "cons": lambda f, p, label, _m, t: f"facility {f} (input {p}, {self.period(t)})",
            "inv": lambda p, label, _m, t: f"product {p} ({label} stock, {self.period(t)})",
            "disc": lambda p, label, _m, t: f"product {p} ({label} disposal, {self.period(t)})",
            "sell": lambda p, label, _m, t: f"product {p} (sales, {self.period(t)})",
            "down": lambda p, _m, t: f"product {p} (clean relabelled covered, {self.period(t)})",
            "deliv": lambda d, label, _m, t: f"{self.demand(d)} ({label} delivery, {self.period(t)})",
            "short": lambda d, t: f"{self.demand(d)} (shortfall, {self.period(t)})",
        }
        try:
            return words[name](*key)
        except (KeyError, TypeError, IndexError):
            return f"column {name}{key}" if name else f"column {col}"

    def row(self, row: int) -> str:
        name, key = self._find(self.rows, row)
        words = {
            "capacity": lambda f, t: f"the capacity of facility {f} ({self.period(t)})",
            "take_or_pay": lambda f, t: f"the take-or-pay of facility {f} ({self.period(t)})",
            "sales_limit": lambda p, t: f"the sales limit of product {p} ({self.period(t)})",
            "consumption": lambda f, p, _l, _m, t: f"the input {p} of facility {f} ({self.period(t)})",
            "demand": lambda d, t: f"the quantity of {self.demand(d)} ({self.period(t)})",
            "balance": lambda p, label, _m, t: f"the {label} balance of product {p} ({self.period(t)})",
            "covered_share": lambda i, p, t: f"policies[{i}] on product {p} ({self.period(t)})",
            "country_share": lambda i, p, c, t: f"policies[{i}] on product {p} from {c} ({self.period(t)})",
            "average_risk": lambda i, p, t: f"policies[{i}] on product {p} ({self.period(t)})",
        }
        try:
            return words[name](*key)
        except (KeyError, TypeError, IndexError):
            return f"row {name}{key}" if name else f"row {row}"

    def where(self, extreme: Extreme) -> str:
        if extreme.row is not None and extreme.col is not None:
            return f"{self.column(extreme.col)} in {self.row(extreme.row)}"
        if extreme.col is not None:
            return self.column(extreme.col)
        return self.row(extreme.row)


def span_warnings(found: list[Span], names: EntityNames, limit: float = SPAN_LIMIT) -> list[str]:
    """One sentence per family whose numbers span more than `limit`."""
    return [
        f"{span.family} span {span.ratio:.0e} (more than {limit:.0e}): from {span.smallest.value:.3g} at "
        f"{names.where(span.smallest)} to {span.largest.value:.3g} at {names.where(span.largest)}; "
        "the solver's tolerances may decide the answer: check the units of these entries"
        for span in wide_spans(found, limit)
    ]
