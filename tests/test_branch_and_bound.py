"""The evaluation's kept MIP (ree_opt/branch_and_bound.py): hand-derived
optima, bounds put back, the incumbent carried from one solve to the next,
HiGHS taking over, and random MIPs against HiGHS's own branch and cut."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from scipy import sparse

from ree_opt import branch_and_bound
from ree_opt.branch_and_bound import KeptMIP
from ree_opt.solver import highs_model, solve_highs


def _mip(cost, rows, row_lower, row_upper, upper, integer=None):
    matrix = sparse.csc_matrix(np.array(rows, dtype=float))
    cost = np.array(cost, dtype=float)
    integer = np.ones(len(cost), dtype=bool) if integer is None else np.array(integer)
    highs = highs_model(matrix, cost, np.zeros(len(cost)), np.array(upper, dtype=float),
                        np.array(row_lower, dtype=float), np.array(row_upper, dtype=float), integrality=integer)
    return highs, np.flatnonzero(integer)


def _three_builds():
    """Three build columns x, y, z (modules, 0..2; y at most 1) costing 3, 2
    and 4 a module; at least 1.5 units of capacity: x + y + z >= 1.5.
    Relaxation: y = 1, x = 0.5, cost 3.5. Whole modules: y = 1, x = 1, cost 5
    (two modules are needed; the cheapest two are y and x)."""
    return _mip([3, 2, 4], [[1, 1, 1]], [1.5], [np.inf], [2, 1, 2])


def _bounds(highs):
    lp = highs.getLp()
    return (np.array(lp.col_lower_), np.array(lp.col_upper_), np.array(lp.row_lower_), np.array(lp.row_upper_))


@pytest.mark.parametrize("groups", [(), ([0, 1, 2],), ([2, 0],)])
def test_hand_derived_optimum_and_bounds_put_back(groups):
    highs, integer = _three_builds()
    mip = KeptMIP(highs, integer, groups)
    before = _bounds(highs)
    outcome = mip.solve()
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(5.0)
    assert outcome.values == pytest.approx([1.0, 1.0, 0.0])
    assert outcome.mip_nodes >= 1  # the relaxation (3.5) was fractional
    after = _bounds(highs)
    for a, b in zip(before, after):
        assert np.array_equal(a, b)
    # the running totals are free rows added once, after the model's own
    assert highs.getNumRow() == 1 + len(mip.totals)
    assert all(int(t) == int(highspy.HighsVarType.kContinuous) for t in highs.getLp().integrality_)


def test_running_totals_follow_each_group_in_order():
    highs, integer = _three_builds()
    mip = KeptMIP(highs, integer, ([2, 0],))
    # group (z, x): totals z, z + x; y alone: y
    assert [list(integer[p] for p in positions) for _, positions in mip.totals] == [[2], [2, 0], [1]]


def test_whole_relaxation_needs_no_branching():
    highs, integer = _mip([3, 2, 4], [[1, 1, 1]], [2], [np.inf], [2, 1, 2])
    outcome = KeptMIP(highs, integer).solve()
    assert (outcome.objective, outcome.mip_nodes) == (pytest.approx(5.0), 0)


def test_the_last_optimum_is_the_next_first_incumbent():
    highs, integer = _three_builds()
    mip = KeptMIP(highs, integer, ([0, 1, 2],))
    mip.solve()
    assert list(mip.last_whole) == [1.0, 1.0, 0.0]
    # x becomes the cheapest (1 a module): relaxation x = 1.5 (1.5), whole x = 2 (2)
    highs.changeColCost(0, 1.0)
    outcome = mip.solve()
    assert outcome.objective == pytest.approx(2.0)
    assert outcome.values == pytest.approx([2.0, 0.0, 0.0])
    mip.forget()
    assert mip.last_whole is None


def test_highs_takes_over_past_the_node_limit(monkeypatch):
    monkeypatch.setattr(branch_and_bound, "NODE_LIMIT", 0)
    highs, integer = _three_builds()
    mip = KeptMIP(highs, integer)
    before = _bounds(highs)
    outcome = mip.solve()
    assert outcome.objective == pytest.approx(5.0)
    for a, b in zip(before, _bounds(highs)):
        assert np.array_equal(a, b)
    assert all(int(t) == int(highspy.HighsVarType.kContinuous) for t in highs.getLp().integrality_)


def test_no_whole_plan_is_infeasible():
    highs, integer = _mip([1], [[2]], [1], [1], [3])  # 2 x = 1
    outcome = KeptMIP(highs, integer).solve()
    assert outcome.status == "infeasible"
    assert "whole number of modules" in outcome.message


def test_random_mips_match_highs_branch_and_cut():
    """Covering MIPs with some continuous columns, solved in place one after
    another with new costs, each against HiGHS's own branch and cut."""
    rng = np.random.default_rng(2026)
    for case in range(12):
        n, m = 8, 5
        rows = rng.integers(0, 4, size=(m, n)) * (rng.random((m, n)) < 0.6)
        rows[:, 0] = 1  # every row coverable
        need = rng.uniform(1.5, 7.5, size=m)
        integer = rng.random(n) < 0.6
        upper = np.where(integer, 3.0, 5.0)
        highs, columns = _mip(rng.uniform(1, 9, n), rows, need, np.full(m, np.inf), upper, integer)
        groups = [list(columns[: len(columns) // 2]), list(columns[len(columns) // 2 :])]
        mip = KeptMIP(highs, columns, groups)
        for _ in range(3):
            cost = rng.uniform(1, 9, n)
            highs.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
            ours = mip.solve()
            reference, _ = _mip(cost, rows, need, np.full(m, np.inf), upper, integer)
            theirs = solve_highs(reference, columns, duals=False)
            assert ours.status == theirs.status == "optimal", case
            assert ours.objective == pytest.approx(theirs.objective, rel=2e-6), case
            assert np.allclose(ours.values[columns], np.round(ours.values[columns]), atol=1e-6)
            assert ours.values @ cost == pytest.approx(ours.objective, rel=1e-9)
