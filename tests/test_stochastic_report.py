"""The report's section 8 for instances with `uncertainty`: the cost
distribution, the risk frontier, the offtakes and the stockpile, with the
library's numbers."""

import pytest
import yaml
from conftest import SPEC_EXAMPLE

import ree_opt
from ree_opt.report import build_report, collect


def uncertain_spec_example(tmp_path):
    data = yaml.safe_load(SPEC_EXAMPLE.read_text())
    data["uncertainty"] = {"alpha": 0.5, "events": [
        {"name": "licences", "outcomes": [{"probability": 0.6}, {"scenario": "licences_25pct", "probability": 0.4}]},
        {"name": "lynas", "outcomes": [{"probability": 0.7}, {"scenario": "lynas_slips_1y", "probability": 0.3}]},
    ]}
    for facility in data["facilities"]:
        if facility["id"] == "cn_ndpr_export":
            facility["offtake"] = {"fee": 2.0, "take_or_pay": 0.5, "spot_markup": 0.3}
    path = tmp_path / "uncertain.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_report_shows_the_decision_under_uncertainty(tmp_path):
    path = uncertain_spec_example(tmp_path)
    data = collect(path, shares=[1.0, 0.0])
    expected = ree_opt.solve_stochastic(path)
    averse = ree_opt.solve_stochastic(path, omega=0.5)
    assert sorted(data.stochastic_plans) == [0.0, 0.5]  # the instance's omega is 0: 0.5 beside it
    assert data.stochastic.omega == 0.0
    for plan, reference in ((data.stochastic_plans[0.0], expected), (data.stochastic_plans[0.5], averse)):
        assert plan.objective == pytest.approx(reference.objective, rel=1e-9)
        assert plan.cvar == pytest.approx(reference.cvar, rel=1e-9)
        assert plan.evpi == pytest.approx(reference.evpi, rel=1e-7, abs=1e-6)
        assert plan.vss == pytest.approx(reference.vss, rel=1e-7, abs=1e-6)
    frontier = ree_opt.risk_frontier(path)
    assert list(data.risk_frontier["omega"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert list(data.risk_frontier["expected_cost_musd"]) == pytest.approx(list(frontier["expected_cost_musd"]), rel=1e-9)
    html = build_report(path, tmp_path / "report.html", data=data).read_text()
    assert '<section class="report" id="uncertainty">' in html
    # the decision comes before the appendix
    assert '<a href="#uncertainty">7. What to sign now, before the future is known</a>' in html
    assert '<a href="#inputs">8. Appendix: scenarios, assumptions and sources</a>' in html
    assert html.index('id="uncertainty"') < html.index('id="inputs"')
    for chart in ("chart-futures", "chart-frontier"):
        assert f'id="{chart}"' in html
    assert f'data-key="expected_cost_musd" data-value="{float(data.stochastic.expected_cost)!r}"' in html
    assert f'data-key="expected_cost_averse_musd" data-value="{float(data.stochastic_plans[0.5].expected_cost)!r}"' in html
    offtake = expected.offtakes.iloc[0]
    assert offtake["facility"] == "cn_ndpr_export"
    # by name, flagged as covered, in tonnes of its product
    assert "Chinese NdPr oxide, export-licensed" in html and "CN (covered)" in html
    assert f"{offtake['quantity_t']:,.0f}" in html
    markdown = build_report(path, tmp_path / "memo.md", format="md", data=data).read_text()
    assert "## 7. What to sign now, before the future is known" in markdown
    assert (tmp_path / "memo-futures.png").exists() and (tmp_path / "memo-frontier.png").exists()
    tables = build_report(path, tmp_path / "tables", format="csv", data=data)
    assert {"futures.csv", "offtakes.csv", "stockpile.csv", "risk_frontier.csv", "plans_offtakes.csv"} <= {
        p.name for p in tables.iterdir()}


def test_decide_gives_the_plans_and_frontier_of_separate_solves(tmp_path):
    """One extensive form at several omegas, the wait-and-see solved once: the
    same plans, EVPI, VSS and frontier as solve_stochastic and risk_frontier."""
    from ree_opt.stochastic.decision import decide, decide_weight

    path = uncertain_spec_example(tmp_path)
    seen = []
    decision = decide(path, plans=(0.0, 0.5, 1.0), frontier=(0.0, 0.5, 0.75, 1.0), progress=lambda w, label: seen.append(w))
    assert sum(seen) == pytest.approx(decide_weight(4, (0.0, 0.5, 1.0), (0.0, 0.5, 0.75, 1.0)))
    for omega, plan in decision.plans.items():
        reference = ree_opt.solve_stochastic(path, omega=omega)
        assert plan.omega == omega
        assert plan.objective == pytest.approx(reference.objective, rel=1e-9)
        assert plan.expected_cost == pytest.approx(reference.expected_cost, rel=1e-9)  # omega 1: its tie-break too
        assert plan.wait_and_see == pytest.approx(reference.wait_and_see, rel=1e-9)
        assert plan.vss == pytest.approx(reference.vss, rel=1e-7, abs=1e-6)
    frontier = ree_opt.risk_frontier(path, omegas=(0.0, 0.5, 0.75, 1.0))
    for column in ("objective_musd", "expected_cost_musd", "cvar_musd"):
        assert list(decision.frontier[column]) == pytest.approx(list(frontier[column]), rel=1e-9)


def test_report_without_uncertainty_has_no_section_8(tmp_path):
    data = collect(SPEC_EXAMPLE, shares=[1.0, 0.0])
    assert data.stochastic is None
    html = build_report(SPEC_EXAMPLE, tmp_path / "report.html", data=data).read_text()
    assert 'id="uncertainty"' not in html and "What to sign now" not in html


def test_what_to_sign_opens_in_chromium(tmp_path):
    from browser import Browser, chromium_path

    if chromium_path() is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    path = uncertain_spec_example(tmp_path)
    html = build_report(path, tmp_path / "report.html", data=collect(path, shares=[1.0, 0.0]))
    with Browser(width=1280, height=900) as browser:
        browser.open(html.as_uri())
        assert browser.errors() == [] and browser.requests() == [html.as_uri()]
        heads = browser.evaluate("[...document.querySelectorAll('#table-sign-covered thead th')].map(t => t.textContent)")
        assert heads[:4] == ["Facility", "Country", "Product (t per period)", "Plan"]
        plans = browser.evaluate("[...document.querySelectorAll('#table-plans thead th')].map(t => t.textContent)")
        assert plans == ["", "Risk-neutral", "Risk-averse (omega 0.5)"]
        order = browser.evaluate("[...document.querySelectorAll('section.report')].map(s => s.id)")
        assert order[-2:] == ["uncertainty", "inputs"]  # the decision before the appendix
        for chart in ("chart-mix", "chart-futures", "chart-frontier"):
            width, height = browser.evaluate(
                f"(() => {{ const r = document.querySelector('#{chart} > svg').getBoundingClientRect(); return [r.width, r.height]; }})()")
            assert width > 600 and height > 150, chart
