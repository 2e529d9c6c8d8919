"""The tie-break at omega = 1 (SPEC section 6, end).

At omega = 1 the objective weighs the tail alone, so among plans of equal
CVaR a solver may return one of needlessly high expected cost (the baseline
did: CVaR 14,785.5 at an expected 13,393.9, while omega = 0.999 reaches the
same CVaR at 11,320.1). The reported plan is therefore, among the plans of
optimal CVaR, one of least expected cost: a second solve bounds the CVaR
expression by its optimum and minimizes the expected cost, on the kept HiGHS
object, which is then restored. The objective (the CVaR optimum) and the duals
are the first solve's.

Where the first solve was stopped by its time limit (a frontier point the
report gives a few minutes, decision.py) its best plan's CVaR c is proven
only within the gap of the optimum. The second solve then bounds the CVaR
expression by c, the least CVaR known: every plan it may return keeps that
guarantee (CVaR at most c, so within the same gap), and it takes, among
them, one of least expected cost. Skipping it would keep whatever expected
cost the first solve's plan happened to have, a point the frontier's
omega < 1 may dominate, which is what the tie-break is for.

With the CVaR alone weighed, HiGHS wanders among plans of nearly equal CVaR
and far apart expected costs, and on the baseline closes its tree in no
reasonable time: in 2 minutes it found CVaR 14,795.3 at an expected
13,758.4 (gap 0.36%), and the second solve found nothing cheaper in 2 more.
So under a time limit `least_cvar_in_time` first solves at omega 1 - STEER,
where the expected cost breaks near-ties (the baseline: proven in 79 s,
CVaR 14,792.9 at an expected 11,433.4), then at omega 1 from that plan for
the time left. The first solve's bound stays a bound on the least CVaR:
every plan's expected cost is at most its CVaR, so its weighted cost is at
most its CVaR, and the least weighted cost at most the least CVaR.
"""

from __future__ import annotations

import time
from dataclasses import replace

import highspy
import numpy as np

from ..solver import Outcome, run_highs
from .extensive import ExtensiveForm
from .results import conditional_value_at_risk

#: Relative slack given to the CVaR bound of the second solve (as the tie-break
#: of section 3 gives the cost bound).
CVAR_SLACK = 1e-9
#: The weight left on the expected cost by the first solve of omega 1 under a
#: time limit (omega 1 - STEER). It costs a proven gap of at most
#: STEER x (CVaR - expected cost) / CVaR where the exact solve does not close
#: (the baseline: 0.023%); 1e-4 steered too little (the baseline's solve did
#: not close in 135 s, a gap of 0.04%).
STEER = 1e-3


def least_cvar_in_time(form: ExtensiveForm, time_limit: float, start: np.ndarray | None = None) -> Outcome:
    """The first solve of omega 1 (`form`'s omega) within `time_limit`
    seconds, from `start` (a plan of the form): for a MIP, a solve at omega
    1 - STEER, then at omega 1 from its plan for the time left. Status
    `optimal` where the omega-1 solve closed its gap (its outcome as it is);
    else `time_limit` with the plan of least CVaR found, `objective` its
    CVaR, `mip_bound` the best bound on the least CVaR and `mip_gap` the
    relative gap between them. An LP is solved at omega 1 as it is."""
    if not form.is_mip or not form.with_cvar:
        return form.solve(time_limit, start)
    began = time.monotonic()
    form.set_omega(1.0 - STEER)
    try:
        steered = form.solve(time_limit, start)
    finally:
        form.set_omega(1.0)
    left = time_limit - (time.monotonic() - began)
    if steered.values is None:
        return form.solve(left, start) if left >= 1.0 else steered
    best, bound = steered, steered.mip_bound if steered.mip_bound is not None else -np.inf
    cvar = _cvar(form, steered.values)
    if left >= 1.0:
        exact = form.solve(left, steered.values)
        if exact.status == "optimal":
            return exact
        if exact.values is not None:
            bound = max(bound, exact.mip_bound if exact.mip_bound is not None else -np.inf)
            if _cvar(form, exact.values) < cvar:
                best, cvar = exact, _cvar(form, exact.values)
    gap = max(0.0, (cvar - bound) / max(1.0, abs(cvar))) if np.isfinite(bound) else np.inf
    return replace(
        best, status="time_limit", objective=cvar, mip_gap=gap, mip_bound=bound,
        message=(f"stopped at the time limit of {time_limit:g} s before it proved the least CVaR: the best plan "
                 f"found is reported, within {100 * gap:.3g}% of it"),
    )


