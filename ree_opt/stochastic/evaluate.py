"""Out-of-sample evaluation of a stochastic plan (issue 9, SPEC section 6).

    evaluate(instance, plan, sample={"n": 10000, "seed": 1}, executor=None)

The plan's first stage (every column of a future's model before `reveal`,
and the reservations) is fixed to its values; each future is then solved
alone, second stage only. The futures are the plan's own (sample=None: their
costs are the plan's in-sample costs) or freshly drawn ones (equal draws
merged, as section 6 merges them: a distinct future is solved once and
weighs its share of the draws).

Each worker keeps one model for every future, the template (template.py),
with the plan's first stage fixed once: per future only its data is
resolved (its scenarios patched once, what it leaves unchanged shared with
the base) and the numbers that follow it are set in place, and HiGHS starts
from the last future's basis. No rows are built per future. Runs are cut
from the list of futures the same way whatever the executor, and each run
starts afresh, so serial, processes and Dask give the same table.

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
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..executors import even_chunks, run_chunks
from ..data import ModelData, resolve, resolve_again
from ..instance import Instance, InstanceError, Problem, Sample
from ..loading import load_instance
from ..plan import InstanceLike, paused_garbage_collection
from ..scenarios import apply_scenario, scenario_names
from ..solver import highs_model, solve_highs, standard_form
from .future import DEMAND_SERIES, FACILITY_SERIES, future_data, future_model
from .template import FutureTemplate
from .futures import Future, enumerate_futures, reveal_index
from .results import (
    FUTURE_COLUMNS,
    StochasticSolution,
    conditional_value_at_risk,
    risk_measure,
    unmet_by_product,
    value_at_risk,
)
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
    highs_seconds: float = 0.0  # HiGHS's own time solving the futures, over every worker
    worker_seconds: float = 0.0  # the workers' time on the futures (HiGHS's included)

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
    plan: dict  # (family, key) -> first-stage value
    token: str  # names the base data in a worker's cache


_CACHE: dict = {}


def _worker(setup: Setup) -> tuple:
    """The base data and the template with the plan's first stage, made once
    per worker and evaluation."""
    if setup.token not in _CACHE:
        _CACHE.clear()
        base = resolve(setup.instance, tracked=setup.tracked)
        template = FutureTemplate(
            setup.instance, base, setup.reveal, setup.tracked, setup.instance.uncertainty, setup.plan
        )
        _CACHE[setup.token] = (base, template)
    return _CACHE[setup.token]


def _fixed_bounds(future, plan: dict, form) -> tuple[np.ndarray, np.ndarray, int]:
    """Column bounds with the first stage fixed to the plan; the count of
    first-stage columns the plan has no value for (left free)."""
    lower, upper = form.col_lower.copy(), form.upper.copy()
    mask = future.first_stage_columns()
    missing = 0
    for col, key in zip(np.flatnonzero(mask), future.model.stage_keys(mask)):
        value = plan.get(key)
        if value is None:
            missing += 1
            continue
        lower[col] = upper[col] = max(value, lower[col])
    return lower, upper, missing


def _evaluate_run(setup: Setup, run: list[tuple]) -> list[tuple]:
    """Solve each future of the run with the first stage fixed, on the
    worker's template (template.py; a future it cannot solve is built and
    solved alone): rows (future, scenario, probability, cost_musd,
    shortfall_t, status, unplaced, in place)."""
    base, template = _worker(setup)
    template.start_run()  # each run starts afresh: every executor gives the same table
    started, solving = time.perf_counter(), template.highs_seconds
    rows = []
    for index, scenarios, probability in run:
        with paused_garbage_collection():
            data = template.future_data(base, scenarios)
        outcome, future, in_place = template.solve(data), template.future, True
        if outcome.status != "optimal":
            outcome, future = _solve_alone(setup, base, scenarios)
            in_place = False
        cost = shortfall = float("nan")
        status = outcome.status
        if outcome.values is not None:
            cost = outcome.objective
            shortfall = float(sum(unmet_by_product(future, outcome.values).values()))
        if status != "optimal":
            status = f"{status} ({outcome.message})"
        rows.append((index, ",".join(scenarios), probability, cost, shortfall, status, template.unplaced, in_place))
    # the run's seconds (HiGHS's own, and all) on its last row, for the benchmark
    rows[-1] += (template.highs_seconds - solving, time.perf_counter() - started)
    return rows


def _solve_alone(setup: Setup, base, scenarios):
    """One future built from its own data and solved with the plan's first stage fixed."""
    with paused_garbage_collection():
        instance = apply_scenario(setup.instance, list(scenarios)) if scenarios else setup.instance
        data = future_data(base, instance, setup.reveal, setup.tracked, len(setup.instance.policies))
        future = future_model(data, setup.reveal)
        form = standard_form(future.model)
    lower, upper, _ = _fixed_bounds(future, setup.plan, form)
    integer = np.flatnonzero(form.integrality) if form.integrality is not None else None
    highs = highs_model(
        form.matrix, form.cost, lower, upper, form.row_lower, form.row_upper, integrality=form.integrality,
    )
    return solve_highs(highs, integer, duals=False), future


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
    futures, draws = futures_to_evaluate(instance, plan, sample)
    setup = Setup(
        base, tracked_in_every_future(base, base.uncertainty), reveal_index(base, instance.uncertainty),
        dict(plan.first_stage_values), uuid.uuid4().hex,
    )
    rows = solve_futures(setup, futures, executor, progress)
    evaluation = summarise(rows, plan, draws)
    if replications:
        evaluation.gap = optimality_gap(
            instance, plan, evaluation, replications, replication_size, policies, executor, progress
        )
    return evaluation


