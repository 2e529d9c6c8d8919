"""Decide now, under uncertainty (SPEC section 6).

    solve_stochastic(instance, alpha=None, omega=None, sample=None, policies=())

builds one model per future (`future.future_model`, the scenario_creator
shape), joins them into the extensive form, and reports the plan before
`reveal`, the offtakes to sign, the stockpile, each future's cost, and the
value of the stochastic solution (VSS) and of perfect information (EVPI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..data import COVERED, ModelData, resolve, tracked_products
from ..instance import Instance, InstanceError, Problem, Uncertainty
from ..loading import load_instance
from ..plan import InstanceLike, paused_garbage_collection
from ..scenarios import apply_scenario, scenario_names
from ..model.demand import DELIVERY
from ..model.flows import activity_by_facility
from ..solver import DEFAULT_MIP_GAP, CompiledModel, Outcome, form_highs, solve_highs
from .extensive import ExtensiveForm
from .future import FutureModel, future_data, future_model
from .offtakes import RESERVATION
from .futures import Future, enumerate_futures, reveal_index
from .results import (
    FRONTIER_COLUMNS,
    StochasticSolution,
    conditional_value_at_risk,
    failed,
    first_stage_solution,
    frontier_row,
    future_tables,
    offtake_table,
    risk_measure,
    stockpile_table,
    value_at_risk,
)
from .tie_break import plan_at_omega


@dataclass
class StochasticProblem:
    """An instance's futures and their models, ready to be joined."""

    base: Instance  # the instance with `policies` added: what every future sees before `reveal`
    uncertainty: Uncertainty
    futures: list[Future]
    reveal: int
    tracked: frozenset
    base_data: ModelData

    def instance_of(self, future: Future) -> Instance:
        return apply_scenario(self.base, list(future.scenarios)) if future.scenarios else self.base

    def model_of(self, future: Future) -> FutureModel:
        """One future's model (mpi-sppy's scenario_creator calls this)."""
        data = future_data(self.base_data, self.instance_of(future), self.reveal, self.tracked, len(self.base.policies))
        return future_model(data, self.reveal)

    def nominal_model(self) -> FutureModel:
        """The instance as it is, ignoring uncertainty and offtakes (for VSS)."""
        return future_model(resolve(self.base, tracked=self.tracked), self.reveal, offtakes=False)


def tracked_in_every_future(base: Instance, uncertainty: Uncertainty) -> frozenset:
    """Products tracked in the base or by any outcome's scenarios: a product
    tracked in one future is tracked in all (section 6), and in every fresh
    sample of the same instance, so plans and evaluations share first stages.
    Only added policies track, and a future's are the union of its outcomes'."""
    tracked = set(tracked_products(base))
    for event in uncertainty.events:
        for outcome in event.outcomes:
            names = scenario_names(outcome.scenario)
            if names:
                tracked |= set(tracked_products(apply_scenario(base, names)))
    return frozenset(tracked)


def stochastic_problem(
    instance: InstanceLike,
    alpha: float | None = None,
    omega: float | None = None,
    sample: Mapping | None = None,
    policies: Iterable = (),
) -> StochasticProblem:
    instance = load_instance(instance)
    if instance.uncertainty is None:
        raise InstanceError([Problem(
            "uncertainty",
            "the instance has no `uncertainty` section: add one (events whose outcomes are the instance's "
            "scenarios, SPEC section 6) to decide under uncertainty",
        )])
    overrides = {k: v for k, v in (("alpha", alpha), ("omega", omega), ("sample", sample)) if v is not None}
    try:
        uncertainty = Uncertainty.model_validate({**instance.uncertainty.model_dump(exclude_none=True), **overrides})
    except ValidationError as error:
        raise InstanceError([
            Problem(".".join(str(p) for p in item["loc"]), f"{item['msg']} (got {item.get('input')!r})")
            for item in error.errors()
        ]) from None
    base = apply_scenario(instance, None, policies)
    futures = enumerate_futures(uncertainty, uncertainty.sample)
    reveal = reveal_index(base, uncertainty)
    tracked = tracked_in_every_future(base, uncertainty)
    return StochasticProblem(base, uncertainty, futures, reveal, tracked, resolve(base, tracked=tracked))


