"""Pyomo -> HiGHS, in one place.

The model's Pyomo variables and its row families (model/common.py) are
compiled once to a column-wise matrix and passed whole to a
`highspy.Highs` object that is kept: later solves change bounds, costs and
coefficients on it in place, so HiGHS starts from the previous basis (see
plan.py). Columns and rows keep the component and key they came from, so
values and duals go back on business rows.
"""

from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from scipy import sparse

from .numerics import spans

STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "time_limit",
    "kObjectiveBound": "error",
    "kObjectiveTarget": "error",
}

#: Relative objective slack allowed to the tie-break solve (SPEC section 3).
TIE_BREAK_SLACK = 1e-9


@dataclass
class Outcome:
    status: str
    objective: float | None
    values: np.ndarray | None  # column values of the reported plan
    duals: np.ndarray | None  # row duals of the cost-minimal solve
    message: str = ""
    at_optimum: object = None  # what `solve`'s at_optimum hook read at the cost-minimal solve


_BANNER_SHOWN = False


def new_highs() -> highspy.Highs:
    """A silent Highs object (HiGHS prints a banner on the first one made)."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        highs = highspy.Highs()
    else:
        _BANNER_SHOWN = True
        sys.stdout.flush()
        saved = os.dup(1)
        sink = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(sink, 1)
            highs = highspy.Highs()
            try:
                ctypes.CDLL(None).fflush(None)
            except (OSError, AttributeError):
                pass
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(sink)
    capture_warnings(highs)
    return highs


def capture_warnings(highs: highspy.Highs) -> list[str]:
    """HiGHS's warnings and errors, kept in `highs.ree_warnings` (in order,
    each once) for the Solution; nothing reaches the screen: the log goes to
    a callback only (log_to_console off)."""
    found: list[str] = []
    highs.ree_warnings = found
    highs.setOptionValue("log_to_console", False)
    highs.setOptionValue("output_flag", True)
    wanted = (highspy.HighsLogType.kWarning, highspy.HighsLogType.kError)

    def keep(event) -> None:
        if getattr(event.data_out, "log_type", None) in wanted:
            text = " ".join(str(event.message).split())
            for prefix in ("WARNING:", "ERROR:"):
                text = text.removeprefix(prefix).strip()
            if text and text not in found:
                found.append(text)

    try:
        highs.cbLogging.subscribe(keep)
    except AttributeError:  # a highspy without callbacks: stay silent, as before
        highs.setOptionValue("output_flag", False)
    return found


@dataclass
class StandardForm:
    """A model as arrays: `row_lower <= matrix @ x <= row_upper`, `x >= col_lower`,
    cost `cost @ x` (USD million); rows in family order, columns in declaration order."""

    matrix: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    cost: np.ndarray
    row_blocks: dict  # family -> (keys, first row)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape


def standard_form(model: pyo.ConcreteModel) -> StandardForm:
    """The row families and objective terms of a model as one sparse matrix."""
    ncol = model.column_count
    lows = [
        floors if floors is not None else np.zeros(len(model.columns[name][0]))
        for name, floors in model.floors.items()
    ]
    row_blocks: dict[str, tuple[list, int]] = {}
    counts, indexes, values, lower, upper = [], [], [], [], []
    row = 0
    for family in model.row_families.values():
        row_blocks[family.name] = (family.keys, row)
        row += len(family.keys)
        sizes = np.fromiter((len(t) for t in family.terms), dtype=np.int64, count=len(family.terms))
        total = int(sizes.sum())
        counts.append(sizes)
        indexes.append(np.fromiter((col for t in family.terms for _, col in t), dtype=np.int64, count=total))
        values.append(np.fromiter((c for t in family.terms for c, _ in t), dtype=float, count=total))
        lower.append(family.lower)
        upper.append(family.upper)
    nrow = row
    starts = np.concatenate([[0], np.cumsum(np.concatenate(counts))]) if counts else np.zeros(1, dtype=np.int64)
    by_rows = sparse.csr_matrix(
        (
            np.concatenate(values) if values else np.zeros(0),
            np.concatenate(indexes) if indexes else np.zeros(0, dtype=np.int64),
            starts,
        ),
        shape=(nrow, ncol),
    )
    del indexes, values
    by_rows.sum_duplicates()  # a trader's input and output of one product share a row
    cost = np.zeros(ncol)
    terms = model.objective_terms
    if terms:
        np.add.at(
            cost,
            np.fromiter((col for _, col in terms), dtype=np.int64, count=len(terms)),
            np.fromiter((c for c, _ in terms), dtype=float, count=len(terms)),
        )
    return StandardForm(
        matrix=by_rows.tocsc(),
        row_lower=np.concatenate(lower) if lower else np.zeros(0),
        row_upper=np.concatenate(upper) if upper else np.zeros(0),
        col_lower=np.concatenate(lows) if lows else np.zeros(0),
        cost=cost,
        row_blocks=row_blocks,
    )


def highs_model(
    matrix: sparse.csc_matrix,
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    time_limit: float | None = None,
    threads: int | None = None,
) -> highspy.Highs:
    """A silent Highs object holding the LP (infinite bounds as HiGHS's)."""
    nrow, ncol = matrix.shape
    lp = highspy.HighsLp()
    lp.num_col_ = ncol
    lp.num_row_ = nrow
    lp.col_cost_ = cost
    lp.col_lower_ = np.where(np.isinf(col_lower), -highspy.kHighsInf, col_lower)
    lp.col_upper_ = np.where(np.isinf(col_upper), highspy.kHighsInf, col_upper)
    lp.row_lower_ = np.where(np.isinf(row_lower), -highspy.kHighsInf, row_lower)
    lp.row_upper_ = np.where(np.isinf(row_upper), highspy.kHighsInf, row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    highs = new_highs()
    if threads:
        highs.setOptionValue("threads", threads)
    if time_limit:
        highs.setOptionValue("time_limit", float(time_limit))
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (a bug in ree_opt: please report it)")
    return highs


def run_highs(highs: highspy.Highs) -> tuple[str, str]:
    """Run HiGHS; (our status, HiGHS's name for it)."""
    highs.run()
    status = highs.getModelStatus()
    name = highs.modelStatusToString(status)
    key = str(status).split(".")[-1]
    return STATUS.get(key, "error"), name


def stopped_message(highs: highspy.Highs, status: str, name: str) -> str:
    """What to tell the user when HiGHS ends without an optimum."""
    if status == "time_limit":
        limit = highs.getOptionValue("time_limit")
        limit = limit[-1] if isinstance(limit, tuple) else limit  # (status, value) in some highspy versions
        return (
            f"HiGHS stopped at the time limit of {limit:g} s ({name}) before it proved a plan "
            "optimal: no plan is reported; allow more time (time_limit, --time-limit)"
        )
    return f"HiGHS: {name}"


class CompiledModel:
    """A model in a kept HiGHS object, with maps back to the model.

    Columns are the Pyomo variables in declaration order (each component a
    contiguous block, model.columns); rows are the model's row families in
    order.
    """

    def __init__(self, model: pyo.ConcreteModel, time_limit: float | None = None, threads: int | None = None):
        self.model = model
        form = standard_form(model)
        self.row_blocks = form.row_blocks
        # `base_cost` as built; `cost` as set now (a sweep may scale it).
        self.base_cost = form.cost
        self.cost = self.base_cost.copy()
        self.offset = 0.0
        nrow, ncol = form.shape
        # The range of each family of numbers, for warnings (numerics.py).
        self.spans = spans(form.matrix, form.cost, form.col_lower, form.row_lower, form.row_upper)
        self.highs = highs_model(
            form.matrix, self.cost, form.col_lower, np.full(ncol, np.inf),
            form.row_lower, form.row_upper, time_limit, threads,
        )
        self.row_count = nrow

    # -- maps back to the model -------------------------------------------------
    def columns_of(self, component) -> tuple[list, np.ndarray]:
        """Keys of a Var component and their columns."""
        keys, start = self.model.columns[component.name]
        return keys, np.arange(start, start + len(keys), dtype=np.int64)

    def rows_of(self, family: str) -> tuple[list, np.ndarray]:
        """Keys of a row family and their rows."""
        keys, start = self.row_blocks[family]
        return keys, np.arange(start, start + len(keys), dtype=np.int64)

    # -- solving ---------------------------------------------------------------
    def _run(self) -> tuple[str, str]:
        return run_highs(self.highs)

    def solve(self, tie_break_columns: np.ndarray | None = None, at_optimum=None) -> Outcome:
        """Minimize cost; then, among cost-optimal plans, the tie-break columns.

        `at_optimum(self)` is called right after the cost-minimal solve, while
        HiGHS still holds its optimal basis (before the tie-break solve moves
        it): ranging reads it there (ranging.py). Its result is
        `Outcome.at_optimum`."""
        try:
            status, name = self._run()
        except Exception as error:  # solver trouble is a status, not an exception
            return Outcome("error", None, None, None, str(error))
        if status != "optimal":
            return Outcome(status, None, None, None, stopped_message(self.highs, status, name))
        solution = self.highs.getSolution()
        values = np.asarray(solution.col_value, dtype=float)
        duals = np.asarray(solution.row_dual, dtype=float)
        objective = float(self.highs.getInfo().objective_function_value)
        extra = at_optimum(self) if at_optimum is not None else None
        if tie_break_columns is not None and len(tie_break_columns):
            values = self._least_of(tie_break_columns, objective, values)
        return Outcome("optimal", objective, values, duals, at_optimum=extra)

    def _least_of(self, columns: np.ndarray, objective: float, values: np.ndarray) -> np.ndarray:
        """Among plans within the objective slack, the one with least sum of `columns`."""
        with self.tie_break_model(columns, objective):
            status, _ = self._run()
            if status == "optimal":
                values = np.asarray(self.highs.getSolution().col_value, dtype=float)
        return values

    @contextmanager
    def tie_break_model(self, columns: np.ndarray, objective: float):
        """The kept HiGHS model, for the time of the block, turned into the
        tie-break problem: cost within the slack of `objective`, minimize the
        sum of `columns` (CBC is given the same model, second_solver.py)."""
        highs = self.highs
        ncol = len(self.cost)
        nonzero = np.flatnonzero(self.cost)
        bound = objective - self.offset + TIE_BREAK_SLACK * max(1.0, abs(objective))
        highs.addRow(-highspy.kHighsInf, bound, len(nonzero), nonzero.astype(np.int32), self.cost[nonzero])
        tie_cost = np.zeros(ncol)
        tie_cost[columns] = 1.0
        everything = np.arange(ncol, dtype=np.int32)
        highs.changeColsCost(ncol, everything, tie_cost)
        highs.changeObjectiveOffset(0.0)
        try:
            yield highs
        finally:
            highs.deleteRows(1, np.array([self.row_count], dtype=np.int32))
            highs.changeColsCost(ncol, everything, self.cost)
            highs.changeObjectiveOffset(self.offset)
