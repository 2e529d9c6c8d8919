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
    """Columns and rows of a built model in the instance's words: each
    family's record says how its key reads (model/families.py)."""

    def __init__(self, data, compiled):
        self.data = data
        model = compiled.model
        self.columns = sorted(
            ((block.start, block.family, block.keys) for block in model.columns.values()), key=lambda b: b[0]
        )
        self.rows = []
        start = 0
        for block in model.rows.values():
            self.rows.append((start, block.family, block.keys))
            start += len(block.keys)

    @staticmethod
    def _find(blocks, index: int):
        for start, family, keys in reversed(blocks):
            if start <= index < start + len(keys):
                return family, keys[index - start]
        return None, None

    def period(self, t) -> str:
        return str(self.data.periods[t]) if isinstance(t, int) and 0 <= t < len(self.data.periods) else str(t)

    def demand(self, d) -> str:
        entry = self.data.demand[d]
        return f"demand[{d}] ({entry.segment} {entry.product})"

    def say(self, dimension: str, value) -> str:
        """One value of a key, in words, by its dimension."""
        if dimension in ("period", "decision"):
            return self.period(value)
        if dimension == "demand":
            return self.demand(value)
        return str(value)

    def _describe(self, family, key, what: str, index: int) -> str:
        if family is None:
            return f"{what} {index}"
        try:
            return family.describe(key, self.say)
        except (KeyError, TypeError, IndexError, ValueError):
            return f"{what} {family.name}{key}"

    def column(self, col: int) -> str:
        family, key = self._find(self.columns, col)
        return self._describe(family, key, "column", col)

    def row(self, row: int) -> str:
        family, key = self._find(self.rows, row)
        return self._describe(family, key, "row", row)

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
