"""The extensive form: every future's model joined into one HiGHS model.

Columns: the first stage once (future 0's, which every future shares), then
each future's own columns, then (with CVaR) eta and one u per future.
Rows: the first-stage rows once (periods before `reveal` read only
first-stage columns), each future's other rows, and (with CVaR)

    cvar[s]:  u_s + eta - C_s(x) >= 0

Objective (USD million):

    (1 - omega) sum_s pi_s C_s + omega (eta + 1/(1 - alpha) sum_s pi_s u_s)

where C_s is the future's whole cost (first stage included). The weights
are costs on the kept HiGHS object, so omega moves in place (risk frontier)
and the first stage can be fixed in place (the nominal plan, for VSS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..solver import DEFAULT_MIP_GAP, Outcome, StandardForm, highs_model, solve_highs, standard_form
from .future import FutureModel


#: From this many futures on the extensive form is solved by interior point
#: (HiGHS `solver` "ipm", with crossover), below by HiGHS's choice (simplex):
#: on the rich baseline (benchmarks/futures.py) simplex and IPM are even at
#: 10 futures and IPM is 4x faster at 100.
IPM_FROM = 50


@dataclass
class FutureColumns:
    """Where one future's columns sit in the extensive form."""

    columns: np.ndarray  # global column of each of the future's own columns
    cost: np.ndarray  # the future's cost per own column (USD million per unit)
    rows: np.ndarray  # global row of each of its rows (-1: a first-stage row kept once, from future 0)