def futures_to_evaluate(instance: Instance, plan: StochasticSolution, sample) -> tuple[list[Future], int | None]:
    """The plan's own futures (sample None), or fresh draws; and the sample size (None: every combination)."""
    if sample is None:
        return _plan_futures(plan), (plan.sample["n"] if plan.sample else None)
    sample = fresh_sample(sample)
    return enumerate_futures(instance.uncertainty, sample), sample.n


def solve_futures(setup: Setup, futures: list[Future], executor=None, progress=None) -> list[tuple]:
    """Each future solved with the plan's first stage fixed, over the
    executor's workers: rows (future, scenario, probability, cost_musd,
    shortfall_t, status, missing, reused), in the order of the futures."""
    # neighbours in the order solved share the outcomes that change the model
    # most, so each warm-starts the next; the rows go back in the order of the futures
    items = [(f.index, f.scenarios, f.probability) for f in in_solving_order(setup, futures)]
    results = run_chunks(partial(_evaluate_run, setup), _runs(items), executor, progress)
    place = {f.index: n for n, f in enumerate(futures)}
    return sorted((row for run in results for row in run), key=lambda row: place[row[0]])


def in_solving_order(setup: Setup, futures: list[Future]) -> list[Future]:
    """The futures sorted by their outcomes, the events that change the most
    numbers of the model first (`events_by_reach`): neighbours then differ
    in the events that change least, and HiGHS starts each from a basis
    close to its optimum. On 1,000 generated futures: 147k simplex
    iterations, against 305k in the events' declared order (project slips
    first, demand and prices last)."""
    if not futures or not all(f.outcomes for f in futures):
        return sorted(futures, key=lambda f: f.scenarios)
    events = events_by_reach(setup.instance, setup.tracked, setup.reveal)
    return sorted(futures, key=lambda f: tuple(f.outcomes[e] for e in events))


