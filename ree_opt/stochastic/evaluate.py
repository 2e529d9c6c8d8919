"""Out-of-sample evaluation of a stochastic plan (issue 9, SPEC section 6).

    evaluate(instance, plan, sample={"n": 10000, "seed": 1}, executor=None)

The plan's first stage (every column of a future's model before `reveal`,
and the reservations) is fixed to its values; each future is then solved
alone, second stage only. The futures are the plan's own (sample=None: their
costs are the plan's in-sample costs) or freshly drawn ones (equal draws
merged, as section 6 merges them: a distinct future is solved once and
weighs its share of the draws).

Each worker keeps one HiGHS model per run of futures: a future whose matrix
has the sparsity pattern of the one before changes it in place (changed
coefficients, every cost and bound) and HiGHS starts from the previous
basis; a future with another pattern gets a new HiGHS model. Each future's
Pyomo model is still built (the per-future builder, `model_of`) to get its
data; that build is most of the time per future. Runs are cut from the list
of futures the same way whatever the executor, so serial, processes and Dask
give the same table.

The optimality gap of the sample-average approximation (Mak, Morton and
Wood 1999): the lower bound is the mean of the in-sample optima of
`replications` independent samples of the plan's sample size (each solved as
the extensive form); the upper bound is the out-of-sample estimate of the
plan's objective ((1 - omega) E[C] + omega CVaR, the mean when omega = 0).
A plan chosen on every combination is the true optimum: its objective is
the lower bound, exactly (no replications; small-sample optima would only
measure the downward bias of an SAA of that size).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..analysis import even_chunks, run_parallel
from ..data import resolve
from ..instance import Instance, InstanceError, Problem, Sample
from ..loading import load_instance
from ..plan import InstanceLike, paused_garbage_collection
from ..scenarios import apply_scenario, scenario_names
from ..solution import TOLERANCE_T
from ..solver import highs_model, run_highs, standard_form
from .future import first_stage_mask, future_data, future_model
from .futures import Future, enumerate_futures, reveal_index
from .results import FUTURE_COLUMNS, StochasticSolution, conditional_value_at_risk, risk_measure, value_at_risk
from .solve import tracked_in_every_future

#: z of a two-sided 95% normal interval, and of a one-sided 95% bound.
Z_95, Z_95_ONE_SIDED = 1.959963984540054, 1.6448536269514722
#: A run of futures (one kept HiGHS model) holds at most this many futures,
#: and a list of futures is cut into at least MIN_RUNS runs (so processes and
#: Dask workers share them). Both depend on the number of futures only.
RUN_SIZE, MIN_RUNS = 200, 8


@dataclass
class OptimalityGap:
    """The SAA optimality-gap estimate of a plan (USD million)."""

    lower: float  # mean of the replications' in-sample optima: E[v_n] <= v*
    upper: float  # the plan's out-of-sample objective
    replications: list[float]  # each replication's in-sample optimum
    size: int  # draws per replication
    seeds: list[int]
    lower_std_error: float | None  # of the mean of the replications (None with one)
    upper_std_error: float | None  # of the out-of-sample mean (omega = 0 only)

    @property
    def estimate(self) -> float:
        """The SAA point estimate, upper - lower: the gap is >= 0 by definition,
        so a negative estimate is sampling noise (see `gap`)."""
        return self.upper - self.lower

    @property
    def gap(self) -> float:
        """The point estimate clipped at 0 (a negative one is noise)."""
        return max(0.0, self.estimate)

    @property
    def standard_error(self) -> float | None:
        """Of the point estimate (normal approximation); None where a part is unknown."""
        if self.lower_std_error is None or self.upper_std_error is None:
            return None
        return math.hypot(self.lower_std_error, self.upper_std_error)

    @property
    def gap_bound_95(self) -> float | None:
        """A one-sided 95% upper bound on the gap (normal approximation), never below 0."""
        error = self.standard_error
        return None if error is None else max(0.0, self.estimate + Z_95_ONE_SIDED * error)

    @property
    def bounds(self) -> tuple[float, float]:
        """(lower, upper) bounds on the optimal objective, in order: an
        out-of-sample estimate below the lower bound (noise) is raised to it."""
        return self.lower, max(self.lower, self.upper)

    @property
    def noise(self) -> bool:
        """Whether the point estimate is negative: only sampling noise gives that."""
        return self.estimate < 0


@dataclass
class Evaluation:
    """A plan's costs on futures it was (or was not) chosen on (USD million)."""

    expected_cost: float
    confidence_interval: tuple[float, float]  # 95%, of the expected cost
    cvar: float
    var: float
    objective: float  # (1 - omega) expected_cost + omega cvar
    futures: pd.DataFrame  # future, scenario, probability, cost_musd, shortfall_t
    gap: OptimalityGap | None
    alpha: float
    omega: float
    draws: int | None  # the sample size; None: the futures are every combination (exact)
    kept_model_reuses: int = 0  # futures solved on a kept HiGHS model changed in place
    message: str = ""

    def summary(self) -> pd.Series:
        low, high = self.confidence_interval
        gap = self.gap
        return pd.Series({
            "expected_cost_musd": self.expected_cost,
            "ci_low_musd": low,
            "ci_high_musd": high,
            "cvar_musd": self.cvar,
            "var_musd": self.var,
            "objective_musd": self.objective,
            "alpha": self.alpha,
            "omega": self.omega,
            "futures": len(self.futures),
            "draws": self.draws,
            "gap_lower_musd": gap.bounds[0] if gap else None,
            "gap_upper_musd": gap.bounds[1] if gap else None,  # objective_musd is the raw out-of-sample estimate
            "gap_estimate_musd": gap.estimate if gap else None,
            "gap_musd": gap.gap if gap else None,
            "gap_bound_95_musd": gap.gap_bound_95 if gap else None,
            "replications": len(gap.replications) if gap else 0,
        })

    def __repr__(self) -> str:
        low, high = self.confidence_interval
        return (
            f"Evaluation({len(self.futures)} futures, expected_cost={self.expected_cost:,.3f} "
            f"[{low:,.3f}, {high:,.3f}], cvar={self.cvar:,.3f} USD million)"
        )


