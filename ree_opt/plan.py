"""One planning problem, built once and solved as often as needed.

file -> Instance -> scenario patch -> ModelData -> BuiltModel -> HiGHS -> Solution

A Plan also has *levers*: the numbers a sweep moves (a policy's share or
limit, cost, capacity and availability multipliers of facilities, demand
multipliers). A lever changes bounds, costs or coefficients on the kept
HiGHS object, so the next solve starts from the last basis instead of
rebuilding anything. Levers are absolute (relative to the built instance),
so points can be visited in any order.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .data import CLEAN, COVERED, ModelData, demanded_products, resolve, usable_capacity
from .instance import Instance, InstanceError, Problem
from .loading import load_instance
from .model import build_model
from .model.demand import DELIVERY, DEMAND, SHORTFALL
from .model.flows import BALANCE, CAPACITY, price_columns
from .model.investment import BUILD
from .model.policies import policy_kind
from .numerics import EntityNames, span_warnings
from .ranging import read_ranging
from .scenarios import apply_scenario
from .solution import Solution, build_solution
from .solver import DEFAULT_MIP_GAP, CompiledModel

InstanceLike = str | os.PathLike | Mapping | Instance


@dataclass
class PointResult:
    """What a sweep reads back after one solve."""

    status: str
    objective: float | None
    covered_t: float = float("nan")
    delivered_t: float = float("nan")
    unmet_t: float = float("nan")
    clean_price_usd_per_kg: dict | None = None
    share_cap_dual_musd_per_pct: float | None = None
    average_risk: float = float("nan")


def facilities_where(instance: Instance, where: Mapping | None) -> list[str]:
    """Ids of the facilities whose fields equal every key of `where`
    (compared as text, like a scenario's `where`); refused when none match."""
    where = dict(where or {})
    matched = [
        f.id for f in instance.facilities
        if all(str(getattr(f, key, None)) == str(value) for key, value in where.items())
    ]
    if not matched:
        raise InstanceError([Problem("where", f"matches no facility: {where}")])
    return matched


@contextmanager
def paused_garbage_collection():
    """Building allocates millions of small objects that all stay alive; the
    cyclic collector would walk the growing model again and again (it took
    two thirds of the build time). Reference counting still frees garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Plan:
    """An instance (with its scenario applied), its model and its solver."""

    def __init__(
        self,
        instance: InstanceLike,
        scenario: str | Sequence[str] | None = None,
        policies: Iterable = (),
        time_limit: float | None = None,
        open_facilities: Iterable[str] = (),
        mip_gap: float = DEFAULT_MIP_GAP,
    ):
        self.time_limit, self.mip_gap = time_limit, mip_gap
        self.base = load_instance(instance)
        self.scenario = scenario if isinstance(scenario, str) or scenario is None else ",".join(scenario)
        self.instance = apply_scenario(self.base, scenario, policies)
        with paused_garbage_collection():
            self.data: ModelData = resolve(self.instance, frozenset(open_facilities))
            self.model = build_model(self.data)
            self.compiled = CompiledModel(self.model, time_limit=time_limit, mip_gap=mip_gap)
            self._index_columns()
        self._span_warnings: list[str] | None = None

    # -- solving ---------------------------------------------------------------
    def solve(self, tie_break: bool = True, ranging: bool = True, solver: str = "highs") -> Solution:
        """The least-cost plan (then, with `tie_break`, the least covered
        among equally cheap ones); `ranging` reads the cost and capacity
        ranges at the cost-minimal solve (Solution.ranging). `solver` is
        HiGHS (the kept model, warm-started) or, for a second opinion, CBC
        (the same model written out, second_solver.py; no ranging: it reads
        HiGHS's basis)."""
        columns = self.covered_delivery_columns if tie_break else None
        if solver == "highs":
            outcome = self.compiled.solve(columns, at_optimum=read_ranging if ranging else None)
        elif solver == "cbc":
            from .second_solver import cbc_outcome

            outcome = cbc_outcome(self.compiled, columns, self.time_limit, self.mip_gap)
        else:
            raise InstanceError([Problem("solver", f"expected 'highs' or 'cbc', got {solver!r}")])
        self.last_mip_nodes = outcome.mip_nodes
        with paused_garbage_collection():
            solution = build_solution(self.data, self.compiled, outcome, self.scenario)
        solution.solver = solver
        solution.warnings = self.warnings()
        if self.compiled.is_mip and solution.objective is not None and not solution.message:
            solution.message = (
                f"lumpy expansions: the builds are the integer optimum's (relative gap {solution.mip_gap:.1e}); "
                "the plan, prices, binding rows and ranging are the LP's with those builds as given"
            )
        if solver == "cbc" and solution.optimal:
            solution.message = (
                "solved by CBC (the model written out as MPS): the tables are CBC's primal values, "
                "the marginal prices and binding rows CBC's LP duals; no ranging (it reads HiGHS's basis)"
            )
        return solution

    def solve_point(self, tie_break: bool = False, share_policy: int | None = None) -> PointResult:
        """Solve and read back only what a sweep row needs."""
        outcome = self.compiled.solve(self.covered_delivery_columns if tie_break else None)
        if outcome.status != "optimal":
            return PointResult(outcome.status, None)
        x, y = outcome.values, outcome.duals
        deliv = x[self._deliv_cols]
        result = PointResult(
            "optimal",
            outcome.objective,
            covered_t=float(deliv[self._deliv_covered].sum()),
            delivered_t=float(deliv.sum()),
            unmet_t=float(x[self._short_cols].sum()) if len(self._short_cols) else 0.0,
            clean_price_usd_per_kg={
                p: float(np.mean(np.max(y[rows], axis=0))) * 1000.0 for p, rows in self._clean_price_rows.items()
            },
        )
        if len(self._use_cols):
            used = x[self._use_cols]
            result.average_risk = float(used @ self._use_risk / used.sum()) if used.sum() > 1e-9 else 0.0
        if share_policy is not None:
            result.share_cap_dual_musd_per_pct = self.share_cap_dual(share_policy, x, y)
        return result

    def warnings(self) -> list[str]:
        """Number ranges wider than numerics.SPAN_LIMIT, in the instance's
        words, then HiGHS's own warnings so far (each once)."""
        if self._span_warnings is None:
            self._span_warnings = span_warnings(self.compiled.spans, EntityNames(self.data, self.compiled))
        return self._span_warnings + [f"HiGHS: {text}" for text in getattr(self.compiled.highs, "ree_warnings", [])]

    # -- levers ----------------------------------------------------------------
    def facilities_where(self, where: Mapping | None) -> list[str]:
        """Ids of the facilities whose fields equal every key of `where`."""
        return facilities_where(self.instance, where)

    def demand_where(self, where: Mapping | None) -> list[int]:
        where = dict(where or {})
        matched = [
            d.index for d in self.data.demand
            if all(str(getattr(d, k, None)) == str(v) for k, v in where.items())
        ]
        if not matched:
            raise InstanceError([Problem("where", f"matches no demand entry: {where}")])
        return matched

    def set_cost_factor(self, facility_ids: Iterable[str], factor: float) -> None:
        cols = np.concatenate([self._cost_cols[f] for f in facility_ids] or [np.zeros(0, dtype=np.int64)])
        if len(cols):
            costs = self.compiled.base_cost[cols] * factor
            self.compiled.cost[cols] = costs
            self.compiled.highs.changeColsCost(len(cols), cols.astype(np.int32), costs)

    def set_capacity_factor(self, facility_ids: Iterable[str], capacity: float = 1.0, availability: float = 1.0) -> None:
        for f_id in facility_ids:
            f = self.data.facility(f_id)
            rows, periods = self._capacity_rows[f_id]
            if not len(rows):
                continue
            share = f.availability[periods] * availability
            if np.any(share > 1 + 1e-12):
                raise InstanceError([Problem(f"facilities[{f_id}].availability", f"x {availability:g} goes above 1")])
            cap = usable_capacity(f.ramped_t[periods] * capacity, f.reserved_t[periods], share)
            self.compiled.highs.changeRowsBounds(
                len(rows), rows.astype(np.int32), np.full(len(rows), -np.inf), cap
            )

    def set_demand_factor(self, demand_indexes: Iterable[int], factor: float) -> None:
        for d_index in demand_indexes:
            rows, periods = self._demand_rows[d_index]
            if len(rows):
                quantity = self.data.demand[d_index].quantity_t[periods] * factor
                self.compiled.highs.changeRowsBounds(len(rows), rows.astype(np.int32), quantity, quantity)

    def set_policy_value(self, policy_index: int, value: float) -> None:
        """A new share, limit or budget for one policy, in place: in the
        coefficients of its rows (share and risk caps) or in their bound."""
        rows, cols, kind, members = self._policy_entries(policy_index)
        highs = self.compiled.highs
        if kind.coefficient is None:
            unique = np.unique(rows).astype(np.int32)
            highs.changeRowsBounds(len(unique), unique, np.full(len(unique), -np.inf), np.full(len(unique), value))
            return
        for row, col, member in zip(rows, cols, members):
            highs.changeCoeff(int(row), int(col), kind.coefficient(member, value))

    def share_cap_dual(self, policy_index: int, x: np.ndarray, y: np.ndarray) -> float:
        """d cost / d share of a share cap, USD million per percentage point
        (negative: loosening the cap saves). Each row reads
        covered - share x total <= 0, so d/d share = sum_r dual_r x total_r."""
        rows, cols, kind, _ = self._policy_entries(policy_index)
        if not len(rows):
            return 0.0
        total = np.zeros(self.compiled.row_count)
        np.add.at(total, rows, x[cols])
        unique = np.unique(rows)
        return float(np.sum(y[unique] * total[unique])) / 100.0

    def set_expansion_modules(self, facility_id: str, expansion: str, most: float | None) -> None:
        """At most `most` modules of one expansion in every decision period
        (0: the option is closed; None: back to the instance's count)."""
        keys, cols = self.compiled.columns_of(BUILD)
        picked = np.array([col for key, col in zip(keys, cols) if key[:2] == (facility_id, expansion)], dtype=np.int32)
        if not len(picked):
            return
        count = self.data.facility(facility_id)
        modules = next(e.modules for e in count.expansions if e.name == expansion)
        upper = np.full(len(picked), float(modules if most is None else most))
        self.compiled.highs.changeColsBounds(len(picked), picked, np.zeros(len(picked)), upper)

    # -- indexes ---------------------------------------------------------------
    def _index_columns(self) -> None:
        compiled = self.compiled
        keys, self._deliv_cols = compiled.columns_of(DELIVERY)
        self._deliv_covered = np.array([k[1] == COVERED for k in keys], dtype=bool)
        self.covered_delivery_columns = self._deliv_cols[self._deliv_covered]
        _, self._short_cols = compiled.columns_of(SHORTFALL)

        cost_cols: dict[str, list] = {f.id: [] for f in self.data.facilities}
        for (f_id, _), cols in price_columns(compiled).items():
            cost_cols[f_id].extend(cols.tolist())
        self._cost_cols = {f: np.array(c, dtype=np.int64) for f, c in cost_cols.items()}

        self._capacity_rows = self._rows_by_owner(CAPACITY, [f.id for f in self.data.facilities])
        self._demand_rows = self._rows_by_owner(DEMAND, [d.index for d in self.data.demand])

        # The clean balance rows of each demanded product: [makers x periods].
        clean: dict[str, dict[str, list]] = {}
        for (p, label, maker, t), row in zip(*compiled.rows_of(BALANCE)):
            if label == CLEAN:
                clean.setdefault(p, {}).setdefault(maker, [0] * self.data.period_count)[t] = row
        self._clean_price_rows = {
            p: np.array(list(clean[p].values()), dtype=np.int64)
            for p in demanded_products(self.instance)
            if p in clean
        }

        use_cols, use_risk = [], []
        for (p, t), by_maker in (self.model.uses or {}).items():
            for maker, variables in by_maker.items():
                use_cols += variables
                use_risk += [self.data.makers[maker][1]] * len(variables)
        self._use_cols = np.array(use_cols, dtype=np.int64)
        self._use_risk = np.array(use_risk, dtype=float)
        self._policy_cache: dict[int, tuple] = {}

    def _rows_by_owner(self, family, owners: list) -> dict:
        """owner -> (rows, periods) of a family keyed (owner, t)."""
        found: dict = {owner: ([], []) for owner in owners}
        for (owner, t), row in zip(*self.compiled.rows_of(family)):
            found[owner][0].append(row)
            found[owner][1].append(t)
        return {o: (np.array(r, dtype=np.int64), np.array(t, dtype=np.int64)) for o, (r, t) in found.items()}

    def _policy_entries(self, policy_index: int):
        """The rows, columns and members of one policy's coefficients, and its kind."""
        if policy_index in self._policy_cache:
            return self._policy_cache[policy_index]
        policy = self.instance.policies[policy_index]
        kind = policy_kind(policy.type)
        if kind.swept is None or kind.family is None:
            raise InstanceError([Problem(f"policies[{policy_index}]", f"a {policy.type} policy has no share to set")])
        terms, members = self.model.policy_members[kind.family.name]
        keys, family_rows = self.compiled.rows_of(kind.family)
        row_of = dict(zip(keys, family_rows))
        rows, cols, kinds = [], [], []
        for key, items in terms.items():
            if key[0] != policy_index or key not in row_of:
                continue
            for (_, col), member in zip(items, members[key]):
                rows.append(row_of[key])
                cols.append(col)
                kinds.append(member)
        entry = (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), kind, kinds)
        self._policy_cache[policy_index] = entry
        return entry


def solve(
    instance: InstanceLike,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    tie_break: bool = True,
    time_limit: float | None = None,
    solver: str = "highs",
    mip_gap: float = DEFAULT_MIP_GAP,
) -> Solution:
    """Least-cost sourcing plan of an instance (a path, a dict or an Instance).

    `scenario` names one of the instance's scenarios (or several, comma
    separated, applied in order); `policies` adds policies for this solve.
    `time_limit` is in seconds (status `time_limit` when reached); `solver`
    is "highs" or, for a second opinion, "cbc" (`pip install "ree-opt[cbc]"`).
    `mip_gap` is the relative gap to which lumpy expansions are solved
    (SPEC section 7; the builds are then fixed and the LP solved again for
    the prices and the reported plan).
    """
    return Plan(instance, scenario, policies, time_limit, mip_gap=mip_gap).solve(tie_break=tie_break, solver=solver)
