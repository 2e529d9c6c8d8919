"""Sweeps re-solve one model in place: they must agree with separate solves."""

import numpy as np
import pytest
from random_instances import random_instance

import ree_opt
from ree_opt.analysis import Factor, frontier, premium_curve, sweep, tornado

SHARES = [1.0, 0.75, 0.5, 0.25, 0.0]


def test_share_sweep_equals_separate_solves(spec_example):
    table = sweep(spec_example, "max_covered_share", SHARES, premium=True)
    for row in table.itertuples():
        cap = {"type": "max_covered_share", "share": row.value}
        alone = ree_opt.solve(spec_example, policies=[cap], tie_break=False)
        assert row.objective_musd == pytest.approx(alone.objective, rel=1e-9)
        assert row.non_china_musd == pytest.approx(893.1725, rel=1e-9)
    assert list(table["value"]) == SHARES


@pytest.mark.parametrize("seed", [1, 4, 7])
def test_multiplier_sweeps_equal_scenario_solves(seed):
    data = random_instance(seed)
    data["scenarios"] = {}
    for parameter, where, values in [
        ("cost", {"country": data["facilities"][0]["country"]}, [0.5, 1.0, 2.0]),
        ("capacity", {"stage": data["facilities"][1]["stage"]}, [0.0, 0.5, 1.5]),
        ("availability", {"id": data["facilities"][2]["id"]}, [0.0, 0.5, 1.0]),
        ("demand", {"segment": "commercial"}, [0.8, 1.0, 1.2]),
    ]:
        table = sweep(data, parameter, values, where=where)
        field = "quantity" if parameter == "demand" else parameter
        for value, objective in zip(values, table["objective_musd"]):
            patched = dict(data, scenarios={"s": {"scale": [{"where": where, "field": field, "factor": value}]}})
            if parameter == "availability" and any(
                f.get("availability", 1) * value > 1 for f in data["facilities"] if f["id"] == where["id"]
            ):
                continue
            expected = ree_opt.solve(patched, scenario="s", tie_break=False).objective
            assert objective == pytest.approx(expected, rel=1e-9, abs=1e-9), (parameter, value)


def test_existing_policy_share_is_swept_in_place(spec_example):
    """policies[0] is the example's 50% covered-share cap from 2028."""
    table = sweep(spec_example, "policies[0]", [0.5, 0.2])
    assert table["objective_musd"].iloc[0] == pytest.approx(427.14375)
    loaded = ree_opt.load_instance(spec_example).model_dump(by_alias=True, exclude_none=True)
    loaded["policies"][0]["share"] = 0.2
    assert table["objective_musd"].iloc[1] == pytest.approx(ree_opt.solve(loaded).objective, rel=1e-9)


