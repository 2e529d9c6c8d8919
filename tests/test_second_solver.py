"""A second solver: the model written out as MPS and solved by CBC agrees
with HiGHS on the objective (1e-6 relative, floored at USD 1 = 1e-6 USD
million), on random instances and on every shipped instance and scenario,
with and without the non-China cap; CBC's duals are a dual solution of the
same LP; `solve(..., solver="cbc")` builds its tables from CBC's values."""

from pathlib import Path

import numpy as np
import pytest

import ree_opt
from ree_opt.plan import Plan
from ree_opt.second_solver import cbc_path, read_solution, solve_compiled

from random_instances import random_instance

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "instances").glob("*.yaml")) + [ROOT / "tests" / "instances" / "spec_example.yaml"]
NON_CHINA = {"type": "max_covered_share", "share": 0.0}
RELATIVE = 1e-6


def agree(plan: Plan) -> float:
    """HiGHS's and CBC's optimum of one built model; their relative difference."""
    ours = plan.compiled.solve()
    theirs = solve_compiled(plan.compiled)
    assert ours.status == theirs.status == "optimal", (ours.message, theirs.message)
    gap = abs(ours.objective - theirs.objective) / max(1.0, abs(ours.objective))
    assert gap <= RELATIVE, (ours.objective, theirs.objective)
    return gap


def shipped_cases(slow: bool):
    for path in SHIPPED:
        is_slow = "quarterly" in path.name
        if is_slow != slow:
            continue
        instance = ree_opt.load_instance(path)
        for scenario in [None] + list(instance.scenarios):
            yield pytest.param(path, scenario, id=f"{path.stem}[{scenario or 'as is'}]")


def test_cbc_is_installed():
    assert Path(cbc_path()).exists()


@pytest.mark.parametrize("seed", range(25))
def test_random_instances_agree(seed):
    instance = random_instance(seed)
    agree(Plan(instance))
    agree(Plan(instance, policies=[NON_CHINA]))


@pytest.mark.parametrize("path, scenario", list(shipped_cases(slow=False)))
def test_shipped_instances_and_scenarios_agree(path, scenario):
    plan = Plan(path, scenario)
    agree(plan)
    agree(Plan(plan.base, scenario, [NON_CHINA]))


@pytest.mark.slow
@pytest.mark.parametrize("path, scenario", list(shipped_cases(slow=True)))
def test_quarterly_instance_and_scenarios_agree(path, scenario):
    plan = Plan(path, scenario)
    agree(plan)
    agree(Plan(plan.base, scenario, [NON_CHINA]))


def test_cbc_duals_are_a_dual_solution_of_the_same_lp():
    """Strong duality with CBC's row duals y: reduced costs c - A'y >= 0 on the
    columns (all >= their floor, no upper bound), and the dual objective, each
    row at the bound its dual's sign selects, equals the optimum."""
    plan = Plan(ROOT / "instances" / "toy.yaml")
    result = solve_compiled(plan.compiled)
    lp = plan.compiled.highs.getLp()
    matrix = np.zeros((lp.num_row_, lp.num_col_))
    starts, index, value = lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_
    for col in range(lp.num_col_):
        for k in range(starts[col], starts[col + 1]):
            matrix[index[k], col] = value[k]
    y = result.duals
    reduced = np.asarray(lp.col_cost_) - matrix.T @ y
    assert reduced.min() >= -1e-6
    lower, upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    priced = np.abs(y) > 1e-12  # a priced row sits at the bound its dual's sign selects (finite)
    bound = np.where(y[priced] > 0, lower[priced], upper[priced])
    assert np.isfinite(bound).all()
    dual_objective = float(np.sum(y[priced] * bound))
    dual_objective += float(reduced @ np.asarray(lp.col_lower_))
    assert dual_objective == pytest.approx(result.objective, rel=1e-7)
    assert np.abs(y).max() > 0  # some rows price something


