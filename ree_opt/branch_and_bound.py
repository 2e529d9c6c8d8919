"""MIPs solved many times in place: the futures of an evaluation and of the
L-shaped method.

Each future of an out-of-sample evaluation is a small MIP (its builds
decided after the reveal, SPEC section 7) in one kept HiGHS model changed
in place (stochastic/template.py); so is a future the L-shaped method costs
a plan in (stochastic/twostage.py). HiGHS's branch and cut starts each
solve afresh: presolve, the root LP from scratch, cuts and the sub-MIP
heuristics cost it 0.1-0.9 s a future on the generated futures, though
their relaxations come out whole in seven futures of ten and a few nodes
close most others. So `KeptMIP` solves the relaxation first, warm-started
from the last future's basis; where it is fractional, a depth-first branch
and bound on the same HiGHS object, each node's LP warm-started from the
one before, closes it to the relative gap HiGHS is given (1e-6 unless told
otherwise):

- it starts from an incumbent: the last future's builds (neighbouring
  futures often build alike), where they are feasible;
- it branches on running totals: within a *group* (the modules of one
  expansion, by decision period) on "modules decided by period t", a row
  kept free until branched on; the costliest group first, its latest
  fractional total: how many modules in all is settled before when;
- it fixes whole builds whose reduced cost exceeds what is left to gain.

Past `NODE_LIMIT` nodes, or on any status but optimal or infeasible at a
node, HiGHS's own branch and cut takes over. On 200 generated futures:
2.4 s against HiGHS's 32.7 s, costs equal to 2e-14
(benchmarks/evaluate_results.md).
"""

from __future__ import annotations

import math
from typing import Sequence

import highspy
import numpy as np

from .solver import DEFAULT_MIP_GAP, Outcome, run_highs, set_integer, solve_highs

#: How far from a whole number an integer column may be and still count as
#: whole (HiGHS's own mip_feasibility_tolerance).
INTEGRAL_TOLERANCE = 1e-6
#: Nodes the branch and bound explores before handing the MIP to HiGHS.
NODE_LIMIT = 1000


class KeptMIP:
    """The MIP held in `highs`, kept continuous between solves (its
    integrality restored only for HiGHS's branch and cut).

    `integer_columns`: the integer columns; `groups`: lists of them (column
    numbers) whose running totals in the order given are branched on (each
    list one expansion's modules by decision period); an integer column in
    no group is branched on alone. The running totals are rows added to
    `highs` once, free until a branch bounds them."""

    def __init__(self, highs: highspy.Highs, integer_columns: np.ndarray,
                 groups: Sequence[Sequence[int]] = (), mip_gap: float = DEFAULT_MIP_GAP):
        self.highs, self.mip_gap = highs, mip_gap
        self.columns = np.asarray(integer_columns, dtype=np.int32)
        self.last_whole: np.ndarray | None = None  # the last optimum's integer values: the next first incumbent
        self.totals: list[tuple[int, np.ndarray]] = []  # (row, positions in `columns`) per running total
        self.total_group: list[int] = []  # the group of each running total
        if not len(self.columns):
            return
        highs.setOptionValue("mip_rel_gap", mip_gap)  # for HiGHS's branch and cut, where it takes over
        set_integer(highs, self.columns, False)
        position = {int(c): p for p, c in enumerate(self.columns)}
        grouped = [[position[int(c)] for c in group if int(c) in position] for group in groups]
        alone = sorted(set(range(len(self.columns))) - {p for group in grouped for p in group})
        first_row = highs.getNumRow()
        starts, index = [], []
        for number, group in enumerate([g for g in grouped if g] + [[p] for p in alone]):
            for end in range(1, len(group) + 1):
                self.totals.append((first_row + len(self.totals), np.array(group[:end], dtype=np.int64)))
                self.total_group.append(number)
                starts.append(len(index))
                index.extend(int(self.columns[p]) for p in group[:end])
        count = len(self.totals)
        highs.addRows(count, np.full(count, -np.inf), np.full(count, np.inf), len(index),
                      np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.ones(len(index)))

    def forget(self) -> None:
        """Start the next solve afresh (no basis, no incumbent): results then do
        not depend on what was solved before."""
        self.highs.clearSolver()
        self.last_whole = None

    def solve(self) -> Outcome:
        """The MIP as the model now stands, to `mip_gap`. No duals are read; the
        model is left continuous, its bounds as they were."""
        outcome = solve_highs(self.highs, None, duals=False)
        if not len(self.columns) or outcome.status != "optimal":
            return outcome if outcome.status != "unbounded" else self._branch_and_cut()
        if not _fractional(outcome.values[self.columns]).any():
            outcome.mip_bound = outcome.objective
        else:
            search = _Search(self)
            root = self.highs.getBasis()
            try:
                if self.last_whole is not None:
                    search.try_incumbent(self.last_whole)
                search.branch(outcome.objective, outcome.values)
            except _HandOver:
                search.undo()
                return self._branch_and_cut()
            self.highs.setBasis(root)  # the next future starts from this one's relaxation, not a deep node's
            if search.values is None:
                return Outcome("infeasible", None, None, None, "no whole number of modules is feasible")
            outcome = Outcome("optimal", search.objective, search.values, None, mip_bound=search.objective,
                              mip_nodes=search.nodes)
        self.last_whole = np.round(outcome.values[self.columns])
        return outcome

    def _branch_and_cut(self) -> Outcome:
        """HiGHS's own branch and cut, the model left continuous after."""
        cols = self.columns
        if not len(cols):
            return solve_highs(self.highs, None, duals=False)
        set_integer(self.highs, cols, True)
        try:
            return solve_highs(self.highs, cols, duals=False)
        finally:
            set_integer(self.highs, cols, False)


