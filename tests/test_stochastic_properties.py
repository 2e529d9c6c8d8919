"""Section 6 checked through the deterministic path on random chains: a
future's splice at `reveal` equals a deterministic instance whose time series
switch at `reveal`, and the stated consequences hold (EVPI >= 0, VSS >= 0,
the objective never falls as omega rises, omega = 0 is the expectation)."""

import copy

import numpy as np
import pytest
from random_instances import random_instance

import ree_opt

SEEDS = range(6)
REVEAL = 2027


def shocks(data):
    """Three futures' scenarios on a random chain: Chinese availability and
    cost, demand, and an added country cap."""
    data["scenarios"] = {
        "cn_cut": {"scale": [{"where": {"country": "CN"}, "field": "availability", "factor": 0.3},
                             {"where": {"country": "CN"}, "field": "cost", "factor": 1.5}]},
        "demand_up": {"scale": [{"where": {}, "field": "quantity", "factor": 1.6}]},
        "cap": {"add_policies": [{"type": "max_country_share", "share": 0.5, "products": ["magnet"]}]},
    }
    if not any(f["country"] == "CN" for f in data["facilities"]):
        data["facilities"][0]["country"] = "CN"
    return data


def spliced(data, scenario):
    """The deterministic instance a future of `scenario` sees: the base before
    2027, the scenario from 2027 on, written as time series that switch there."""
    out = copy.deepcopy(data)
    out.pop("scenarios")
    out.pop("uncertainty")
    first = out["periods"][0]
    if scenario == "cn_cut":
        for f in out["facilities"]:
            if f["country"] == "CN":
                a = f.get("availability", 1.0)
                f["availability"] = {first: a, REVEAL: a * 0.3}
                f["cost"] = {first: f["cost"], REVEAL: f["cost"] * 1.5}
    elif scenario == "demand_up":
        for d in out["demand"]:
            d["quantity"] = {first: d["quantity"], REVEAL: d["quantity"] * 1.6}
    elif scenario == "cap":
        out["policies"].append({"type": "max_country_share", "share": 0.5, "products": ["magnet"], "from": REVEAL})
    return out


@pytest.mark.parametrize("scenario", ["cn_cut", "demand_up", "cap"])
@pytest.mark.parametrize("seed", SEEDS)
def test_one_future_is_the_deterministic_instance_switched_at_reveal(seed, scenario):
    data = shocks(random_instance(seed))
    data["uncertainty"] = {"reveal": REVEAL, "events": [{"name": "e", "outcomes": [{"scenario": scenario, "probability": 1}]}]}
    stochastic = ree_opt.solve_stochastic(data, value_of_information=False)
    deterministic = ree_opt.solve(spliced(data, scenario))
    assert stochastic.objective == pytest.approx(deterministic.objective, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", SEEDS)
def test_revealed_at_the_start_every_future_is_its_own_solve(seed):
    """reveal at the first period and no offtake: nothing is shared, so the
    objective is sum_s pi_s solve(future s) and EVPI is 0."""
    data = shocks(random_instance(seed))
    data["uncertainty"] = {"reveal": 2026, "events": [
        {"name": "licences", "outcomes": [{"probability": 0.6}, {"scenario": "cn_cut", "probability": 0.4}]},
        {"name": "demand", "outcomes": [{"probability": 0.7}, {"scenario": "demand_up", "probability": 0.3}]},
    ]}
    sol = ree_opt.solve_stochastic(data)
    alone = [ree_opt.solve(data, scenario=row.scenario or None).objective for row in sol.futures.itertuples()]
    assert sol.futures["cost_musd"].tolist() == pytest.approx(alone, rel=1e-7, abs=1e-7)
    assert sol.objective == pytest.approx(float(np.dot(sol.futures["probability"], alone)), rel=1e-7)
    assert sol.evpi == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_value_of_information_and_risk_aversion_properties(seed):
    data = shocks(random_instance(seed))
    for f in data["facilities"][:3]:
        f["offtake"] = {"fee": 2.0, "take_or_pay": 0.5, "spot_markup": 0.3}
    data["uncertainty"] = {"reveal": REVEAL, "alpha": 0.8, "events": [
        {"name": "licences", "outcomes": [{"probability": 0.5}, {"scenario": "cn_cut", "probability": 0.5}]},
        {"name": "demand", "outcomes": [{"probability": 0.7}, {"scenario": "demand_up,cap", "probability": 0.3}]},
    ]}
    neutral = ree_opt.solve_stochastic(data)
    assert neutral.objective == pytest.approx(neutral.expected_cost, rel=1e-9)
    assert neutral.evpi >= -1e-6
    assert neutral.vss >= -1e-6
    assert neutral.cvar >= neutral.expected_cost - 1e-9
    frontier = ree_opt.risk_frontier(data, omegas=[0.0, 0.3, 0.7, 1.0])
    assert (np.diff(frontier["objective_musd"]) >= -1e-6).all()
    assert frontier["objective_musd"].iloc[0] == pytest.approx(neutral.objective, rel=1e-9)
    averse = ree_opt.solve_stochastic(data, omega=0.7)
    assert averse.objective == pytest.approx(frontier["objective_musd"].iloc[2], rel=1e-7)
    assert averse.objective == pytest.approx(0.3 * averse.expected_cost + 0.7 * averse.cvar, rel=1e-7)
    assert averse.cvar <= neutral.cvar + 1e-6
    assert averse.evpi >= -1e-6 and averse.vss >= -1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_one_unchanged_future_is_solve(seed):
    data = shocks(random_instance(seed))
    data["uncertainty"] = {"events": [{"name": "none", "outcomes": [{"probability": 1.0}]}]}
    sol = ree_opt.solve_stochastic(data)
    assert sol.objective == pytest.approx(ree_opt.solve(data).objective, rel=1e-7, abs=1e-7)
    assert sol.evpi == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_identical_futures_give_no_evpi(seed):
    """Two outcomes with the same scenario: every future is the same."""
    data = shocks(random_instance(seed))
    data["uncertainty"] = {"events": [{"name": "twice", "outcomes": [
        {"scenario": "cn_cut", "probability": 0.3}, {"scenario": "cn_cut", "probability": 0.7}]}]}
    sol = ree_opt.solve_stochastic(data)
    assert sol.evpi == pytest.approx(0.0, abs=1e-6)
    assert sol.futures["cost_musd"].iloc[0] == pytest.approx(sol.futures["cost_musd"].iloc[1], rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_sampled_futures_approach_the_enumerated_ones(seed):
    """4,000 draws of 4 combinations: each merged future's probability within
    0.03 of the exact one (binomial sd <= 0.008), so the objectives agree to
    the same order (every future cost is bounded)."""
    data = shocks(random_instance(seed))
    data["uncertainty"] = {"events": [
        {"name": "licences", "outcomes": [{"probability": 0.6}, {"scenario": "cn_cut", "probability": 0.4}]},
        {"name": "demand", "outcomes": [{"probability": 0.7}, {"scenario": "demand_up", "probability": 0.3}]},
    ]}
    exact = ree_opt.solve_stochastic(data, value_of_information=False)
    sampled = ree_opt.solve_stochastic(data, sample={"n": 4000, "seed": seed}, value_of_information=False)
    assert len(sampled.futures) == 4
    spread = exact.futures["cost_musd"].max() - exact.futures["cost_musd"].min()
    assert abs(sampled.objective - exact.objective) <= 0.03 * 4 * spread + 1e-6
    merged = sampled.futures.set_index("scenario")["probability"]
    for row in exact.futures.itertuples():
        assert abs(merged[row.scenario] - row.probability) < 0.03
