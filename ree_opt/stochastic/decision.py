"""Several stochastic plans and the risk frontier from one extensive form.

The report sets the risk-neutral plan beside a risk-averse one (omega 0.5)
and draws the frontier over omega. Solving each with `solve_stochastic` and
`risk_frontier` would build the futures three times, solve the wait-and-see
problems twice and start every extensive form cold. Here the futures are
built once, the extensive form (with its CVaR rows) is solved at every omega
in turn on the kept HiGHS object (warm started, omega = 1 with its
tie-break), and the wait-and-see optima, which do not depend on omega, are
solved once: each plan's EVPI and VSS follow as section 6 defines them
(the nominal first stage's cost future by future, `solve_first_stage_fixed`).

    decision = decide(instance, plans=(0.0, 0.5), frontier=(0, 0.25, 0.5, 0.75, 1))
    decision.plans[0.5].offtakes, decision.frontier
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..instance import InstanceError, Problem
from ..plan import InstanceLike, paused_garbage_collection
from ..solver import DEFAULT_MIP_GAP
from .extensive import ExtensiveForm
from .results import FRONTIER_COLUMNS, StochasticSolution, frontier_row, risk_measure
from .solve import (
    build_futures, nominal_first_stage, read_solution, solve_alone, solve_first_stage_fixed, stochastic_problem,
)
from .tie_break import plan_at_omega

#: The relative cost of the steps `decide` reports to `progress`, in the
#: report's unit (about one LP of the baseline): a future's build, its
#: wait-and-see solve (and its solve with the nominal first stage fixed, as
#: cheap), and an extensive-form solve per future it joins (omega = 1
#: solves twice: its tie-break). Measured on the baseline's 24
#: futures (report of issue 19): the LPs of sections 1-6 took 20 s, the
#: extensive forms 68 s (7 solves; warm starts make some 1 s, others 20-30 s).
BUILD_WEIGHT = 0.1
ALONE_WEIGHT = 0.1
SOLVE_WEIGHT_PER_FUTURE = 0.9
#: The same where the futures have lumpy builds (MIPs, section 7). Measured
#: on the baseline (24 futures, 894 integer columns; 2 shared cores at a load
#: of 2-4, three runs): the report's sections 1-7 (44.6 units) took 15-18 s,
#: about 0.4 s a unit; the extensive form 142-410 s at omega 0, 56-127 s at
#: 0.25, 73-103 s at 0.5, 116-127 s at 0.75 (about 100 s a solve: 10 a
#: future), the 24 wait-and-see MIPs 4-67 s (1 a future).
MIP_SOLVE_WEIGHT_PER_FUTURE = 10.0
MIP_ALONE_WEIGHT = 1.0
#: The report's unit per second (0.4 s a unit, as above): what a solve
#: stopped by a time limit weighs.
WEIGHT_PER_SECOND = 2.5


def solve_weight(futures: int, omega: float, mip: bool, time_limit: float | None = None) -> float:
    """What the solve of one omega weighs (omega 1 with its tie-break):
    its futures' share, or under `time_limit` the limit's worth if less
    (omega 1 under a limit: the limit for its plan, again for its tie-break)."""
    weight = futures * (MIP_SOLVE_WEIGHT_PER_FUTURE if mip else SOLVE_WEIGHT_PER_FUTURE)
    if time_limit is not None:
        weight = min(weight, time_limit * WEIGHT_PER_SECOND)
    return weight * (2 if omega == 1.0 else 1)


@dataclass
class Decision:
    """The plans by omega (StochasticSolution each) and the frontier over omega."""

    plans: dict[float, StochasticSolution]
    frontier: pd.DataFrame  # FRONTIER_COLUMNS, one row per omega


def decide_weight(futures: int, plans: Iterable[float], frontier: Iterable[float],
                  value_of_information: bool = True, mip: bool = False,
                  frontier_time_limit: float | None = None) -> float:
    """What `decide` reports to `progress` in all (see the weights above;
    `mip`: the extensive form has lumpy builds)."""
    plans = [float(w) for w in plans]
    omegas = set(plans) | {float(w) for w in frontier}
    weight = futures * BUILD_WEIGHT + sum(
        solve_weight(futures, w, mip, None if w in plans else frontier_time_limit) for w in omegas)
    if value_of_information:  # wait-and-see, and the nominal first stage: once for every omega
        weight += 2 * futures * (MIP_ALONE_WEIGHT if mip else ALONE_WEIGHT)
    return weight


def decide(
    instance: InstanceLike,
    plans: Iterable[float] = (0.0, 0.5),
    frontier: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    alpha: float | None = None,
    sample: Mapping | None = None,
    policies: Iterable = (),
    value_of_information: bool = True,
    progress: Callable[[float, str], None] | None = None,
    mip_gap: float | None = None,
    frontier_time_limit: float | None = None,
) -> Decision:
    """The plans at the omegas `plans` (with EVPI and VSS) and the frontier at
    `frontier`, from one extensive form. `progress(weight, label)` is called
    as steps finish (weights: `decide_weight`). `mip_gap`: the relative gap
    the extensive form's integer builds are proven to (default section 7's
    1e-6; a draft may take more).

    `frontier_time_limit`: the seconds a frontier-only omega (in `frontier`,
    not in `plans`) may take to find and prove its plan; omega 1 may take as
    long again for its tie-break, bounded by the least CVaR found
    (tie_break.py: under a limit omega 1 is first solved steered by the
    expected cost). The plans are always solved to the gap. Such a point's
    branch and cut begins from the plan of the omega solved before it (omega
    moves only the costs), so a point stopped by the limit keeps the best
    plan found, and the frontier's `mip_gap` says how far its objective is
    proven (0.0: to the gap asked; NaN: no plan)."""
    tick = progress or (lambda weight, label="": None)
    plans = [float(w) for w in plans]
    frontier = [float(w) for w in frontier]
    for w in plans + frontier:
        if not 0.0 <= w <= 1.0:
            raise InstanceError([Problem("omegas", f"expected numbers in [0, 1], got {w!r}")])
    problem = stochastic_problem(instance, alpha, None, sample, policies)
    count = len(problem.futures)
    with paused_garbage_collection():
        models = build_futures(problem, lambda n: tick(n * BUILD_WEIGHT, "building the futures"))
        form = ExtensiveForm(
            models, [f.probability for f in problem.futures], problem.uncertainty.alpha, 0.0, with_cvar=True,
            mip_gap=DEFAULT_MIP_GAP if mip_gap is None else float(mip_gap),
        )
    solutions: dict[float, StochasticSolution] = {}
    rows = []
    before = None  # the plan of the omega solved last: a start for the next
    for w in sorted(set(plans) | set(frontier)):
        limit = frontier_time_limit if w not in plans else None
        form.set_omega(w)
        outcome = plan_at_omega(form, limit, before)
        before = outcome.values if outcome.values is not None else before
        tick(solve_weight(count, w, form.is_mip, limit), f"the plan at omega {w:g}")
        if w in frontier:
            rows.append(frontier_row(form, outcome))
        if w in plans:
            at = replace(problem, uncertainty=problem.uncertainty.model_copy(update={"omega": w}))
            solutions[w] = read_solution(at, models, form, outcome)
    if value_of_information:
        add_values_of_information(solutions, problem, models, form, tick)
    return Decision(
        plans={w: solutions[w] for w in plans},
        frontier=pd.DataFrame(rows, columns=FRONTIER_COLUMNS),
    )


def add_values_of_information(solutions: dict, problem, models, form: ExtensiveForm, tick) -> None:
    """EVPI and VSS of each optimal plan (section 6): the wait-and-see optima
    once (a future alone has the same optimum whatever omega), the nominal
    first stage once, and each future's least cost with it fixed once
    (`solve_first_stage_fixed`: the same whatever omega)."""
    count = len(models)
    alone_weight = MIP_ALONE_WEIGHT if form.is_mip else ALONE_WEIGHT
    optimal = {w: s for w, s in solutions.items() if s.optimal}
    if not optimal:
        return
    alone = []
    for model in models:
        outcome = solve_alone(model)
        tick(alone_weight, "the wait-and-see solves")
        if outcome.status != "optimal":
            for solution in optimal.values():
                solution.message = f"a wait-and-see solve ended {outcome.status}: {outcome.message}"
            return
        alone.append(outcome.objective)
    probabilities = np.array([f.probability for f in problem.futures])
    for w, solution in optimal.items():
        solution.wait_and_see = risk_measure(np.array(alone), probabilities, form.alpha, w)
        solution.evpi = solution.objective - solution.wait_and_see
    nominal = nominal_first_stage(problem, form)
    fixed = solve_first_stage_fixed(form, nominal) if nominal is not None else None
    tick(count * alone_weight, "the nominal plan")
    for w, solution in optimal.items():
        if fixed is None:
            solution.message = "the nominal plan could not be solved: no VSS"
            continue
        if fixed.status != "optimal":
            solution.message = f"the extensive form with the nominal first stage ended {fixed.status}"
            continue
        solution.expected_value_plan = fixed.objective(form, w)
        solution.vss = solution.expected_value_plan - solution.objective
