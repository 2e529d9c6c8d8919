"""A second, independent look at the LP: the objective recomputed from the
reported tables and the raw inputs, and properties that hold on any instance."""

import pytest
from random_instances import random_instance

import ree_opt

SEEDS = range(12)


def recomputed_objective(data: dict, sol) -> float:
    """USD million from the tables and the instance's own (constant) numbers:
    paid activity (at least the take-or-pay floor from `online` on), holding,
    penalties, less sales."""
    facilities = {f["id"]: f for f in data["facilities"]}
    total = 0.0
    taken = sol.activity.groupby(["facility", "period"])["quantity_t"].sum()
    for f_id, f in facilities.items():
        online = f.get("online", data["periods"][0])
        for period in data["periods"]:
            floor = f.get("min_take", 0) if period >= online else 0
            paid = max(taken.get((f_id, period), 0.0), floor)
            total += paid * f["cost"] / 1000
    for row in sol.stock.itertuples():
        total += row.quantity_t * data["products"][row.product].get("holding_cost", 0) / 1000
    penalties = {(d["segment"], d["product"]): d.get("shortfall_penalty") for d in data["demand"]}
    for row in sol.shortfall.itertuples():
        penalty = penalties[(row.segment, row.product)] or data["products"][row.product]["shortfall_penalty"]
        total += row.quantity_t * penalty / 1000
    for row in sol.sales.itertuples():
        total -= row.quantity_t * data["products"][row.product]["sale_price"] / 1000
    return total


@pytest.mark.parametrize("seed", SEEDS)
def test_objective_equals_the_tables(seed):
    data = random_instance(seed)
    sol = ree_opt.solve(data)
    assert sol.status == "optimal"
    assert recomputed_objective(data, sol) == pytest.approx(sol.objective, rel=1e-6, abs=1e-6)
    assert float(sol.cost_breakdown.sum()) == pytest.approx(sol.objective, rel=1e-6, abs=1e-6)


def test_objective_equals_the_tables_on_the_spec_example(spec_example):
    data = ree_opt.load_instance(spec_example).model_dump(by_alias=True, exclude_none=True)
    sol = ree_opt.solve(data)
    assert recomputed_objective(data, sol) == pytest.approx(427.14375)


@pytest.mark.parametrize("seed", SEEDS)
def test_premium_is_never_negative(seed):
    premium = ree_opt.non_china_premium(random_instance(seed))
    assert premium.ok
    assert premium.premium_musd >= -1e-7
    assert premium.non_china.deliveries.query("label == 'covered'").empty


@pytest.mark.parametrize("seed", SEEDS)
def test_tightening_the_covered_share_never_lowers_cost(seed):
    data = random_instance(seed)
    costs = [
        ree_opt.solve(data, policies=[{"type": "max_covered_share", "share": s}], tie_break=False).objective
        for s in (1.0, 0.75, 0.5, 0.25, 0.0)
    ]
    assert all(b >= a - 1e-7 for a, b in zip(costs, costs[1:])), costs


@pytest.mark.parametrize("seed", SEEDS)
def test_tie_break_keeps_the_cost_and_delivers_least_covered(seed):
    data = random_instance(seed)
    plain = ree_opt.solve(data, tie_break=False)
    least = ree_opt.solve(data)
    assert least.objective == pytest.approx(plain.objective, rel=1e-9, abs=1e-9)
    covered = lambda s: float(s.deliveries.query("label == 'covered'")["quantity_t"].sum())  # noqa: E731
    assert covered(least) <= covered(plain) + 1e-6


@pytest.mark.parametrize("seed", [0, 2, 9])
def test_the_pyomo_model_gives_the_same_optimum(seed):
    """The rows as ordinary Pyomo constraints, compiled by Pyomo's own
    standard-form compiler and solved by HiGHS, give the same optimum as
    ree_opt's direct compilation."""
    import highspy
    import numpy as np
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from ree_opt.model import to_pyomo

    plan = ree_opt.Plan(random_instance(seed))
    ours = plan.solve(tie_break=False).objective
    model = to_pyomo(plan.model)
    form = LinearStandardFormCompiler().write(model, mixed_form=True)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    lower = [rhs if sense <= 0 else -inf for (_, sense), rhs in zip(form.rows, form.rhs)]
    upper = [rhs if sense >= 0 else inf for (_, sense), rhs in zip(form.rows, form.rhs)]
    matrix = form.A.tocsc()
    highs.passModel(_lp(form, matrix, lower, upper, highspy, np))
    highs.run()
    assert highs.getInfo().objective_function_value == pytest.approx(ours, rel=1e-9, abs=1e-9)


def _lp(form, matrix, lower, upper, highspy, np):
    lp = highspy.HighsLp()
    lp.num_col_ = len(form.columns)
    lp.num_row_ = len(form.rows)
    lp.col_cost_ = np.asarray(form.c.toarray()).ravel()
    lp.col_lower_ = np.array([v.lb or 0.0 for v in form.columns])
    lp.col_upper_ = np.full(len(form.columns), highspy.kHighsInf)
    lp.row_lower_ = np.array(lower, dtype=float)
    lp.row_upper_ = np.array(upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    lp.offset_ = float(form.c_offset[0])
    return lp