def test_solve_with_cbc_reports_cbc_plan_and_prices():
    highs = ree_opt.solve(ROOT / "tests" / "instances" / "spec_example.yaml")
    cbc = ree_opt.solve(ROOT / "tests" / "instances" / "spec_example.yaml", solver="cbc")
    assert cbc.optimal and cbc.solver == "cbc" and highs.solver == "highs"
    assert "CBC" in cbc.message and "duals" in cbc.message
    assert cbc.objective == pytest.approx(highs.objective, rel=1e-9)
    # The tie-break gives both the least covered deliveries (SPEC section 3's tolerance).
    covered = lambda s: s.covered_share["covered_t"].sum()  # noqa: E731
    assert covered(cbc) == pytest.approx(covered(highs), abs=0.01, rel=1e-3)
    assert cbc.cost_breakdown.sum() == pytest.approx(cbc.objective, rel=1e-7)
    assert list(cbc.binding.columns) == list(highs.binding.columns)


def test_an_unknown_solver_is_bad_input():
    with pytest.raises(ree_opt.InstanceError, match="solver: expected 'highs' or 'cbc', got 'gurobi'"):
        ree_opt.solve(ROOT / "instances" / "toy.yaml", solver="gurobi")


def test_cbc_statuses_are_read(tmp_path):
    solution = tmp_path / "model.sol"
    solution.write_text("Infeasible - objective value 0.00000000\n      0 r0   1   0\n")
    assert read_solution(solution, 1, 0).status == "infeasible"
    solution.write_text("Stopped on time - objective value 12.5\n")
    assert read_solution(solution, 1, 1).status == "time_limit"
    solution.write_text("Optimal - objective value 3.50000000\n      0 r0  2  -1.5\n**    0 c0  2  0\n")
    result = read_solution(solution, 1, 1)
    assert (result.objective, result.duals.tolist(), result.values.tolist()) == (3.5, [-1.5], [2.0])


def test_cbc_stops_at_its_time_limit():
    solution = ree_opt.solve(ROOT / "instances" / "baseline.yaml", solver="cbc", time_limit=1e-9)
    assert solution.status == "time_limit"
    assert solution.message.startswith("CBC stopped at the time limit of 1e-09 s")
    assert solution.activity.empty


def test_the_command_line_solves_with_cbc(capsys):
    import json

    from ree_opt.cli import main

    toy = str(ROOT / "instances" / "toy.yaml")
    assert main(["solve", toy, "--json"]) == 0
    highs = json.loads(capsys.readouterr().out)
    assert main(["solve", toy, "--json", "--solver", "cbc"]) == 0
    cbc = json.loads(capsys.readouterr().out)
    assert cbc["status"] == "optimal" and cbc["message"].startswith("solved by CBC")
    assert cbc["objective_musd"] == pytest.approx(highs["objective_musd"], rel=1e-9)


def test_without_cbc_the_command_line_says_how_to_install_it(monkeypatch, capsys):
    from ree_opt import second_solver
    from ree_opt.cli import main

    monkeypatch.setattr(second_solver.os.path, "isfile", lambda path: False)
    monkeypatch.setattr(second_solver.shutil, "which", lambda name: None)
    assert main(["solve", str(ROOT / "instances" / "toy.yaml"), "--solver", "cbc"]) == 1
    err = capsys.readouterr().err
    assert 'the second solver, CBC, is not installed: pip install "ree-opt[cbc]"' in err
    assert "unexpected" not in err


@pytest.mark.parametrize("seed", range(6))
def test_cbc_agrees_on_the_integer_builds(seed):
    """Lumpy expansions make a MIP: CBC's branch and cut (to the same gap),
    the builds fixed and the LP solved again, gives HiGHS's optimum and
    builds (tests/test_investment_properties.py's random expansions)."""
    from test_investment_properties import with_expansions

    instance = with_expansions(seed, lumpy=True)
    ours = ree_opt.solve(instance)
    theirs = ree_opt.solve(instance, solver="cbc")
    assert ours.status == theirs.status == "optimal", theirs.message
    assert abs(ours.objective - theirs.objective) <= RELATIVE * max(1.0, abs(ours.objective))
    if not ours.investments.empty or not theirs.investments.empty:
        assert set(zip(ours.investments["facility"], ours.investments["modules"])) == set(
            zip(theirs.investments["facility"], theirs.investments["modules"])
        ) or abs(ours.objective - theirs.objective) <= 1e-9