def events_by_reach(instance: Instance, tracked, reveal: int) -> list[int]:
    """The instance's events, those whose outcomes change the most numbers of
    a future's data first (facility and demand series from `reveal` on, and
    a period's worth for each policy added), most to least; ties in their order."""
    base = resolve(instance, tracked=tracked)
    reach = []
    for event in instance.uncertainty.events:
        changed = 0
        for outcome in event.outcomes:
            names = scenario_names(outcome.scenario)
            if names:
                data = resolve_again(base, apply_scenario(instance, names))
                changed = max(changed, _numbers_changed(base, data, reveal))
        reach.append(changed)
    return sorted(range(len(reach)), key=lambda e: -reach[e])


def _numbers_changed(base: ModelData, data: ModelData, reveal: int) -> int:
    count = (len(data.policies) - len(base.policies)) * (base.period_count - reveal)
    for entities, series in ((zip(data.facilities, base.facilities), FACILITY_SERIES),
                             (zip(data.demand, base.demand), DEMAND_SERIES)):
        for now, before in entities:
            if now is not before:
                count += sum(int(np.sum(np.asarray(getattr(now, name))[reveal:] != np.asarray(getattr(before, name))[reveal:]))
                             for name in series if getattr(now, name) is not None and getattr(before, name) is not None)
    return count


def summarise(rows: list[tuple], plan: StochasticSolution, draws: int | None) -> Evaluation:
    """The futures' costs as an Evaluation: expected cost and its 95%
    interval, CVaR, VaR, the risk-adjusted objective; what did not solve."""
    table = pd.DataFrame([row[:5] for row in rows], columns=FUTURE_COLUMNS)
    messages = []
    failed = [(row[0], row[5]) for row in rows if row[5] != "optimal"]
    if failed:
        messages.append(f"{len(failed)} future(s) not solved to optimality, e.g. future {failed[0][0]}: {failed[0][1]}")
    unplaced = max((row[6] for row in rows), default=0)
    if unplaced:
        messages.append(f"{unplaced} first-stage value(s) of the plan have no column in these futures (left free)")
    solved = table.dropna(subset=["cost_musd"])
    costs, probabilities = solved["cost_musd"].to_numpy(), solved["probability"].to_numpy()
    probabilities = probabilities / probabilities.sum() if len(probabilities) else probabilities
    alpha, omega = plan.alpha, plan.omega
    return Evaluation(
        expected_cost=float(probabilities @ costs),
        confidence_interval=confidence_interval(costs, probabilities, draws),
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
        highs_seconds=sum(row[8] for row in rows if len(row) > 8),
        worker_seconds=sum(row[9] for row in rows if len(row) > 8),
    )


def optimality_gap(
    instance: Instance, plan: StochasticSolution, evaluation: Evaluation, replications: int,
    replication_size: int | None, policies: list, executor=None, progress=None,
) -> OptimalityGap:
    """The SAA gap: the plan's out-of-sample objective against the mean of
    independent in-sample optima (or, for a plan chosen on every
    combination, against its own objective: the true optimum)."""
    upper_error = None
    if evaluation.omega == 0:
        low, high = evaluation.confidence_interval
        upper_error = (high - low) / (2 * Z_95)
    if plan.sample is None and replication_size is None:
        # chosen on every combination: the plan's objective is the true optimum v*
        return OptimalityGap(
            lower=float(plan.objective), upper=evaluation.objective, replications=[], size=len(plan.futures),
            seeds=[], lower_std_error=0.0, upper_std_error=upper_error,
        )
    size = replication_size or (plan.sample["n"] if plan.sample else len(plan.futures))
    seeds = replication_seeds(plan.sample["seed"] if plan.sample else 0, replications)
    function = partial(_replication, instance, plan.alpha, plan.omega, size, policies)
    optima = [v for chunk in run_chunks(function, [[seed] for seed in seeds], executor, progress) for v in chunk]
    lower_error = float(np.std(optima, ddof=1) / math.sqrt(len(optima))) if len(optima) > 1 else None
    return OptimalityGap(
        lower=float(np.mean(optima)), upper=evaluation.objective, replications=[float(v) for v in optima],
        size=size, seeds=seeds, lower_std_error=lower_error, upper_std_error=upper_error,
    )
