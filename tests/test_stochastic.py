"""Two-stage decisions under uncertainty (SPEC section 6): known answers
derived by hand in the docstrings, and the section's stated consequences.

Units: t x USD/kg / 1000 = USD million. Every instance here runs on
2026-2027 with `reveal` 2027: what is bought in 2026 is the first stage.
"""

import copy

import numpy as np
import pytest
import yaml
from builders import demand, facility, instance, quantity
from conftest import SPEC_EXAMPLE

import ree_opt
from ree_opt.cli import main
from ree_opt.stochastic import conditional_value_at_risk, enumerate_futures, value_at_risk
from ree_opt.instance import Uncertainty

A = pytest.approx
LICENCES = {"name": "licences", "outcomes": [{"probability": 0.5}, {"scenario": "licences_0", "probability": 0.5}]}
NO_LICENCES = {"licences_0": {"set": {"cn": {"availability": 0}}}}


def licence_gamble(au_cost=30.0, **uncertainty):
    """Chinese oxide at 10 USD/kg, only in 2027 (no capacity in 2026), licences
    cut to nothing with probability 0.5; Australian oxide at `au_cost` with a
    12-month lead (2026 activity lands in 2027, 2027 activity after the end);
    100 t wanted in 2027, penalty 100 USD/kg."""
    return instance(
        [facility("cn", "CN", 10, {2026: 0, 2027: 1000}), facility("au", "AU", au_cost, lead_time_months=12)],
        [demand({2026: 0, 2027: 100})],
        periods=[2026, 2027],
        scenarios=copy.deepcopy(NO_LICENCES),
        uncertainty={"alpha": 0.5, "events": [copy.deepcopy(LICENCES)], **uncertainty},
    )


def test_risk_neutral_buyer_hedges_with_the_dearer_clean_source():
    """a t of Australian activity in 2026 (first stage) costs 30 a; what is
    missing in 2027 costs 10 (licences) or 100 (shortfall) per kg, so
    E = 30 a + 0.5 x 10 (100 - a) + 0.5 x 100 (100 - a) = 30 a + 55 (100 - a):
    a = 100, 3.0 in both futures. Wait-and-see: 1.0 with licences (buy Chinese),
    3.0 without: WS = 2.0, EVPI = 1.0. The nominal plan (licences as the instance
    has them) buys nothing in 2026: EEV = 0.5 x 1.0 + 0.5 x 10.0 = 5.5, VSS = 2.5."""
    sol = ree_opt.solve_stochastic(licence_gamble())
    assert sol.status == "optimal"
    assert sol.objective == A(3.0)
    assert sol.expected_cost == A(3.0)
    assert sol.futures["cost_musd"].tolist() == A([3.0, 3.0])
    assert quantity(sol.first_stage.activity, facility="au", period=2026) == A(100)
    assert sol.wait_and_see == A(2.0)
    assert sol.evpi == A(1.0)
    assert sol.expected_value_plan == A(5.5)
    assert sol.vss == A(2.5)
    assert sol.futures["scenario"].tolist() == ["", "licences_0"]
    assert sol.futures["probability"].tolist() == A([0.5, 0.5])


def test_cvar_weight_turns_a_gambler_into_a_hedger():
    """Australian oxide at 60 USD/kg: E = 60 a + 55 (100 - a) rises with a, so
    the risk-neutral buyer gambles (a = 0: costs 1.0 and 10.0, E = 5.5,
    CVaR_0.5 = 10.0, the worse half). The worse future's cost 60 a + 100 (100 - a)
    falls by 40 per t of a until both futures cost 6.0 at a = 100; the weighted
    slope (1 - omega) 5 - 40 omega turns negative past omega = 1/9. At omega = 0.5:
    a = 100, objective 6.0. WS = 0.5 (0.5 x 1 + 0.5 x 6) + 0.5 x 6 = 4.75;
    EEV (a = 0) = 0.5 x 5.5 + 0.5 x 10 = 7.75."""
    neutral = ree_opt.solve_stochastic(licence_gamble(60.0))
    assert neutral.objective == A(5.5)
    assert neutral.cvar == A(10.0)
    assert neutral.var == A(1.0)
    averse = ree_opt.solve_stochastic(licence_gamble(60.0), omega=0.5)
    assert averse.objective == A(6.0)
    assert averse.cvar == A(6.0)
    assert quantity(averse.first_stage.activity, facility="au", period=2026) == A(100)
    assert averse.wait_and_see == A(4.75)
    assert averse.evpi == A(1.25)
    assert averse.expected_value_plan == A(7.75)
    assert averse.vss == A(1.75)