def solve_stochastic(
    instance: InstanceLike,
    alpha: float | None = None,
    omega: float | None = None,
    sample: Mapping | None = None,
    policies: Iterable = (),
    time_limit: float | None = None,
    progress: Callable[[int], None] | None = None,
    value_of_information: bool = True,
) -> StochasticSolution:
    """The two-stage plan of an instance with an `uncertainty` section.

    Keyword arguments override the section (`sample={"n": 1000, "seed": 7}`);
    `policies` apply in every future and before `reveal`.
    `value_of_information=False` skips the wait-and-see and nominal-plan
    solves (EVPI and VSS are then None).
    """
    problem = stochastic_problem(instance, alpha, omega, sample, policies)
    with paused_garbage_collection():
        models = build_futures(problem, progress)
        form = ExtensiveForm(
            models, [f.probability for f in problem.futures],
            problem.uncertainty.alpha, problem.uncertainty.omega, time_limit=time_limit,
        )
    solution = read_solution(problem, models, form, plan_at_omega(form))
    if solution.optimal and value_of_information:
        add_value_of_information(solution, problem, models, form)
    return solution


def build_futures(problem: StochasticProblem, progress=None) -> list[FutureModel]:
    """Every future's model, compiled as it is built: only the first keeps its
    Pyomo model (the first-stage tables read it), so memory holds one Pyomo
    model at a time and every future's matrix."""
    models = []
    for index, future in enumerate(problem.futures):
        models.append(problem.model_of(future).compile(keep_model=index == 0))
        if progress:
            progress(1)
    return models


def solve_alone(future: FutureModel) -> Outcome:
    """A future on its own (probability 1): its own plan before `reveal` and
    its own reservations (a MIP to the extensive form's default gap, as
    section 7 asks, not HiGHS's own 1e-4: EVPI subtracts it from the EF's)."""
    form = future.form
    integer = np.flatnonzero(form.integrality) if form.integrality is not None else None
    mip = integer is not None and len(integer) > 0
    return solve_highs(form_highs(form, mip_gap=DEFAULT_MIP_GAP if mip else None), integer, duals=False)


def read_solution(problem: StochasticProblem, models, form: ExtensiveForm, outcome) -> StochasticSolution:
    uncertainty, name = problem.uncertainty, problem.base.name
    if outcome.status != "optimal":
        return failed(outcome.status, outcome.message, name, uncertainty.alpha, uncertainty.omega, problem.futures)
    x = outcome.values
    costs = form.future_costs(x)
    probabilities = np.array([f.probability for f in problem.futures])
    futures, shortfall = future_tables(problem.futures, models, form, x, costs)
    labels = problem.base.periods
    return StochasticSolution(
        status="optimal",
        objective=outcome.objective,
        expected_cost=float(probabilities @ costs),
        cvar=conditional_value_at_risk(costs, probabilities, uncertainty.alpha),
        var=value_at_risk(costs, probabilities, uncertainty.alpha),
        futures=futures,
        offtakes=offtake_table(models[0], form, x),
        first_stage=first_stage_solution(models[0], form, outcome),
        stockpile=stockpile_table(models[0], form, x),
        future_shortfall=shortfall,
        alpha=uncertainty.alpha,
        omega=uncertainty.omega,
        reveal=labels[problem.reveal] if problem.reveal < len(labels) else None,
        instance_name=name,
        first_stage_values=first_stage_values(models[0], form, x),
        sample=problem.uncertainty.sample.model_dump() if problem.uncertainty.sample is not None else None,
    )


def first_stage_values(model: FutureModel, form: ExtensiveForm, values: np.ndarray) -> dict:
    """(family, key) -> value of every first-stage column (section 6)."""
    keys = model.model.stage_keys(model.first_stage_columns())
    return dict(zip(keys, values[form.first_columns].tolist()))


def add_value_of_information(solution: StochasticSolution, problem: StochasticProblem, models, form: ExtensiveForm) -> None:
    """EVPI = objective - WS and VSS = EEV - objective (section 6)."""
    alpha, omega = problem.uncertainty.alpha, problem.uncertainty.omega
    probabilities = np.array([f.probability for f in problem.futures])
    alone = []
    for model in models:
        outcome = solve_alone(model)
        if outcome.status != "optimal":
            solution.message = f"a wait-and-see solve ended {outcome.status}: {outcome.message}"
            return
        alone.append(outcome.objective)
    solution.wait_and_see = risk_measure(np.array(alone), probabilities, alpha, omega)
    solution.evpi = solution.objective - solution.wait_and_see

    nominal = nominal_first_stage(problem, form)
    if nominal is None:
        solution.message = "the nominal plan could not be solved: no VSS"
        return
    fixed = solve_first_stage_fixed(form, nominal)
    if fixed.status != "optimal":
        solution.message = f"the extensive form with the nominal first stage ended {fixed.status}"
        return
    solution.expected_value_plan = fixed.objective(form, omega)
    solution.vss = solution.expected_value_plan - solution.objective


