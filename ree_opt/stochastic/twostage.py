"""What our decompositions share (issue 17): one future's LP as arrays, a
HiGHS model of it kept for the whole run, the MPI ranks a run is spread
over (or this one process), and the report of a plan.

    two_stage(instance, alpha, omega, sample, policies) -> TwoStage

`two_stage` is the one place this module and its users (the L-shaped method
of decomposition.py, progressive hedging in ree_opt/ph.py) read ree_opt's
stochastic model layer (`stochastic_problem`, `model_of`, the family
records' first-stage columns and rows, the tables of results.py): re-point
it and nothing else changes.

A future's LP (`FutureLP`) is `row_lower <= A z <= row_upper`, `col_lower
<= z <= col_upper`, integer where `integer` (lumpy builds, SPEC section 7),
cost C_s = cost @ z (USD million): the whole cost of the future, first stage
included (section 6; a first-stage build's fixed cost is the future's own).
`first` holds the column of each first-stage variable in first-stage order
(`BuiltModel.first_stage_columns`: the same keys, in the same order, in every
future), `first_rows` flags the rows that read only first-stage columns
(`BuiltModel.first_stage_rows`: the periods before `reveal`).

Every first-stage variable gets a finite upper bound (`first_stage_upper`)
from what its family's record says bounds it (`bounded_by`: a facility's
capacity before `reveal`, a product's supply, a demand's quantity, a
reservation's nameplate, an expansion's module count), far from any optimum.
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

from ..branch_and_bound import KeptMIP
from ..solver import highs_model, solve_highs


@dataclass
class FutureLP:
    """One future's LP as arrays (columns in the future model's order)."""

    position: int  # in TwoStage.futures
    probability: float
    matrix: sparse.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray  # C_s per column, USD million per unit
    first: np.ndarray  # column of each first-stage variable, in first-stage order
    first_rows: np.ndarray  # bool per row: reads first-stage columns only
    integer: np.ndarray  # bool per column: a lumpy build's whole modules
    groups: list  # the integer columns by expansion, in period order (BuiltModel.integer_groups)
    unmet: Callable[[np.ndarray], list] = field(repr=False)  # column values -> [(product, period, t)]

    @property
    def first_cost(self) -> np.ndarray:
        return self.cost[self.first]

    @property
    def first_integer(self) -> np.ndarray:
        return self.integer[self.first]

    @property
    def own_integer(self) -> np.ndarray:
        """The future's own integer columns (builds decided from `reveal` on)."""
        own = self.integer.copy()
        own[self.first] = False
        return np.flatnonzero(own)

    def master_rows(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """Rows over the first-stage columns alone that every plan must meet:
        the first-stage rows, and what each other row implies for the first
        stage whatever the future's own columns do within their bounds
        (l <= a x + b y <= u gives a x <= u - min b y and a x >= l - max b y
        where those are finite: the module counts and funding budgets, which
        read first-stage builds and the future's own).
        (matrix over `first`, lower, upper)."""
        A = self.matrix.tocsr()
        first = np.zeros(A.shape[1], dtype=bool)
        first[self.first] = True
        coo = A.tocoo()
        own = ~first[coo.col]
        a, low, high = coo.data[own], self.col_lower[coo.col[own]], self.col_upper[coo.col[own]]
        with np.errstate(invalid="ignore"):
            least = np.where(a > 0, a * low, a * high)
            most = np.where(a > 0, a * high, a * low)
        n = A.shape[0]
        row_least = np.bincount(coo.row[own], weights=least, minlength=n)
        row_most = np.bincount(coo.row[own], weights=most, minlength=n)
        touches = np.bincount(coo.row[~own], minlength=n) > 0
        with np.errstate(invalid="ignore"):
            upper = np.where(np.isfinite(row_least), self.row_upper - row_least, np.inf)
            lower = np.where(np.isfinite(row_most), self.row_lower - row_most, -np.inf)
        implied = touches & ~self.first_rows & (np.isfinite(upper) | np.isfinite(lower))
        keep = self.first_rows | implied
        return A[keep][:, self.first], np.where(self.first_rows, self.row_lower, lower)[keep], \
            np.where(self.first_rows, self.row_upper, upper)[keep]


@dataclass
class TwoStage:
    """An instance's futures, ready to be built one at a time, and its report."""

    name: str
    futures: list  # Future: index, scenario, probability
    alpha: float
    omega: float
    first_keys: list  # (family name, key) of each first-stage variable
    first_upper: np.ndarray  # per first-stage variable: its finite upper bound (bounded_by)
    build: Callable[[int], FutureLP] = field(repr=False)
    report: Callable[..., object] = field(repr=False)  # -> StochasticSolution
    sample: dict | None = None

    @property
    def probabilities(self) -> np.ndarray:
        return np.array([f.probability for f in self.futures], dtype=float)

    @property
    def first_count(self) -> int:
        return len(self.first_keys)


#: Every first-stage variable is bounded near what the base instance allows
#: before `reveal` (where every future sees the base instance): twice a
#: facility's largest capacity or take before `reveal` (activity, payment),
#: twice a product's supply before `reveal` with its initial stock (stock,
#: disposal, sales, relabelling, deliveries), twice a demand's quantity
#: (shortfall); a reservation RESERVE_FACTOR times its facility's largest
#: nameplate capacity; a build its expansion's module count. No optimum
#: comes near them; bounds near the data (not one big M) keep the cuts and
#: PH's proximal terms well scaled.
BOUND_FACTOR, RESERVE_FACTOR = 2.0, 10.0


def first_stage_limits(problem) -> dict:
    """What the bound of each first-stage variable is read from (StochasticProblem)."""
    from ..data import resolve_series

    data, r = problem.base_data, problem.reveal
    labels = [str(p) for p in problem.base.periods]
    nameplate = {f.id: max(1.0, float(max(resolve_series(f.capacity, labels)))) for f in problem.base.facilities}
    facility, reserve = {}, {}
    for f in data.facilities:
        early = np.maximum(np.maximum(f.ramped_t[:r], f.capacity_t[:r]), f.min_take_t[:r])
        facility[f.id] = BOUND_FACTOR * max(1.0, float(early.max()) if r else 1.0)
        reserve[f.id] = RESERVE_FACTOR * nameplate[f.id]
    supply: dict = {p: product.initial_stock_t for p, product in data.products.items()}
    for f in data.facilities:
        total = float(np.maximum(f.ramped_t[:r], f.capacity_t[:r]).sum())
        for p, ratio in f.outputs.items():
            supply[p] = supply.get(p, 0.0) + total * ratio
    product = {p: BOUND_FACTOR * max(1.0, v) for p, v in supply.items()}
    modules = {(f.id, e.name): float(e.modules) for f in data.facilities for e in f.expansions}
    return {"facility": facility, "nameplate": reserve, "product": product, "demand": list(data.demand),
            "modules": modules}


def upper_bound(limits: dict, family, key) -> float | None:
    """A first-stage variable's bound, from what its family's record says
    bounds it (`bounded_by`)."""
    def at(dimension):
        return key[family.dims.index(dimension)]

    rule = family.bounded_by
    if rule == "nameplate":
        return limits["nameplate"].get(at("facility"))
    if rule == "facility":
        return limits["facility"].get(at("facility"))
    if rule == "product":
        return limits["product"].get(at("product"))
    if rule == "demand product":
        return limits["product"].get(limits["demand"][at("demand")].product)
    if rule == "modules":
        return limits["modules"].get((at("facility"), at("expansion")))
    if rule == "demand":
        return BOUND_FACTOR * max(1.0, float(limits["demand"][at("demand")].quantity_t[family.period_of(key)]))
    return None


def first_stage_upper(problem, model) -> np.ndarray:
    """The upper bound of each first-stage column of `model` (a BuiltModel), in column order."""
    from ..model.families import FAMILIES

    limits = first_stage_limits(problem)
    found = []
    for name, key in model.stage_keys(model.first_stage_columns(problem.reveal)):
        bound = upper_bound(limits, FAMILIES[name], key)
        if bound is None:
            raise RuntimeError(f"no upper bound for first-stage variable {name}{key} (a bug in ree_opt)")
        found.append(bound)
    return np.array(found, dtype=float)


def continuous_builds(instance, relax: bool, method: str = "progressive hedging"):
    """`instance` (loaded) with lumpy expansions (SPEC section 7) refused
    unless `relax` treats them as `lumpy: false` (their LP relaxation: a
    lower bound on the lumpy optimum): for a method that needs a continuous
    first stage (PH averages first stages)."""
    from ..instance import InstanceError, Problem

    lumpy = [f"{f.id}/{e.name}" for f in instance.facilities for e in (f.expansions or []) if e.lumpy]
    if not lumpy:
        return instance
    if not relax:
        raise InstanceError([Problem(
            "facilities", f"{method} needs a continuous first stage, and {len(lumpy)} expansion(s) are "
            f"lumpy ({', '.join(lumpy[:5])}{', ...' if len(lumpy) > 5 else ''}): run it with --relax to treat them "
            "as lumpy: false (their LP relaxation), or solve the extensive form (ree-opt stochastic) or the "
            "L-shaped method (python -m ree_opt.stochastic.decomposition) for whole modules",
        )])
    facilities = [
        f.model_copy(update={"expansions": [e.model_copy(update={"lumpy": False}) for e in f.expansions]})
        if f.expansions else f
        for f in instance.facilities
    ]
    return instance.model_copy(update={"facilities": facilities})


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
    import pandas as pd

    from ..solver import Outcome
    from .extensive import ExtensiveForm
    from .results import (
        FUTURE_COLUMNS,
        FUTURE_SHORTFALL_COLUMNS,
        StochasticSolution,
        conditional_value_at_risk,
        first_stage_solution,
        offtake_table,
        risk_measure,
        stockpile_table,
        unmet_by_product,
        value_at_risk,
    )
    from .solve import first_stage_values, stochastic_problem

    problem = stochastic_problem(instance, alpha, omega, sample, policies)

    def compiled(position: int, keep: bool = False):
        return problem.model_of(problem.futures[position]).compile(keep_model=keep)

    def arrays(position: int, future) -> FutureLP:
        form, mask = future.form, future.first_stage_columns()
        if first_keys is not None and future.model.stage_keys(mask) != first_keys:
            raise RuntimeError("futures differ before `reveal` (a bug in ree_opt: please report it)")
        periods = future.data.periods

        def unmet(values: np.ndarray) -> list:
            return [(p, periods[t], v) for (p, t), v in unmet_by_product(future, values).items()]

        ncol = form.shape[1]
        return FutureLP(
            position=position,
            probability=float(problem.futures[position].probability),
            matrix=form.matrix,
            row_lower=form.row_lower,
            row_upper=form.row_upper,
            col_lower=form.col_lower,
            col_upper=form.upper,
            cost=form.cost,
            first=np.flatnonzero(mask),
            first_rows=future.first_stage_rows(),
            integer=form.integrality if form.integrality is not None else np.zeros(ncol, dtype=bool),
            groups=future.model.integer_groups(),
            unmet=unmet,
        )

    first_keys, first_upper = None, np.zeros(0)
    if problem.futures:
        model0 = compiled(0).model
        first_keys = model0.stage_keys(model0.first_stage_columns(problem.reveal))
        first_upper = first_stage_upper(problem, model0)

    def build(position: int) -> FutureLP:
        return arrays(position, compiled(position))

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
            reveal=labels[problem.reveal] if problem.reveal < len(labels) else None,
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
        first_upper=first_upper,
        build=build,
        report=report,
        sample=u.sample.model_dump() if u.sample is not None else None,
    )