class _HandOver(Exception):
    """The branch and bound gives the MIP to HiGHS's branch and cut."""


def _fractional(values: np.ndarray) -> np.ndarray:
    """Whether each value is fractional (farther than the tolerance from a whole number)."""
    return np.abs(values - np.round(values)) > INTEGRAL_TOLERANCE


class _Search:
    """A depth-first branch and bound on the kept HiGHS object: each node
    moves bounds (of running-total rows, or of columns fixed by reduced
    cost), solves warm, and puts them back on the way up."""

    def __init__(self, mip: KeptMIP):
        self.highs, self.columns, self.mip_gap = mip.highs, mip.columns, mip.mip_gap
        self.totals, self.total_group = mip.totals, np.array(mip.total_group)
        _, _, cost, self.lower, self.upper, _ = self.highs.getCols(len(self.columns), self.columns)
        # a group's weight: its costliest column (the same expansion's earliest decision)
        cost = np.abs(cost)
        weight = np.zeros(self.total_group.max() + 1)
        for (_, positions), group in zip(self.totals, self.total_group):
            weight[group] = max(weight[group], cost[positions].max())
        self.total_weight = weight[self.total_group]
        self.objective, self.values, self.nodes = math.inf, None, 0
        self.moved: list[tuple] = []  # ("row" | "column", index, lower, upper) before each open change
        self.row_bounds: dict[int, tuple[float, float]] = {}

    def cutoff(self) -> float:
        """A node whose relaxation reaches this cannot improve the incumbent by more than the gap."""
        return self.objective - self.mip_gap * abs(self.objective) if self.values is not None else math.inf

    def try_incumbent(self, whole: np.ndarray) -> None:
        """The plan with the integer columns fixed at `whole` (within their bounds), as incumbent if feasible."""
        whole = np.clip(whole, self.lower, self.upper)
        mark = len(self.moved)
        for position, value in enumerate(whole):
            self._move_column(position, value, value)
        status, _ = run_highs(self.highs)
        if status == "optimal":
            self.objective = float(self.highs.getInfo().objective_function_value)
            self.values = np.asarray(self.highs.getSolution().col_value, dtype=float)
        self._back_to(mark)

    def branch(self, objective: float, values: np.ndarray, reduced_costs: np.ndarray | None = None) -> None:
        """Branch below a node whose relaxation gave `objective` and `values`."""
        here = values[self.columns]
        fractional = _fractional(here)
        if not fractional.any():
            self.objective, self.values = objective, values.copy()
            return
        mark = len(self.moved)
        if reduced_costs is not None and self.values is not None:
            self._fix_by_reduced_cost(here, fractional, reduced_costs[self.columns], self.cutoff() - objective)
        totals = np.array([here[positions].sum() for _, positions in self.totals])
        open_ = _fractional(totals)
        # the costliest group with a fractional running total, its latest one:
        # first how many modules in all, then by which period (on the generated
        # futures 2,720 nodes for 297 fractional futures of 1,000; its earliest
        # total 5,118; column by column, the costliest first, 6,014)
        candidates = np.where(open_, self.total_weight, -1.0)
        choice = int(np.flatnonzero(candidates == candidates.max())[-1])
        row, value = self.totals[choice][0], totals[choice]
        lower, upper = self.row_bounds.get(row, (-math.inf, math.inf))
        down, up = (lower, math.floor(value)), (math.ceil(value), upper)
        basis = self.highs.getBasis()  # the second child starts from this node's basis, not the first's last leaf
        for second, (low, high) in enumerate(((down, up) if value - math.floor(value) < 0.5 else (up, down))):
            if second:
                self.highs.setBasis(basis)
            self._move_row(row, low, high)
            self._node()
            self._back_to(len(self.moved) - 1)
        self._back_to(mark)

    def _fix_by_reduced_cost(self, here, fractional, reduced, room: float) -> None:
        """Whole columns at a bound whose reduced cost exceeds `room` (what is
        left to gain below the cutoff) cannot move in a better plan: fix them."""
        at_lower = ~fractional & (here <= self.lower + INTEGRAL_TOLERANCE) & (reduced > room)
        at_upper = ~fractional & (here >= self.upper - INTEGRAL_TOLERANCE) & (-reduced > room)
        for position in np.flatnonzero((at_lower | at_upper) & (self.lower < self.upper)):
            value = self.lower[position] if at_lower[position] else self.upper[position]
            self._move_column(position, value, value)

    def _node(self) -> None:
        self.nodes += 1
        if self.nodes > NODE_LIMIT:
            raise _HandOver
        status, _ = run_highs(self.highs)
        if status == "infeasible":
            return
        if status != "optimal":
            raise _HandOver
        objective = float(self.highs.getInfo().objective_function_value)
        if objective >= self.cutoff():
            return
        solution = self.highs.getSolution()
        self.branch(objective, np.asarray(solution.col_value, dtype=float), np.asarray(solution.col_dual, dtype=float))

    def _move_column(self, position: int, lower: float, upper: float) -> None:
        self.moved.append(("column", position, self.lower[position], self.upper[position]))
        self._set("column", position, lower, upper)

    def _move_row(self, row: int, lower: float, upper: float) -> None:
        self.moved.append(("row", row, *self.row_bounds.get(row, (-math.inf, math.inf))))
        self._set("row", row, lower, upper)

    def _back_to(self, mark: int) -> None:
        """Undo the bound changes made after the first `mark`."""
        while len(self.moved) > mark:
            self._set(*self.moved.pop())

    def _set(self, kind: str, index: int, lower: float, upper: float) -> None:
        if kind == "column":
            self.lower[index], self.upper[index] = lower, upper
            self.highs.changeColBounds(int(self.columns[index]), float(lower), float(upper))
        else:
            self.row_bounds[index] = (lower, upper)
            self.highs.changeRowBounds(int(index), float(lower), float(upper))

    def undo(self) -> None:
        """Put back the bounds of every change still open."""
        self._back_to(0)