@dataclass
class FirstStageFixed:
    """Each future's least cost C_s with the first stage fixed (USD million)."""

    status: str
    costs: np.ndarray | None
    message: str = ""

    def objective(self, form: ExtensiveForm, omega: float) -> float:
        """The extensive form's optimum at `omega` with that first stage."""
        return risk_measure(self.costs, form.probabilities, form.alpha, omega)


def solve_first_stage_fixed(form: ExtensiveForm, values: np.ndarray) -> FirstStageFixed:
    """What `form.fix_first_stage(values)` then `form.solve()` gives at any
    omega, future by future: each future's least cost with its first stage
    at `values` (and its own builds integer, to the extensive form's gap).

    With the first stage fixed nothing joins the futures but the CVaR term,
    and the objective (1 - omega) sum_s pi_s C_s + omega (eta + sum_s pi_s
    max(0, C_s - eta) / (1 - alpha)) never falls as a C_s rises: each future
    at its own least cost is optimal at every omega (eta then the VaR of
    those costs, `risk_measure`). So the futures are solved alone, a few
    small MIPs instead of one extensive form per omega (the baseline's 24
    futures: 4 s instead of 80-90 s, benchmarks/investment.py)."""
    first = np.maximum(np.asarray(values, dtype=float), form.col_lower[form.first_columns])
    n_first = len(form.first_columns)
    costs = []
    for standard, placed in zip(form.forms, form.placements):
        shared = placed.columns < n_first
        lower, upper = standard.col_lower.copy(), standard.upper.copy()
        lower[shared] = upper[shared] = first[placed.columns[shared]]
        integer = np.flatnonzero(standard.integrality) if standard.integrality is not None else None
        mip = integer is not None and len(integer) > 0
        highs = form_highs(standard, lower, upper, time_limit=form.time_limit, mip_gap=form.mip_gap if mip else None)
        outcome = solve_highs(highs, integer, duals=False)
        if outcome.status != "optimal":
            return FirstStageFixed(outcome.status, None, outcome.message)
        costs.append(outcome.objective)
    return FirstStageFixed("optimal", np.array(costs))


def nominal_first_stage(problem: StochasticProblem, form: ExtensiveForm) -> np.ndarray | None:
    """The reported plan of the deterministic solve before `reveal`, and
    reservations equal to its activity at each contracted facility from
    `reveal` on, as values of the extensive form's first-stage columns."""
    nominal = problem.nominal_model()
    compiled = CompiledModel(nominal.model)
    keys, cols = compiled.columns_of(DELIVERY)
    covered = cols[np.array([k[1] == COVERED for k in keys], dtype=bool)] if len(keys) else cols
    outcome = compiled.solve(covered)
    if outcome.status != "optimal":
        return None
    mask = nominal.first_stage_columns()
    values = dict(zip(nominal.model.stage_keys(mask), outcome.values[mask]))
    activity = activity_by_facility(compiled, outcome.values)
    fixed = np.zeros(len(form.first_columns))
    first = form.futures[0].model
    for name, block in first.columns.items():
        for key, col in zip(block.keys, block.columns):
            column = form.first_index.get(int(col))
            if column is not None:
                fixed[column] = activity.get(key, 0.0) if block.family is RESERVATION else values[(name, key)]
    return fixed


def risk_frontier(
    instance: InstanceLike,
    omegas: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    alpha: float | None = None,
    sample: Mapping | None = None,
    policies: Iterable = (),
    time_limit: float | None = None,
) -> pd.DataFrame:
    """Expected cost against CVaR as omega moves (the extensive form is built
    once; omega changes its costs in place). With `time_limit` (seconds each
    solve may take) a point whose solve was stopped keeps the best plan
    found, its `mip_gap` the proven gap (0.0 where proven; NaN where no plan
    was found); each point's branch and cut begins from the plan before it,
    and omega 1 is solved as `decide` solves it under a limit."""
    problem = stochastic_problem(instance, alpha, None, sample, policies)
    omegas = [float(w) for w in omegas]
    for w in omegas:
        if not 0.0 <= w <= 1.0:
            raise InstanceError([Problem("omegas", f"expected numbers in [0, 1], got {w!r}")])
    with paused_garbage_collection():
        models = build_futures(problem)
        form = ExtensiveForm(
            models, [f.probability for f in problem.futures], problem.uncertainty.alpha, 0.0,
            with_cvar=True, time_limit=time_limit,
        )
    rows, before = [], None
    for w in omegas:
        form.set_omega(w)
        outcome = plan_at_omega(form, time_limit, before)
        before = outcome.values if outcome.values is not None else before
        rows.append(frontier_row(form, outcome))
    return pd.DataFrame(rows, columns=FRONTIER_COLUMNS)
