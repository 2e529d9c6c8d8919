"""Ranging (ree_opt/ranging.py): cost and capacity ranges on instances whose
ranges are derived by hand, moves just inside and just outside them, and
the facility-price direction checked against HiGHS's own column ranging.
"""

import math

import numpy as np
import pytest
from builders import demand, facility, instance

import ree_opt
from ree_opt.plan import Plan
from ree_opt.model.flows import ACTIVITY, price_columns
from ree_opt.ranging import _Basis, tie_count, tightest
from ree_opt.solver import fix_integers

A = pytest.approx


def two_suppliers(cost_a=50.0, cost_b=80.0, cap_a=60.0, cap_b=100.0):
    """One product, one period, demand 100 t, shortfall penalty 200 USD/kg;
    supplier A at 50 USD/kg for up to 60 t, B at 80 USD/kg for up to 100 t."""
    return instance(
        [facility("a", "AU", cost_a, cap_a), facility("b", "CA", cost_b, cap_b)],
        [demand(100)],
        products={"ox": {"shortfall_penalty": 200}},
    )


def row(solution, kind, facility_id):
    table = solution.ranging
    found = table[(table["kind"] == kind) & (table["facility"] == facility_id)]
    assert len(found) == 1, found
    return found.iloc[0]


def activity(solution, facility_id):
    frame = solution.activity
    return float(frame.loc[frame["facility"] == facility_id, "quantity_t"].sum())


def test_two_suppliers_ranges_derived_by_hand():
    """The plan: A 60 t (its capacity), B 40 t, nothing short.

    - A's cost may rise to 80 (B's price): above it B is cheaper and takes
      A's 60 t; however cheap A gets, it is already at capacity: no lower limit.
    - B's cost may rise to 200 (the penalty): above it leaving demand unmet is
      cheaper; below 50 (A's price) B would displace A: range [50, 200].
    - A's capacity binds, worth 80 - 50 = 30 USD/kg; its shadow price holds
      from 0 t (B then serves 100 t, its capacity) up to 100 t (A then serves
      all demand and B nothing): range [0, 100].
    - B's capacity has room: it may fall to the 40 t used, no upper limit.
    """
    sol = ree_opt.solve(two_suppliers())
    assert activity(sol, "a") == A(60) and activity(sol, "b") == A(40)

    a = row(sol, "cost", "a")
    assert (a.value, a.upper, a.unit) == (A(50), A(80), "USD/kg")
    assert a.lower == -math.inf
    assert a.meaning == "a may cost up to USD 80.0/kg in 2026 and the plan holds (now 50.0); no lower limit"

    b = row(sol, "cost", "b")
    assert (b.value, b.lower, b.upper) == (A(80), A(50), A(200))
    assert "below USD 50.0/kg it may take more" in b.meaning

    cap_a = row(sol, "capacity", "a")
    assert (cap_a.value, cap_a.lower, cap_a.upper, cap_a.unit) == (A(60), A(0), A(100), "t")
    assert "USD 30.0/kg" in cap_a.meaning and "binds" in cap_a.meaning

    cap_b = row(sol, "capacity", "b")
    assert (cap_b.value, cap_b.lower, cap_b.upper) == (A(100), A(40), math.inf)
    assert "no upper limit" in cap_b.meaning

    # the tightest used range: B's cost, 30 USD/kg of room on 80 (37.5%)
    top = tightest(sol.ranging, 1).iloc[0]
    assert (top.kind, top.facility, top.room_pct) == ("cost", "b", A(37.5))


@pytest.mark.parametrize(
    "changes, a_t, b_t",
    [
        ({"cost_a": 79.9}, 60, 40),  # A's cost just inside its range: same plan
        ({"cost_a": 80.1}, 0, 100),  # just outside: B takes over
        ({"cost_b": 50.1}, 60, 40),
        ({"cost_b": 49.9}, 0, 100),  # B below A's price displaces A
        ({"cost_b": 199.9}, 60, 40),
        ({"cost_b": 200.1}, 60, 0),  # above the penalty: B's 40 t go unmet
    ],
)
def test_a_cost_just_inside_its_range_keeps_the_plan_and_just_outside_changes_it(changes, a_t, b_t):
    sol = ree_opt.solve(two_suppliers(**changes))
    assert (activity(sol, "a"), activity(sol, "b")) == (A(a_t), A(b_t))


@pytest.mark.parametrize("cap_a, dual", [(0.5, 30.0), (99.5, 30.0), (100.5, 0.0)])
def test_capacity_shadow_price_holds_inside_its_range(cap_a, dual):
    """A's capacity is worth 30 USD/kg over [0, 100] and nothing above it."""
    sol = ree_opt.solve(two_suppliers(cap_a=cap_a))
    binding = sol.binding[sol.binding["constraint"] == "capacity"]
    worth = float(binding.loc[binding["index"] == "a 2026", "dual"].sum())
    assert worth == A(dual)


