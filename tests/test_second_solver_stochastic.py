"""The stochastic extensive form (SPEC section 6) written out as MPS and
solved by CBC agrees with HiGHS on the objective (1e-6 relative), risk
neutral and with CVaR rows."""

from pathlib import Path

import pytest
from test_stochastic import licence_gamble

from ree_opt.second_solver import solve_compiled
from ree_opt.stochastic.extensive import ExtensiveForm
from ree_opt.stochastic.solve import build_futures, stochastic_problem

BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"


def extensive_form(instance, omega=None, sample=None) -> ExtensiveForm:
    """What solve_stochastic builds, before it solves."""
    problem = stochastic_problem(instance, None, omega, sample, ())
    models = build_futures(problem)
    return ExtensiveForm(
        models, [f.probability for f in problem.futures], problem.uncertainty.alpha, problem.uncertainty.omega
    )


def agree(form: ExtensiveForm) -> None:
    ours, theirs = form.solve(), solve_compiled(form)
    assert ours.status == theirs.status == "optimal", theirs.message
    assert abs(ours.objective - theirs.objective) <= 1e-6 * max(1.0, abs(ours.objective))


@pytest.mark.parametrize("omega", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("au_cost", [30.0, 60.0])
def test_the_licence_gamble_agrees(omega, au_cost):
    agree(extensive_form(licence_gamble(au_cost=au_cost), omega))


@pytest.mark.parametrize("omega", [0.0, 0.5])
def test_four_sampled_futures_of_the_baseline_agree(omega):
    agree(extensive_form(BASELINE, omega, sample={"n": 4, "seed": 3}))


@pytest.mark.slow
@pytest.mark.parametrize("omega", [0.0, 0.5])
def test_every_future_of_the_baseline_agrees(omega):
    agree(extensive_form(BASELINE, omega))