def test_risk_frontier_turns_at_one_ninth():
    """Same instance: below omega = 1/9 the plan gambles (E 5.5, CVaR 10.0),
    above it hedges (E = CVaR = 6.0); the objective never falls as omega rises."""
    frontier = ree_opt.risk_frontier(licence_gamble(60.0), omegas=[0.0, 0.1, 0.12, 0.5, 1.0])
    assert frontier["expected_cost_musd"].tolist() == A([5.5, 5.5, 6.0, 6.0, 6.0])
    assert frontier["cvar_musd"].tolist() == A([10.0, 10.0, 6.0, 6.0, 6.0])
    assert frontier["objective_musd"].tolist() == A([5.5, 5.95, 6.0, 6.0, 6.0])
    assert (np.diff(frontier["objective_musd"]) >= -1e-9).all()


def offtake_gamble(take_or_pay):
    """Chinese oxide at 10 USD/kg from 2027 only, under an offtake: fee 1 USD/kg
    reserved, `take_or_pay` of the reservation paid in every future at 10 USD/kg,
    spot purchases beyond it at a 50% markup (15 USD/kg); licences cut with
    probability 0.5; 100 t wanted in 2027, penalty 100 USD/kg."""
    return instance(
        [facility("cn", "CN", 10, {2026: 0, 2027: 1000},
                  offtake={"fee": 1.0, "take_or_pay": take_or_pay, "spot_markup": 0.5})],
        [demand({2026: 0, 2027: 100})],
        periods=[2026, 2027],
        scenarios=copy.deepcopy(NO_LICENCES),
        uncertainty={"events": [copy.deepcopy(LICENCES)]},
    )


def test_offtake_reserved_when_its_take_or_pay_is_light():
    """take_or_pay 0.2, reservation k: with licences, k + 10 x 100 + 5 (100 - k);
    without, k + 0.2 x 10 k + 100 x 100 (all short). E = 5750 - 0.5 k (USD
    thousand): k = 100 t, fee 0.1; costs 1.1 and 10.3, E = 5.7. WS: 1.1 (reserve
    all) and 10.0 (reserve none): 5.55, EVPI 0.15. The nominal plan takes 100 t
    in 2027, so its reservation is 100 t: EEV = 5.7, VSS = 0."""
    sol = ree_opt.solve_stochastic(offtake_gamble(0.2))
    assert sol.objective == A(5.7)
    assert sol.offtakes.to_dict("records") == [
        {"facility": "cn", "period": 2027, "quantity_t": A(100), "fee_musd": A(0.1)}
    ]
    assert sol.futures["cost_musd"].tolist() == A([1.1, 10.3])
    assert sol.futures["shortfall_t"].tolist() == A([0.0, 100.0])
    assert sol.wait_and_see == A(5.55)
    assert sol.evpi == A(0.15)
    assert sol.vss == A(0.0, abs=1e-6)


def test_offtake_left_unsigned_when_its_take_or_pay_is_heavy():
    """take_or_pay 1: E = 5750 + 3.5 k: nothing reserved, E = 5.75 (spot at 15 with
    licences, all short without). The nominal plan's reservation of 100 t costs
    3.5 x 100 more: EEV 6.1, VSS 0.35."""
    sol = ree_opt.solve_stochastic(offtake_gamble(1.0))
    assert sol.objective == A(5.75)
    assert sol.offtakes.empty
    assert sol.expected_value_plan == A(6.1)
    assert sol.vss == A(0.35)


