"""The multi-cut L-shaped method (ree_opt.stochastic.decomposition, issue 17)
against hand-derived optima and the extensive form: its objective is a
plan's cost, its bound a valid lower bound, and both meet the optimum."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import quantity
from conftest import SPEC_EXAMPLE
from test_evaluate import spec_futures
from test_stochastic import licence_gamble, offtake_gamble

import ree_opt
from ree_opt.cli import main as ree_opt_main
from ree_opt.solver import highs_model, solve_highs
from ree_opt.stochastic.decomposition import decompose, main
from ree_opt.stochastic.twostage import KeptFuture, two_stage

A = pytest.approx


@pytest.mark.parametrize("case, omega, optimum, bought", [
    (licence_gamble(30.0), 0.0, 3.0, 100.0),  # hedge: 30 a + 55 (100 - a) falls with a
    (licence_gamble(60.0), 0.0, 5.5, 0.0),  # gamble: E = 60 a + 55 (100 - a) rises with a
    (licence_gamble(60.0), 0.5, 6.0, 100.0),  # CVaR's weight past 1/9 turns the gambler into a hedger
], ids=["hedge", "gamble", "gamble-cvar"])
def test_licence_gamble_meets_the_hand_derived_optimum(case, omega, optimum, bought):
    """The optima of tests/test_stochastic.py's docstrings (2 futures, the
    first stage: Australian oxide bought in 2026); with omega 0.5 eta is a
    master variable and the plan must hedge all 100 t."""
    result = decompose(two_stage(case, omega=omega), gap=1e-9)
    assert result.status == "optimal", result.message
    assert result.objective == A(optimum, rel=1e-7)
    assert result.bound <= optimum + 1e-7
    assert result.gap <= 1e-7
    solution = result.solution
    assert solution.objective == A(optimum, rel=1e-7)
    assert quantity(solution.first_stage.activity, facility="au", period=2026) == A(bought, abs=1e-6)


@pytest.mark.parametrize("take_or_pay, optimum, reserved", [(0.2, 5.7, 100.0), (1.0, 5.75, 0.0)])
def test_offtake_reservations_are_first_stage_and_bounded(take_or_pay, optimum, reserved):
    """tests/test_stochastic.py's offtake gamble: with take-or-pay 0.2 the
    buyer reserves 100 t (E 5.7); with 1.0 nothing (E 5.75). The reservation
    is a master variable bounded by its capacity (1,000 t)."""
    result = decompose(two_stage(offtake_gamble(take_or_pay)), gap=1e-9)
    assert result.status == "optimal", result.message
    assert result.objective == A(optimum, rel=1e-7)
    assert result.bound <= optimum + 1e-7
    offtakes = result.solution.offtakes
    assert (float(offtakes["quantity_t"].sum()) if len(offtakes) else 0.0) == A(reserved, abs=1e-6)
    assert result.solution.futures["cost_musd"].tolist() == A([1.1, 10.3] if take_or_pay == 0.2 else [1.5, 10.0])


@pytest.mark.parametrize("omega", [0.0, 0.5])
def test_the_spec_futures_meet_the_extensive_form(omega):
    """8 futures, an offtake with fee and spot: the L-shaped objective and
    bound close on the extensive form's optimum, and the report says what
    the extensive form's says about the plan's costs."""
    case = spec_futures()
    extensive = ree_opt.solve_stochastic(case, omega=omega, value_of_information=False)
    result = decompose(two_stage(case, omega=omega), gap=1e-7)
    assert result.status == "optimal", result.message
    assert result.bound <= extensive.objective * (1 + 1e-7)
    assert result.objective >= extensive.objective * (1 - 1e-7)
    assert result.objective == A(extensive.objective, rel=1e-6)
    solution = result.solution
    assert solution.objective == A(result.objective, rel=1e-12)
    assert solution.expected_cost == A(float(solution.futures["probability"] @ solution.futures["cost_musd"]))
    if omega == 0:
        assert solution.expected_cost == A(extensive.expected_cost, rel=1e-6)
    assert solution.futures[["future", "scenario", "probability"]].equals(
        extensive.futures[["future", "scenario", "probability"]])


def test_a_looser_gap_stops_sooner_with_a_certified_bound():
    """At --gap 5% the run stops as soon as the plan is within 5% of the
    master's bound; both still bracket the true optimum."""
    case = spec_futures()
    optimum = ree_opt.solve_stochastic(case, value_of_information=False).objective
    tight = decompose(two_stage(case), gap=1e-7)
    loose = decompose(two_stage(case), gap=0.05)
    assert loose.gap <= 0.05
    assert loose.iterations <= tight.iterations
    assert loose.bound <= optimum * (1 + 1e-9) <= loose.objective * (1 + 1e-9)


