"""Known answers for SPEC section 7 (investment): small instances, each
isolating one semantic, with its optimum derived by hand in the docstring.

Units: t x USD/kg / 1000 = USD million. A plant at 10 USD/kg costs 0.01
per t; a penalty of 50 USD/kg 0.05 per t (so a served tonne saves 0.04).
The capital charge of a module decided in period t (0-based) of T is
capex x crf(r, L) x P/12 x (T - t) + fixed_cost x P/12 x max(0, T - s(t)),
crf(r, L) = r / (1 - (1 + r)^-L) (1/L at r = 0), s(t) = max(t + ceil(build
months / P), online).
"""

import copy

import pytest

import ree_opt

A = pytest.approx


def chain(expansions, demand, periods=(2026,), penalty=50, rate=0.0, facilities=(), **plant) -> dict:
    """One product, a plant that exists only if funded (capacity 0, 10 USD/kg)."""
    return {
        "name": "invest",
        "periods": list(periods),
        "discount_rate": rate,
        "products": {"ndpr_oxide": {"shortfall_penalty": penalty}},
        "facilities": [
            {"id": "plant", "country": "AU", "stage": "separation", "outputs": {"ndpr_oxide": 1.0},
             "capacity": 0, "cost": 10, "expansions": expansions, **plant},
            *facilities,
        ],
        "demand": [{"segment": "buyer", "product": "ndpr_oxide", "quantity": demand}],
    }


def module(**fields) -> dict:
    return {"name": "m", "capacity": 100, "capex": 1, "life_years": 1, **fields}


def builds(solution, facility="plant") -> float:
    table = solution.investments
    return float(table.loc[table["facility"] == facility, "modules"].sum())


def test_a_module_not_worth_building_whole_is_worth_it_as_a_fraction():
    """One period, r = 0, L = 1: a module of 200 t costs its capex, 6.
    Demand 100 t at 50 USD/kg: left unmet, 5.0. Lumpy: building costs
    6 + 1.0 = 7.0 > 5.0, so nothing is built: 5.0. As a fraction
    (lumpy: false, the LP relaxation): a tonne served needs 1/200 module
    (0.03) and saves 0.04, so half a module serves the 100 t:
    3.0 + 1.0 = 4.0, below the lumpy optimum."""
    whole = ree_opt.solve(chain([module(capacity=200, capex=6)], 100))
    assert whole.objective == A(5.0)
    assert whole.investments.empty and whole.mip_gap == 0.0
    assert whole.cost_breakdown["investment"] == 0.0
    part = ree_opt.solve(chain([module(capacity=200, capex=6, lumpy=False)], 100))
    assert part.objective == A(4.0)
    row = part.investments.iloc[0]
    assert (row["modules"], row["capacity_t"], row["capex_musd"], row["charge_musd"]) == (A(0.5), A(100), A(3), A(3))
    assert part.cost_breakdown["investment"] == A(3.0)
    assert part.objective <= whole.objective
    from ree_opt.text import builds_text

    assert builds_text(part)[1] == (
        "  - plant m: 0.5 modules decided in 2026, capacity from 2026 (+100 t a period of NdPr separation "
        "capacity); capex USD 3.00 million, charged USD 3.00 million"
    )


@pytest.mark.parametrize("rate, charge", [
    (0.1, 10 * 0.1 / (1 - 1.1 ** -2) * 3 + 1 * 2),  # crf(0.1, 2) = 0.57619...: 17.2857 + 2 = 19.2857
    (0.0, 10 * 0.5 * 3 + 1 * 2),  # crf(0, 2) = 1/2: 15 + 2 = 17
])
def test_build_time_ramp_up_fixed_cost_and_the_discount_rate(rate, charge):
    """2026-2028; a module of 100 t, capex 10, life 2 years, fixed cost 1 a
    year, 12 months to build, ramp-up [0.5], decided in 2026 or 2027.
    Decided in 2026 it starts in 2027 (s = 1) at half rate: 50 t in 2027,
    100 t in 2028; its charge is 10 x crf x 3 (2026-2028) + 1 x 2
    (2027-2028). Demand 100 t in 2027 and 2028 at 200 USD/kg: 50 t unmet
    in 2027 (10.0) and 150 t made (1.5): charge + 11.5. Decided in 2027 it
    gives only 50 t in 2028 for 10 x crf x 2 + 1, and leaves 150 t unmet
    (30.0); nothing built leaves 200 t unmet (40.0)."""
    instance = chain(
        [module(capex=10, life_years=2, fixed_cost=1, build_months=12, ramp_up=[0.5], earliest=2026, latest=2027)],
        {2026: 0, 2027: 100}, periods=(2026, 2027, 2028), penalty=200, rate=rate,
    )
    sol = ree_opt.solve(instance)
    assert sol.objective == A(charge + 11.5)
    [row] = sol.investments.itertuples(index=False)
    assert (row.period, row.online, row.modules) == (2026, 2027, 1.0)
    assert row.charge_musd == A(charge)
    made = sol.activity.groupby("period")["quantity_t"].sum()
    assert made.to_dict() == {2027: A(50), 2028: A(100)}


