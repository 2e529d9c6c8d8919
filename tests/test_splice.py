"""What the splice of SPEC section 6 cuts off (ree_opt/splice.py): a scenario
an uncertainty event names loses every change it makes before `reveal`, and
loading warns, naming the scenario and the periods it loses.

Every instance here runs on 2026-2028 with `reveal` 2027 unless told
otherwise: 2026 is what the splice keeps as the instance has it.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import demand, facility, instance

import ree_opt
from ree_opt.cli import main
from ree_opt.data import resolve
from ree_opt.instance import Instance
from ree_opt.loading import load_instance
from ree_opt.scenarios import apply_scenario
from ree_opt.splice import SpliceWarning, _facility_figures, splice_losses

ROOT = Path(__file__).resolve().parent.parent
PERIODS = [2026, 2027, 2028]


def gamble(scenario: dict, reveal=2027, plants=None, named=True) -> dict:
    """`cn` (Chinese oxide from 2026, 1,000 t at 10 USD/kg), `au` (from
    2028, 20 USD/kg), 500 t wanted a year; one event whose second outcome is
    `scenario` (or, with named=False, an event that names no scenario)."""
    plants = plants or [
        facility("cn", "CN", 10.0),
        facility("au", "AU", 20.0, online=2028),
    ]
    event = {"name": "licences", "outcomes": [{"probability": 0.5}, {"probability": 0.5}]}
    if named:
        event["outcomes"][1]["scenario"] = "shock"
    return instance(
        plants, [demand(500.0)], periods=PERIODS,
        scenarios={"shock": scenario},
        uncertainty={"reveal": reveal, "events": [event]},
    )


def losses(data: dict) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpliceWarning)
        inst = load_instance(data)
    return [(loss.scenario, list(loss.periods), list(loss.changes))
            for loss in splice_losses(inst, {name: apply_scenario(inst, name) for name in inst.scenarios})]


def test_a_halt_from_the_first_period_loses_the_periods_before_reveal():
    """The 2010-style halt: availability 0 from 2026, back in 2028. From a
    2027 reveal its 2026 is cut off (a halt of 2027 only); from 2028, 2026 and 2027."""
    halt = {"set": {"cn": {"availability": {2026: 0.0, 2028: 1.0}}}}
    assert losses(gamble(halt)) == [("shock", [2026], ["capacity of cn"])]
    assert losses(gamble(halt, reveal=2028)) == [("shock", [2026, 2027], ["capacity of cn"])]


def test_changes_from_reveal_on_lose_nothing():
    """The same halt written from 2027 (2026 as the instance has it), a reveal
    in the first period, a scenario no event names and one only an outcome of
    probability 0 names: no loss."""
    assert losses(gamble({"set": {"cn": {"availability": {2026: 1.0, 2027: 0.0}}}})) == []
    assert losses(gamble({"set": {"cn": {"availability": 0.0}}}, reveal=2026)) == []
    assert losses(gamble({"set": {"cn": {"availability": 0.0}}}, named=False)) == []
    never = gamble({"set": {"cn": {"availability": 0.0}}})
    never["uncertainty"]["events"][0]["outcomes"] = [{"probability": 1.0}, {"scenario": "shock", "probability": 0}]
    assert losses(never) == []  # an outcome of probability 0 is in no future


def test_a_change_with_no_effect_on_the_figures_loses_nothing():
    """cap_f(t) is what the splice keeps, not its ingredients: cutting `au`'s
    availability (not online before 2028) or its cost (nothing to pay for in
    2026) changes no figure of 2026. Scaling `cn`'s reservation from 0 keeps
    0. Raising `cn`'s cost does change 2026 (cn runs there)."""
    assert losses(gamble({"set": {"au": {"availability": 0.0, "cost": 99.0}}})) == []
    assert losses(gamble({"scale": [{"where": {"id": "cn"}, "field": "reserved", "factor": 3}]})) == []
    assert losses(gamble({"scale": [{"where": {"country": "CN"}, "field": "cost", "factor": 1.5}]})) == [
        ("shock", [2026], ["cost of cn"])
    ]


