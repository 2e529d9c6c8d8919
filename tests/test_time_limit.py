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
