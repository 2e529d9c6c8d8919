"""A time limit: HiGHS really stops (kTimeLimit), the Solution says so, and
the command line exits 1 with the message."""

import json
from pathlib import Path

import highspy
import pytest

import ree_opt
from ree_opt.cli import main
from ree_opt.plan import Plan

BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"


def test_highs_stops_at_the_time_limit():
    plan = Plan(BASELINE, time_limit=1e-9)
    solution = plan.solve()
    assert plan.compiled.highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    assert solution.status == "time_limit" and solution.objective is None
    assert solution.message.startswith("HiGHS stopped at the time limit of 1e-09 s")
    assert solution.activity.empty and solution.binding.empty


def test_a_generous_time_limit_changes_nothing():
    assert ree_opt.solve(BASELINE, time_limit=600).objective == pytest.approx(ree_opt.solve(BASELINE).objective, rel=1e-12)


@pytest.mark.parametrize("command", ["solve", "premium", "stochastic"])
def test_the_command_line_exits_1_with_the_message(command, capsys):
    assert main([command, str(BASELINE), "--time-limit", "1e-9"]) == 1
    err = capsys.readouterr().err
    assert "ended time_limit: HiGHS stopped at the time limit of 1e-09 s" in err
    assert "Traceback" not in err


def test_json_says_time_limit(capsys):
    assert main(["solve", str(BASELINE), "--time-limit", "1e-9", "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "time_limit" and payload["objective_musd"] is None


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_time_limit_that_is_not_a_positive_number_is_refused(value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["solve", str(BASELINE), "--time-limit", value])
    assert stop.value.code == 2
    assert f"--time-limit: expected a positive number of seconds, got '{value}'" in capsys.readouterr().err


def knapsack_highs(time_limit: float):
    """A MIP HiGHS does not close in a fraction of a second: 60 integers in
    0..5 and 60 continuous columns in [0, 5] under 30 random knapsack rows
    (x = 0 is a plan at once; with the integers fixed an LP is left)."""
    import numpy as np
    from scipy import sparse

    from ree_opt.solver import highs_model

    rng = np.random.default_rng(1)
    weights = rng.integers(1, 100, size=(30, 120)).astype(float)
    return highs_model(
        sparse.csc_matrix(weights), -rng.integers(1, 100, 120).astype(float), np.zeros(120), np.full(120, 5.0),
        np.full(30, -np.inf), weights.sum(axis=1) / 3, time_limit=time_limit,
        integrality=np.arange(120) < 60,
    )


def test_a_mip_stopped_at_its_limit_keeps_its_plan():
    """SPEC section 7: a time limit with a plan found gives status time_limit,
    the plan and its gap. The LP that prices the plan (builds fixed) runs
    after the branch and cut used up the limit: HiGHS measures an LP's limit
    on the object's clock of every run (ERGO-Code/HiGHS#1477), so on a kept
    object (the extensive form, solved at omega after omega) it stopped at
    once and the plan was lost. Each run now gets its own limit."""
    import numpy as np

    from ree_opt.solver import solve_highs

    highs = knapsack_highs(0.3)
    outcome = solve_highs(highs, np.arange(60))
    assert outcome.status == "time_limit"
    assert outcome.values is not None and outcome.objective < 0  # a plan better than nothing built
    assert 0 < outcome.mip_gap < 1
    assert outcome.message.startswith("HiGHS stopped at the time limit before it proved the builds optimal")
    # a second solve on the kept object gets its own 0.3 s again (it used to stop at once, with no plan)
    again = solve_highs(highs, np.arange(60))
    assert again.status == "time_limit" and again.values is not None
    assert highs.getRunTime() >= 0.55
