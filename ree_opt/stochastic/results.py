"""The StochasticSolution and its tables (SPEC section 6)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import resolve_series
from ..display import stochastic_html, stochastic_summary
from ..solution import TOLERANCE_T, Solution, build_solution, empty_solution
from ..solver import Outcome
from .extensive import ExtensiveForm
from .future import FIRST_STAGE_ALWAYS, FutureModel
from .futures import Future

FUTURE_COLUMNS = ["future", "scenario", "probability", "cost_musd", "shortfall_t"]
OFFTAKE_COLUMNS = ["facility", "period", "quantity_t", "fee_musd"]
STOCKPILE_COLUMNS = ["product", "label", "quantity_t"]
FUTURE_SHORTFALL_COLUMNS = ["future", "product", "period", "quantity_t"]
FRONTIER_COLUMNS = ["omega", "alpha", "objective_musd", "expected_cost_musd", "cvar_musd", "var_musd"]


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
    """Future 0's first-stage columns and rows inside the extensive form, for
    `build_solution`: its tables then hold the periods before `reveal` only."""

    def __init__(self, future: FutureModel, form: ExtensiveForm):
        self.model = future.model
        self.reveal = future.reveal
        self.placed = form.placements[0]
        self._row_start = {}
        start = 0
        for name, family in future.model.row_families.items():
            self._row_start[name] = start
            start += len(family.keys)

    def columns_of(self, component):
        keys, start = self.model.columns[component.name]
        picked = [
            (key, self.placed.columns[start + i]) for i, key in enumerate(keys)
            if component.name not in FIRST_STAGE_ALWAYS and key[-1] < self.reveal
        ]
        return [k for k, _ in picked], np.array([c for _, c in picked], dtype=np.int64)

    def rows_of(self, family: str):
        keys = self.model.row_families[family].keys if family in self.model.row_families else []
        start = self._row_start.get(family, 0)
        rows = np.array(
            [self.placed.rows[start + i] if key[-1] < self.reveal else -1 for i, key in enumerate(keys)],
            dtype=np.int64,
        )
        return keys, rows


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
    model, data = future.model, future.data
    if "reserve" not in model.columns:
        return pd.DataFrame(columns=OFFTAKE_COLUMNS)
    keys, start = model.columns["reserve"]
    fees = {f.id: resolve_series(f.offtake.fee, data.labels) for f in data.instance.facilities if f.offtake}
    rows = []
    for i, (f_id, t) in enumerate(keys):
        quantity = float(values[form.placements[0].columns[start + i]])
        if quantity > TOLERANCE_T:
            rows.append((f_id, data.periods[t], quantity, quantity * fees[f_id][t] / 1000.0))
    return pd.DataFrame(rows, columns=OFFTAKE_COLUMNS)


def stockpile_table(future: FutureModel, form: ExtensiveForm, values: np.ndarray) -> pd.DataFrame:
    """Stock at the end of the last period before `reveal`, by product and label."""
    reveal = future.reveal
    if reveal == 0:
        return pd.DataFrame(columns=STOCKPILE_COLUMNS)
    keys, start = future.model.columns["inv"]
    totals: dict = {}
    for i, (p, label, _, t) in enumerate(keys):
        if t == reveal - 1:
            totals[(p, label)] = totals.get((p, label), 0.0) + float(values[form.placements[0].columns[start + i]])
    return pd.DataFrame(
        [(p, l, v) for (p, l), v in totals.items() if v > TOLERANCE_T], columns=STOCKPILE_COLUMNS
    )


def future_tables(
    futures: list[Future], models: list[FutureModel], form: ExtensiveForm, values: np.ndarray, costs: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per future: its cost and unmet tonnes; and its unmet tonnes by product and period."""
    rows, short_rows = [], []
    for s, (future, model) in enumerate(zip(futures, models)):
        keys, start = model.model.columns["short"]
        own = form.future_values(s, values)[start : start + len(keys)]
        unmet: dict = {}
        for (d_index, t), value in zip(keys, own):
            if value > TOLERANCE_T:
                product = model.data.demand[d_index].product
                unmet[(product, t)] = unmet.get((product, t), 0.0) + float(value)
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
