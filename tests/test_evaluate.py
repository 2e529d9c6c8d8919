"""Out-of-sample evaluation of a stochastic plan (issue 9): the first stage
fixed, each future solved alone. Known answers derived by hand from the
instances of test_stochastic.py (USD million)."""

import math

import numpy as np
import pytest
import yaml
from conftest import SPEC_EXAMPLE
from test_stochastic import licence_gamble, offtake_gamble

import ree_opt
from ree_opt.cli import main
from ree_opt.instance import Uncertainty
from ree_opt.stochastic import enumerate_futures
from ree_opt.stochastic.evaluate import replication_seeds

A = pytest.approx


def spec_futures(**extra):
    """The SPEC example with licences cut (0.4), Lynas a year late (0.3) and a
    non-China mandate (0.2): 8 futures; Lynas under an offtake with a fee."""
    data = yaml.safe_load(SPEC_EXAMPLE.read_text())
    lynas = next(f for f in data["facilities"] if f.get("company") == "Lynas")
    lynas["offtake"] = {"fee": 0.5, "take_or_pay": 0.5, "spot_markup": 0.2}
    data["uncertainty"] = {
        "reveal": 2027,
        "events": [
            {"name": "licences", "outcomes": [{"probability": 0.6}, {"scenario": "licences_25pct", "probability": 0.4}]},
            {"name": "lynas", "outcomes": [{"probability": 0.7}, {"scenario": "lynas_slips_1y", "probability": 0.3}]},
            {"name": "mandate", "outcomes": [{"probability": 0.8}, {"scenario": "non_china", "probability": 0.2}]},
        ],
        **extra,
    }
    return data


@pytest.mark.parametrize("case", [
    licence_gamble(), licence_gamble(60.0), licence_gamble(60.0, omega=0.5), offtake_gamble(0.2), offtake_gamble(1.0),
    spec_futures(),
], ids=["licence-hedge", "licence-gamble", "licence-cvar", "offtake-light", "offtake-heavy", "spec-8-futures"])
def test_the_plans_own_futures_cost_what_they_cost_in_sample(case):
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    result = ree_opt.evaluate(case, plan, replications=0)
    assert result.futures[["future", "scenario", "probability"]].equals(plan.futures[["future", "scenario", "probability"]])
    assert np.abs(result.futures["cost_musd"].to_numpy() - plan.futures["cost_musd"].to_numpy()).max() < 1e-6
    assert result.expected_cost == A(plan.expected_cost, abs=1e-6)
    assert result.cvar == A(plan.cvar, abs=1e-6)
    assert result.objective == A(plan.objective, abs=1e-6)
    # every combination: the expectation is exact, not an estimate
    assert result.confidence_interval == (result.expected_cost, result.expected_cost)
    assert result.gap is None and result.message == ""


def test_the_spec_plan_is_evaluated_on_a_kept_model_changed_in_place():
    case = spec_futures()
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    result = ree_opt.evaluate(case, plan, sample={"n": 400, "seed": 3}, replications=0)
    assert len(result.futures) == 8  # 400 draws of 8 combinations, merged
    assert result.kept_model_reuses == 8  # every future on the worker's template, changed in place
    assert result.futures["probability"].sum() == A(1.0)
    assert result.futures["shortfall_t"].min() >= 0


def test_a_fresh_sample_gives_the_mean_and_interval_of_its_draws():
    """The risk-neutral gamble (Australian oxide at 60: a = 0) costs 1.0 with
    licences and 10.0 without. On 1000 fresh draws with q the share of cuts:
    mean 1 + 9 q, sample variance 81 q (1 - q) n / (n - 1), interval
    mean +- 1.96 sd / sqrt(n); CVaR_0.5 is 10 once q >= 0.5, else
    (q x 10 + (0.5 - q) x 1) / 0.5."""
    case = licence_gamble(60.0)
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    result = ree_opt.evaluate(case, plan, sample={"n": 1000, "seed": 11}, replications=0)
    draws = enumerate_futures(Uncertainty.model_validate(case["uncertainty"]), {"n": 1000, "seed": 11})
    q = sum(f.probability for f in draws if f.scenarios == ("licences_0",))
    assert 0.4 < q < 0.6
    mean = 1 + 9 * q
    half = 1.959964 * math.sqrt(81 * q * (1 - q) * 1000 / 999 / 1000)
    assert result.expected_cost == A(mean)
    assert result.confidence_interval == A((mean - half, mean + half), rel=1e-6)
    cvar = 10.0 if q >= 0.5 else (q * 10 + (0.5 - q) * 1) / 0.5
    assert result.cvar == A(cvar)
    assert result.draws == 1000