def spec_example(uncertainty):
    data = yaml.safe_load(SPEC_EXAMPLE.read_text())
    data["uncertainty"] = uncertainty
    return data


def test_one_future_revealed_at_the_start_is_the_deterministic_solve():
    """One future of probability 1, reveal at the first period, no offtake fee:
    the objective is solve() of that future's instance (SPEC: 545.575)."""
    sol = ree_opt.solve_stochastic(spec_example(
        {"reveal": 2026, "events": [{"name": "l", "outcomes": [{"scenario": "licences_25pct", "probability": 1}]}]}
    ))
    assert sol.objective == A(545.575)
    assert sol.objective == A(ree_opt.solve(SPEC_EXAMPLE, scenario="licences_25pct").objective)
    assert sol.evpi == A(0.0, abs=1e-6)
    assert sol.vss == A(0.0, abs=1e-6)


def test_identical_futures_have_no_value_of_information():
    """Two outcomes that both change nothing: EVPI = VSS = 0, and the objective is
    the deterministic optimum (427.14375), first stage included."""
    sol = ree_opt.solve_stochastic(spec_example(
        {"events": [{"name": "same", "outcomes": [{"probability": 0.3}, {"probability": 0.7}]}]}
    ))
    assert sol.objective == A(427.14375)
    assert sol.evpi == A(0.0, abs=1e-6)
    assert sol.vss == A(0.0, abs=1e-6)
    assert sol.futures["cost_musd"].tolist() == A([427.14375, 427.14375])


def test_a_policy_a_future_adds_applies_from_reveal():
    """A future under `non_china` (max_covered_share 0) still sees 2026 as the
    instance has it: covered oxide is delivered in 2026 (the first stage) and
    the future's cost lies below the non-China optimum (893.1725), which bans
    covered deliveries from 2026 on."""
    sol = ree_opt.solve_stochastic(spec_example(
        {"events": [{"name": "ban", "outcomes": [{"scenario": "non_china", "probability": 1}]}]}
    ))
    covered_2026 = quantity(sol.first_stage.deliveries, label="covered", period=2026)
    assert covered_2026 > 100
    assert sol.objective < 893.1725 - 1
    assert set(sol.first_stage.activity["period"]) == {2026}


def test_stockpile_against_an_embargo():
    """Chinese oxide at 10 USD/kg both years (lead 0), held at 0.5 USD/kg a year;
    an embargo stops it from 2027 with probability 0.5; 100 t wanted in 2027,
    penalty 100; the Australian source (30, 12-month lead) is dearer than
    stock. Plan: 100 t bought in 2026 and held: 1.0 + 0.05 = 1.05 in both
    futures. WS: 1.0 without the embargo (buy in 2027), 1.05 with it:
    1.025, EVPI 0.025. The nominal plan buys in 2027 (no holding), so under
    the embargo it falls 100 t short: EEV = 0.5 x 1.0 + 0.5 x 10.0 = 5.5,
    VSS = 4.45."""
    data = licence_gamble()
    data["facilities"][0]["capacity"] = 1000
    data["products"]["ox"]["holding_cost"] = 0.5
    data["scenarios"] = {"embargo": {"set": {"cn": {"availability": 0}}}}
    data["uncertainty"]["events"] = [
        {"name": "embargo", "outcomes": [{"probability": 0.5}, {"scenario": "embargo", "probability": 0.5}]}
    ]
    sol = ree_opt.solve_stochastic(data)
    assert sol.objective == A(1.05)
    assert sol.stockpile.to_dict("records") == [{"product": "ox", "label": "covered", "quantity_t": A(100)}]
    assert sol.futures["cost_musd"].tolist() == A([1.05, 1.05])
    assert sol.wait_and_see == A(1.025)
    assert sol.evpi == A(0.025)
    assert sol.expected_value_plan == A(5.5)
    assert sol.vss == A(4.45)


