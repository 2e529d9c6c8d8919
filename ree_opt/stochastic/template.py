"""One kept model for many futures: the out-of-sample evaluation's fast path.

Futures differ only in numbers (SPEC section 6: capacities after ramp-up,
reservations and availability; costs; take-or-pay floors; demand and its
penalties; the policies a future adds), never in their supply chain. So one
model whose columns and rows are a superset of every future's can serve
them all, changed in place: the *template*. It is a future's model built
from the base data with

- every facility active in every period (a period a future's facility is
  not active in gets capacity 0: a slip, an exclusion),
- payment columns in every period (a future may add a take-or-pay floor;
  with paid >= activity and a cost >= 0, paying for activity through
  `paid` costs what activity itself would),
- a demand row in every period (a future may raise a quantity from 0),
- the rows of every policy any future adds (relaxed in the futures that do
  not add it),

and the plan's first stage fixed once. For each future the numbers that
follow its data are read through the family records (`cost_of`,
`floor_of`, `bounds_of`, model/families.py), set on the kept HiGHS model,
and HiGHS starts from the last future's basis: no rows are built per
future. Its optimum is the future's own (the template only adds columns
that are 0 or cost what they replace, and rows that do not bind), as
tests/test_evaluate.py checks against the futures' own models.
"""

from __future__ import annotations

import time

import numpy as np

from ..data import ModelData, resolve
from ..instance import Instance
from ..scenarios import apply_scenario, scenario_names
from ..branch_and_bound import KeptMIP
from ..solver import Outcome, form_highs, standard_form
from .future import FutureModel, future_data, future_model


def added_policies(base: Instance, uncertainty) -> list:
    """Every policy an outcome's scenarios add, each once, in order of events and outcomes."""
    found: list = []
    for event in uncertainty.events:
        for outcome in event.outcomes:
            names = scenario_names(outcome.scenario)
            if not names:
                continue
            for policy in apply_scenario(base, names).policies[len(base.policies):]:
                if policy not in found:
                    found.append(policy)
    return found


def template_data(base: Instance, reveal: int, tracked, extra: list) -> ModelData:
    """The base data with every facility active and paid for in every period,
    every demand row present and every added policy from `reveal` on."""
    instance = base.model_copy(update={"policies": list(base.policies) + list(extra)})
    data = resolve(instance, tracked=tracked)
    count = data.period_count
    for f in data.facilities:
        f.active = np.ones(count, dtype=bool)
        f.contracted = np.ones(count, dtype=bool)
    for entry in data.demand:
        entry.quantity_t = np.where(entry.quantity_t > 0, entry.quantity_t, 1.0)
    for policy in data.policies[len(base.policies):]:
        policy.periods = [t for t in policy.periods if t >= reveal]
    return data