# --------------------------------------------------------------------------
# One run of futures on one kept HiGHS model


@dataclass
class Setup:
    """What a worker needs to build and solve a future with the plan fixed."""

    instance: Instance  # the base instance, policies added
    tracked: frozenset
    reveal: int
    plan: dict  # (component, key) -> first-stage value
    token: str  # names the base data in a worker's cache


_BASE_CACHE: dict = {}


def _base_data(setup: Setup):
    """The base instance resolved once per worker and evaluation."""
    if setup.token not in _BASE_CACHE:
        _BASE_CACHE.clear()
        _BASE_CACHE[setup.token] = resolve(setup.instance, tracked=setup.tracked)
    return _BASE_CACHE[setup.token]


class KeptModel:
    """One HiGHS model, changed in place from future to future while the
    sparsity pattern stays the same."""

    def __init__(self):
        self.highs = None
        self.shape = None
        self.indptr = self.indices = self.data = None
        self.reuses = 0

    def load(self, form, col_lower: np.ndarray, col_upper: np.ndarray) -> None:
        matrix = form.matrix
        same = (
            self.highs is not None and matrix.shape == self.shape
            and np.array_equal(matrix.indptr, self.indptr) and np.array_equal(matrix.indices, self.indices)
        )
        if not same:
            self.highs = highs_model(matrix, form.cost, col_lower, col_upper, form.row_lower, form.row_upper)
            self.shape, self.indptr, self.indices = matrix.shape, matrix.indptr.copy(), matrix.indices.copy()
            self.data = matrix.data.copy()
            return
        highs = self.highs
        nrow, ncol = matrix.shape
        for k in np.flatnonzero(matrix.data != self.data):
            column = int(np.searchsorted(self.indptr, k, side="right") - 1)
            highs.changeCoeff(int(self.indices[k]), column, float(matrix.data[k]))
        self.data = matrix.data.copy()
        columns = np.arange(ncol, dtype=np.int32)
        highs.changeColsCost(ncol, columns, form.cost)
        highs.changeColsBounds(ncol, columns, col_lower, col_upper)
        highs.changeRowsBounds(nrow, np.arange(nrow, dtype=np.int32), form.row_lower, form.row_upper)
        self.reuses += 1