def test_offtake_against_a_demand_surge():
    """Australian oxide at 20 USD/kg from 2027, under an offtake: fee 1 USD/kg
    reserved, half the reservation k paid in every future, spot beyond it at
    +50% (10 USD/kg more); demand 100 t in 2027, 200 t in a surge (p 0.4).
    Costs (USD thousand): without surge k + 20 max(100, k/2) + 10 (100 - k)+,
    in the surge k + 20 max(200, k/2) + 10 (200 - k)+. E = 4200 - 9k on
    [0, 100], 3600 - 3k on [100, 200], 1600 + 7k on [200, 400]: k = 200 t,
    costs 2.2 and 4.2, E = 3.0. WS: 2.1 (k = 100) and 4.2 (k = 200): 2.94,
    EVPI 0.06. The nominal plan takes 100 t, so k = 100: EEV 3.3, VSS 0.3."""
    data = instance(
        [facility("au", "AU", 20, {2026: 0, 2027: 1000}, offtake={"fee": 1.0, "take_or_pay": 0.5, "spot_markup": 0.5})],
        [demand({2026: 0, 2027: 100})],
        periods=[2026, 2027],
        scenarios={"surge": {"scale": [{"where": {}, "field": "quantity", "factor": 2.0}]}},
        uncertainty={"events": [{"name": "demand", "outcomes": [
            {"probability": 0.6}, {"scenario": "surge", "probability": 0.4}]}]},
    )
    sol = ree_opt.solve_stochastic(data)
    assert sol.objective == A(3.0)
    assert sol.offtakes.to_dict("records") == [
        {"facility": "au", "period": 2027, "quantity_t": A(200), "fee_musd": A(0.2)}
    ]
    assert sol.futures["cost_musd"].tolist() == A([2.2, 4.2])
    assert sol.wait_and_see == A(2.94)
    assert sol.evpi == A(0.06)
    assert sol.expected_value_plan == A(3.3)
    assert sol.vss == A(0.3)


def test_three_licence_levels_under_omega_one():
    """Chinese oxide (10 USD/kg, 100 t/yr, 2027 only) at licence levels 1
    (p 0.5), 0.5 (p 0.3) and 0 (p 0.2); Australian activity a in 2026 (30,
    12-month lead) lands in 2027; 100 t wanted in 2027, penalty 100. Costs
    (USD thousand): full 1000 + 20a; half 5500 - 70a up to a = 50, then
    1000 + 20a; none 10000 - 70a. With alpha 0.7 the worst 30% is all of
    'none' and 0.1 of 'half': CVaR = 8500 - 70a, then 7000 - 40a: a = 100 t,
    every future 3.0, objective = CVaR = expected cost = 3.0 (risk-neutral
    would stop at a = 50: E = 2.9). WS: 1.0, 2.0 (50 t Chinese, 50 t
    Australian), 3.0: CVaR_0.7 = (0.2 x 3 + 0.1 x 2) / 0.3 = 8/3, EVPI 1/3.
    Nominal a = 0: costs 1.0, 5.5, 10.0, CVaR = 8.5, VSS 5.5."""
    data = licence_gamble(omega=1.0, alpha=0.7)
    data["facilities"][0]["capacity"] = {2026: 0, 2027: 100}
    data["scenarios"]["licences_50pct"] = {"set": {"cn": {"availability": 0.5}}}
    data["uncertainty"]["events"] = [{"name": "licences", "outcomes": [
        {"probability": 0.5}, {"scenario": "licences_50pct", "probability": 0.3},
        {"scenario": "licences_0", "probability": 0.2}]}]
    sol = ree_opt.solve_stochastic(data)
    assert sol.objective == A(3.0)
    assert sol.cvar == A(3.0)
    assert sol.expected_cost == A(3.0)
    assert quantity(sol.first_stage.activity, facility="au") == A(100)
    assert sol.wait_and_see == A(8 / 3)
    assert sol.evpi == A(1 / 3)
    assert sol.expected_value_plan == A(8.5)
    assert sol.vss == A(5.5)
    assert ree_opt.solve_stochastic(data, omega=0.0).objective == A(2.9)