class ExtensiveForm:
    def __init__(
        self,
        futures: list[FutureModel],
        probabilities,
        alpha: float,
        omega: float,
        with_cvar: bool | None = None,
        time_limit: float | None = None,
        method: str | None = None,
        mip_gap: float = DEFAULT_MIP_GAP,
    ):
        self.futures = futures
        self.time_limit, self.mip_gap = time_limit, mip_gap
        self.probabilities = np.asarray(probabilities, dtype=float)
        self.alpha, self.omega = float(alpha), float(omega)
        self.with_cvar = omega > 0 if with_cvar is None else with_cvar
        reveal = futures[0].reveal
        self.forms: list[StandardForm] = []

        first = futures[0].first_stage_columns()
        self.first_local = np.flatnonzero(first)  # future 0's first-stage columns, in order
        self.first_index = {int(c): i for i, c in enumerate(self.first_local)}  # future 0's column -> first-stage index
        first_keys = futures[0].model.stage_keys(first)
        n_first = len(self.first_local)
        next_col, next_row = n_first, 0
        self.placements: list[FutureColumns] = []
        blocks, lower, upper, col_lower, col_upper, integer = [], [], [], [], [], []
        col_lower_first = col_upper_first = integer_first = None
        for s, future in enumerate(futures):
            form = future.form or standard_form(future.model)
            self.forms.append(form)
            mask = first if s == 0 else future.first_stage_columns()
            if s and future.model.stage_keys(mask) != first_keys:
                raise RuntimeError("futures differ before `reveal` (a bug in ree_opt: please report it)")
            nrow, ncol = form.shape
            columns = np.empty(ncol, dtype=np.int64)
            columns[mask] = np.arange(n_first)
            own = np.flatnonzero(~mask)
            columns[own] = next_col + np.arange(len(own))
            next_col += len(own)
            integrality = form.integrality if form.integrality is not None else np.zeros(ncol, dtype=bool)
            if s == 0:
                col_lower_first, col_upper_first = form.col_lower[mask], form.upper[mask]
                integer_first = integrality[mask]
            col_lower.append(form.col_lower[own])
            col_upper.append(form.upper[own])
            integer.append(integrality[own])

            keep = np.ones(nrow, dtype=bool) if s == 0 else ~future.first_stage_rows()
            rows = np.full(nrow, -1, dtype=np.int64)
            rows[keep] = next_row + np.arange(int(keep.sum()))
            next_row += int(keep.sum())
            coo = form.matrix.tocoo()
            kept = keep[coo.row]
            blocks.append((rows[coo.row[kept]], columns[coo.col[kept]], coo.data[kept]))
            lower.append(form.row_lower[keep])
            upper.append(form.row_upper[keep])
            self.placements.append(FutureColumns(columns, form.cost, rows))

        self.first_columns = np.arange(n_first)
        # A first-stage column's cost is the same in every future, but for a
        # build's fixed cost where a future delays the facility (section 7):
        # then the expected cost of the first stage weighs each future's.
        first_costs = [placed.cost[placed.columns < n_first] for placed in self.placements]
        order = [placed.columns[placed.columns < n_first] for placed in self.placements]
        by_future = [cost[np.argsort(cols)] for cost, cols in zip(first_costs, order)]
        self.first_cost = self.forms[0].cost[self.first_local]
        self.first_cost_varies = any(not np.array_equal(c, self.first_cost) for c in by_future)
        if self.first_cost_varies:
            self.first_cost = np.sum([pi * c for pi, c in zip(self.probabilities, by_future)], axis=0) / self.probabilities.sum()
        count = len(futures)
        self.eta = next_col if self.with_cvar else None
        self.u = next_col + 1 + np.arange(count) if self.with_cvar else np.zeros(0, dtype=np.int64)
        ncol = next_col + (1 + count if self.with_cvar else 0)
        self.column_count, self.scenario_row_count = ncol, next_row

        if self.with_cvar:
            for s, placed in enumerate(self.placements):
                nonzero = np.flatnonzero(placed.cost)
                rows = np.full(len(nonzero) + 2, next_row + s, dtype=np.int64)
                cols = np.concatenate([placed.columns[nonzero], [self.eta, self.u[s]]])
                vals = np.concatenate([-placed.cost[nonzero], [1.0, 1.0]])
                blocks.append((rows, cols, vals))
            lower.append(np.zeros(count))
            upper.append(np.full(count, np.inf))
            next_row += count
        self.row_count = next_row

        rows = np.concatenate([b[0] for b in blocks])
        cols = np.concatenate([b[1] for b in blocks])
        vals = np.concatenate([b[2] for b in blocks])
        matrix = sparse.csc_matrix((vals, (rows, cols)), shape=(next_row, ncol))
        matrix.sum_duplicates()
        del rows, cols, vals, blocks
        cvar_columns = 1 + count if self.with_cvar else 0
        self.col_lower = np.concatenate(
            [col_lower_first] + col_lower + ([np.array([-np.inf]), np.zeros(count)] if self.with_cvar else [])
        )
        self.col_upper = np.concatenate([col_upper_first] + col_upper + [np.full(cvar_columns, np.inf)])
        integrality = np.concatenate([integer_first] + integer + [np.zeros(cvar_columns, dtype=bool)])
        self.integer_columns = np.flatnonzero(integrality)
        self.cost = self.weights(self.omega)
        self.highs = highs_model(
            matrix, self.cost, self.col_lower, self.col_upper,
            np.concatenate(lower), np.concatenate(upper), time_limit,
            integrality=integrality if len(self.integer_columns) else None,
            mip_gap=mip_gap if len(self.integer_columns) else None,
        )
        self.method = method or ("ipm" if len(futures) >= IPM_FROM else "choose")
        self.highs.setOptionValue("solver", self.method)

    # -- the objective ---------------------------------------------------------
    def weights(self, omega: float) -> np.ndarray:
        """Column costs of (1 - omega) E[C] + omega (eta + E[u] / (1 - alpha))."""
        cost = np.zeros(self.column_count)
        # first-stage columns: the same cost in every future, probabilities sum to 1
        cost[self.first_columns] = (1.0 - omega) * self.first_cost * self.probabilities.sum()
        for pi, placed in zip(self.probabilities, self.placements):
            own = placed.columns >= len(self.first_columns)
            cost[placed.columns[own]] += (1.0 - omega) * pi * placed.cost[own]
        if self.with_cvar:
            cost[self.eta] = omega
            cost[self.u] = omega * self.probabilities / (1.0 - self.alpha)
        return cost

    def set_omega(self, omega: float) -> None:
        if omega > 0 and not self.with_cvar:
            raise ValueError("this extensive form was built without CVaR rows")
        self.omega = float(omega)
        self.cost = self.weights(omega)
        self.highs.changeColsCost(self.column_count, np.arange(self.column_count, dtype=np.int32), self.cost)

    # -- the first stage -------------------------------------------------------
    def fix_first_stage(self, values: np.ndarray | None) -> None:
        """Fix the first-stage columns to `values` (None: free them again)."""
        cols = self.first_columns.astype(np.int32)
        if values is None:
            lower, upper = self.col_lower[self.first_columns], self.col_upper[self.first_columns]
        else:
            lower = upper = np.maximum(np.asarray(values, dtype=float), self.col_lower[self.first_columns])
        self.highs.changeColsBounds(len(cols), cols, lower, upper)

    # -- solving ---------------------------------------------------------------
    @property
    def is_mip(self) -> bool:
        return len(self.integer_columns) > 0

    def solve(self, time_limit: float | None = None, start: np.ndarray | None = None) -> Outcome:
        """The one solve path (solver.py): a MIP where builds are lumpy.
        `time_limit`: seconds for this solve (None: the form's own);
        `start`: a plan of the form (any omega's: omega moves only the costs)
        the branch and cut begins from."""
        return solve_highs(self.highs, self.integer_columns, time_limit=time_limit, start=start)

    def future_costs(self, values: np.ndarray) -> np.ndarray:
        """C_s of every future (USD million)."""
        return np.array([placed.cost @ values[placed.columns] for placed in self.placements])

    def future_values(self, s: int, values: np.ndarray) -> np.ndarray:
        """The future's own column values (its model's column order)."""
        return values[self.placements[s].columns]
