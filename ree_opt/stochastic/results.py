"""The StochasticSolution and its tables (SPEC section 6)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import resolve_series
from ..display import stochastic_html, stochastic_summary
from ..model.demand import SHORTFALL
from ..model.flows import STOCK_HELD
from ..solution import TOLERANCE_T, Solution, build_solution, empty_solution
from ..solver import Outcome
from .extensive import ExtensiveForm
from .future import FutureModel
from .futures import Future
from .offtakes import RESERVATION

FUTURE_COLUMNS = ["future", "scenario", "probability", "cost_musd", "shortfall_t"]
OFFTAKE_COLUMNS = ["facility", "period", "quantity_t", "fee_musd"]
STOCKPILE_COLUMNS = ["product", "label", "quantity_t"]
FUTURE_SHORTFALL_COLUMNS = ["future", "product", "period", "quantity_t"]
#: The risk frontier, a row per omega; `mip_gap`: how far the point's
#: objective is proven (0.0: to the gap asked; the relative gap where its
#: solve was stopped by a time limit with a plan found; NaN: no plan).
FRONTIER_COLUMNS = ["omega", "alpha", "objective_musd", "expected_cost_musd", "cvar_musd", "var_musd", "mip_gap"]


def value_at_risk(costs, probabilities, alpha: float) -> float:
    """The alpha-quantile of the costs: the least eta with P(C <= eta) >= alpha."""
    costs, probabilities = np.asarray(costs, dtype=float), np.asarray(probabilities, dtype=float)
    order = np.argsort(costs, kind="stable")
    reached = np.cumsum(probabilities[order])
    index = min(int(np.searchsorted(reached, alpha - 1e-12)), len(costs) - 1)
    return float(costs[order][index])


def conditional_value_at_risk(costs, probabilities, alpha: float) -> float:
    """CVaR_alpha = min_eta eta + 1/(1 - alpha) sum_s pi_s max(0, C_s - eta)
    (Rockafellar-Uryasev), attained at eta = VaR_alpha."""
    costs, probabilities = np.asarray(costs, dtype=float), np.asarray(probabilities, dtype=float)
    eta = value_at_risk(costs, probabilities, alpha)
    return float(eta + np.sum(probabilities * np.maximum(0.0, costs - eta)) / (1.0 - alpha))


def frontier_row(form: ExtensiveForm, outcome: Outcome) -> tuple:
    """One row of FRONTIER_COLUMNS at the form's omega, from its solve's
    `outcome`: the plan's numbers and the proven gap of its objective."""
    if outcome.values is None or outcome.status not in ("optimal", "time_limit"):
        return (form.omega, form.alpha, np.nan, np.nan, np.nan, np.nan, np.nan)
    costs = form.future_costs(outcome.values)
    return (
        form.omega, form.alpha, outcome.objective, float(form.probabilities @ costs),
        conditional_value_at_risk(costs, form.probabilities, form.alpha),
        value_at_risk(costs, form.probabilities, form.alpha),
        0.0 if outcome.status == "optimal" else float(outcome.mip_gap),
    )


def risk_measure(costs, probabilities, alpha: float, omega: float) -> float:
    """(1 - omega) E[C] + omega CVaR_alpha(C)."""
    expected = float(np.dot(probabilities, costs))
    return (1.0 - omega) * expected + omega * conditional_value_at_risk(costs, probabilities, alpha)


@dataclass
class StochasticSolution:
    """What to sign and stock now, and what it costs across futures (USD million)."""

    status: str
    objective: float | None  # (1 - omega) E[C] + omega CVaR_alpha(C)
    expected_cost: float | None
    cvar: float | None
    var: float | None
    futures: pd.DataFrame  # future, scenario, probability, cost_musd, shortfall_t
    offtakes: pd.DataFrame  # facility, period, quantity_t, fee_musd
    first_stage: Solution  # section 4's tables for the periods before `reveal`
    stockpile: pd.DataFrame  # product, label, quantity_t at the end of the last period before `reveal`
    vss: float | None = None
    evpi: float | None = None
    wait_and_see: float | None = None
    expected_value_plan: float | None = None  # EEV: the objective with the nominal first stage
    future_shortfall: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FUTURE_SHORTFALL_COLUMNS))
    alpha: float = 0.9
    omega: float = 0.0
    reveal: object = None
    instance_name: str = ""
    message: str = ""
    # The plan's first-stage column values, keyed by (component, key) of a
    # future's model, and the sample it was chosen on (None: every combination):
    # what `ree_opt.evaluate` fixes and re-draws.
    first_stage_values: dict = field(default_factory=dict)
    sample: dict | None = None

    @property
    def investments(self) -> pd.DataFrame:
        """The builds decided before `reveal` (SPEC section 7), shared by every future."""
        return self.first_stage.investments

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def worst_futures(self, count: int = 3) -> pd.DataFrame:
        """The costliest futures, dearest first."""
        return self.futures.sort_values("cost_musd", ascending=False, kind="stable").head(count)

    def summary(self) -> pd.Series:
        return pd.Series({
            "objective_musd": self.objective,
            "expected_cost_musd": self.expected_cost,
            "cvar_musd": self.cvar,
            "var_musd": self.var,
            "alpha": self.alpha,
            "omega": self.omega,
            "futures": len(self.futures),
            "wait_and_see_musd": self.wait_and_see,
            "evpi_musd": self.evpi,
            "expected_value_plan_musd": self.expected_value_plan,
            "vss_musd": self.vss,
        })

    def __repr__(self) -> str:
        return stochastic_summary(self)

    def _repr_html_(self) -> str:
        return stochastic_html(self)


