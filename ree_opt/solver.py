"""The built model -> HiGHS, and the one path every solve takes.

A `BuiltModel` (model/families.py) is compiled once to a column-wise matrix
(`standard_form`) and passed whole to a `highspy.Highs` object that is
kept: later solves change bounds, costs and coefficients on it in place, so
HiGHS starts from the previous basis (see plan.py). Columns and rows keep
the family and key they came from, so values and duals go back on business
rows.

`solve_highs` is the one solve path (the plan, the extensive form, the
wait-and-see and nominal solves, the out-of-sample evaluation): HiGHS run,
status, values, duals where they exist; a MIP (lumpy expansions, SPEC
section 7) is solved by branch and cut, its integers fixed, and the LP
solved again for prices.
"""

from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from .model.families import BuiltModel, Family
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
#: The relative gap a MIP is solved to unless told otherwise (SPEC section 7).
DEFAULT_MIP_GAP = 1e-6


@dataclass
class Outcome:
    status: str
    objective: float | None
    values: np.ndarray | None  # column values of the reported plan
    duals: np.ndarray | None  # row duals of the cost-minimal solve (of the LP with the integers fixed, for a MIP)
    message: str = ""
    at_optimum: object = None  # what `solve`'s at_optimum hook read at the cost-minimal solve
    mip_gap: float = 0.0  # the proven relative gap of a MIP (0.0 for an LP)
    mip_nodes: int = 0  # branch-and-bound nodes HiGHS explored (0 for an LP)
    mip_bound: float | None = None  # a MIP's proven dual bound (<= objective; None for an LP)


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
    """A model as arrays: `row_lower <= matrix @ x <= row_upper`,
    `col_lower <= x <= col_upper`, integer where `integrality`, cost `cost @ x`
    (USD million); rows in family order, columns in declaration order."""

    matrix: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    cost: np.ndarray
    col_upper: np.ndarray | None = None  # None: no upper bounds
    integrality: np.ndarray | None = None  # bool per column; None: an LP

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def upper(self) -> np.ndarray:
        return self.col_upper if self.col_upper is not None else np.full(self.shape[1], np.inf)


def standard_form(built: BuiltModel) -> StandardForm:
    """The row families and cost terms of a built model as one sparse matrix."""
    ncol = built.column_count
    blocks = list(built.columns.values())
    col_lower = np.concatenate(
        [b.lower if b.lower is not None else np.zeros(len(b)) for b in blocks]
    ) if blocks else np.zeros(0)
    col_upper = None
    if any(b.upper is not None for b in blocks):
        col_upper = np.concatenate([b.upper if b.upper is not None else np.full(len(b), np.inf) for b in blocks])
    integrality = None
    if any(b.integer is not None and b.integer.any() for b in blocks):
        integrality = np.concatenate([b.integer if b.integer is not None else np.zeros(len(b), dtype=bool) for b in blocks])
    counts, indexes, values, lower, upper = [], [], [], [], []
    nrow = 0
    for block in built.rows.values():
        nrow += len(block.keys)
        sizes = np.fromiter((len(t) for t in block.terms), dtype=np.int64, count=len(block.terms))
        total = int(sizes.sum())
        counts.append(sizes)
        indexes.append(np.fromiter((col for t in block.terms for _, col in t), dtype=np.int64, count=total))
        values.append(np.fromiter((c for t in block.terms for c, _ in t), dtype=float, count=total))
        lower.append(block.lower)
        upper.append(block.upper)
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
    terms = built.objective
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
        col_lower=col_lower,
        cost=cost,
        col_upper=col_upper,
        integrality=integrality,
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
    integrality: np.ndarray | None = None,
    mip_gap: float | None = None,
) -> highspy.Highs:
    """A silent Highs object holding the model (infinite bounds as HiGHS's;
    integer columns where `integrality`, solved to `mip_gap`: by default
    section 7's 1e-6, not HiGHS's own 1e-4, wherever a model has them)."""
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
    if integrality is not None and integrality.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integrality
        ]
    highs = new_highs()
    if threads:
        highs.setOptionValue("threads", threads)
    if time_limit:
        highs.setOptionValue("time_limit", float(time_limit))
    if mip_gap is None and integrality is not None and integrality.any():
        mip_gap = DEFAULT_MIP_GAP
    if mip_gap is not None:
        highs.setOptionValue("mip_rel_gap", float(mip_gap))
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model (a bug in ree_opt: please report it)")
    return highs