def test_a_policy_a_future_adds_applies_from_reveal_by_hand():
    """Chinese oxide at 10, Australian at 20 USD/kg, 100 t wanted each year; a
    future (p 0.5) adds max_covered_share 0 `from` 2026, which applies from
    reveal (2027) only: 2026 is served by Chinese oxide in every future (1.0),
    2027 by Chinese (1.0) or Australian (2.0) oxide: futures 2.0 and 3.0,
    E = 2.5 (the non-China deterministic plan would cost 4.0). WS: the same
    (each future alone still sees 2026 as the instance has it): 2.5, EVPI 0;
    the nominal plan is the same first stage: VSS 0."""
    data = instance(
        [facility("cn", "CN", 10), facility("au", "AU", 20)],
        [demand(100)],
        periods=[2026, 2027],
        products={"ox": {"shortfall_penalty": 100, "holding_cost": 1.0}},
        scenarios={"ban": {"add_policies": [{"type": "max_covered_share", "share": 0, "from": 2026}]}},
        uncertainty={"events": [{"name": "ban", "outcomes": [{"probability": 0.5}, {"scenario": "ban", "probability": 0.5}]}]},
    )
    sol = ree_opt.solve_stochastic(data)
    assert sol.objective == A(2.5)
    assert sol.futures["cost_musd"].tolist() == A([2.0, 3.0])
    assert quantity(sol.first_stage.deliveries, label="covered", period=2026) == A(100)
    assert sol.evpi == A(0.0, abs=1e-9)
    assert sol.vss == A(0.0, abs=1e-9)
    assert ree_opt.solve(data, scenario="ban").objective == A(4.0)


def test_cvar_and_var_of_a_distribution():
    """Costs 1, 2, 10 with probabilities 0.5, 0.3, 0.2: VaR_0.7 = 2 (P(C <= 2) = 0.8),
    CVaR_0.7 = 2 + 0.2 x 8 / 0.3 = 7.333...; alpha = 0 gives the mean 0.5 + 0.6 + 2 = 3.1."""
    costs, p = [1, 2, 10], [0.5, 0.3, 0.2]
    assert value_at_risk(costs, p, 0.7) == 2
    assert conditional_value_at_risk(costs, p, 0.7) == A(2 + 1.6 / 0.3)
    assert conditional_value_at_risk(costs, p, 0.0) == A(3.1)


def test_futures_enumerate_combinations_and_sample_with_merged_draws():
    uncertainty = Uncertainty.model_validate({"events": [
        {"name": "a", "outcomes": [{"probability": 0.5}, {"scenario": "x", "probability": 0.5}]},
        {"name": "b", "outcomes": [{"probability": 0.25}, {"scenario": "y,z", "probability": 0.75}]},
    ]})
    futures = enumerate_futures(uncertainty)
    assert [f.scenario for f in futures] == ["", "y,z", "x", "x,y,z"]
    assert [f.probability for f in futures] == A([0.125, 0.375, 0.125, 0.375])
    sampled = enumerate_futures(uncertainty, {"n": 1000, "seed": 7})
    assert len(sampled) == 4  # 1000 draws of 4 combinations, merged
    assert sum(f.probability for f in sampled) == A(1.0)
    for drawn in sampled:  # each near its probability (binomial sd <= 0.016)
        exact = next(f for f in futures if f.outcomes == drawn.outcomes)
        assert abs(drawn.probability - exact.probability) < 0.06
    again = enumerate_futures(uncertainty, {"n": 1000, "seed": 7})
    assert [(f.outcomes, f.probability) for f in again] == [(f.outcomes, f.probability) for f in sampled]


