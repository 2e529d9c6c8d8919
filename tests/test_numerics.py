"""Numerical care: number ranges wider than 1e9 give a warning on the
Solution naming the entities (in the instance's words), HiGHS's own
warnings reach the Solution, and nothing reaches the screen."""

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import sparse

import ree_opt
from ree_opt.numerics import spans, wide_spans

ROOT = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = yaml.safe_load((ROOT / "tests" / "instances" / "spec_example.yaml").read_text())


def example(**changes) -> dict:
    """The SPEC example with facility fields changed: id -> {field: value}."""
    data = copy.deepcopy(SPEC_EXAMPLE)
    data.pop("scenarios", None)
    for facility in data["facilities"]:
        facility.update(changes.get(facility["id"], {}))
    return data


def test_recipes_of_1e_minus_6_and_1e6_name_both_facilities(capfd):
    data = example(iluka_eneabba={"outputs": {"ndpr_oxide": 1e-6}}, cn_ndpr_export={"outputs": {"ndpr_oxide": 1e6}})
    solution = ree_opt.solve(data)
    assert solution.optimal
    [warning] = [w for w in solution.warnings if w.startswith("matrix coefficients")]
    assert "from 1e-06 at facility iluka_eneabba" in warning
    assert "at facility cn_ndpr_export" in warning and "balance of product ndpr_oxide" in warning
    assert "span 8e+11 (more than 1e+09)" in warning  # 1e6 x 0.75 (a 3-month lead) over 1e-6
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""  # HiGHS's log stays off the screen


def test_costs_of_1e_minus_6_and_1e6_usd_per_kg_name_both_facilities_and_highs_warns():
    data = example(iluka_eneabba={"cost": 1e-6}, cn_ndpr_export={"cost": 1e6})
    solution = ree_opt.solve(data)
    [warning] = [w for w in solution.warnings if w.startswith("costs")]
    assert "from 1e-09 at facility iluka_eneabba" in warning  # USD million per t
    assert "to 1e+03 at facility cn_ndpr_export (paid activity, 2026)" in warning
    assert "HiGHS: Problem has some excessively small costs" in solution.warnings


def test_a_tiny_demand_beside_a_huge_capacity_names_the_demand_entry():
    data = example(lynas_ndpr={"capacity": 1e7})
    data["demand"][0]["quantity"] = 1e-4
    solution = ree_opt.solve(data)
    [warning] = [w for w in solution.warnings if w.startswith("row bounds")]
    assert "from 0.0001 at the quantity of demand[0] (defense ndpr_oxide) (2026)" in warning
    assert "the capacity of facility lynas_ndpr" in warning


@pytest.mark.parametrize("name", ["toy.yaml", "baseline.yaml"])
def test_the_shipped_instances_are_well_scaled(name):
    assert ree_opt.solve(ROOT / "instances" / name).warnings == []


def test_spans_measure_each_family_apart():
    matrix = sparse.csc_matrix(np.array([[1e-5, 0.0], [0.0, 2e5]]))
    found = spans(matrix, np.array([1.0, 0.0]), np.array([0.0, 3.0]), np.array([-np.inf, 1.0]), np.array([4.0, np.inf]))
    by_family = {span.family.split(" (")[0]: span for span in found}
    matrix_span = by_family["matrix coefficients"]
    assert (matrix_span.smallest.row, matrix_span.smallest.col) == (0, 0)
    assert (matrix_span.largest.row, matrix_span.largest.col) == (1, 1)
    assert matrix_span.ratio == pytest.approx(2e10)
    assert by_family["costs"].ratio == 1.0 and by_family["column floors"].smallest.col == 1
    assert by_family["row bounds"].ratio == 4.0  # infinite bounds are not numbers
    assert wide_spans(found) == [matrix_span]


def test_the_command_line_shows_the_warnings(tmp_path, capsys):
    from ree_opt.cli import main

    path = tmp_path / "scaled.yaml"
    path.write_text(yaml.safe_dump(example(iluka_eneabba={"cost": 1e-6}, cn_ndpr_export={"cost": 1e6})))
    assert main(["solve", str(path)]) == 0
    assert "ree-opt: warning: costs (USD million per t) span 1e+12" in capsys.readouterr().err
    assert main(["solve", str(path), "--json"]) == 0
    assert any(w.startswith("costs") for w in __import__("json").loads(capsys.readouterr().out)["warnings"])
    assert main(["premium", str(path), "--fast"]) == 0
    assert capsys.readouterr().err.count("ree-opt: warning: costs (USD million per t) span 1e+12") == 1