def test_a_budget_that_binds_and_one_filtered_by_country():
    """One period, r = 0, L = 1 (the charge is the capex). Two plants that
    exist only if funded, 100 t a module at 10 USD/kg: Australian (capex
    1.5) and American (capex 2). Demand 200 t at 50 USD/kg: each module
    serves 100 t and saves 4.0, so both are built: 1.5 + 2 + 2.0 = 5.5.
    A budget of 3 funds one: the cheaper Australian, 1.5 + 1.0 + 5.0 = 7.5.
    A budget of 0 on Australia alone leaves the American: 2 + 1.0 + 5.0 = 8.0.
    As fractions (lumpy: false) a budget of 3 funds all of Australia and
    0.75 of the American: 3.0 + 1.75 + 1.25 = 6.0; one more USD million
    funds 0.5 of an American module (50 t: 2.0 saved) for 1.0 of charge:
    the budget's dual, the return on public money, is 1.0."""
    us = {"id": "us_plant", "country": "US", "stage": "separation", "outputs": {"ndpr_oxide": 1.0},
          "capacity": 0, "cost": 10, "expansions": [module(capex=2)]}
    base = chain([module(capex=1.5)], 200, facilities=[us])
    assert ree_opt.solve(base).objective == A(5.5)
    budget = ree_opt.solve(base, policies=[{"type": "max_capex", "limit": 3}])
    assert budget.objective == A(7.5)
    assert (builds(budget), builds(budget, "us_plant")) == (1.0, 0.0)
    australia = ree_opt.solve(base, policies=[{"type": "max_capex", "limit": 0, "countries": ["AU"]}])
    assert australia.objective == A(8.0)
    assert (builds(australia), builds(australia, "us_plant")) == (0.0, 1.0)
    relaxed = copy.deepcopy(base)
    for facility in relaxed["facilities"]:
        facility["expansions"][0]["lumpy"] = False
    sol = ree_opt.solve(relaxed, policies=[{"type": "max_capex", "limit": 3}])
    assert sol.objective == A(6.0)
    assert builds(sol, "us_plant") == A(0.75)
    [row] = sol.binding[sol.binding["constraint"] == "budget"].itertuples(index=False)
    assert row.dual == A(1.0)
    assert row.unit == "USD million saved per USD million of budget"


@pytest.mark.parametrize("capex, modules, built, objective", [
    (3.0, 3, 2, 6.0 + 2.0 + 2.5),  # the third module would serve 50 t: saves 2.0 < 3
    (1.5, 3, 3, 4.5 + 2.5),  # ... but saves 2.0 > 1.5
    (1.5, 2, 2, 3.0 + 2.0 + 2.5),  # only two may be built
])
def test_several_modules(capex, modules, built, objective):
    """One period, r = 0, L = 1; modules of 100 t; demand 250 t at 50 USD/kg.
    Each full module saves 4.0 for its capex; a third serves the last 50 t
    and saves 2.0. Made tonnes cost 0.01 each, unmet ones 0.05."""
    sol = ree_opt.solve(chain([module(capex=capex, modules=modules)], 250))
    assert builds(sol) == built
    assert sol.objective == A(objective)


def test_modules_count_over_every_decision_period():
    """Two periods, 100 t modules (capex 0.1, life 1: charge 0.1 x 2 decided
    in 2026, 0.1 decided in 2027), at most 2 over the horizon. Demand 300 t
    a year: the 2 modules are decided in 2026 (each serves 200 t for 0.2)
    and 100 t a year stay unmet: 0.4 + 4.0 + 10.0 = 14.4."""
    sol = ree_opt.solve(chain([module(capex=0.1, modules=2)], 300, periods=(2026, 2027)))
    assert builds(sol) == 2
    assert set(sol.investments["period"]) == {2026}
    assert sol.objective == A(0.4 + 4.0 + 10.0)


