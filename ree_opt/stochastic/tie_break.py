"""The tie-break at omega = 1 (SPEC section 6, end).

At omega = 1 the objective weighs the tail alone, so among plans of equal
CVaR a solver may return one of needlessly high expected cost (the baseline
did: CVaR 14,785.5 at an expected 13,393.9, while omega = 0.999 reaches the
same CVaR at 11,320.1). The reported plan is therefore, among the plans of
optimal CVaR, one of least expected cost: a second solve bounds the CVaR
expression by its optimum and minimizes the expected cost, on the kept HiGHS
object, which is then restored. The objective (the CVaR optimum) and the duals
are the first solve's.
"""

from __future__ import annotations

import highspy
import numpy as np

from ..solver import Outcome, run_highs
from .extensive import ExtensiveForm

#: Relative slack given to the CVaR bound of the second solve (as the tie-break
#: of section 3 gives the cost bound).
CVAR_SLACK = 1e-9


def least_expected_cost_at_optimal_cvar(form: ExtensiveForm, outcome: Outcome) -> Outcome:
    """`outcome` of `form.solve()`; at omega = 1 (and optimal) the plan of
    least expected cost among those whose CVaR expression, eta + sum_s pi_s
    u_s / (1 - alpha), is within CVAR_SLACK x max(1, |optimum|) of the optimum.
    Any other omega, or a second solve that does not end optimal, returns
    `outcome` as it is."""
    if form.omega < 1.0 or not form.with_cvar or outcome.status != "optimal":
        return outcome
    highs = form.highs
    tail = form.weights(1.0)  # eta + E[u] / (1 - alpha): the CVaR expression's columns
    expected = form.weights(0.0)  # sum_s pi_s C_s
    columns = np.flatnonzero(tail)
    bound = outcome.objective + CVAR_SLACK * max(1.0, abs(outcome.objective))
    everything = np.arange(form.column_count, dtype=np.int32)
    highs.addRow(-highspy.kHighsInf, bound, len(columns), columns.astype(np.int32), tail[columns])
    highs.changeColsCost(form.column_count, everything, expected)
    try:
        status, _ = run_highs(highs)
        values = np.asarray(highs.getSolution().col_value, dtype=float) if status == "optimal" else None
    finally:
        highs.deleteRows(1, np.array([form.row_count], dtype=np.int32))
        highs.changeColsCost(form.column_count, everything, form.cost)
    if values is None:
        return outcome
    return Outcome("optimal", outcome.objective, values, outcome.duals, outcome.message, outcome.at_optimum)