def form_highs(form: StandardForm, col_lower=None, col_upper=None, **options) -> highspy.Highs:
    """A Highs object holding a standard form (bounds overridable)."""
    return highs_model(
        form.matrix, form.cost,
        form.col_lower if col_lower is None else col_lower,
        form.upper if col_upper is None else col_upper,
        form.row_lower, form.row_upper, integrality=form.integrality, **options,
    )


#: The HiGHS objects running now: a signal handler may cancel them (an
#: exception raised while HiGHS runs crashed the interpreter; see cli.py).
RUNNING: list[highspy.Highs] = []


def time_limit_option(highs: highspy.Highs) -> float | None:
    """The object's `time_limit` option in seconds (None: no limit)."""
    limit = highs.getOptionValue("time_limit")
    limit = float(limit[-1] if isinstance(limit, tuple) else limit)  # (status, value) in some highspy versions
    return limit if np.isfinite(limit) and limit < highspy.kHighsInf else None


def run_highs(highs: highspy.Highs, time_limit: float | None = None, mip: bool = False) -> tuple[str, str]:
    """Run HiGHS; (our status, HiGHS's name for it). The run may take
    `time_limit` seconds (None: the object's own `time_limit` option), each
    run its own, however often the object was run before.

    HiGHS (1.16) compares an LP's time with the object's run clock, which adds
    up every run the object has made (ERGO-Code/HiGHS#1477: a kept model with
    a 60 s limit stops at once on its solve after a minute of others, and so
    did the LP that prices a MIP stopped by its limit), and a MIP's (`mip`:
    the model has integer columns) with the run's own: so an LP's limit is set
    past the clock for the run, then the option restored."""
    own = time_limit_option(highs)
    limit = own if time_limit is None else float(time_limit)
    if limit is not None:
        highs.setOptionValue("time_limit", limit + (0.0 if mip else highs.getRunTime()))
    RUNNING.append(highs)
    try:
        highs.run()
    finally:
        RUNNING.pop()
        if limit is not None:
            highs.setOptionValue("time_limit", own if own is not None else highspy.kHighsInf)
    status = highs.getModelStatus()
    name = highs.modelStatusToString(status)
    key = str(status).split(".")[-1]
    return STATUS.get(key, "error"), name


def stopped_message(highs: highspy.Highs, status: str, name: str, time_limit: float | None = None) -> str:
    """What to tell the user when HiGHS ends without an optimum (`time_limit`:
    the run's, where it was not the object's own)."""
    if status == "time_limit":
        limit = time_limit if time_limit is not None else time_limit_option(highs)
        limit = float("nan") if limit is None else limit
        return (
            f"HiGHS stopped at the time limit of {limit:g} s ({name}) before it proved a plan "
            "optimal: no plan is reported; allow more time (time_limit, --time-limit)"
        )
    return f"HiGHS: {name}"


#: An integer column's value is rounded to the nearest integer when it is fixed.
INTEGER_TOLERANCE = 1e-6