def master_vertices(two, lps, directions=6, seed=0):
    """Vertices of the master's polytope (the first-stage rows, and what the
    module counts and budgets imply for the first stage, within the
    variables' bounds), maximising random directions and their negatives;
    whole modules where builds are lumpy."""
    lp = lps[0]
    rows, row_lower, row_upper = lp.master_rows()
    lower = lp.col_lower[lp.first]
    upper = np.minimum(two.first_upper, lp.col_upper[lp.first])
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(directions):
        direction = rng.normal(size=len(lower))
        for sign in (1.0, -1.0):
            highs = highs_model(rows.tocsc(), sign * direction, lower, upper, row_lower, row_upper,
                                integrality=lp.first_integer if lp.first_integer.any() else None)
            outcome = solve_highs(highs, np.flatnonzero(lp.first_integer), duals=False)
            assert outcome.status == "optimal"
            found.append(outcome.values)
    return found


@pytest.mark.parametrize("case", [spec_futures(), "instances/baseline.yaml"], ids=["spec-8-futures", "baseline-24"])
def test_recourse_is_complete_on_the_first_stage_rows(case):
    """The claim of decomposition.py's docstring: every first stage that
    meets the first-stage rows leaves every future a second stage (only
    optimality cuts are needed). Checked at vertices of the master's
    polytope, every first-stage variable up to its bound (the baseline's
    first-stage builds among them: whole modules, the module counts met)."""
    root = Path(__file__).resolve().parent.parent
    two = two_stage(root / case if isinstance(case, str) else case)
    lps = [two.build(p) for p in range(len(two.futures))]
    vertices = master_vertices(two, lps)
    kept = [KeptFuture(lp) for lp in lps]
    for x in vertices:
        for future, model in zip(two.futures, kept):
            status, cost, gradient, _ = model.at(x)
            assert status == "optimal", f"future {future.index} has no second stage at a vertex"
            assert np.isfinite(cost) and np.all(np.isfinite(gradient))


def test_the_cut_is_a_valid_under_estimator():
    """C_s(y) >= C_s(x) + g (y - x) for plans x, y of the spec futures (the
    reduced costs of the fixed first stage are a subgradient)."""
    two = two_stage(spec_futures())
    lps = [two.build(p) for p in range(len(two.futures))]
    x, y = master_vertices(two, lps, directions=1)
    for lp in lps:
        at_x, at_y = KeptFuture(lp), KeptFuture(lp)
        _, cost_x, gradient, _ = at_x.at(x)
        _, cost_y, _, _ = at_y.at(y)
        assert cost_y >= cost_x + gradient @ (y - x) - 1e-7 * max(1.0, abs(cost_y))


def test_the_command_writes_the_plan_as_stochastic_does(tmp_path, capsys):
    """`python -m ree_opt.stochastic.decomposition --out DIR` writes the
    tables `ree-opt stochastic --out` writes, with the bound and gap in the
    summary; on the hedge they hold the same plan."""
    path = tmp_path / "hedge.yaml"
    path.write_text(yaml.safe_dump(licence_gamble(30.0)))
    assert main([str(path), "--gap", "1e-9", "--out", str(tmp_path / "decomposed")]) == 0
    screen = capsys.readouterr().out
    *_, objective, bound, gap = screen.strip().splitlines()
    assert objective == "objective: 3.000000" and bound.startswith("bound: ") and gap.startswith("gap: ")
    assert float(bound.split(": ")[1]) <= 3.0 + 1e-7
    assert ree_opt_main(["stochastic", str(path), "--out", str(tmp_path / "extensive"), "-q"]) == 0
    capsys.readouterr()
    ours = sorted(p.name for p in (tmp_path / "decomposed").iterdir())
    theirs = sorted(p.name for p in (tmp_path / "extensive").iterdir())
    assert ours == theirs
    summary = pd.read_csv(tmp_path / "decomposed" / "summary.csv", index_col=0).iloc[:, 0]
    assert float(summary["bound_musd"]) <= 3.0 + 1e-7 and float(summary["gap"]) <= 1e-7
    assert summary["method"] == "multi-cut L-shaped"
    for table in ("first_stage_activity", "futures", "stockpile"):
        left = pd.read_csv(tmp_path / "decomposed" / f"{table}.csv")
        right = pd.read_csv(tmp_path / "extensive" / f"{table}.csv")
        pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-6, atol=1e-6)


