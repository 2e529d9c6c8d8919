"""Pyomo -> HiGHS, in one place.

The Pyomo model is compiled once to matrix form
(`LinearStandardFormCompiler`, mixed form: each row keeps its own sense) and
passed whole to a `highspy.Highs` object that is kept: later solves change
bounds, costs and coefficients on it in place, so HiGHS starts from the
previous basis (see analysis.py). Columns and rows keep the Pyomo component
and key they came from, so values and duals go back on business rows.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

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
    highs.setOptionValue("output_flag", False)
    return highs


class CompiledModel:
    """A Pyomo model in a kept HiGHS object, with maps back to the model."""

    def __init__(self, model: pyo.ConcreteModel, time_limit: float | None = None, threads: int | None = None):
        info = LinearStandardFormCompiler().write(model, mixed_form=True)
        self.model = model
        self.columns = info.columns
        self.column_of = {id(var): index for index, var in enumerate(info.columns)}
        self.row_of = {}
        ncol = len(info.columns)
        nrow = len(info.rows)
        lower = np.full(nrow, -highspy.kHighsInf)
        upper = np.full(nrow, highspy.kHighsInf)
        rhs = np.asarray(info.rhs, dtype=float)
        for index, (con, sense) in enumerate(info.rows):
            self.row_of[id(con)] = index
            if sense == 0:
                lower[index] = upper[index] = rhs[index]
            elif sense > 0:
                upper[index] = rhs[index]
            else:
                lower[index] = rhs[index]
        # `base_cost` as built; `cost` as set now (a sweep may scale it).
        self.base_cost = np.asarray(info.c.toarray()).ravel() if ncol else np.zeros(0)
        self.cost = self.base_cost.copy()
        self.offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
        col_lower = np.array([v.lb if v.lb is not None else -highspy.kHighsInf for v in info.columns], dtype=float)
        col_upper = np.array([v.ub if v.ub is not None else highspy.kHighsInf for v in info.columns], dtype=float)

        lp = highspy.HighsLp()
        lp.num_col_ = ncol
        lp.num_row_ = nrow
        lp.col_cost_ = self.cost
        lp.col_lower_ = col_lower
        lp.col_upper_ = col_upper
        lp.row_lower_ = lower
        lp.row_upper_ = upper
        matrix = info.A.tocsc()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.offset_ = self.offset
        self.highs = new_highs()
        if threads:
            self.highs.setOptionValue("threads", threads)
        if time_limit:
            self.highs.setOptionValue("time_limit", float(time_limit))
        self.highs.passModel(lp)
        self.row_count = nrow

    # -- maps back to the model -------------------------------------------------
    def columns_of(self, component) -> tuple[list, np.ndarray]:
        """Keys of a Var component and their columns (-1: not in the matrix)."""
        keys = list(component.keys())
        cols = np.array([self.column_of.get(id(component[k]), -1) for k in keys], dtype=np.int64)
        return keys, cols

    def rows_of(self, component) -> tuple[list, np.ndarray]:
        keys = list(component.keys())
        rows = np.array([self.row_of.get(id(component[k]), -1) for k in keys], dtype=np.int64)
        return keys, rows

    # -- solving ---------------------------------------------------------------
    def _run(self) -> str:
        self.highs.run()
        status = self.highs.getModelStatus()
        name = self.highs.modelStatusToString(status)
        key = str(status).split(".")[-1]
        return STATUS.get(key, "error" if key not in ("kOptimal",) else "optimal"), name

    def solve(self, tie_break_columns: np.ndarray | None = None) -> Outcome:
        """Minimize cost; then, among cost-optimal plans, the tie-break columns."""
        try:
            status, name = self._run()
        except Exception as error:  # solver trouble is a status, not an exception
            return Outcome("error", None, None, None, str(error))
        if status != "optimal":
            return Outcome(status, None, None, None, f"HiGHS: {name}")
        solution = self.highs.getSolution()
        values = np.asarray(solution.col_value, dtype=float)
        duals = np.asarray(solution.row_dual, dtype=float)
        objective = float(self.highs.getInfo().objective_function_value)
        if tie_break_columns is not None and len(tie_break_columns):
            values = self._least_of(tie_break_columns, objective, values)
        return Outcome("optimal", objective, values, duals)

    def _least_of(self, columns: np.ndarray, objective: float, values: np.ndarray) -> np.ndarray:
        """Among plans within the objective slack, the one with least sum of `columns`."""
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
            status, _ = self._run()
            if status == "optimal":
                values = np.asarray(highs.getSolution().col_value, dtype=float)
        finally:
            highs.deleteRows(1, np.array([self.row_count], dtype=np.int32))
            highs.changeColsCost(ncol, everything, self.cost)
            highs.changeObjectiveOffset(self.offset)
        return values


def finite(value: float) -> bool:
    return value is not None and math.isfinite(value)