def solve_highs(
    highs: highspy.Highs,
    integer_columns: np.ndarray | None = None,
    duals: bool = True,
    at_optimum=None,
    time_limit: float | None = None,
    start: np.ndarray | None = None,
) -> Outcome:
    """The one solve path: run HiGHS, read its status, objective, values and
    duals where they exist.

    With `integer_columns` (a MIP): HiGHS's branch and cut, then the
    integers fixed at the plan found and the LP solved again (prices exist
    only for an LP), the integrality restored after; `Outcome.objective` is
    the MIP's, `mip_gap` its proven gap, values and duals the LP's. A MIP
    stopped by the time limit with a plan returns status `time_limit` with
    that plan and its gap. `at_optimum(highs)` is called at the LP's optimum,
    before anything moves HiGHS off it (ranging reads the basis there).

    `time_limit`: seconds each of the solve's runs may take (the branch and
    cut, then the LP that prices its plan; None: the object's own option).
    `start`: a feasible plan (every column's value) the branch and cut
    begins from, as its best plan until it finds a better one: a MIP
    stopped by its limit then always has a plan to report."""
    mip = integer_columns is not None and len(integer_columns) > 0
    if mip and start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=float).tolist()
        solution.value_valid = True
        highs.setSolution(solution)
    try:
        status, name = run_highs(highs, time_limit, mip)
    except Exception as error:  # solver trouble is a status, not an exception
        return Outcome("error", None, None, None, str(error))
    if not mip:
        if status != "optimal":
            return Outcome(status, None, None, None, stopped_message(highs, status, name, time_limit))
        solution = highs.getSolution()
        return Outcome(
            "optimal",
            float(highs.getInfo().objective_function_value),
            np.asarray(solution.col_value, dtype=float),
            np.asarray(solution.row_dual, dtype=float) if duals else None,
            at_optimum=at_optimum(highs) if at_optimum is not None else None,
        )
    info = highs.getInfo()
    found = getattr(info, "primal_solution_status", 0) == 2 or status == "optimal"
    if not found:
        return Outcome(status, None, None, None, stopped_message(highs, status, name, time_limit))
    objective = float(info.objective_function_value)
    gap = float(info.mip_gap) if status != "optimal" or np.isfinite(info.mip_gap) else 0.0
    gap = max(0.0, gap if np.isfinite(gap) else 0.0)
    nodes = int(getattr(info, "mip_node_count", 0) or 0)
    bound = float(getattr(info, "mip_dual_bound", -np.inf))
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    fixed = fix_integers(highs, integer_columns, values)
    try:
        lp_status, lp_name = run_highs(highs, time_limit)
        if lp_status != "optimal":
            return Outcome(lp_status, None, None, None, f"the LP with the builds fixed ended {lp_name}")
        solution = highs.getSolution()
        if start is not None:
            # HiGHS 1.16 may value a given start without presolve's objective
            # offset (too low: see CompiledModel's history in the README), so
            # the plan is valued by its own LP, and its gap against the dual
            # bound (still a bound: a node pruned by a too-low incumbent held
            # no plan below it)
            objective = float(highs.getInfo().objective_function_value)
            if np.isfinite(bound):
                gap = max(0.0, (objective - bound) / max(1.0, abs(objective)))
        outcome = Outcome(
            status, objective,
            np.asarray(solution.col_value, dtype=float),
            np.asarray(solution.row_dual, dtype=float) if duals else None,
            at_optimum=at_optimum(highs) if at_optimum is not None else None,
            mip_gap=gap,
            mip_nodes=nodes,
            mip_bound=min(bound, objective) if np.isfinite(bound) else -np.inf,
        )
        if status == "time_limit":
            outcome.message = (
                f"HiGHS stopped at the time limit before it proved the builds optimal: the best plan "
                f"found is reported, within {100 * gap:.3g}% of the optimum"
            )
        return outcome
    finally:
        fixed.restore()


@dataclass
class FixedIntegers:
    """Integer columns fixed at a plan's values and made continuous, until `restore()`."""

    highs: highspy.Highs
    columns: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    values: np.ndarray

    def restore(self) -> None:
        cols = self.columns.astype(np.int32)
        self.highs.changeColsBounds(len(cols), cols, self.lower, self.upper)
        set_integer(self.highs, cols, True)


def set_integer(highs: highspy.Highs, columns, integer: bool) -> None:
    """Make `columns` integer, or continuous (a MIP made its LP, in place)."""
    cols = np.asarray(columns, dtype=np.int32)
    kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
    highs.changeColsIntegrality(len(cols), cols, np.full(len(cols), kind, dtype=np.uint8))