def test_the_command_refuses_an_instance_without_uncertainty(capsys):
    assert main([str(SPEC_EXAMPLE)]) == 2
    assert "no `uncertainty` section" in capsys.readouterr().err


MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))


@pytest.mark.mpi
@pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec: pip install -e '.[mpi]' (the mpich wheel carries it)")
def test_two_ranks_find_what_one_finds(tmp_path):
    """The futures spread over 2 MPI ranks: the same objective and bound."""
    import json

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_futures(omega=0.5)))
    run = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "-m", "ree_opt.stochastic.decomposition", str(path), "--gap", "1e-7", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    alone = decompose(two_stage(spec_futures(omega=0.5)), gap=1e-7)
    assert report["ranks"] == 2 and report["futures"] == 8
    assert report["objective"] == A(alone.objective, rel=1e-6)
    assert report["bound"] <= alone.objective * (1 + 1e-7)


def test_a_lumpy_first_stage_build_makes_the_master_a_mip():
    """tests/test_investment.py's build decided before a surge (2026-2027,
    reveal 2027): one module of 100 t, capex 2.5 charged in 2026, serving
    2027. Built: 3.0 (normal) or 6.0 (surge): E = 4.5; not built: 2.5 or
    7.5: E = 5.0. A fraction x of a module (the LP relaxation) would give
    E = 5 - 1.5 x up to x = 0.5: 4.25. The master is a MIP: whole modules,
    objective 4.5 and a bound of 4.5 (its dual bound), not the relaxation's
    4.25; with --relax the command solves the relaxation."""
    from test_ph import SURGE

    result = decompose(two_stage(SURGE), gap=1e-9)
    assert result.status == "optimal", result.message
    assert result.objective == A(4.5, rel=1e-9) and result.bound == A(4.5, rel=1e-7)
    assert result.solution.investments["modules"].tolist() == [1.0]
    assert result.solution.futures["cost_musd"].tolist() == A([3.0, 6.0])


def test_the_relaxation_of_a_lumpy_build_on_the_command_line(tmp_path, capsys):
    from test_ph import SURGE

    path = tmp_path / "surge.yaml"
    path.write_text(yaml.safe_dump(SURGE))
    assert main([str(path), "--gap", "1e-9", "--relax"]) == 0
    *_, objective, bound, gap = capsys.readouterr().out.strip().splitlines()
    assert objective == "objective: 4.250000" and float(bound.split(": ")[1]) == A(4.25, rel=1e-7)


def test_a_future_s_own_lumpy_builds_leave_a_gap_that_is_said():
    """The surge over 2026-2028 (50 t a year, tripled from 2027 in the
    surge), a module of capex 3.0 charged over 3 years, up to 2 modules,
    decided in 2026 (first stage) or 2027 (each future's own, serving 2028).
    The extensive form's optimum (a MIP) is the plan's cost; the cuts of a
    future's own builds come from its LP relaxation, so the bound is below
    it and the run ends `converged` with the gap it has, and says why."""
    import copy

    from test_ph import SURGE

    case = copy.deepcopy(SURGE)
    case["periods"] = [2026, 2027, 2028]
    case["facilities"][0]["expansions"][0].update(latest=2027, life_years=3, capex=3.0, modules=2)
    case["demand"][0]["quantity"] = {2026: 0, 2027: 50, 2028: 50}
    optimum = ree_opt.solve_stochastic(case, value_of_information=False).objective
    result = decompose(two_stage(case), gap=1e-9)
    assert result.status == "converged" and "own lumpy builds" in result.message
    assert result.objective == A(optimum, rel=1e-9)
    assert result.bound <= optimum + 1e-9 and result.gap > 1e-3
