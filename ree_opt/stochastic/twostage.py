"""What our decompositions share (issue 17): one future's LP as arrays, a
HiGHS model of it kept for the whole run, the MPI ranks a run is spread
over (or this one process), and the report of a plan.

    two_stage(instance, alpha, omega, sample, policies) -> TwoStage

`two_stage` is the one place this module and its users (the L-shaped method
of decomposition.py, progressive hedging in ree_opt/ph.py) read ree_opt's
stochastic model layer (`stochastic_problem`, `model_of`, `compile`,
`first_stage_mask`, the tables of results.py): re-point it and nothing else
changes.

A future's LP (`FutureLP`) is `row_lower <= A z <= row_upper`, `z >=
col_lower`, cost C_s = cost @ z (USD million): the whole cost of the future,
first stage included (section 6). `first` holds the column of each
first-stage variable in first-stage order (the same keys, in the same order,
in every future), `first_rows` flags the rows that read only first-stage
columns (the periods before `reveal`): they are the same in every future.

Every first-stage variable but two kinds is bounded by the first-stage rows
(capacity, balances, demand of the periods before `reveal`). The two are
bounded here (`room`, the largest over the futures), by bounds that cut off
no optimum:
- a reservation k[f,t], by the largest activity f may have in t (its
  capacity row's right-hand side): a reservation above it buys nothing and
  costs its fee and its take-or-pay floor, so cutting it back is never dearer;
- a payment paid[f,t] before `reveal`, by the larger of that capacity and
  the floor min_take: paid >= activity and paid >= floor are its only rows,
  so an optimum pays max(floor, activity) (its cost is >= 0).
The decompositions need them: a cutting-plane master, or a subproblem with
PH's or the Lagrangian's weights on the first stage, would otherwise run off
to infinity along them.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..solver import highs_model, run_highs

@dataclass
class FutureLP:
    """One future's LP as arrays (columns in the future model's order)."""

    position: int  # in TwoStage.futures
    probability: float
    matrix: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    cost: np.ndarray  # C_s per column, USD million per unit
    first: np.ndarray  # column of each first-stage variable, in first-stage order
    first_rows: np.ndarray  # bool per row: reads first-stage columns only
    room: np.ndarray  # per first-stage variable: the most this future can use (inf: not a reservation)
    unmet: Callable[[np.ndarray], list] = field(repr=False)  # column values -> [(product, period, t)]

    @property
    def first_cost(self) -> np.ndarray:
        return self.cost[self.first]


@dataclass
class TwoStage:
    """An instance's futures, ready to be built one at a time, and its report."""

    name: str
    futures: list  # Future: index, scenario, probability
    alpha: float
    omega: float
    first_keys: list  # (component, key) of each first-stage variable
    build: Callable[[int], FutureLP] = field(repr=False)
    room: Callable[[int], np.ndarray] = field(repr=False)  # FutureLP.room from the future's data alone (no model)
    report: Callable[..., object] = field(repr=False)  # -> StochasticSolution
    sample: dict | None = None

    @property
    def probabilities(self) -> np.ndarray:
        return np.array([f.probability for f in self.futures], dtype=float)

    @property
    def first_count(self) -> int:
        return len(self.first_keys)


def stage_keys(model, mask: np.ndarray) -> list:
    keys = []
    for name, (names, start) in model.columns.items():
        keys += [(name, key) for i, key in enumerate(names) if mask[start + i]]
    return keys