def magnet_chain(plant_cost=20.0):
    """A magnet plant with two routes: the price of a facility moves all its columns.

    Oxide: clean from AU at 10 USD/kg, covered from CN at 5 USD/kg. The US
    plant M turns 1 t oxide into 1 t magnet at 20 USD/kg, making clean or
    covered magnets (two activity columns, one price). Chinese magnets N cost
    40 USD/kg. Demand 50 t of magnets (penalty 200).

    The plan: M makes 50 t from covered oxide, 5 + 20 = 25 USD/kg.
    M's price may rise to 35: then 5 + 35 = 40 = N's price. Its clean route
    (10 + 20 = 30) rises with it, so it never takes over. Had only the
    covered route's price risen (HiGHS's range for that one column), the
    clean route would have taken over at 25 (5 + 25 = 10 + 20); that is not
    a facility's price range. Downwards, M may fall to -5 USD/kg (a payment
    to the buyer): below it, making magnets from 5-USD/kg oxide and disposing
    of them would pay, so the plan would make more than it needs.
    """
    return instance(
        [
            facility("au_ox", "AU", 10, 100, outputs={"ox": 1.0}),
            facility("cn_ox", "CN", 5, 100, outputs={"ox": 1.0}),
            facility("m", "US", plant_cost, 100, stage="magnet", inputs={"ox": 1.0}, outputs={"mag": 1.0}),
            facility("n", "CN", 40, 100, stage="magnet", outputs={"mag": 1.0}),
        ],
        [demand(50, product="mag")],
        products={"ox": {"shortfall_penalty": 100}, "mag": {"shortfall_penalty": 200}},
    )


def test_a_facility_price_moves_all_its_columns():
    plan = Plan(magnet_chain())
    sol = plan.solve()
    m = row(sol, "cost", "m")
    assert (m.value, m.lower, m.upper) == (A(20), A(-5), A(35))
    # HiGHS's range of the covered-route column alone stops at 25
    keys, cols = plan.compiled.columns_of(ACTIVITY)
    covered = cols[keys.index(("m", "covered", "*", 0))]
    fresh = Plan(magnet_chain())
    fresh.compiled.highs.run()
    _, ranging = fresh.compiled.highs.getRanging()
    assert ranging.col_cost_up.value_[covered] * 1000 == A(25)


@pytest.mark.parametrize("cost, made_t", [(34.9, 50), (35.1, 0)])
def test_magnet_plant_price_just_inside_and_outside(cost, made_t):
    sol = ree_opt.solve(magnet_chain(cost))
    assert activity(sol, "m") == A(made_t, abs=1e-3)
    assert activity(sol, "n") == A(50 - made_t, abs=1e-3)


@pytest.mark.parametrize("path", ["instances/toy.yaml", "instances/baseline.yaml"])
def test_the_facility_direction_agrees_with_highs_on_single_columns(path):
    """On one column, the direction formula is HiGHS's column cost ranging,
    for every cost column of the instance (basic or not)."""
    plan = Plan(path)
    highs = plan.compiled.highs
    highs.run()
    if plan.compiled.is_mip:  # the baseline's lumpy expansions: ranging is the LP's with the builds as given (SPEC 7)
        fix_integers(highs, plan.compiled.integer_columns, np.asarray(highs.getSolution().col_value))
        highs.run()
    _, ranging = highs.getRanging()
    lp = highs.getLp()
    basis = _Basis(highs, np.asarray(lp.col_lower_), np.asarray(lp.col_upper_),
                   np.asarray(lp.row_lower_), np.asarray(lp.row_upper_))
    checked = 0
    for cols in price_columns(plan.compiled).values():
        for col in cols:
            down, up = basis.direction(np.array([col]))
            cost = plan.compiled.cost[col]
            expected_up = ranging.col_cost_up.value_[col]
            expected_dn = ranging.col_cost_dn.value_[col]
            assert cost + up == (A(expected_up, abs=1e-9) if expected_up < 1e29 else math.inf)
            assert cost + down == (A(expected_dn, abs=1e-9) if expected_dn > -1e29 else -math.inf)
            checked += 1
    assert checked > 15


def test_ranging_is_read_before_the_tie_break():
    """The tie-break solve moves HiGHS to another vertex (and adds a row);
    the ranges are those of the cost-minimal solve, read before it, so the
    toy gives the same ranging with and without the tie-break."""
    with_tie_break = ree_opt.solve("instances/toy.yaml")
    without = ree_opt.solve("instances/toy.yaml", tie_break=False)
    columns = ["kind", "facility", "period", "value", "lower", "upper"]
    assert with_tie_break.ranging[columns].equals(without.ranging[columns])
    assert len(with_tie_break.ranging) > 0


def test_equal_prices_are_a_tie_and_left_out_of_the_tightest():
    """A and B both at 50 USD/kg with room for all 100 t: the plan takes one,
    and the other is as cheap, so the used one's price has no room upwards
    (a tie). Downwards it already serves all demand; only below 0 (a payment)
    would it make more, to dispose of: range [0, 50]. The unused one at 50
    may not get any cheaper and stay unused: [50, inf)."""
    sol = ree_opt.solve(two_suppliers(cost_b=50.0, cap_a=100.0))
    used = "a" if activity(sol, "a") > 50 else "b"
    other = "b" if used == "a" else "a"
    assert activity(sol, used) == A(100)
    row_used, row_other = row(sol, "cost", used), row(sol, "cost", other)
    assert (row_used.lower, row_used.upper, row_used.tie) == (A(0), A(50), True)
    assert (row_other.lower, row_other.upper) == (A(50), math.inf)
    assert "is at a tie at USD 50.00/kg" in row_used.meaning
    assert (tightest(sol.ranging, 5)["tie"] == False).all()  # noqa: E712
    assert tie_count(sol.ranging) >= 1
