"""Properties of SPEC section 7 on random supply chains with random
expansions (tests/random_instances.py): what must hold whatever the numbers."""

import copy
import random

import numpy as np
import pytest
from random_instances import random_instance

import ree_opt
from ree_opt.funding import budget_curve
from ree_opt.plan import Plan
from ree_opt.solver import standard_form

A = pytest.approx
SEEDS = range(12)


def with_expansions(seed: int, lumpy=None) -> dict:
    """A random chain where one to three facilities offer expansions."""
    rng = random.Random(1000 + seed)
    instance = random_instance(seed)
    instance["discount_rate"] = rng.choice([0.0, 0.08])
    periods = instance["periods"]
    for facility in rng.sample(instance["facilities"], rng.randint(1, 3)):
        first = rng.randrange(len(periods))
        facility["expansions"] = [{
            "name": "more",
            "capacity": rng.choice([50, 100, 300]),
            "capex": rng.choice([0.0, 0.5, 2.0, 10.0]),
            "life_years": rng.choice([1, 5, 20]),
            "fixed_cost": rng.choice([0.0, 0.2]),
            "build_months": rng.choice([0, 6, 12, 24]),
            "earliest": periods[first],
            "latest": periods[rng.randrange(first, len(periods))],
            "modules": rng.choice([1, 2, 3]),
            "lumpy": rng.random() < 0.6 if lumpy is None else lumpy,
            **({"ramp_up": [0.5]} if rng.random() < 0.3 else {}),
        }]
    return instance


def without_expansions(instance: dict) -> dict:
    instance = copy.deepcopy(instance)
    for facility in instance["facilities"]:
        facility.pop("expansions", None)
    return instance


