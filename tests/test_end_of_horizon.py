"""`end_of_horizon` (SPEC sections 2 and 3): output due after the last period
is lost (the default) or kept (it lands in the last period).

Units: t x USD/kg / 1000 = USD million.
"""

import pytest
from builders import demand, facility, instance, quantity

import ree_opt

A = pytest.approx


def six_month_lead(end_of_horizon):
    """One source, 6-month lead (q = 0, r = 0.5), cost 12 USD/kg in 2026 and
    10 in 2027, holding 1 USD/kg per period, 100 t wanted in 2027 only."""
    return instance(
        [facility("a", "AU", {2026: 12, 2027: 10}, lead_time_months=6)],
        [demand({2026: 0, 2027: 100})],
        periods=[2026, 2027],
        products={"ox": {"shortfall_penalty": 100, "holding_cost": 1.0}},
        end_of_horizon=end_of_horizon,
    )


def test_lost_pulls_the_last_years_purchase_forward():
    """lost: a tonne of 2027 activity gives 0.5 t in 2027 (the rest is lost):
    20 USD/kg delivered. A tonne of 2026 activity gives 0.5 t in 2026 (held a
    year at 1 USD/kg) and 0.5 t in 2027: 12 + 0.5 = 12.5 USD/kg. So 100 t of
    activity in 2026: 100 x 12 / 1000 + 50 t x 1 / 1000 = 1.25."""
    sol = ree_opt.solve(six_month_lead("lost"))
    assert sol.objective == A(1.25)
    assert quantity(sol.activity, period=2026) == A(100)
    assert quantity(sol.activity, period=2027) == A(0)


def test_kept_removes_the_pull_forward():
    """kept: 2027 activity lands whole in 2027 at 10 USD/kg, cheaper than
    12.5 from 2026: 100 t in 2027, 1.0; the 0.25 saved is the pull-forward
    (2 USD/kg dearer activity and half a year of holding on 100 t)."""
    sol = ree_opt.solve(six_month_lead("kept"))
    assert sol.objective == A(1.0)
    assert quantity(sol.activity, period=2026) == A(0)
    assert quantity(sol.activity, period=2027) == A(100)
    assert ree_opt.solve(six_month_lead("lost")).objective - sol.objective == A(0.25)


def eighteen_month_lead(end_of_horizon):
    """18-month lead (q = 1, r = 0.5) on 2026-2027: activity of 2027 is due
    half in 2028 and half in 2029 (two periods after the end)."""
    return instance(
        [facility("a", "AU", {2026: 11, 2027: 10}, lead_time_months=18)],
        [demand({2026: 0, 2027: 100})],
        periods=[2026, 2027],
        end_of_horizon=end_of_horizon,
    )


def test_output_due_two_periods_after_the_end_lands_in_the_last_period():
    """kept: 2027 activity (due 2028 and 2029) lands whole in 2027: 100 t at
    10 USD/kg = 1.0. lost: only 2026 activity helps, half of it arriving in
    2027: 200 t at 11 USD/kg = 2.2."""
    kept = ree_opt.solve(eighteen_month_lead("kept"))
    assert kept.objective == A(1.0)
    assert quantity(kept.activity, period=2027) == A(100)
    lost = ree_opt.solve(eighteen_month_lead("lost"))
    assert lost.objective == A(2.2)
    assert quantity(lost.activity, period=2026) == A(200)


def test_end_of_horizon_is_validated():
    with pytest.raises(ree_opt.InstanceError) as error:
        ree_opt.load_instance(six_month_lead("keep"))
    assert "end_of_horizon: expected 'lost' or 'kept' (got 'keep')" in str(error.value)