def test_a_slip_delays_an_expansion():
    """2026-2028; a plant coming online in 2027 with no capacity of its own;
    a module of 100 t decided in 2026, no build time (r = 0, L = 3: a charge
    of 1/3 a year, 1.0 over 2026-2028), fixed cost 0.5 a year from its
    start. Demand 100 t in 2027 and 2028. On time the module starts in 2027
    with the plant: 1.0 + 0.5 x 2 + 2.0 made = 4.0. With the plant a year
    late (`shift` online by 1) it starts in 2028: 1.0 + 0.5 + 1.0 made +
    100 t unmet in 2027 (5.0) = 7.5, still below 10.0 for nothing."""
    instance = chain(
        [module(capex=1, life_years=3, fixed_cost=0.5, earliest=2026, latest=2026)],
        {2026: 0, 2027: 100}, periods=(2026, 2027, 2028), online=2027,
    )
    instance["scenarios"] = {"late": {"shift": [{"where": {"id": "plant"}, "field": "online", "by": 1}]}}
    on_time = ree_opt.solve(instance)
    assert on_time.objective == A(4.0)
    assert on_time.investments["online"].tolist() == [2027]
    late = ree_opt.solve(instance, scenario="late")
    assert late.objective == A(7.5)
    assert late.investments["online"].tolist() == [2028]
    assert late.investments["charge_musd"].tolist() == [A(1.5)]


def test_a_module_starting_after_the_horizon_adds_nothing():
    """A module that takes 36 months to build, decided in 2026 of a two-year
    plan, would start in 2029: it adds no capacity, so it is never worth its
    charge and the plan is the one without it (200 t unmet: 10.0)."""
    sol = ree_opt.solve(chain([module(capex=0.5, build_months=36)], 100, periods=(2026, 2027)))
    assert sol.investments.empty
    assert sol.objective == A(10.0)


def test_a_build_decided_before_a_demand_surge_is_known():
    """2026-2027, reveal 2027. A module of 100 t (capex 2.5, r = 0, life 2:
    a charge of 2.5 decided in 2026) takes 12 months, so only a 2026
    decision serves 2027: a first-stage build. Demand in 2027 is 50 t, or
    150 t if it surges (probability 0.5 each); unmet tonnes cost 0.05.
    Built: 2.5 + 0.5 (normal) or 2.5 + 1.0 + 2.5 (surge): E = 4.5.
    Not built: 2.5 or 7.5: E = 5.0. So it is built: objective 4.5.
    Wait and see: the normal future alone does not build (2.5 < 3.0), the
    surge alone does (6.0 < 7.5): WS = 4.25, EVPI = 0.25. The nominal plan
    (50 t) does not build, and without the build the futures cost 5.0:
    VSS = 0.5."""
    sol = ree_opt.solve_stochastic(surge_instance())
    assert sol.objective == A(4.5)
    assert sol.wait_and_see == A(4.25) and sol.evpi == A(0.25)
    assert sol.vss == A(0.5)
    assert sol.investments["modules"].tolist() == [1.0]
    assert sol.futures["cost_musd"].tolist() == [A(3.0), A(6.0)]


def surge_instance() -> dict:
    """A first-stage build before a demand surge (derived in the test that uses it first)."""
    instance = chain(
        [module(capex=2.5, life_years=2, build_months=12, earliest=2026, latest=2026)],
        {2026: 0, 2027: 50}, periods=(2026, 2027),
    )
    instance["scenarios"] = {"surge": {"scale": [{"where": {}, "field": "quantity", "factor": 3}]}}
    instance["uncertainty"] = {"reveal": 2027, "events": [
        {"name": "demand", "outcomes": [{"probability": 0.5}, {"scenario": "surge", "probability": 0.5}]},
    ]}
    return instance


def test_a_draft_report_says_the_gap_its_decisions_were_proven_to(tmp_path):
    """`report --mip-gap 0.01`: the decisions under uncertainty are solved
    to a 1% gap and the section says so (the surge's optimum, 4.5, is
    found either way); by default nothing is said."""
    from ree_opt.cli import main
    from ree_opt.report import build_report, collect
    from ree_opt.stochastic.decision import decide

    assert decide(surge_instance(), plans=(0.0,), frontier=(0.0,), mip_gap=0.01).plans[0.0].objective == A(4.5)
    draft = collect(surge_instance(), mip_gap=0.01)
    assert draft.mip_gap == 0.01
    text = build_report(surge_instance(), tmp_path / "draft.html", data=draft).read_text()
    assert "proven only within 1% of their optima (--mip-gap 0.01), not 1e-6" in text
    exact = collect(surge_instance())
    assert exact.mip_gap is None
    assert "--mip-gap" not in build_report(surge_instance(), tmp_path / "exact.html", data=exact).read_text()
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path / "any.yaml"), "--mip-gap", "1.5"])