def _fixed_bounds(model, reveal: int, plan: dict, col_lower: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Column bounds with the first stage fixed to the plan; the count of
    first-stage columns the plan has no value for (left free)."""
    lower, upper = col_lower.copy(), np.full(len(col_lower), np.inf)
    mask = first_stage_mask(model, reveal)
    missing = 0
    for name, (keys, start) in model.columns.items():
        for i, key in enumerate(keys):
            col = start + i
            if not mask[col]:
                continue
            value = plan.get((name, key))
            if value is None:
                missing += 1
                continue
            lower[col] = upper[col] = max(value, col_lower[col])
    return lower, upper, missing


def _shortfall_t(future_model, values: np.ndarray) -> float:
    """Unmet tonnes, summed as the in-sample table sums them (by product and period)."""
    keys, start = future_model.model.columns["short"]
    unmet: dict = {}
    for (d_index, t), value in zip(keys, values[start : start + len(keys)]):
        if value > TOLERANCE_T:
            product = future_model.data.demand[d_index].product
            unmet[(product, t)] = unmet.get((product, t), 0.0) + float(value)
    return float(sum(unmet.values()))


def _evaluate_run(setup: Setup, run: list[tuple]) -> list[tuple]:
    """Solve each future of the run with the first stage fixed: rows
    (future, scenario, probability, cost_musd, shortfall_t, status, missing, reused)."""
    base = _base_data(setup)
    kept = KeptModel()
    rows = []
    for index, scenarios, probability in run:
        with paused_garbage_collection():
            instance = apply_scenario(setup.instance, list(scenarios)) if scenarios else setup.instance
            data = future_data(base, instance, setup.reveal, setup.tracked, len(setup.instance.policies))
            built = future_model(data, setup.reveal)
            form = standard_form(built.model)
        lower, upper, missing = _fixed_bounds(built.model, setup.reveal, setup.plan, form.col_lower)
        reuses = kept.reuses
        kept.load(form, lower, upper)
        try:
            status, name = run_highs(kept.highs)
        except Exception as error:  # solver trouble is a status, not an exception
            status, name = "error", str(error)
        cost = shortfall = float("nan")
        if status == "optimal":
            cost = float(kept.highs.getInfo().objective_function_value)
            shortfall = _shortfall_t(built, np.asarray(kept.highs.getSolution().col_value, dtype=float))
        else:
            kept.highs = None  # start the next future afresh
            status = f"{status} ({name})"
        rows.append((index, ",".join(scenarios), probability, cost, shortfall, status, missing, kept.reuses > reuses))
    return rows


def _runs(items: list) -> list[list]:
    """The futures cut into runs: a function of their number only."""
    return even_chunks(items, max(MIN_RUNS, math.ceil(len(items) / RUN_SIZE))) if items else []


# --------------------------------------------------------------------------
# The evaluation


def _plan_futures(plan: StochasticSolution) -> list[Future]:
    return [
        Future(int(row.future), (), tuple(scenario_names(row.scenario)), float(row.probability))
        for row in plan.futures.itertuples(index=False)
    ]


def confidence_interval(costs, probabilities, draws: int | None) -> tuple[float, float]:
    """95% interval of the expected cost: mean +- z s / sqrt(n), s the
    (probability-weighted) sample standard deviation over `draws` draws; zero
    width when the futures are every combination (draws None: the mean is exact)."""
    costs, probabilities = np.asarray(costs, dtype=float), np.asarray(probabilities, dtype=float)
    mean = float(probabilities @ costs)
    if draws is None or draws < 2:
        return (mean, mean)
    variance = float(probabilities @ (costs - mean) ** 2) * draws / (draws - 1)
    half = Z_95 * math.sqrt(variance / draws)
    return (mean - half, mean + half)


def _replication(instance, alpha, omega, size, policies, seeds: list[int]) -> list[float]:
    from .solve import solve_stochastic

    optima = []
    for seed in seeds:
        solution = solve_stochastic(
            instance, alpha=alpha, omega=omega, sample={"n": size, "seed": seed},
            policies=policies, value_of_information=False,
        )
        optima.append(solution.objective if solution.optimal else float("nan"))
    return optima


def replication_seeds(seed: int, count: int) -> list[int]:
    """Seeds of the gap's replications, distinct from each other and from `seed`."""
    state = np.random.SeedSequence([abs(int(seed)), 9]).generate_state(count, dtype=np.uint32)
    return [int(s) for s in state]


def fresh_sample(sample: Sample | Mapping) -> Sample:
    """A validated sample, or an InstanceError naming what is wrong."""
    if isinstance(sample, Sample):
        return sample
    try:
        return Sample.model_validate(dict(sample))
    except ValidationError as error:
        raise InstanceError([
            Problem("sample." + ".".join(str(p) for p in item["loc"]), f"{item['msg']} (got {item.get('input')!r})")
            for item in error.errors()
        ]) from None


def evaluate(
    instance: InstanceLike,
    plan: StochasticSolution,
    sample: Sample | Mapping | None = None,
    executor=None,
    replications: int = 5,
    replication_size: int | None = None,
    policies: Iterable = (),
    progress=None,
) -> Evaluation:
    """The plan's first stage fixed, each future solved alone (second stage).

    sample: fresh futures ({"n": 10000, "seed": 1}) or None: the plan's own.
    executor: None or "serial", "processes" (a local pool), a
    dask.distributed Client or a scheduler address, as sweeps take it.
    replications: independent in-sample solves for the gap's lower bound
    (0: no gap), each of `replication_size` draws (default: the plan's
    sample size); a plan chosen on every combination needs none unless
    `replication_size` is given (its objective is the optimum).
    policies: the policies the plan was solved with.
    progress: called with the number of futures (and replications) done.
    """
    if not isinstance(plan, StochasticSolution) or not plan.optimal:
        raise ValueError("evaluate needs an optimal StochasticSolution (from solve_stochastic)")
    if not plan.first_stage_values:
        raise ValueError("the plan carries no first-stage values (solve it with this version of ree_opt)")
    if replications < 0:
        raise InstanceError([Problem("replications", f"expected an integer >= 0, got {replications!r}")])
    instance = load_instance(instance)
    if instance.uncertainty is None:
        raise InstanceError([Problem("uncertainty", "the instance has no `uncertainty` section to draw futures from")])
    policies = list(policies)
    base = apply_scenario(instance, None, policies)
    reveal = reveal_index(base, instance.uncertainty)
    if sample is None:
        futures = _plan_futures(plan)
        draws = plan.sample["n"] if plan.sample else None
    else:
        sample = fresh_sample(sample)
        futures = enumerate_futures(instance.uncertainty, sample)
        draws = sample.n
    setup = Setup(base, tracked_in_every_future(base, base.uncertainty), reveal, dict(plan.first_stage_values), uuid.uuid4().hex)
    items = [(f.index, f.scenarios, f.probability) for f in futures]
    runs = _runs(items)
    if executor in (None, "serial"):
        results = []
        for run in runs:
            results.append(_evaluate_run(setup, run))
            if progress:
                progress(len(run))
    else:
        results = run_parallel(partial(_evaluate_run, setup), runs, executor, progress)
    rows = [row for run in results for row in run]
    table = pd.DataFrame([row[:5] for row in rows], columns=FUTURE_COLUMNS)
    messages = []
    failed = [(row[0], row[5]) for row in rows if row[5] != "optimal"]
    if failed:
        messages.append(f"{len(failed)} future(s) not solved to optimality, e.g. future {failed[0][0]}: {failed[0][1]}")
    missing = max((row[6] for row in rows), default=0)
    if missing:
        messages.append(f"{missing} first-stage column(s) (tracked makers the plan did not track) left free")
    solved = table.dropna(subset=["cost_musd"])
    costs, probabilities = solved["cost_musd"].to_numpy(), solved["probability"].to_numpy()
    probabilities = probabilities / probabilities.sum() if len(probabilities) else probabilities
    alpha, omega = plan.alpha, plan.omega
    expected = float(probabilities @ costs)
    interval = confidence_interval(costs, probabilities, draws)
    evaluation = Evaluation(
        expected_cost=expected,
        confidence_interval=interval,
        cvar=conditional_value_at_risk(costs, probabilities, alpha),
        var=value_at_risk(costs, probabilities, alpha),
        objective=risk_measure(costs, probabilities, alpha, omega),
        futures=table,
        gap=None,
        alpha=alpha,
        omega=omega,
        draws=draws,
        kept_model_reuses=sum(1 for row in rows if row[7]),
        message="; ".join(messages),
    )
    if replications and plan.sample is None and replication_size is None:
        # chosen on every combination: the plan's objective is the true optimum v*
        upper_error = None
        if omega == 0:
            low, high = interval
            upper_error = (high - low) / (2 * Z_95)
        evaluation.gap = OptimalityGap(
            lower=float(plan.objective), upper=evaluation.objective, replications=[], size=len(plan.futures),
            seeds=[], lower_std_error=0.0, upper_std_error=upper_error,
        )
    elif replications:
        size = replication_size or (plan.sample["n"] if plan.sample else len(plan.futures))
        seeds = replication_seeds(plan.sample["seed"] if plan.sample else 0, replications)
        function = partial(_replication, instance, alpha, omega, size, policies)
        chunks = [[seed] for seed in seeds]
        if executor in (None, "serial"):
            optima = []
            for chunk in chunks:
                optima += function(chunk)
                if progress:
                    progress(1)
        else:
            optima = [v for chunk in run_parallel(function, chunks, executor, progress) for v in chunk]
        lower = float(np.mean(optima))
        lower_error = float(np.std(optima, ddof=1) / math.sqrt(len(optima))) if len(optima) > 1 else None
        upper_error = None
        if omega == 0:
            low, high = interval
            upper_error = (high - low) / (2 * Z_95)
        evaluation.gap = OptimalityGap(
            lower=lower, upper=evaluation.objective, replications=[float(v) for v in optima], size=size,
            seeds=seeds, lower_std_error=lower_error, upper_std_error=upper_error,
        )
    return evaluation
