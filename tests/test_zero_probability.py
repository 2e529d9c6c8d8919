"""A future of probability 0 is dropped (SPEC section 6): nothing weighs it,
so its cost would be arbitrary. It is not enumerated, not solved, not
reported, not counted; the screens of `validate` and `stochastic` say how
many were dropped."""

import copy

import pandas as pd
import pytest
import yaml
from builders import demand, facility, instance

import ree_opt
from ree_opt.cli import main
from ree_opt.instance import Uncertainty
from ree_opt.stochastic import enumerate_futures

A = pytest.approx


def gamble(events: list) -> dict:
    """`cn` (Chinese oxide at 10 USD/kg, only in 2027) and `au` (30 USD/kg with
    a 12-month lead: 2026 activity lands in 2027); 100 t wanted in 2027."""
    return instance(
        [facility("cn", "CN", 10, {2026: 0, 2027: 1000}), facility("au", "AU", 30.0, lead_time_months=12)],
        [demand({2026: 0, 2027: 100})],
        periods=[2026, 2027],
        scenarios={"licences_0": {"set": {"cn": {"availability": 0}}}, "boom": {"scale": [
            {"where": {}, "field": "quantity", "factor": 3}]}},
        uncertainty={"alpha": 0.5, "events": copy.deepcopy(events)},
    )


LICENCES = {"name": "licences", "outcomes": [{"probability": 0.5}, {"scenario": "licences_0", "probability": 0.5}]}
# the same event with a third outcome nothing weighs: a demand boom of probability 0
WITH_ZERO = {"name": "licences", "outcomes": [
    {"probability": 0.5}, {"scenario": "boom", "probability": 0.0}, {"scenario": "licences_0", "probability": 0.5},
]}
# and an event whose only weighed outcome is "no change"
ZERO_BOOM = {"name": "demand", "outcomes": [{"scenario": "boom", "probability": 0}, {"probability": 1.0}]}


def test_combinations_of_probability_zero_are_not_enumerated_nor_counted():
    """3 x 2 = 6 combinations, of which 2 x 1 weigh anything."""
    uncertainty = Uncertainty.model_validate({"events": [WITH_ZERO, ZERO_BOOM]})
    futures = enumerate_futures(uncertainty)
    assert [(f.index, f.outcomes, f.scenario, f.probability) for f in futures] == [
        (0, (0, 1), "", 0.5), (1, (2, 1), "licences_0", 0.5),
    ]
    assert uncertainty.combinations() == 6
    assert uncertainty.future_count() == 2
    assert uncertainty.dropped_futures() == 4
    # drawn futures never pick an outcome of probability 0: nothing is dropped
    drawn = enumerate_futures(uncertainty, {"n": 200, "seed": 3})
    assert all(f.outcomes[0] != 1 and f.outcomes[1] == 1 for f in drawn)
    assert uncertainty.dropped_futures({"n": 200, "seed": 3}) == 0


def test_a_future_of_probability_zero_changes_nothing_of_the_answer():
    """With and without a boom of probability 0 (demand x 3, which would cost
    far more than either future), the same objective, EVPI, VSS and futures
    table: 3.0 in both futures (100 t of Australian oxide bought in 2026 at
    30 USD/kg, as tests/test_stochastic.py derives by hand)."""
    plain = ree_opt.solve_stochastic(gamble([LICENCES]))
    dropped = ree_opt.solve_stochastic(gamble([WITH_ZERO, ZERO_BOOM]))
    assert plain.objective == A(3.0)
    assert dropped.objective == A(plain.objective)
    assert (dropped.evpi, dropped.vss) == (A(plain.evpi), A(plain.vss))
    pd.testing.assert_frame_equal(dropped.futures, plain.futures)
    assert dropped.futures["scenario"].tolist() == ["", "licences_0"]


def test_the_screens_say_how_many_were_dropped(tmp_path, capsys):
    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(gamble([WITH_ZERO, ZERO_BOOM])))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}: valid (2 periods, 1 products, 2 facilities, 1 demand entries, 0 policies, 2 scenarios; "
        "uncertainty: 2 events, 2 futures (4 futures of probability 0 dropped))\n"
    )
    assert main(["stochastic", str(path), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("  2 futures; the future is revealed in 2027;")
    assert lines[2] == "  4 futures of probability 0 dropped (not solved, not reported)"
    assert main(["stochastic", str(path), "--json"]) == 0
    assert '"dropped_futures": 4' in capsys.readouterr().out
    # nothing dropped, nothing said
    path.write_text(yaml.safe_dump(gamble([LICENCES])))
    assert main(["stochastic", str(path), "--quiet"]) == 0
    assert "probability 0" not in capsys.readouterr().out