def two_stage(
    instance,
    alpha: float | None = None,
    omega: float | None = None,
    sample: Mapping | None = None,
    policies: Iterable = (),
) -> TwoStage:
    """The adapter: ree_opt's stochastic model layer seen as FutureLPs and a report.

    Raises InstanceError as `solve_stochastic` does (no `uncertainty`, bad overrides).
    """
    from ..solution import TOLERANCE_T
    from ..solver import Outcome
    from .extensive import ExtensiveForm
    from .future import first_stage_mask, first_stage_rows, future_data
    from .results import (
        FUTURE_COLUMNS,
        FUTURE_SHORTFALL_COLUMNS,
        StochasticSolution,
        conditional_value_at_risk,
        first_stage_solution,
        offtake_table,
        risk_measure,
        stockpile_table,
        value_at_risk,
    )
    from .solve import first_stage_values, stochastic_problem

    problem = stochastic_problem(instance, alpha, omega, sample, policies)
    reveal = problem.reveal

    def compiled(position: int, keep: bool = False):
        return problem.model_of(problem.futures[position]).compile(keep_model=keep)

    def room_of(data, keys) -> np.ndarray:
        room = np.full(len(keys), np.inf)
        facilities = {f.id: f for f in data.facilities}
        for i, (name, key) in enumerate(keys):
            if name in ("reserve", "paid"):
                f, t = facilities[key[0]], key[1]
                capacity = float(f.capacity_t[t]) if f.active[t] else 0.0
                room[i] = capacity if name == "reserve" else max(capacity, float(f.min_take_t[t]))
        return room

    def arrays(position: int, future) -> FutureLP:
        model, data, form = future.model, future.data, future.form
        mask = first_stage_mask(model, reveal)
        keys = stage_keys(model, mask)
        if first_keys is not None and keys != first_keys:
            raise RuntimeError("futures differ before `reveal` (a bug in ree_opt: please report it)")
        room = room_of(data, keys)
        short_keys, short_start = model.columns["short"]
        products = [data.demand[d].product for d, _ in short_keys]
        periods = [data.periods[t] for _, t in short_keys]

        def unmet(values: np.ndarray) -> list:
            found: dict = {}
            own = values[short_start : short_start + len(short_keys)]
            for product, period, value in zip(products, periods, own):
                if value > TOLERANCE_T:
                    found[(product, period)] = found.get((product, period), 0.0) + float(value)
            return [(p, t, v) for (p, t), v in found.items()]

        return FutureLP(
            position=position,
            probability=float(problem.futures[position].probability),
            matrix=form.matrix,
            row_lower=form.row_lower,
            row_upper=form.row_upper,
            col_lower=form.col_lower,
            cost=form.cost,
            first=np.flatnonzero(mask),
            first_rows=first_stage_rows(model, reveal),
            room=room,
            unmet=unmet,
        )

    first_keys = None
    if problem.futures:
        model0 = compiled(0).model
        first_keys = stage_keys(model0, first_stage_mask(model0, reveal))

    def build(position: int) -> FutureLP:
        return arrays(position, compiled(position))

    def room(position: int) -> np.ndarray:
        instance = problem.instance_of(problem.futures[position])
        data = future_data(problem.base_data, instance, reveal, problem.tracked, len(problem.base.policies))
        return room_of(data, first_keys)

    def report(first: np.ndarray, values0: np.ndarray, costs: np.ndarray, unmet: list, message: str = ""):
        """The StochasticSolution of a plan: `first` its first-stage values,
        `values0` future 0's column values with that first stage, `costs`
        C_s and `unmet` [(product, period, t)] of every future (by position)."""
        u = problem.uncertainty
        model0 = compiled(0, keep=True)
        form = ExtensiveForm([model0], [1.0], u.alpha, 0.0)
        values = np.zeros(form.column_count)
        values[form.placements[0].columns] = values0
        outcome = Outcome("optimal", None, values, np.full(form.row_count, np.nan))
        costs = np.asarray(costs, dtype=float)
        probabilities = np.array([f.probability for f in problem.futures])
        rows, short_rows = [], []
        for future, cost, lacking in zip(problem.futures, costs, unmet):
            rows.append((future.index, future.scenario, future.probability, float(cost), float(sum(v for *_, v in lacking))))
            short_rows += [(future.index, p, t, v) for p, t, v in lacking]
        import pandas as pd

        first_stage = first_stage_solution(model0, form, outcome)
        first_stage.message = "the plan before `reveal`, shared by every future (no duals: a decomposition's plan)"
        labels = problem.base.periods
        return StochasticSolution(
            status="optimal",
            objective=risk_measure(costs, probabilities, u.alpha, u.omega),
            expected_cost=float(probabilities @ costs),
            cvar=conditional_value_at_risk(costs, probabilities, u.alpha),
            var=value_at_risk(costs, probabilities, u.alpha),
            futures=pd.DataFrame(rows, columns=FUTURE_COLUMNS),
            offtakes=offtake_table(model0, form, values),
            first_stage=first_stage,
            stockpile=stockpile_table(model0, form, values),
            future_shortfall=pd.DataFrame(short_rows, columns=FUTURE_SHORTFALL_COLUMNS),
            alpha=u.alpha,
            omega=u.omega,
            reveal=labels[reveal] if reveal < len(labels) else None,
            instance_name=problem.base.name,
            message=message,
            first_stage_values=first_stage_values(model0, form, values),
            sample=u.sample.model_dump() if u.sample is not None else None,
        )

    u = problem.uncertainty
    return TwoStage(
        name=problem.base.name,
        futures=problem.futures,
        alpha=float(u.alpha),
        omega=float(u.omega),
        first_keys=first_keys,
        build=build,
        room=room,
        report=report,
        sample=u.sample.model_dump() if u.sample is not None else None,
    )


# -- one future in a kept HiGHS model -----------------------------------------


def kept_highs(matrix, cost, col_lower, col_upper, row_lower, row_upper):
    """A HiGHS model to keep, without presolve: a future's LP is small, its
    re-solves start from the last basis (which skips presolve anyway), and a
    model that has been presolved holds on to 1.9 MB against 1.1 MB
    (baseline futures; 1,000 of them are kept on 2 ranks). No `threads`
    option: HiGHS's thread pool is one per process, and a Highs object asking
    for another count than the pool's fails to run (dual simplex runs on one
    thread anyway)."""
    highs = highs_model(matrix, cost, col_lower, col_upper, row_lower, row_upper)
    highs.setOptionValue("presolve", "off")
    return highs