def test_gap_lower_bound_is_the_mean_of_independent_in_sample_optima():
    """Plan chosen on 10 draws. On a sample with a share q of cuts, a t of
    Australian oxide in 2026 saves 0.01 (1 - q) + 0.1 q - 0.06 per t (USD
    thousand per t): buy 100 t when q > 5/9, so the in-sample optimum is
    min(6.0, 1 + 9 q). The lower bound is its mean over the replications'
    samples; the upper bound the plan's out-of-sample mean."""
    case = licence_gamble(60.0, sample={"n": 10, "seed": 5})
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    result = ree_opt.evaluate(case, plan, sample={"n": 2000, "seed": 1}, replications=4)
    uncertainty = Uncertainty.model_validate(case["uncertainty"])
    optima = []
    for seed in replication_seeds(5, 4):
        q = sum(f.probability for f in enumerate_futures(uncertainty, {"n": 10, "seed": seed}) if f.scenarios)
        optima.append(min(6.0, 1 + 9 * q))
    gap = result.gap
    assert gap.size == 10 and len(set(gap.seeds)) == 4 and 5 not in gap.seeds
    assert gap.replications == A(optima)
    assert gap.lower == A(np.mean(optima))
    assert gap.upper == A(result.expected_cost)
    assert gap.lower_std_error == A(np.std(optima, ddof=1) / 2)
    assert gap.gap_bound_95 > gap.gap


def test_a_plan_on_every_combination_is_its_own_lower_bound():
    """licence_gamble(60) enumerated: the plan is the true optimum 5.5, so the
    gap's lower bound is 5.5 with no replication; on its own futures the
    upper bound is 5.5 too: no gap."""
    case = licence_gamble(60.0)
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    result = ree_opt.evaluate(case, plan, replications=3)
    assert result.gap.lower == A(5.5) and result.gap.replications == []
    assert result.gap.gap == A(0.0, abs=1e-9)
    assert result.gap.gap_bound_95 == A(0.0, abs=1e-9)


def test_serial_processes_and_dask_give_the_same_table():
    case = spec_futures()
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    sample = {"n": 60, "seed": 4}
    serial = ree_opt.evaluate(case, plan, sample=sample, replications=0)
    pooled = ree_opt.evaluate(case, plan, sample=sample, executor="processes", replications=0)
    assert serial.futures.equals(pooled.futures)
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = ree_opt.evaluate(case, plan, sample=sample, executor=client, replications=0)
    assert serial.futures.equals(on_dask.futures)


def test_evaluate_refuses_what_it_cannot_evaluate():
    case = licence_gamble()
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    with pytest.raises(ree_opt.InstanceError, match="replications: expected an integer >= 0, got -1"):
        ree_opt.evaluate(case, plan, replications=-1)
    with pytest.raises(ree_opt.InstanceError, match="no `uncertainty` section"):
        ree_opt.evaluate(SPEC_EXAMPLE, plan)
    with pytest.raises(ValueError, match="optimal StochasticSolution"):
        ree_opt.evaluate(case, ree_opt.solve(SPEC_EXAMPLE))


