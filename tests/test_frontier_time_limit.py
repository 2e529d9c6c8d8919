"""The report's risk frontier under a time limit (`report --frontier-time-limit`,
`decide(frontier_time_limit=)`): the points besides the two plans may be
stopped; a stopped point keeps its best plan, its `mip_gap` says how close it
is proven, and the report says so in words. The plans are proven to the gap."""

from dataclasses import replace

import pytest
from test_investment import surge_instance
from test_stochastic_tail import embargo_tail

from ree_opt.report import build_report, collect
from ree_opt.report.data import FRONTIER_OMEGAS
from ree_opt.stochastic.decision import decide, decide_weight
from ree_opt.stochastic.extensive import ExtensiveForm
from ree_opt.stochastic.results import FRONTIER_COLUMNS
from ree_opt.stochastic.solve import build_futures, stochastic_problem
from ree_opt.stochastic.tie_break import STEER, least_expected_cost_at_optimal_cvar

A = pytest.approx


def risky_surge() -> dict:
    """surge_instance (tests/test_investment.py) with the module's capex 3.2
    (a charge of 3.2): built, the futures cost 3.2 + 0.5 = 3.7 (normal) and
    3.2 + 1.0 + 2.5 = 6.7 (surge): E 5.2, CVaR_0.9 6.7 (two futures of
    probability 0.5: the worse one). Not built: 2.5 and 7.5: E 5.0, CVaR
    7.5. The risk-neutral plan does not build; from omega 0.2 on
    (5.0 + 2.5 w = 5.2 + 1.5 w) every plan builds: objective (1 - w) 5.2 +
    w 6.7 = 5.575, 5.95, 6.325 and 6.7 at omega 0.25, 0.5, 0.75 and 1."""
    instance = surge_instance()
    instance["facilities"][0]["expansions"][0]["capex"] = 3.2
    return instance


def recording_solves(monkeypatch, stop=None):
    """Record (omega, time_limit) of every extensive-form solve; `stop(form,
    outcome, time_limit)` may rewrite the outcome (a solve stopped by its limit)."""
    seen = []
    solve = ExtensiveForm.solve

    def recorded(self, time_limit=None, start=None):
        seen.append((self.omega, time_limit))
        outcome = solve(self, time_limit, start)
        return stop(self, outcome, time_limit) if stop is not None else outcome

    monkeypatch.setattr(ExtensiveForm, "solve", recorded)
    return seen


def test_a_generous_limit_gives_the_frontier_proven(monkeypatch):
    seen = recording_solves(monkeypatch)
    ticks = []
    decision = decide(risky_surge(), plans=(0.0, 0.5), frontier=FRONTIER_OMEGAS, frontier_time_limit=6,
                      value_of_information=False, progress=lambda weight, label: ticks.append(weight))
    frontier = decision.frontier
    assert list(frontier.columns) == FRONTIER_COLUMNS and FRONTIER_COLUMNS[-1] == "mip_gap"
    assert frontier["objective_musd"].tolist() == A([5.0, 5.575, 5.95, 6.325, 6.7])
    assert frontier["expected_cost_musd"].tolist() == A([5.0, 5.2, 5.2, 5.2, 5.2])
    assert frontier["cvar_musd"].tolist() == A([7.5, 6.7, 6.7, 6.7, 6.7])
    assert frontier["mip_gap"].tolist() == [0.0] * 5
    # the plans without a limit; the points besides them with it; omega 1 steered first, then exact in the time left
    limits = dict(seen)
    assert [w for w, _ in seen] == [0.0, 0.25, 0.5, 0.75, 1.0 - STEER, 1.0]
    assert limits[0.0] is None and limits[0.5] is None
    assert limits[0.25] == limits[0.75] == limits[1.0 - STEER] == 6
    assert 1 < limits[1.0] < 6
    # the progress bar: the plans weigh a MIP's solve (2 futures x 10), the points besides them 6 s (2.5 a
    # second: 15), omega 1 twice that (its tie-break); 0.1 a future built
    assert sum(ticks) == A(decide_weight(2, (0.0, 0.5), FRONTIER_OMEGAS, False, mip=True, frontier_time_limit=6))
    assert sum(ticks) == A(0.2 + 2 * 20 + 2 * 15 + 2 * 15)
    assert decision.plans[0.0].investments.empty and decision.plans[0.5].investments["modules"].tolist() == [1.0]


def stopped_at_the_limit(form, outcome, time_limit):
    """omega 0.75 stopped with a gap of 0.04%; omega 1's exact solve stopped
    with a bound of 6.0 on the least CVaR (worse than the steered solve's)."""
    if time_limit is None:
        return outcome
    if form.omega == 0.75:
        return replace(outcome, status="time_limit", mip_gap=0.0004)
    if form.omega == 1.0:
        return replace(outcome, status="time_limit", mip_bound=6.0, mip_gap=(6.7 - 6.0) / 6.7)
    return outcome