@pytest.mark.parametrize("seed", SEEDS)
def test_without_expansions_the_model_is_todays(seed):
    """An instance without expansions builds no section 7 column or row, and
    its matrix, bounds and costs do not move with the discount rate: the
    same model, so the same optimum and tables, as before section 7."""
    instance = random_instance(seed)
    plan = Plan(instance)
    assert not plan.compiled.is_mip
    assert [name for name in plan.model.columns if plan.model.columns[name].family.integer] == []
    assert [n for n, block in plan.model.rows.items() if block.family.dims == ("facility", "expansion")] == []
    other = Plan({**copy.deepcopy(instance), "discount_rate": 0.5})
    first, second = (standard_form(p.model) for p in (plan, other))
    assert (first.matrix != second.matrix).nnz == 0
    for name in ("cost", "col_lower", "row_lower", "row_upper"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert first.integrality is None and first.col_upper is None
    assert "investment" not in plan.solve().cost_breakdown


@pytest.mark.parametrize("seed", SEEDS)
def test_an_expansion_that_can_never_start_changes_no_answer(seed):
    """An expansion that could start only after the horizon (120 months to
    build) is never built; the optimum is today's, and so are the quantities
    the reported plan pins down (unmet tonnes; covered deliveries, least
    among the cheapest plans, to the tie-break's tolerance of 0.01 t +
    1e-3): only ties between equally cheap sources may differ."""
    instance = random_instance(seed)
    today = ree_opt.solve(instance)
    useless = copy.deepcopy(instance)
    useless["facilities"][0]["expansions"] = [{"name": "late", "capacity": 100, "capex": 1, "build_months": 120}]
    later = ree_opt.solve(useless)
    assert later.investments.empty
    assert later.objective == A(today.objective, rel=1e-9, abs=1e-9)
    assert later.shortfall["quantity_t"].sum() == A(today.shortfall["quantity_t"].sum(), rel=1e-6, abs=1e-6)
    for solution in (today, later):
        solution.covered = solution.deliveries.loc[solution.deliveries["label"] == "covered", "quantity_t"].sum()
    assert later.covered == A(today.covered, rel=1e-3, abs=0.01)


@pytest.mark.parametrize("seed", SEEDS)
def test_an_expansion_never_raises_the_optimum_and_fractions_bound_it_below(seed):
    """Not building is always possible, so offering expansions never raises
    the optimum; lumpy: false is the LP relaxation, a lower bound."""
    instance = with_expansions(seed, lumpy=True)
    lumpy = ree_opt.solve(instance)
    assert lumpy.objective <= ree_opt.solve(without_expansions(instance)).objective * (1 + 1e-6) + 1e-9
    relaxed = copy.deepcopy(instance)
    for facility in relaxed["facilities"]:
        for expansion in facility.get("expansions", []):
            expansion["lumpy"] = False
    assert ree_opt.solve(relaxed).objective <= lumpy.objective * (1 + 1e-6) + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_a_budget_of_zero_leaves_only_free_modules(seed):
    """max_capex 0 on every expansion: only modules of capex 0 may be built,
    so the optimum is that of the instance offering only those."""
    instance = with_expansions(seed)
    capped = ree_opt.solve(instance, policies=[{"type": "max_capex", "limit": 0}])
    capex = {(f["id"], e["name"]): e["capex"] for f in instance["facilities"] for e in f.get("expansions", [])}
    built = capped.investments
    assert all(capex[(row.facility, row.expansion)] == 0 for row in built.itertuples())
    free = copy.deepcopy(instance)
    for facility in free["facilities"]:
        kept = [e for e in facility.get("expansions", []) if e["capex"] == 0]
        if kept:
            facility["expansions"] = kept
        else:
            facility.pop("expansions", None)
    assert capped.objective == A(ree_opt.solve(free).objective, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_the_budget_curve_never_rises(seed):
    """More funding never makes either plan dearer (up to the MIP gap)."""
    curve = budget_curve(with_expansions(seed), [0, 1, 3, 10, 100], executor=None)
    for column in ("baseline_musd", "non_china_musd"):
        values = curve[column].to_numpy()
        assert np.all(np.diff(values) <= 1e-6 * np.abs(values[:-1]) + 1e-9), column
    assert np.all(curve["non_china_capex_musd"] <= curve["limit_musd"] + 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_mip_objective_is_the_lp_objective_with_the_builds_fixed(seed):
    """The reported plan is the LP's with the integer builds fixed: its cost
    is the MIP's objective."""
    plan = Plan(with_expansions(seed, lumpy=True))
    outcome = plan.compiled.solve()
    assert outcome.status == "optimal"
    assert float(plan.compiled.cost @ outcome.values) == A(outcome.objective, rel=1e-6, abs=1e-9)
    integer = plan.compiled.integer_columns
    assert np.allclose(outcome.values[integer], np.round(outcome.values[integer]))


@pytest.mark.parametrize("seed", [0, 1, 2, 22, 121])
def test_an_option_is_never_worth_less_than_nothing(seed):
    """Closing an expansion never makes a plan cheaper: each value is >= 0 up
    to the MIP gap."""
    from ree_opt.funding import expansion_value

    values = expansion_value(with_expansions(seed, lumpy=True))
    for column in ("value_musd", "non_china_value_musd"):
        assert (values[column] >= -1e-6).all(), values[column].tolist()


@pytest.mark.parametrize("seed", [22, 121])
def test_a_solve_with_an_option_closed_reports_what_its_plan_costs(seed):
    """An option the plan does not take, closed, and the MIP solved again in
    place: its objective is the cost of the plan it returns. On these seeds
    HiGHS 1.16, given the last plan as a start (setSolution), valued it
    without presolve's offset (2.25 and 0.83 too low, with a gap of 0): no
    solve is given a start."""
    from ree_opt.analysis import NON_CHINA
    from ree_opt.funding import expansions_of

    plan = Plan(with_expansions(seed, lumpy=True), policies=[NON_CHINA] if seed == 22 else [])
    plan.solve(tie_break=False, ranging=False)
    facility, expansion = expansions_of(plan.instance)[-1]  # not taken on these seeds
    plan.set_expansion_modules(facility.id, expansion.name, 0)
    outcome = plan.compiled.solve()
    assert outcome.status == "optimal"
    assert float(plan.compiled.cost @ outcome.values) == A(outcome.objective, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS[:6])
def test_each_budget_of_the_curve_is_the_optimum_of_its_own_solve(seed):
    """The curve takes a larger budget's plan for a smaller one where it
    fits (no solve): each point must still be what a plan built for that
    budget alone finds, for both plans."""
    from ree_opt.analysis import NON_CHINA

    instance = with_expansions(seed)
    limits = [0, 1, 3, 10, 100]
    curve = budget_curve(instance, limits, executor=None)
    counted = [f["id"] for f in instance["facilities"] if f.get("expansions")]
    for row in curve.itertuples():
        budget = {"type": "max_capex", "limit": row.limit_musd, "facilities": counted}
        alone = [ree_opt.solve(instance, policies=policies).objective for policies in ([budget], [budget, NON_CHINA])]
        assert (row.baseline_musd, row.non_china_musd) == (A(alone[0], rel=1e-6, abs=1e-9), A(alone[1], rel=1e-6, abs=1e-9))


@pytest.mark.parametrize("seed", range(8))
def test_the_nominal_first_stage_costs_future_by_future_what_the_extensive_form_does(seed):
    """VSS's expected value plan (section 6): the extensive form with the
    nominal first stage fixed, solved whole at omega 0 and 0.6, has the
    optimum that `solve_first_stage_fixed` gets future by future (each
    future alone at its least cost, then the risk measure), builds
    decided before and after `reveal` alike."""
    from ree_opt.stochastic.extensive import ExtensiveForm
    from ree_opt.stochastic.solve import build_futures, nominal_first_stage, solve_first_stage_fixed, stochastic_problem

    instance = with_expansions(seed)
    for facility in instance["facilities"]:
        facility.setdefault("expansions", [])[:] = [dict(e, earliest=2026) for e in facility.get("expansions", [])]
        if not facility["expansions"]:
            facility.pop("expansions")
    instance["scenarios"] = {
        "demand_up": {"scale": [{"where": {}, "field": "quantity", "factor": 1.8}]},
        "dear": {"scale": [{"where": {}, "field": "cost", "factor": 1.4}]},
    }
    instance["uncertainty"] = {"reveal": 2027, "alpha": 0.8, "events": [
        {"name": "demand", "outcomes": [{"probability": 0.6}, {"scenario": "demand_up", "probability": 0.4}]},
        {"name": "cost", "outcomes": [{"probability": 0.5}, {"scenario": "dear", "probability": 0.5}]},
    ]}
    problem = stochastic_problem(instance)
    models = build_futures(problem)
    form = ExtensiveForm(models, [f.probability for f in problem.futures], 0.8, 0.0, with_cvar=True)
    nominal = nominal_first_stage(problem, form)
    fixed = solve_first_stage_fixed(form, nominal)
    assert fixed.status == "optimal"
    for omega in (0.0, 0.6):
        form.set_omega(omega)
        form.fix_first_stage(nominal)
        whole = form.solve()
        form.fix_first_stage(None)
        assert whole.status == "optimal"
        assert fixed.objective(form, omega) == A(whole.objective, rel=1e-6)


def test_every_model_with_integer_builds_is_solved_to_the_default_gap():
    """Evaluation templates, a future's own model and the decomposition's
    futures are made by `highs_model`: with integer columns and no gap
    given they close to section 7's 1e-6, not HiGHS's own 1e-4 (a future's
    cost could otherwise be off by 1e-4 of it)."""
    from scipy import sparse

    from ree_opt.solver import DEFAULT_MIP_GAP, highs_model

    def gap(**options):
        model = highs_model(sparse.csc_matrix(np.ones((1, 2))), np.ones(2), np.zeros(2), np.ones(2),
                            np.zeros(1), np.ones(1), **options)
        return model.getOptionValue("mip_rel_gap")[1]

    assert gap(integrality=np.array([True, False])) == DEFAULT_MIP_GAP == 1e-6
    assert gap(integrality=np.array([True, False]), mip_gap=1e-3) == 1e-3