def _cvar(form: ExtensiveForm, values: np.ndarray) -> float:
    return conditional_value_at_risk(form.future_costs(values), form.probabilities, form.alpha)


def least_expected_cost_at_optimal_cvar(form: ExtensiveForm, outcome: Outcome, time_limit: float | None = None) -> Outcome:
    """`outcome` of `form.solve()`; at omega = 1 the plan of least expected
    cost among those whose CVaR expression, eta + sum_s pi_s u_s / (1 - alpha),
    is within CVAR_SLACK x max(1, |c|) of c, `outcome`'s objective: the
    optimum, or the least CVaR found where the first solve was stopped by its
    time limit (status `time_limit` with a plan). The second solve may take
    `time_limit` seconds (None: the form's own) and begins from `outcome`'s
    plan; stopped with a plan of less expected cost, it gives that plan (its
    message says the expected cost is not proven least). Any other omega, a
    first solve without a plan, or a second solve without a better plan
    returns `outcome` as it is."""
    if form.omega < 1.0 or not form.with_cvar or outcome.values is None:
        return outcome
    highs = form.highs
    tail = form.weights(1.0)  # eta + E[u] / (1 - alpha): the CVaR expression's columns
    expected = form.weights(0.0)  # sum_s pi_s C_s
    columns = np.flatnonzero(tail)
    best = max(outcome.objective, float(tail @ outcome.values))  # the start within the bound, whatever its tolerances
    bound = best + CVAR_SLACK * max(1.0, abs(best))
    everything = np.arange(form.column_count, dtype=np.int32)
    highs.addRow(-highspy.kHighsInf, bound, len(columns), columns.astype(np.int32), tail[columns])
    highs.changeColsCost(form.column_count, everything, expected)
    try:
        if form.is_mip:
            start = highspy.HighsSolution()
            start.col_value = outcome.values.tolist()
            start.value_valid = True
            highs.setSolution(start)
        status, _ = run_highs(highs, time_limit, form.is_mip)
        found = status == "optimal" or (
            status == "time_limit" and form.is_mip and getattr(highs.getInfo(), "primal_solution_status", 0) == 2)
        values = np.asarray(highs.getSolution().col_value, dtype=float) if found else None
        gap = float(highs.getInfo().mip_gap) if found and status != "optimal" else 0.0
    finally:
        highs.deleteRows(1, np.array([form.row_count], dtype=np.int32))
        highs.changeColsCost(form.column_count, everything, form.cost)
    if values is None or expected @ values > expected @ outcome.values + CVAR_SLACK * max(1.0, abs(expected @ outcome.values)):
        return outcome
    message = outcome.message
    if status != "optimal":
        note = (f"the least expected cost among plans of that CVaR was not proven in the time allowed "
                f"(the plan found is within {100 * gap:.3g}% of it)")
        message = f"{message}; {note}" if message else note
    return replace(outcome, values=values, message=message)


def plan_at_omega(form: ExtensiveForm, time_limit: float | None = None, start: np.ndarray | None = None) -> Outcome:
    """The plan of `form` at its omega (`set_omega` first), as section 6
    reports it: with omega 1's tie-break. Under `time_limit` (seconds; None:
    the form's own, proven to the gap) a MIP's branch and cut begins from
    `start` (another omega's plan: omega moves only the costs), and omega 1
    is solved as `least_cvar_in_time` solves it. `decide` and
    `risk_frontier` solve every point this way."""
    start = start if time_limit is not None and form.is_mip else None
    if time_limit is not None and form.omega == 1.0:
        first = least_cvar_in_time(form, time_limit, start)
    else:
        first = form.solve(time_limit, start)
    return least_expected_cost_at_optimal_cvar(form, first, time_limit)