def test_each_kind_of_patch_that_reaches_before_reveal():
    """set (a take-or-pay floor, a ramp-up), scale (demand quantity, penalty),
    shift (a plant online in 2026 moved to 2027: 2026's capacity goes)."""
    assert losses(gamble({"set": {"cn": {"min_take": 100.0}}})) == [("shock", [2026], ["take-or-pay floor of cn"])]
    assert losses(gamble({"set": {"cn": {"ramp_up": [0.5]}}})) == [("shock", [2026], ["capacity of cn"])]
    assert losses(gamble({"scale": [{"where": {"segment": "commercial"}, "field": "quantity", "factor": 1.4}]})) == [
        ("shock", [2026], ["quantity of commercial ox"])
    ]
    assert losses(gamble({"scale": [{"where": {}, "field": "shortfall_penalty", "factor": 2}]})) == [
        ("shock", [2026], ["shortfall penalty of commercial ox"])
    ]
    assert losses(gamble({"shift": [{"where": {"id": "cn"}, "field": "online", "by": 1}]})) == [
        ("shock", [2026], ["capacity of cn"])
    ]
    # au comes online in 2028, after the reveal: moving it loses nothing
    assert losses(gamble({"shift": [{"where": {"id": "au"}, "field": "online", "by": 1}]})) == []


def test_an_added_policy_loses_the_periods_it_covers_before_reveal():
    """A policy a future adds applies from max(its `from`, reveal)."""
    cap = {"type": "max_covered_share", "share": 0.0}
    assert losses(gamble({"add_policies": [cap]}, reveal=2028)) == [
        ("shock", [2026, 2027], ["policy of add_policies[0] (max_covered_share)"])
    ]
    assert losses(gamble({"add_policies": [{**cap, "from": 2027}]})) == []
    assert losses(gamble({"add_policies": [{**cap, "to": 2026}]})) == [
        ("shock", [2026], ["policy of add_policies[0] (max_covered_share)"])
    ]


def test_loading_warns_with_the_scenario_and_the_periods_and_still_loads():
    halt = gamble({"set": {"cn": {"availability": {2026: 0.0, 2028: 1.0}}}}, reveal=2028)
    with pytest.warns(SpliceWarning) as caught:
        inst = ree_opt.load_instance(halt)
    assert isinstance(inst, Instance)
    assert [str(w.message) for w in caught] == [
        "scenarios.shock: scenario 'shock', an outcome of event 'licences', loses 2026 and 2027 to the splice: "
        "every future sees the instance as it is before the reveal in 2028, so its changes there are cut off "
        "(capacity of cn)"
    ]


def test_validate_names_cn_embargo_2y_seen_from_2027(capsys):
    """The baseline's two-year embargo (2026-2027, back from 2028) is a one-year
    halt seen from its 2027 reveal; validate says so, with the scenario's line,
    and still exits 0. A deterministic command does not mention it."""
    path = ROOT / "instances" / "baseline.yaml"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("  cn_embargo_2y:"))
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: valid (")
    assert (
        f"ree-opt: warning: {path}:{line}: scenarios.cn_embargo_2y: scenario 'cn_embargo_2y', an outcome of "
        "event 'embargo', loses 2026 to the splice: every future sees the instance as it is before the reveal "
        "in 2027, so its changes there are cut off (capacity of cn_dy_oxide_export, cn_ndfeb_magnet_export, "
        "cn_ndpr_metal_export, cn_ndpr_oxide_export, cn_tb_oxide_export)\n"
    ) in err
    assert main(["validate", "--json", str(path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert any("scenarios.cn_embargo_2y:" in w for w in payload["warnings"])
    assert sorted(w.split(": ")[1] for w in payload["warnings"]) == [
        "scenarios.cn_embargo_2y", "scenarios.demand_high", "scenarios.licences_0",
        "scenarios.licences_25pct", "scenarios.projects_slip_2y",
    ]


def test_a_deterministic_command_says_nothing_of_the_splice(tmp_path, capsys):
    data = gamble({"set": {"cn": {"availability": {2026: 0.0, 2028: 1.0}}}})
    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["solve", str(path)]) == 0
    assert "splice" not in capsys.readouterr().err
    assert main(["validate", str(path)]) == 0
    assert "scenarios.shock: scenario 'shock'" in capsys.readouterr().err


def test_the_figures_are_the_models():
    """The pure-Python figures the check compares (validate loads no NumPy)
    are data.resolve's cap_f(t) and take-or-pay floor, for every facility of
    the baseline and of each of its scenarios."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpliceWarning)
        base = load_instance(ROOT / "instances" / "baseline.yaml")
    labels = [str(p) for p in base.periods]
    for name in [None, *base.scenarios]:
        inst = apply_scenario(base, name) if name else base
        data = resolve(inst)
        for f in inst.facilities:
            figures = _facility_figures(inst, f, labels, len(labels))
            model = data.facility(f.id)
            assert np.allclose(figures["capacity"], model.capacity_t), (name, f.id)
            assert np.allclose(figures["take-or-pay floor"], model.min_take_t), (name, f.id)
            assert np.allclose(figures["cost"], model.cost_usd_per_kg), (name, f.id)