# -- one future in a kept HiGHS model -----------------------------------------


def kept_highs(matrix, cost, col_lower, col_upper, row_lower, row_upper, integrality=None):
    """A HiGHS model to keep, without presolve: a future's LP is small, its
    re-solves start from the last basis (which skips presolve anyway), and a
    model that has been presolved holds on to 1.9 MB against 1.1 MB
    (baseline futures; 1,000 of them are kept on 2 ranks). No `threads`
    option: HiGHS's thread pool is one per process, and a Highs object asking
    for another count than the pool's fails to run (dual simplex runs on one
    thread anyway). With `integrality` (a MIP), presolve stays on."""
    from ..solver import DEFAULT_MIP_GAP

    mip = integrality is not None and bool(np.any(integrality))
    highs = highs_model(matrix, cost, col_lower, col_upper, row_lower, row_upper,
                        integrality=integrality if mip else None, mip_gap=DEFAULT_MIP_GAP if mip else None)
    if not mip:
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
    that LP's tolerance.

    Where the future decides lumpy builds of its own (from `reveal` on), the
    kept model is the LP relaxation of those builds: `alone` and `at` give
    lower bounds on the future's cost and a cut under-estimating it, still
    valid, and `cost_at(x)` solves the future's MIP with x fixed (a second
    HiGHS model, made when first needed, kept by branch_and_bound.KeptMIP:
    each plan's MIP starts from the last one's basis and builds) for what
    the plan costs."""

    def __init__(self, lp: FutureLP, first_upper: np.ndarray | None = None):
        self.lp = lp
        upper = lp.col_upper.copy()
        if first_upper is not None:
            upper[lp.first] = np.minimum(upper[lp.first], first_upper)
        self.upper = upper
        self.first_lower = lp.col_lower[lp.first]
        self.first_upper = upper[lp.first]
        self.first_integer = lp.first_integer
        self.highs = kept_highs(lp.matrix, lp.cost, lp.col_lower, upper, lp.row_lower, lp.row_upper)
        self.columns = lp.first.astype(np.int32)
        self.first_transposed = lp.matrix[:, lp.first].T.tocsr()
        self.own_integer = lp.own_integer
        self._rows_relaxed = False
        self._mip = None

    def plan(self, first: np.ndarray) -> np.ndarray:
        """`first` within the variables' bounds, whole modules where builds are lumpy."""
        x = np.clip(first, self.first_lower, self.first_upper)
        return np.where(self.first_integer, np.round(x), x)

    def alone(self) -> tuple[str, float, np.ndarray | None]:
        """(status, W_s, the future's own first stage)."""
        outcome = solve_highs(self.highs, duals=False)
        if outcome.status != "optimal":
            return outcome.status, float("nan"), None
        return outcome.status, outcome.objective, outcome.values[self.lp.first]

    def _fix(self, highs, x: np.ndarray) -> None:
        rows = np.flatnonzero(self.lp.first_rows).astype(np.int32)
        if len(rows):
            infinite = np.full(len(rows), np.inf)
            highs.changeRowsBounds(len(rows), rows, -infinite, infinite)
        highs.changeColsBounds(len(self.columns), self.columns, x, x)

    def at(self, first: np.ndarray) -> tuple[str, float, np.ndarray | None, np.ndarray | None]:
        """(status, C_s(first), subgradient, column values) with the first
        stage fixed (of the LP relaxation where the future's own builds are lumpy)."""
        x = self.plan(first)
        if not self._rows_relaxed:
            self._fix(self.highs, x)
            self._rows_relaxed = True
        else:
            self.highs.changeColsBounds(len(self.columns), self.columns, x, x)
        outcome = solve_highs(self.highs)
        if outcome.status != "optimal":
            return outcome.status, float("nan"), None, None
        # the reduced costs of the fixed columns: c - A^T y
        gradient = self.lp.first_cost - self.first_transposed @ outcome.duals
        return outcome.status, outcome.objective, gradient, outcome.values

    def cost_at(self, first: np.ndarray, relaxed: tuple | None = None) -> tuple[str, float, np.ndarray | None]:
        """(status, C_s(first), column values): what the plan costs in this
        future, its own lumpy builds whole (`relaxed`: `at(first)`'s result,
        the answer where the future has none)."""
        if not len(self.own_integer):
            status, cost, _, values = relaxed if relaxed is not None else self.at(first)
            return status, cost, values
        lp = self.lp
        if self._mip is None:
            highs = kept_highs(lp.matrix, lp.cost, lp.col_lower, self.upper, lp.row_lower, lp.row_upper)
            self._mip = KeptMIP(highs, self.own_integer, lp.groups)
        self._fix(self._mip.highs, self.plan(first))
        outcome = self._mip.solve()
        if outcome.status != "optimal":
            return outcome.status, float("nan"), None
        return outcome.status, outcome.objective, outcome.values


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