def test_a_stopped_point_keeps_its_plan_and_its_gap(monkeypatch):
    """omega 1: the steered solve (omega 0.999) proves 0.999 x 6.7 + 0.001 x
    5.2 = 6.6985, a bound on the least CVaR (every plan's expected cost is at
    most its CVaR), better than the exact solve's 6.0: the gap is
    (6.7 - 6.6985) / 6.7 = 0.0015 / 6.7."""
    recording_solves(monkeypatch, stopped_at_the_limit)
    frontier = decide(risky_surge(), plans=(0.0, 0.5), frontier=FRONTIER_OMEGAS, frontier_time_limit=120,
                      value_of_information=False).frontier.set_index("omega")
    assert frontier.loc[0.75, "mip_gap"] == 0.0004
    assert frontier.loc[0.75, "objective_musd"] == A(6.325)
    assert STEER == 1e-3 and frontier.loc[1.0, "mip_gap"] == A(0.0015 / 6.7)
    assert frontier.loc[1.0, ["objective_musd", "cvar_musd", "expected_cost_musd"]].tolist() == A([6.7, 6.7, 5.2])
    assert frontier.loc[[0.0, 0.25, 0.5], "mip_gap"].tolist() == [0.0] * 3


def test_the_report_says_which_points_are_not_proven(monkeypatch, tmp_path):
    recording_solves(monkeypatch, stopped_at_the_limit)
    data = collect(risky_surge(), shares=[1.0, 0.0], frontier_time_limit=120)
    assert data.frontier_time_limit == 120
    html = build_report(risky_surge(), tmp_path / "report.html", data=data).read_text()
    assert ("Not every point of the frontier is proven optimal: at omega 0.75 the best plan found in 2 minutes "
            "is within 0.04% of the least weighted cost, and at omega 1 within 0.022% of the least CVaR. The two "
            "plans compared above are proven optimal (--frontier-time-limit gives the points more time).") in html
    assert '<td class="text">within 0.04%</td>' in html and '<td class="text">within 0.022%</td>' in html
    proven = collect(risky_surge(), shares=[1.0, 0.0], frontier_time_limit=None)
    assert proven.frontier_time_limit is None
    assert "Not every point is proven" not in build_report(risky_surge(), tmp_path / "proven.html", data=proven).read_text()


def test_omega_one_stopped_takes_the_least_expected_cost_at_the_cvar_found():
    """embargo_tail (tests/test_stochastic_tail.py): at omega 1 HiGHS returns
    a plan of CVaR 6.0 at an expected 6.0, where 3.525 has the same CVaR. A
    first solve stopped by its limit still gets its second solve, bounded by
    the CVaR found: the expected cost falls to 3.525, the status and gap stay."""
    problem = stochastic_problem(embargo_tail())
    form = ExtensiveForm(build_futures(problem), [f.probability for f in problem.futures], 0.9, 1.0, with_cvar=True)
    first = form.solve()
    assert form.probabilities @ form.future_costs(first.values) == A(6.0)  # the plan the tie-break is for
    stopped = replace(first, status="time_limit", mip_gap=0.001)
    outcome = least_expected_cost_at_optimal_cvar(form, stopped, time_limit=60)
    assert form.probabilities @ form.future_costs(outcome.values) == A(3.525)
    assert (outcome.status, outcome.mip_gap, outcome.objective) == ("time_limit", 0.001, A(6.0))


def test_the_command_line_passes_the_frontier_time_limit(monkeypatch, tmp_path, capsys):
    """`report --frontier-time-limit S` reaches the solves (0: no limit); not
    given, the report's default, which the help names; a negative number is
    refused in the analyst's words."""
    import importlib

    import yaml

    from ree_opt.cli import main
    from ree_opt.report import ReportError
    from ree_opt.report.data import FRONTIER_TIME_LIMIT_S

    path = tmp_path / "surge.yaml"
    path.write_text(yaml.safe_dump(risky_surge()))
    asked = []

    def stop(*args, **options):
        asked.append(options.get("frontier_time_limit", "default"))
        raise ReportError("stopped here")

    monkeypatch.setattr(importlib.import_module("ree_opt.report"), "collect", stop)  # ree_opt.report is also a function
    for value in ("45", "0"):
        assert main(["report", str(path), "-q", "--frontier-time-limit", value]) != 0
    assert main(["report", str(path), "-q"]) != 0
    assert asked == [45.0, None, "default"]
    with pytest.raises(SystemExit) as refused:
        main(["report", str(path), "--frontier-time-limit", "-1"])
    assert refused.value.code == 2
    assert "--frontier-time-limit: expected a number of seconds (0: no limit), got '-1'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert f"(default {FRONTIER_TIME_LIMIT_S:g};" in " ".join(capsys.readouterr().out.split())