def test_premium_curve_never_falls_and_its_duals_are_the_slopes(spec_example):
    curve = premium_curve(spec_example, shares=np.round(np.linspace(1, 0, 21), 4))
    cost = curve["objective_musd"].to_numpy()
    assert np.all(np.diff(cost) >= -1e-7)
    assert curve["premium_musd"].iloc[-1] == pytest.approx(466.02875)
    # Between 0.52 and 0.50 the curve is a straight line of slope 0.453 USD million per point.
    fine = premium_curve(spec_example, shares=[0.52, 0.51, 0.50])
    slope = (fine["objective_musd"].iloc[2] - fine["objective_musd"].iloc[0]) / 2.0
    assert slope == pytest.approx(0.453, rel=1e-6)
    assert fine["marginal_musd_per_pct"].iloc[1] == pytest.approx(slope, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_premium_curve_duals_match_finite_differences_on_random_chains(seed):
    data = random_instance(seed)
    h = 1e-4
    for share in (0.8, 0.5, 0.2):
        curve = premium_curve(data, shares=[share + h, share, share - h])
        left = (curve["objective_musd"].iloc[1] - curve["objective_musd"].iloc[0]) / (100 * h)
        right = (curve["objective_musd"].iloc[2] - curve["objective_musd"].iloc[1]) / (100 * h)
        if abs(left - right) < 1e-6 * max(1, abs(left)):  # smooth here
            assert curve["marginal_musd_per_pct"].iloc[1] == pytest.approx(left, rel=1e-4, abs=1e-6)


def test_frontier_trades_cost_for_covered_share(spec_example):
    table = frontier(spec_example, "covered_share", n=5)
    assert list(table["epsilon"]) == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert np.all(table["covered_share"].to_numpy() <= table["epsilon"].to_numpy() + 1e-9)
    assert np.all(np.diff(table["objective_musd"].to_numpy()) >= -1e-7)


def test_average_risk_frontier(spec_example):
    table = frontier(spec_example, "average_risk", n=4)
    assert np.all(table["average_risk"].to_numpy() <= table["epsilon"].to_numpy() + 1e-7)
    assert np.all(np.diff(table["objective_musd"].to_numpy()) >= -1e-7)


def test_tornado_base_point_is_the_plain_premium(spec_example):
    table = tornado(spec_example)
    assert list(table["base_premium_musd"]) == [pytest.approx(466.02875)] * len(table)
    assert list(table["swing_musd"]) == sorted(table["swing_musd"], reverse=True)
    # A factor whose low and high are the base point has no swing.
    flat = tornado(spec_example, factors=[Factor("demand unchanged", 1.0, 1.0, "demand", {})])
    assert flat["premium_low_musd"].iloc[0] == pytest.approx(466.02875)
    assert flat["swing_musd"].iloc[0] == pytest.approx(0.0, abs=1e-9)


def test_tornado_demand_swing_by_hand(spec_example):
    """Demand x0.8 and x1.2 as separate solves give the same premiums."""
    table = tornado(spec_example, factors=[Factor("demand", 0.8, 1.2, "demand", {})])
    data = ree_opt.load_instance(spec_example).model_dump(by_alias=True, exclude_none=True)
    for factor, column in ((0.8, "premium_low_musd"), (1.2, "premium_high_musd")):
        data["scenarios"] = {"d": {"scale": [{"where": {}, "field": "quantity", "factor": factor}]}}
        assert table[column].iloc[0] == pytest.approx(ree_opt.non_china_premium(data, scenario="d").premium_musd)


def test_unknown_parameter_is_refused(spec_example):
    with pytest.raises(ree_opt.InstanceError, match="unknown sweep parameter 'colour'"):
        sweep(spec_example, "colour", [1.0])
    with pytest.raises(ree_opt.InstanceError, match="matches no facility"):
        sweep(spec_example, "cost", [1.0], where={"country": "ZZ"})


def test_processes_and_dask_give_the_serial_table(spec_example):
    values = [1.0, 0.9, 0.6, 0.45, 0.3, 0.1, 0.0]
    serial = sweep(spec_example, "max_covered_share", values, premium=True)
    pooled = sweep(spec_example, "max_covered_share", values, premium=True, executor="processes")
    assert serial.equals(pooled)
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = sweep(spec_example, "max_covered_share", values, premium=True, executor=client)
    assert serial.equals(on_dask)


def test_tornado_swings_the_capex_of_every_expansion_by_hand():
    """builders.two_funded_plants (r = 0): the Australian line's charge is its
    capex (2 x 2 years / life 2), the American's half of it (3 x 1/2); each
    earns far more than its charge (6.0 and 3.0 of penalties avoided, net of
    the plants' 20 USD/kg), so both are built at any capex here. Non-China
    cost = charges + 6.0 made + 5.0 unmet in 2026, baseline 4.0.
    x0.9: 1.8 + 1.35 + 11.0 = 14.15, premium 10.15;
    x1.5: 3.0 + 2.25 + 11.0 = 16.25, premium 12.25."""
    from builders import two_funded_plants

    from ree_opt.analysis import default_factors

    instance = two_funded_plants()
    capex = [f for f in default_factors(instance) if f.scale == "capex"]
    assert [(f.name, f.low, f.high) for f in capex] == [("capex of every expansion (x0.9 / x1.5)", 0.9, 1.5)]
    row = tornado(instance, factors=capex).iloc[0]
    assert (row["premium_low_musd"], row["premium_high_musd"], row["base_premium_musd"]) == (
        pytest.approx(10.15), pytest.approx(12.25), pytest.approx(10.5))
    assert row["swing_musd"] == pytest.approx(2.1)
    without = [{k: v for k, v in f.items() if k != "expansions"} for f in instance["facilities"]]
    assert not [f for f in default_factors({**instance, "facilities": without}) if f.scale]