class FirstStageView:
    """Future 0's columns and rows inside the extensive form, for
    `build_solution`: its tables then hold the first stage only (by each
    family's stage rule: the periods before `reveal`; reservations have
    their own table)."""

    def __init__(self, future: FutureModel, form: ExtensiveForm):
        self.model = future.model
        self.reveal = future.reveal
        self.placed = form.placements[0]
        self._row_start = {}
        start = 0
        for name, block in future.model.rows.items():
            self._row_start[name] = start
            start += len(block.keys)

    def columns_of(self, family):
        block = self.model.block(family)
        if block is None or family.stage != "by_period":
            return [], np.zeros(0, dtype=np.int64)
        first = family.first_stage(block.keys, self.reveal)
        keys = [key for key, take in zip(block.keys, first) if take]
        return keys, self.placed.columns[block.start + np.flatnonzero(first)]

    def rows_of(self, family):
        block = self.model.row_block(family)
        if block is None:
            return [], np.zeros(0, dtype=np.int64)
        start = self._row_start[family.name]
        first = family.first_stage(block.keys, self.reveal)
        rows = np.where(first, self.placed.rows[start : start + len(block.keys)], -1)
        return block.keys, rows.astype(np.int64)


def first_stage_solution(future: FutureModel, form: ExtensiveForm, outcome: Outcome) -> Solution:
    view = FirstStageView(future, form)
    solution = build_solution(future.data, view, outcome)
    solution.objective = float(form.first_cost @ outcome.values[form.first_columns]) - offtake_fees(future, form, outcome.values)
    solution.periods = solution.periods[: future.reveal]
    solution.message = "the plan before `reveal`, shared by every future; duals are the extensive form's"
    return solution


def offtake_fees(future: FutureModel, form: ExtensiveForm, values: np.ndarray) -> float:
    table = offtake_table(future, form, values)
    return float(table["fee_musd"].sum()) if len(table) else 0.0


def offtake_table(future: FutureModel, form: ExtensiveForm, values: np.ndarray) -> pd.DataFrame:
    block = future.model.block(RESERVATION)
    if block is None:
        return pd.DataFrame(columns=OFFTAKE_COLUMNS)
    data = future.data
    fees = {f.id: resolve_series(f.offtake.fee, data.labels) for f in data.instance.facilities if f.offtake}
    rows = []
    for (f_id, t), col in zip(block.keys, block.columns):
        quantity = float(values[form.placements[0].columns[col]])
        if quantity > TOLERANCE_T:
            rows.append((f_id, data.periods[t], quantity, quantity * fees[f_id][t] / 1000.0))
    return pd.DataFrame(rows, columns=OFFTAKE_COLUMNS)


def stockpile_table(future: FutureModel, form: ExtensiveForm, values: np.ndarray) -> pd.DataFrame:
    """Stock at the end of the last period before `reveal`, by product and label."""
    reveal = future.reveal
    if reveal == 0:
        return pd.DataFrame(columns=STOCKPILE_COLUMNS)
    keys, cols = future.model.columns_of(STOCK_HELD)
    totals: dict = {}
    for (p, label, _, t), col in zip(keys, cols):
        if t == reveal - 1:
            totals[(p, label)] = totals.get((p, label), 0.0) + float(values[form.placements[0].columns[col]])
    return pd.DataFrame(
        [(p, l, v) for (p, l), v in totals.items() if v > TOLERANCE_T], columns=STOCKPILE_COLUMNS
    )


def unmet_by_product(model: FutureModel, own: np.ndarray) -> dict:
    """(product, t) -> unmet tonnes, from a future's own column values."""
    keys, cols = model.model.columns_of(SHORTFALL)
    unmet: dict = {}
    for (d_index, t), value in zip(keys, own[cols]):
        if value > TOLERANCE_T:
            product = model.data.demand[d_index].product
            unmet[(product, t)] = unmet.get((product, t), 0.0) + float(value)
    return unmet


def future_tables(
    futures: list[Future], models: list[FutureModel], form: ExtensiveForm, values: np.ndarray, costs: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per future: its cost and unmet tonnes; and its unmet tonnes by product and period."""
    rows, short_rows = [], []
    for s, (future, model) in enumerate(zip(futures, models)):
        unmet = unmet_by_product(model, form.future_values(s, values))
        rows.append((future.index, future.scenario, future.probability, float(costs[s]), float(sum(unmet.values()))))
        short_rows += [(future.index, p, model.data.periods[t], v) for (p, t), v in unmet.items()]
    return pd.DataFrame(rows, columns=FUTURE_COLUMNS), pd.DataFrame(short_rows, columns=FUTURE_SHORTFALL_COLUMNS)


def failed(status: str, message: str, name: str, alpha: float, omega: float, futures: list[Future]) -> StochasticSolution:
    return StochasticSolution(
        status=status, objective=None, expected_cost=None, cvar=None, var=None,
        futures=pd.DataFrame(
            [(f.index, f.scenario, f.probability, np.nan, np.nan) for f in futures], columns=FUTURE_COLUMNS
        ),
        offtakes=pd.DataFrame(columns=OFFTAKE_COLUMNS),
        first_stage=empty_solution(status, message, name),
        stockpile=pd.DataFrame(columns=STOCKPILE_COLUMNS),
        alpha=alpha, omega=omega, instance_name=name, message=message,
    )
