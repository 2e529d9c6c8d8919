"""omega = 1 (SPEC section 6, end): the reported plan is, among the plans of
optimal CVaR, one of least expected cost, so the frontier's last point is not
dominated by omega < 1."""

import pytest
from builders import demand, facility, instance

import ree_opt

A = pytest.approx


def embargo_tail():
    """Oxide from CN at 10 USD/kg with a 3-month lead (75% of a year's output
    in-year, 25% the next; output due after 2027 is lost) or from AU at 50
    USD/kg, no lead; 100 t a year each; 100 t wanted in 2026 and in 2027,
    penalty 100 USD/kg. With probability 0.1 China is embargoed from 2027
    (reveal). alpha 0.9: CVaR is the embargo future's cost.

    2026 (shared): 100 t of CN activity (1.0) lands 75 t in 2026 and 25 t in
    2027; AU fills 2026's other 25 t (1.25). Embargoed 2027: AU 75 t (3.75),
    C_embargo = 6.0 = CVaR*. Normal 2027: 100 t of CN activity lands 75 t
    (1.0), C_normal = 3.25. E = 0.9 x 3.25 + 0.1 x 6.0 = 3.525.

    At omega = 1 the normal future's cost does not enter the objective while
    it stays at or below 6.0: a plan that leaves 27.5 t unmet there (penalty
    2.75) has the same CVaR at an expected cost of 6.0, and HiGHS returns
    that one without the second solve. The reported plan must be the 3.525 one."""
    return instance(
        [facility("cn", "CN", 10, 100, lead_time_months=3), facility("au", "AU", 50, 100)],
        [demand(100)],
        periods=[2026, 2027],
        scenarios={"embargo": {"set": {"cn": {"availability": 0}}}},
        uncertainty={"alpha": 0.9, "omega": 1.0, "events": [
            {"name": "embargo", "outcomes": [{"probability": 0.9}, {"scenario": "embargo", "probability": 0.1}]},
        ]},
    )


def test_omega_one_reports_the_least_expected_cost_among_cvar_optimal_plans():
    sol = ree_opt.solve_stochastic(embargo_tail(), value_of_information=False)
    assert sol.objective == A(6.0)
    assert sol.cvar == A(6.0)
    assert sol.expected_cost == A(3.525)
    assert sol.futures["cost_musd"].tolist() == A([3.25, 6.0])


def test_omega_one_is_not_dominated_by_omega_just_below_it():
    frontier = ree_opt.risk_frontier(embargo_tail(), omegas=[0.0, 0.999, 1.0]).set_index("omega")
    assert frontier.loc[1.0, "cvar_musd"] == A(frontier.loc[0.999, "cvar_musd"], rel=1e-9)
    assert frontier.loc[1.0, "expected_cost_musd"] <= frontier.loc[0.999, "expected_cost_musd"] + 1e-9
    assert frontier.loc[1.0, "expected_cost_musd"] == A(3.525)
    assert frontier.loc[1.0, "objective_musd"] == A(6.0)  # the objective is the CVaR optimum, unchanged