class FutureTemplate:
    """The template of a stochastic instance, its first stage fixed to a plan,
    in a kept HiGHS model; `solve(data)` costs one future."""

    def __init__(self, base: Instance, base_data: ModelData, reveal: int, tracked, uncertainty, plan: dict):
        self.base, self.reveal, self.tracked = base, reveal, tracked
        self.dumped = base.model_dump(by_alias=True, exclude_none=True)  # each future's scenarios patch a copy
        self.extra = added_policies(base, uncertainty)
        data = template_data(base, reveal, tracked, self.extra)
        self.future: FutureModel = future_model(data, reveal)
        built = self.future.model
        form = standard_form(built)

        first = built.first_stage_columns(reveal)
        lower, upper = form.col_lower.copy(), form.upper.copy()
        placed = 0
        for col, key in zip(np.flatnonzero(first), built.stage_keys(first)):
            value = plan.get(key)
            if value is not None:
                lower[col] = upper[col] = max(value, lower[col])
                placed += 1
        self.unplaced = len(plan) - placed  # plan values with no column here (0 unless the plan is another instance's)
        self.highs = form_highs(form, lower, upper)
        self.highs.setOptionValue("output_flag", False)  # no warnings are read here: no log into Python per line
        self.highs_seconds = 0.0  # HiGHS's own time in `solve`, for the benchmark
        # the futures' builds after the reveal are integer: a MIP kept in place,
        # branched on each expansion's modules decided by each period
        self.mip = KeptMIP(self.highs, np.flatnonzero(form.integrality) if form.integrality is not None else [],
                           built.integer_groups())

        # What follows a future's data, by the families that say how: every
        # column's cost (a first-stage build's fixed cost follows the future's
        # online), second-stage floors, coefficients in other rows, row bounds.
        self.costs, self.floors, self.coefficients, self.rows = [], [], [], []
        for block in built.columns.values():
            family = block.family
            if family.cost_of is not None:
                self.costs.append((family.cost_of, block.keys, block.columns.astype(np.int32)))
            if family.coefficients_of is not None:
                self.coefficients.append((family.coefficients_of, block.keys, block.index()))
            own = ~first[block.start : block.start + len(block)]
            if family.floor_of is not None and own.any():
                cols = block.columns[own].astype(np.int32)
                self.floors.append((family.floor_of, [k for k, take in zip(block.keys, own) if take], cols, upper[cols]))
        self.row_index = {}
        start = 0
        for name, block in built.rows.items():
            self.row_index[name] = dict(zip(block.keys, range(start, start + len(block))))
            start += len(block)
        self.entries = self._coefficients(data)  # (row, column) -> coefficient now
        start = 0
        self.policy_rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for block in built.rows.values():
            rows = np.arange(start, start + len(block), dtype=np.int32)
            if block.family.bounds_of is not None:
                self.rows.append((block.family.bounds_of, block.keys, rows))
            if block.family.dims and block.family.dims[0] == "policy":
                for key, row, high in zip(block.keys, rows, block.upper):
                    if key[0] >= len(base.policies):
                        self.policy_rows.setdefault(key[0], ([], []))
                        self.policy_rows[key[0]][0].append(row)
                        self.policy_rows[key[0]][1].append(high)
            start += len(block)
        self.policy_rows = {i: (np.array(r, dtype=np.int32), np.array(h)) for i, (r, h) in self.policy_rows.items()}

    def _coefficients(self, data: ModelData) -> dict:
        found = {}
        for coefficients_of, keys, columns in self.coefficients:
            for key, family, row_key, value in coefficients_of(data, keys):
                row = self.row_index[family.name].get(row_key)
                if row is not None:
                    found[(row, columns[key])] = found.get((row, columns[key]), 0.0) + value
        return found

    def start_run(self) -> None:
        """Forget the last future (its basis and builds): a run's table is then
        the same whichever worker solves it after whichever run."""
        self.mip.forget()

    def future_data(self, base_data: ModelData, scenarios) -> ModelData:
        instance = apply_scenario(self.base, list(scenarios), dumped=self.dumped) if scenarios else self.base
        return future_data(base_data, instance, self.reveal, self.tracked, len(self.base.policies), reuse=True)

    def solve(self, data: ModelData) -> Outcome:
        """The future of `data` (from `future_data`) with the plan's first stage."""
        self.set_future(data)
        started = time.perf_counter()
        outcome = self.mip.solve()
        self.highs_seconds += time.perf_counter() - started
        return outcome

    def set_future(self, data: ModelData) -> None:
        """The kept model changed in place to the future of `data`."""
        highs = self.highs
        for cost_of, keys, cols in self.costs:
            highs.changeColsCost(len(cols), cols, cost_of(data, keys))
        for floor_of, keys, cols, upper in self.floors:
            highs.changeColsBounds(len(cols), cols, floor_of(data, keys), upper)
        if self.coefficients:
            entries = self._coefficients(data)
            for (row, col) in self.entries.keys() - entries.keys():
                highs.changeCoeff(int(row), int(col), 0.0)
            for (row, col), value in entries.items():
                if self.entries.get((row, col)) != value:
                    highs.changeCoeff(int(row), int(col), float(value))
            self.entries = entries
        for bounds_of, keys, rows in self.rows:
            low, high = bounds_of(data, keys)
            highs.changeRowsBounds(len(rows), rows, low, high)
        present = {self.extra.index(p.policy) + len(self.base.policies)
                   for p in data.policies[len(self.base.policies):] if p.policy in self.extra}
        for index, (rows, high) in self.policy_rows.items():
            bound = high if index in present else np.full(len(rows), np.inf)
            highs.changeRowsBounds(len(rows), rows, np.full(len(rows), -np.inf), bound)