class KeptFuture:
    """A future's LP in a HiGHS object kept for the whole run: each solve
    changes bounds (and costs) in place and starts from the last basis.

    `alone()` solves the future on its own (first stage free: the
    wait-and-see optimum W_s <= C_s(x) for every plan x). `at(x)` fixes the
    first stage to x and solves the rest: C_s(x), and the reduced costs of
    the fixed first-stage columns, a subgradient g of C_s at x, so

        C_s(y) >= C_s(x) + g (y - x)   for every first stage y

    (LP duality: the dual solution at x stays feasible for every y). The
    first-stage rows are relaxed once the first stage is fixed: the plan
    meets them already, and a plan read from another LP meets them only to
    that LP's tolerance."""

    def __init__(self, lp: FutureLP, first_upper: np.ndarray | None = None):
        self.lp = lp
        n = lp.matrix.shape[1]
        upper = np.full(n, np.inf)
        if first_upper is not None:
            upper[lp.first] = first_upper
        self.first_lower = lp.col_lower[lp.first]
        self.first_upper = upper[lp.first]
        self.highs = kept_highs(lp.matrix, lp.cost, lp.col_lower, upper, lp.row_lower, lp.row_upper)
        self.columns = lp.first.astype(np.int32)
        self._rows_relaxed = False

    def _solution(self) -> tuple[str, float, np.ndarray, np.ndarray]:
        status, name = run_highs(self.highs)
        if status != "optimal":
            return status, float("nan"), None, None
        solution = self.highs.getSolution()
        objective = float(self.highs.getInfo().objective_function_value)
        return status, objective, np.asarray(solution.col_value), np.asarray(solution.col_dual)

    def alone(self) -> tuple[str, float, np.ndarray | None]:
        """(status, W_s, the future's own first stage)."""
        status, objective, values, _ = self._solution()
        return status, objective, (values[self.lp.first] if values is not None else None)

    def at(self, first: np.ndarray) -> tuple[str, float, np.ndarray | None, np.ndarray | None]:
        """(status, C_s(first), subgradient, column values) with the first stage fixed."""
        if not self._rows_relaxed:
            rows = np.flatnonzero(self.lp.first_rows).astype(np.int32)
            if len(rows):
                infinite = np.full(len(rows), np.inf)
                self.highs.changeRowsBounds(len(rows), rows, -infinite, infinite)
            self._rows_relaxed = True
        x = np.clip(first, self.first_lower, self.first_upper)
        self.highs.changeColsBounds(len(self.columns), self.columns, x, x)
        status, objective, values, duals = self._solution()
        if status != "optimal":
            return status, objective, None, None
        return status, objective, duals[self.lp.first], values


# -- the ranks of a run ------------------------------------------------------------

#: Environment variables that say this process was started by an MPI launcher
#: (MPICH/Hydra, Open MPI, PMIx, Slurm's PMI): only then is MPI initialised,
#: so a plain `python -m ...` never waits on a process manager.
MPI_LAUNCHED = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")


def launched_by_mpi() -> bool:
    """Started by mpiexec, or by srun as one of several tasks."""
    if any(name in os.environ for name in MPI_LAUNCHED):
        return True
    try:
        return int(os.environ.get("SLURM_STEP_NUM_TASKS", "1")) > 1
    except ValueError:
        return False


class Ranks:
    """The MPI ranks a run is spread over, or this process alone (no MPI)."""

    def __init__(self, comm=None):
        if comm is None and launched_by_mpi():
            from mpi4py import MPI

            comm = MPI.COMM_WORLD
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0
        self.size = comm.Get_size() if comm is not None else 1

    @property
    def root(self) -> bool:
        return self.rank == 0

    def mine(self, count: int) -> list[int]:
        """The positions this rank owns (round robin: cheap and expensive futures spread)."""
        return list(range(self.rank, count, self.size))

    def bcast(self, value, root: int = 0):
        return self.comm.bcast(value, root=root) if self.comm is not None else value

    def gather(self, value, root: int = 0) -> list | None:
        return self.comm.gather(value, root=root) if self.comm is not None else [value]

    def allgather(self, value) -> list:
        return self.comm.allgather(value) if self.comm is not None else [value]

    def allmax(self, array: np.ndarray) -> np.ndarray:
        if self.comm is None:
            return array
        from mpi4py import MPI

        total = np.empty_like(array)
        self.comm.Allreduce(np.ascontiguousarray(array), total, op=MPI.MAX)
        return total


def peak_memory_mb() -> float:
    """This process's peak resident memory (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def relative_gap(objective: float, bound: float) -> float:
    """(objective - bound) / |objective| (1.0 when the objective is 0 and they differ)."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    difference = max(0.0, objective - bound)
    return difference / abs(objective) if objective else (0.0 if difference == 0 else float("inf"))
