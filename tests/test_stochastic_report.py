"""The report's section 8 for instances with `uncertainty`: the cost
distribution, the risk frontier, the offtakes and the stockpile, with the
library's numbers."""

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
    data = collect(path)
    expected = ree_opt.solve_stochastic(path)
    assert data.stochastic.objective == expected.objective
    assert list(data.risk_frontier["omega"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    html = build_report(path, tmp_path / "report.html", data=data).read_text()
    assert '<section class="report" id="uncertainty">' in html
    assert '<a href="#uncertainty">8. Decide now, under uncertainty</a>' in html
    for chart in ("chart-futures", "chart-frontier"):
        assert f'id="{chart}"' in html
    assert f'data-key="expected_cost_musd" data-value="{float(expected.expected_cost)!r}"' in html
    offtake = expected.offtakes.iloc[0]
    assert offtake["facility"] == "cn_ndpr_export" and f"{offtake['quantity_t']:,.0f}" in html
    markdown = build_report(path, tmp_path / "memo.md", format="md", data=data).read_text()
    assert "## 8. Decide now, under uncertainty" in markdown
    assert (tmp_path / "memo-futures.png").exists() and (tmp_path / "memo-frontier.png").exists()
    tables = build_report(path, tmp_path / "tables", format="csv", data=data)
    assert {"futures.csv", "offtakes.csv", "stockpile.csv", "risk_frontier.csv"} <= {p.name for p in tables.iterdir()}


def test_report_without_uncertainty_has_no_section_8(tmp_path):
    data = collect(SPEC_EXAMPLE, shares=[1.0, 0.0])
    assert data.stochastic is None
    html = build_report(SPEC_EXAMPLE, tmp_path / "report.html", data=data).read_text()
    assert 'id="uncertainty"' not in html and "8. Decide now" not in html