def test_evaluate_command(tmp_path, capsys):
    import json

    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(licence_gamble(60.0)))
    assert main(["evaluate", str(path), "--evaluate-sample", "500", "--evaluate-seed", "2",
                 "--replications", "0", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    q = sum(f.probability for f in enumerate_futures(
        Uncertainty.model_validate(licence_gamble(60.0)["uncertainty"]), {"n": 500, "seed": 2}) if f.scenarios)
    assert payload["summary"]["expected_cost_musd"] == A(1 + 9 * q)
    assert len(payload["futures"]) == 2
    assert main(["evaluate", str(path), "--omega", "0.5", "--replications", "2"]) == 0
    screen = capsys.readouterr().out
    assert "expected cost" in screen and "95%" in screen and "gap" in screen
    assert main(["evaluate", str(SPEC_EXAMPLE)]) == 2
    assert "no `uncertainty` section" in capsys.readouterr().err


def test_the_template_costs_each_future_as_its_own_model_does():
    """The evaluation's template (stochastic/template.py: every facility active
    and paid for in every period, every demand row, every added policy) gives
    each future the optimum of the future's own model with the plan's first
    stage fixed: on the rich generated futures (slips, licence levels, an
    embargo that adds policies, demand paths, price shocks), their builds
    after the reveal closed by the kept branch and bound where the relaxation
    is fractional, against HiGHS's branch and cut on the future alone."""
    from ree_opt.stochastic.evaluate import Setup, _solve_alone, _worker
    from ree_opt.stochastic.solve import tracked_in_every_future

    path = "instances/sampled/baseline_futures.yaml"
    plan = ree_opt.solve_stochastic(path, sample={"n": 4, "seed": 7}, value_of_information=False)
    instance = ree_opt.load_instance(path)
    futures = enumerate_futures(instance.uncertainty, {"n": 12, "seed": 5})
    setup = Setup(instance, tracked_in_every_future(instance, instance.uncertainty), 1, plan.first_stage_values, "t1")
    base, template = _worker(setup)
    assert template.unplaced == 0
    embargoes = branched = 0
    for future in futures:
        data = template.future_data(base, future.scenarios)
        in_place = template.solve(data)
        alone, _ = _solve_alone(setup, base, future.scenarios)
        assert in_place.status == alone.status == "optimal"
        assert in_place.objective == A(alone.objective, rel=1e-7)
        embargoes += "cn_embargo" in future.scenario
        branched += in_place.mip_nodes > 0  # its builds' relaxation was fractional: branch_and_bound.py closed it
    assert embargoes  # a future that adds policies is among them
    assert branched


def test_a_negative_gap_estimate_is_noise_clipped_at_zero_with_the_bounds_in_order():
    """licence_gamble(60) enumerated: the plan gambles (1.0 with licences, 10.0
    without, objective 5.5 = the lower bound). Out of sample on 20 draws with
    a share q < 1/2 of cuts its mean is 1 + 9 q < 5.5: the point estimate
    1 + 9 q - 5.5 is negative, which only noise gives. The gap is 0, its 95%
    bound max(0, estimate + 1.645 se) with se the out-of-sample mean's (the
    lower bound is exact), and the bounds stay in order (5.5, 5.5)."""
    from ree_opt.stochastic.evaluate import Z_95, Z_95_ONE_SIDED
    from ree_opt.stochastic.text import evaluation_text

    case = licence_gamble(60.0)
    plan = ree_opt.solve_stochastic(case, value_of_information=False)
    uncertainty = Uncertainty.model_validate(case["uncertainty"])
    seed = next(s for s in range(50) if sum(
        f.probability for f in enumerate_futures(uncertainty, {"n": 20, "seed": s}) if f.scenarios) < 0.4)
    q = sum(f.probability for f in enumerate_futures(uncertainty, {"n": 20, "seed": seed}) if f.scenarios)
    result = ree_opt.evaluate(case, plan, sample={"n": 20, "seed": seed}, replications=2)
    gap = result.gap
    assert gap.lower == A(5.5) and gap.upper == A(1 + 9 * q)
    assert gap.estimate == A(1 + 9 * q - 5.5) and gap.estimate < 0 and gap.noise
    assert gap.gap == 0.0
    low, high = result.confidence_interval
    error = (high - low) / (2 * Z_95)
    assert gap.gap_bound_95 == A(max(0.0, 1 + 9 * q - 5.5 + Z_95_ONE_SIDED * error)) and gap.gap_bound_95 >= 0
    assert gap.bounds == (A(5.5), A(5.5))
    summary = result.summary()
    assert summary["gap_lower_musd"] <= summary["gap_upper_musd"]
    assert summary["gap_musd"] == 0.0 and summary["gap_estimate_musd"] == A(1 + 9 * q - 5.5)
    screen = evaluation_text(result, plan, "gamble")
    assert "optimality gap (SAA estimate)            USD         0.00 million; 95% bound USD" in screen
    assert f"point estimate USD {1 + 9 * q - 5.5:,.2f} million: below 0, which only sampling noise gives" in screen
    assert "lower bound USD 5.50 million: the plan's own optimum over every combination" in screen
    assert f"upper bound USD 5.50 million: the out-of-sample estimate (USD {1 + 9 * q:,.2f} million) fell below" in screen


def test_futures_are_solved_with_the_events_that_change_most_numbers_first():
    """spec_futures from `reveal` (2027, 2028): Lynas a year late moves its
    online index (2 numbers), its ramped and usable capacity (2 + 2: the
    ramp-up starts a year later) and makes it inactive in 2027 (1): 7; the
    licence cut sets the Chinese export's availability (2), so its usable
    capacity (2), and scales its cost (2): 6; the mandate adds one policy: 2
    (one per period). So the order is lynas, licences, mandate, and the
    futures in solving order change Lynas's outcome least often."""
    from ree_opt.stochastic.evaluate import Setup, events_by_reach, in_solving_order
    from ree_opt.stochastic.solve import tracked_in_every_future

    instance = ree_opt.load_instance(spec_futures())
    tracked = tracked_in_every_future(instance, instance.uncertainty)
    assert events_by_reach(instance, tracked, 1) == [1, 0, 2]
    futures = enumerate_futures(instance.uncertainty)
    ordered = in_solving_order(Setup(instance, tracked, 1, {}, "order"), futures)
    assert [f.outcomes for f in ordered] == sorted(
        (f.outcomes for f in futures), key=lambda outcomes: (outcomes[1], outcomes[0], outcomes[2]))