def test_more_than_ten_thousand_combinations_are_refused_with_a_hint():
    events = [{"name": f"e{i}", "outcomes": [{"probability": 0.5}, {"probability": 0.5}]} for i in range(14)]
    with pytest.raises(ree_opt.InstanceError) as error:
        ree_opt.solve_stochastic(spec_example({"events": events}))
    assert "16,384 futures" in str(error.value) and "sample" in str(error.value)


def test_uncertainty_is_validated_with_locations(tmp_path):
    data = yaml.safe_load(SPEC_EXAMPLE.read_text())
    data["scenarios"]["moved"] = {"set": {"iluka_eneabba": {"country": "US"}}}
    data["uncertainty"] = {
        "reveal": 2030, "alpha": 1.0, "omega": 1.5,
        "events": [
            {"name": "l", "outcomes": [{"scenario": "licences_25pct", "probability": 0.6},
                                       {"scenario": "nowhere", "probability": 0.3}]},
            {"name": "l", "outcomes": [{"scenario": "moved", "probability": 1.0}]},
        ],
        "sample": {"n": 0, "seed": "x"},
    }
    data["facilities"][0]["offtake"] = {"fee": -1, "take_or_pay": 2}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ree_opt.InstanceError) as error:
        ree_opt.load_instance(path)
    text = str(error.value)
    for expected in (
        "uncertainty.alpha: expected a number < 1.0 (got 1.0)",
        "uncertainty.omega: expected a number <= 1.0 (got 1.5)",
        "uncertainty.sample.n: expected a number >= 1 (got 0)",
        "uncertainty.sample.seed: expected an integer (got 'x')",
        "facilities[0] (lynas_ndpr).offtake.fee: expected a number >= 0",
        "facilities[0] (lynas_ndpr).offtake.take_or_pay: expected a number <= 1.0 (got 2)",
    ):
        assert expected in text
    data["facilities"][0].pop("offtake")
    data["uncertainty"].update(alpha=0.9, omega=0.5, sample={"n": 10, "seed": 1})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ree_opt.InstanceError) as error:
        ree_opt.load_instance(path)
    text = str(error.value)
    for expected in (
        "uncertainty.reveal: expected a period label among the periods 2026..2028, got 2030",
        "uncertainty.events[1].name: event name 'l' is used more than once",
        "uncertainty.events[0].outcomes: the probabilities of event 'l' must sum to 1, got 0.9",
        "uncertainty.events[0].outcomes[1].scenario: unknown scenario 'nowhere'",
        "scenarios.moved.set.iluka_eneabba.country: scenario 'moved' is an outcome of uncertainty.events[1]",
    ):
        assert expected in text
    assert str(path) in text


def test_stochastic_command(tmp_path, capsys):
    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(licence_gamble(60.0)))
    assert main(["stochastic", str(path), "--omega", "0.5", "--json"]) == 0
    import json

    payload = json.loads(capsys.readouterr().out)
    assert payload["summary"]["objective_musd"] == A(6.0)
    assert payload["summary"]["vss_musd"] == A(1.75)
    assert main(["stochastic", str(path), "--out", str(tmp_path / "out")]) == 0
    screen = capsys.readouterr().out
    assert "expected cost" in screen and "EVPI" in screen and "VSS" in screen
    assert (tmp_path / "out" / "futures.csv").exists()
    assert main(["stochastic", str(path), "--out", str(tmp_path / "plan.xlsx")]) == 0
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "plan.xlsx")
    assert {"summary", "futures", "offtakes", "stockpile"} <= set(book.sheetnames)
    assert [c.value for c in book["futures"][1]][:4] == ["future", "scenario", "probability", "cost_musd"]
    baseline = SPEC_EXAMPLE.parent.parent.parent / "instances" / "baseline.yaml"
    assert main(["validate", str(baseline)]) == 0
    assert "17 scenarios; uncertainty: 4 events, 24 futures)" in capsys.readouterr().out
    assert main(["stochastic", str(SPEC_EXAMPLE)]) == 2
    assert "no `uncertainty` section" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # the command's own argument: refused by its parser
        main(["stochastic", str(path), "--omega", "2"])
    assert refused.value.code == 2