def fix_integers(highs: highspy.Highs, columns: np.ndarray, values: np.ndarray) -> FixedIntegers:
    """Fix the integer columns at the nearest integers of `values` and make
    the model an LP (the builds as given)."""
    lp = highs.getLp()
    cols = np.asarray(columns, dtype=np.int32)
    lower = np.asarray(lp.col_lower_, dtype=float)[cols]
    upper = np.asarray(lp.col_upper_, dtype=float)[cols]
    rounded = np.clip(np.round(values[cols]), lower, upper)
    set_integer(highs, cols, False)
    highs.changeColsBounds(len(cols), cols, rounded, rounded)
    return FixedIntegers(highs, cols, lower, upper, rounded)


class CompiledModel:
    """A built model in a kept HiGHS object, with maps back to the model.

    Columns are the families' columns in declaration order (each family a
    contiguous block); rows are the model's row families in order.
    """

    def __init__(self, model: BuiltModel, time_limit: float | None = None, threads: int | None = None,
                 mip_gap: float = DEFAULT_MIP_GAP):
        self.model = model
        form = standard_form(model)
        self.row_blocks = {name: (block.keys, start) for name, block, start in _row_starts(model)}
        # `base_cost` as built; `cost` as set now (a sweep may scale it).
        self.base_cost = form.cost
        self.cost = self.base_cost.copy()
        self.offset = 0.0
        nrow, ncol = form.shape
        self.integer_columns = np.flatnonzero(form.integrality) if form.integrality is not None else np.zeros(0, dtype=np.int64)
        # The range of each family of numbers, for warnings (numerics.py).
        self.spans = spans(form.matrix, form.cost, form.col_lower, form.row_lower, form.row_upper)
        self.highs = form_highs(form, time_limit=time_limit, threads=threads,
                                mip_gap=mip_gap if len(self.integer_columns) else None)
        self.row_count = nrow

    # -- maps back to the model -------------------------------------------------
    def columns_of(self, family: Family) -> tuple[list, np.ndarray]:
        """Keys of a variable family and their columns."""
        return self.model.columns_of(family)

    def rows_of(self, family: Family) -> tuple[list, np.ndarray]:
        """Keys of a row family and their rows (empty if it has none)."""
        if family.name not in self.row_blocks:
            return [], np.zeros(0, dtype=np.int64)
        keys, start = self.row_blocks[family.name]
        return keys, np.arange(start, start + len(keys), dtype=np.int64)

    @property
    def is_mip(self) -> bool:
        return len(self.integer_columns) > 0

    # -- solving ---------------------------------------------------------------
    def solve(self, tie_break_columns: np.ndarray | None = None, at_optimum=None, duals: bool = True) -> Outcome:
        """Minimize cost; then, among cost-optimal plans, the tie-break columns
        (for a MIP: among plans with its builds, SPEC section 7).

        `at_optimum(self)` is called right after the cost-minimal (LP) solve,
        while HiGHS still holds its optimal basis (before the tie-break solve
        moves it): ranging reads it there (ranging.py). Its result is
        `Outcome.at_optimum`."""
        hook = (lambda _highs: at_optimum(self)) if at_optimum is not None else None
        if not self.is_mip:
            outcome = solve_highs(self.highs, duals=duals, at_optimum=hook)
            if outcome.values is not None and tie_break_columns is not None and len(tie_break_columns):
                outcome.values = self._least_of(tie_break_columns, outcome.objective, outcome.values)
            return outcome
        outcome = solve_highs(self.highs, self.integer_columns, duals=duals, at_optimum=hook)
        if outcome.values is not None and tie_break_columns is not None and len(tie_break_columns):
            fixed = fix_integers(self.highs, self.integer_columns, outcome.values)
            try:
                lp_objective = float(self.cost @ outcome.values) + self.offset
                outcome.values = self._least_of(tie_break_columns, lp_objective, outcome.values)
            finally:
                fixed.restore()
        return outcome

    def _least_of(self, columns: np.ndarray, objective: float, values: np.ndarray) -> np.ndarray:
        """Among plans within the objective slack, the one with least sum of `columns`."""
        with self.tie_break_model(columns, objective):
            status, _ = run_highs(self.highs)
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


def _row_starts(model: BuiltModel):
    start = 0
    for name, block in model.rows.items():
        yield name, block, start
        start += len(block.keys)
