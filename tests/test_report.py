"""The report: its numbers are the library's, it opens in a real browser
without errors or fetches, and nothing an instance holds can run in it."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from browser import Browser, chromium_path
from builders import demand, facility, instance, two_funded_plants

import ree_opt
from ree_opt.analysis import premium_curve, sweep, tornado
from ree_opt.outputs import OutputError
from ree_opt.ranging import tightest
from ree_opt.report import build_report, collect, layout, report_factors
from ree_opt.report import numbers as fmt
from ree_opt.report.data import DEFAULT_SHARES, RANGING_TOP, numbered_sections, step_count

SPEC_EXAMPLE = Path(__file__).resolve().parent / "instances" / "spec_example.yaml"
A = pytest.approx
CHARTS = ["chart-mix", "chart-prices", "chart-curve", "chart-tornado"]
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_DESCRIPTION = "<img src=x onerror=alert(2)>"


class Numbers(HTMLParser):
    """The numbers an HTML report shows: elements with data-key, and each
    table's rows as (text, data-value) pairs."""

    def __init__(self, text: str):
        super().__init__()
        self.keys: dict[str, tuple[str, float]] = {}
        self.tables: dict[str, list[list[tuple[str, float | None]]]] = {}
        self._table = self._row = self._cell = self._key = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag == "td" and self._row is not None:
            value = attrs.get("data-value")
            self._cell = ["", None if value is None else float(value)]
        elif attrs.get("data-key"):
            value = attrs.get("data-value")
            self._key = [attrs["data-key"], "", None if value is None else float(value)]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data
        if self._key is not None:
            self._key[1] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(tuple(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "span" and self._key is not None:
            self.keys[self._key[0]] = (self._key[1], self._key[2])
            self._key = None


@pytest.fixture(scope="module")
def spec_report(tmp_path_factory):
    data = collect(SPEC_EXAMPLE)
    html = build_report(SPEC_EXAMPLE, tmp_path_factory.mktemp("report") / "report.html", data=data)
    return data, html


def hostile_instance() -> dict:
    """The spec example with markup in a facility's name, a scenario's
    description, an assumption and a source."""
    raw = yaml.safe_load(SPEC_EXAMPLE.read_text())
    raw = copy.deepcopy(raw)
    for facility in raw["facilities"]:
        if facility["id"] == "cn_ndpr_export":  # binds in the non-China plan: its name is in section 3
            facility["name"] = HOSTILE_NAME
            facility["assumption"] = "Priced at <b onmouseover=alert(5)>69</b> & licensed."
    raw["scenarios"]["licences_25pct"]["description"] = HOSTILE_DESCRIPTION
    raw["sources"] = [
        {"id": "evil", "title": "</li></ol><script>alert(3)</script>", "publisher": "x", "date": "2026",
         "url": "javascript:alert(4)"},
        {"id": "fine", "title": "A fine source", "publisher": "USGS", "date": "2026", "url": "https://example.org/a?b=1&c=2"},
    ]
    raw["facilities"][0]["source"] = "evil; fine"
    raw["facilities"][0]["assumption"] = "=HYPERLINK(\"x\") [click](javascript:alert(6))"
    return raw


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    data = collect(hostile_instance())
    html = build_report(hostile_instance(), tmp_path_factory.mktemp("hostile") / "report.html", data=data)
    return data, html


# --------------------------------------------------------------------------
# (a) the numbers


def test_report_data_equals_the_library(spec_report):
    data, _ = spec_report
    comparison = ree_opt.non_china_premium(SPEC_EXAMPLE, by_product=True)
    pd.testing.assert_series_equal(data.summary, comparison.summary(), rtol=1e-9)
    assert data.comparison.first_full_period == comparison.first_full_period
    assert data.comparison.supply_premium_usd_per_kg == A(comparison.supply_premium_usd_per_kg, rel=1e-9)
    pd.testing.assert_frame_equal(data.unmet(), comparison.unmet, rtol=1e-9)

    curve = premium_curve(SPEC_EXAMPLE, shares=DEFAULT_SHARES)
    pd.testing.assert_frame_equal(data.curve, curve, rtol=1e-9)
    swept = sweep(SPEC_EXAMPLE, "max_covered_share", DEFAULT_SHARES)
    assert list(data.curve["objective_musd"]) == A(list(swept["objective_musd"]), rel=1e-9)
    # the fully tightened end of the curve is the non-China plan
    assert data.curve["premium_musd"].iloc[-1] == A(comparison.premium_musd, rel=1e-9)

    instance, factors, _ = report_factors(ree_opt.load_instance(SPEC_EXAMPLE))
    spread = tornado(instance, factors=factors)
    assert list(data.tornado["factor"]) == list(spread["factor"])
    for column in ("premium_low_musd", "premium_high_musd", "swing_musd"):
        assert list(data.tornado[column]) == A(list(spread[column]), rel=1e-9)
    assert set(data.scenarios["scenario"]) == {"(baseline)", *ree_opt.load_instance(SPEC_EXAMPLE).scenarios}


def test_html_shows_the_library_numbers(spec_report):
    data, html = spec_report
    comparison = ree_opt.non_china_premium(SPEC_EXAMPLE, by_product=True)
    page = Numbers(html.read_text())
    summary = comparison.summary()
    for key in ("supply_premium_musd", "premium_musd"):
        text, value = page.keys[key]
        assert value == A(summary[key], rel=1e-12)
        assert text == fmt.musd(summary[key])
    # SPEC example: 893.1725 - 427.14375 in all, of which 900 t unmet at 400 USD/kg = 360 of penalty
    assert page.keys["premium_musd"][0] == "466.0"
    assert page.keys["supply_premium_musd"][0] == "106.0"  # the first card: no assumed penalty in it
    assert page.keys["unmet_non_china_t"][0] == "900"
    assert page.keys["first_clean_period"] == ("2027", None)  # 2026 is short; a year, not a number
    costs = {row[0][0]: row for row in page.tables["table-costs"]}
    assert costs["Least-cost (baseline) plan"][3][1] == A(summary["baseline_musd"], rel=1e-12)
    assert costs["Non-China plan"][3][1] == A(summary["non_china_musd"], rel=1e-12)
    assert costs["Non-China plan"][2][1] == A(360.0)
    assert costs["Non-China premium"][1][1] == A(summary["supply_premium_musd"], rel=1e-12)

    (product,) = page.tables["table-products"]
    assert product[0][0] == "NdPr oxide"
    assert product[1][0] == str(comparison.first_full_period["ndpr_oxide"])
    assert product[2][1] == A(comparison.supply_premium_usd_per_kg["ndpr_oxide"], rel=1e-12)

    curve = premium_curve(SPEC_EXAMPLE, shares=DEFAULT_SHARES)
    rows = page.tables["table-curve"]
    assert len(rows) == len(curve)
    for row, expected in zip(rows, curve.itertuples()):
        assert row[0][1] == A(expected.share)
        assert row[1][1] == A(expected.objective_musd, rel=1e-12)
        assert row[1][0] == fmt.musd(expected.objective_musd)
        assert row[2][1] == A(expected.premium_musd, rel=1e-9, abs=1e-9)
        assert row[5][1] == A(expected.unmet_t, rel=1e-9, abs=1e-9)

    scenario_rows = {row[0][0]: row for row in page.tables["table-scenarios"]}
    assert scenario_rows["(baseline)"][4][1] == A(comparison.premium_musd, rel=1e-9)


def test_html_lists_the_baselines_tightest_ranges(spec_report):
    data, html = spec_report
    expected = tightest(ree_opt.solve(SPEC_EXAMPLE).ranging, RANGING_TOP)
    rows = Numbers(html.read_text()).tables["table-ranging"]
    assert 0 < len(rows) == len(expected)
    for row, item in zip(rows, expected.itertuples()):
        assert row[1][0] == item.meaning
        assert row[2][1] == A(item.value, rel=1e-12)
        assert row[6][1] == A(item.room_pct, rel=1e-12)
    assert [r[6][1] for r in rows] == sorted(r[6][1] for r in rows)  # least room first


def test_markdown_and_csv_show_the_same_numbers(spec_report, tmp_path):
    data, _ = spec_report
    markdown = build_report(SPEC_EXAMPLE, tmp_path / "memo.md", format="md", data=data)
    text = markdown.read_text()
    assert "costs USD 106.0 million more in supply" in text and "USD 466.0 million in all" in text
    for chart in ("mix", "prices", "curve", "tornado"):
        image = tmp_path / f"memo-{chart}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](memo-{chart}.png)" in text

    tables = build_report(SPEC_EXAMPLE, tmp_path / "tables", format="csv", data=data)
    summary = pd.read_csv(tables / "summary.csv").set_index("quantity")["value"]
    assert summary["premium_musd"] == A(data.summary["premium_musd"], rel=1e-12)
    curve = pd.read_csv(tables / "premium_curve.csv")
    assert list(curve["objective_musd"]) == A(list(data.curve["objective_musd"]), rel=1e-12)
    assert {p.name for p in tables.iterdir()} == {f"{name}.csv" for name in data.tables()}


def test_a_report_never_replaces_its_instance(tmp_path):
    target = tmp_path / "instance.yaml"
    target.write_text(SPEC_EXAMPLE.read_text())
    with pytest.raises(OutputError):
        build_report(target, target)
    assert target.read_text() == SPEC_EXAMPLE.read_text()


def test_markdown_and_csv_escape_the_instance(hostile_report, tmp_path):
    data, _ = hostile_report
    text = build_report(hostile_instance(), tmp_path / "memo.md", format="md", data=data).read_text()
    assert "<script" not in text and "<img" not in text and "<b " not in text
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" not in text  # parentheses are left alone
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\[click\\](javascript:alert(6))" in text
    assert not re.search(r"(?<!\\)\]\(javascript", text)  # no live link

    tables = build_report(hostile_instance(), tmp_path / "tables", format="csv", data=data)
    assumptions = pd.read_csv(tables / "assumptions.csv")
    assert assumptions["assumption"].str.startswith("'=HYPERLINK").any()
    assert not assumptions["assumption"].str.startswith("=").any()


# --------------------------------------------------------------------------
# the end-of-horizon sentence under the sourcing-mix chart

EOH_OPTION = "end_of_horizon: kept"


def three_month_lead(end_of_horizon: str, lead: float = 3) -> dict:
    """One Australian source at 10 USD/kg with a 3-month lead (a share 0.75
    of a year's output in-year, 0.25 the next), 100 t wanted in each of
    2026-2028, holding 1 USD/kg per period.

    lost: 2028 activity yields 0.75 t per t in the horizon (13.3 USD/kg
    delivered), 2027 activity 1 t (0.75 t held a year: 10.75 at most), so
    nothing is bought in 2028. 2026: 0.75 a26 = 100, a26 = 133.3 (no
    stock); 2027 covers the rest of 300 t: a27 = 166.7, holding 58.3 t into
    2028. Activity falls from 166.7 t to 0 t.
    kept: 2028 activity lands whole in 2028 (10 USD/kg, no holding): a27 =
    (100 - 0.25 x 133.3) / 0.75 = 88.9, a28 = 100 - 0.25 x 88.9 = 77.8, not
    below half of 88.9."""
    return instance(
        [facility("au", "AU", 10, lead_time_months=lead)],
        [demand(100)],
        periods=[2026, 2027, 2028],
        products={"ox": {"shortfall_penalty": 100, "holding_cost": 1.0}},
        end_of_horizon=end_of_horizon,
    )


def test_a_last_period_drop_under_lost_is_named_as_an_end_of_horizon_effect():
    data = collect(three_month_lead("lost"), shares=[1.0, 0.0])
    drops = data.end_of_horizon_drops()
    assert list(drops["plan"]) == ["baseline", "non-China"]  # AU is clean: the two plans are the same
    assert list(drops["stage"]) == ["separation", "separation"]
    assert list(drops["previous_t"]) == A([500 / 3, 500 / 3], rel=1e-6)
    assert list(drops["last_t"]) == A([0.0, 0.0], abs=1e-6)
    note = layout.end_of_horizon_note(data)
    assert note.startswith("In 2028, the activity of the separation stage falls below half of 2027's "
                           "(baseline plan: separation 167 t to 0 t; non-China plan: separation 167 t to 0 t).")
    assert "end-of-horizon effect" in note and EOH_OPTION in note


@pytest.mark.parametrize("end_of_horizon, lead", [("kept", 3), ("lost", 0)], ids=["kept", "lost-no-drop"])
def test_no_end_of_horizon_sentence_without_lost_and_a_drop(end_of_horizon, lead):
    """kept: 88.9 t then 77.8 t (docstring above). No lead: 100 t every year."""
    data = collect(three_month_lead(end_of_horizon, lead), shares=[1.0, 0.0])
    assert data.end_of_horizon_drops().empty
    assert layout.end_of_horizon_note(data) == ""


def test_the_spec_example_report_says_its_last_year_is_an_end_of_horizon_effect(spec_report, tmp_path):
    """The SPEC example is on `lost`: its baseline plan buys 2028's oxide in
    2027 and pays only the Chinese take-or-pay floor (500 t) in 2028."""
    data, html = spec_report
    activity = data.comparison.baseline.activity.groupby("period")["quantity_t"].sum()
    assert activity[2028] == A(500)  # cn_ndpr_export's min_take
    assert activity[2028] < 0.5 * activity[2027]
    text = html.read_text()
    note = text.index(EOH_OPTION)
    assert text.index('id="chart-mix"') < note < text.index('id="table-mix"')  # under the chart
    assert f"separation {fmt.tonnes(activity[2027])} t to 500 t" in text
    markdown = build_report(SPEC_EXAMPLE, tmp_path / "memo.md", format="md", data=data).read_text()
    assert "end\\_of\\_horizon: kept" in markdown and "end-of-horizon effect" in markdown


def test_a_report_on_kept_has_no_end_of_horizon_sentence(tmp_path):
    raw = yaml.safe_load(SPEC_EXAMPLE.read_text())
    raw["end_of_horizon"] = "kept"
    data = collect(raw)
    assert data.end_of_horizon_drops().empty
    html = build_report(raw, tmp_path / "report.html", data=data).read_text()
    markdown = build_report(raw, tmp_path / "memo.md", format="md", data=data).read_text()
    assert "end-of-horizon effect" not in html and "end-of-horizon effect" not in markdown
    assert "id=\"chart-mix\"" in html


# --------------------------------------------------------------------------
# (b), (c) in headless Chromium


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    with Browser(width=1280, height=900) as opened:
        yield opened


def test_report_opens_in_chromium(browser, spec_report, tmp_path):
    _, html = spec_report
    browser.open(html.as_uri())
    assert browser.errors() == []
    assert browser.dialogs() == []
    assert browser.requests() == [html.as_uri()]  # offline: nothing fetched but the file
    data, _ = spec_report
    sections = numbered_sections(data)
    assert [key for key, _ in sections] == ["answer", "mix", "binding", "prices", "curve", "tornado", "inputs"]
    assert sections[-1][1] == "7. Appendix: scenarios, assumptions and sources"  # no uncertainty: no section for it
    for section, title in sections:
        found = browser.evaluate(
            f"(() => {{ const s = document.getElementById('{section}'); if (!s) return null;"
            " const r = s.getBoundingClientRect(); return [s.querySelector('h2').textContent, r.height]; })()"
        )
        assert found is not None, f"section {section} missing"
        assert found[0] == title and found[1] > 50
    for chart in CHARTS:
        size = browser.evaluate(
            f"(() => {{ const svg = document.querySelector('#{chart} > svg'); if (!svg) return null;"
            " const r = svg.getBoundingClientRect(); return [r.width, r.height, svg.querySelectorAll('path').length]; })()"
        )
        assert size is not None, f"chart {chart} missing"
        width, height, paths = size
        assert width > 600 and height > 150 and paths > 10
    assert browser.evaluate("document.scripts.length") == 0
    shot = browser.screenshot(tmp_path / "report.png", full_page=True)
    first = browser.screenshot(tmp_path / "report_first_screen.png")
    for path in (shot, first):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hostile_names_show_as_text_and_never_run(browser, hostile_report, tmp_path):
    data, html = hostile_report
    # the escaping alone, without the page's Content-Security-Policy to back it up
    bare = tmp_path / "no_policy.html"
    text = html.read_text()
    policy = text.index('<meta http-equiv="Content-Security-Policy"')
    bare.write_text(text[:policy] + text[text.index(">", policy) + 1:])
    for page in (html, bare):
        browser.open(page.as_uri())
        assert browser.dialogs() == [], f"a script ran in {page.name}"
        assert browser.errors() == []
        assert browser.requests() == [page.as_uri()]
        counts = browser.evaluate(
            "[document.scripts.length, document.images.length, document.querySelectorAll('[onerror],[onmouseover]').length,"
            " document.querySelectorAll('a[href^=\"javascript\"]').length]"
        )
        assert counts == [0, 0, 0, 0]
        shown = browser.evaluate("document.body.innerText")
        assert HOSTILE_NAME in shown  # the facility's name, as text, in section 3 and 7
        assert HOSTILE_DESCRIPTION in shown  # the scenario's description, in the scenario table
        assert "</li></ol><script>alert(3)</script>" in shown
        assert browser.evaluate("document.querySelectorAll('#source-list li').length") == 2
        assert browser.evaluate("document.querySelector('#source-list a').href") == "https://example.org/a?b=1&c=2"
    browser.screenshot(tmp_path / "hostile.png", full_page=True)


def test_report_command(tmp_path, capsys):
    from ree_opt.cli import main

    target = tmp_path / "memo.md"  # the format follows the suffix
    assert main(["report", str(SPEC_EXAMPLE), "-o", str(target), "--scenario", "licences_25pct", "--json", "-q"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["format"] == "md" and target.exists() and (tmp_path / "memo-tornado.png").exists()
    expected = ree_opt.non_china_premium(SPEC_EXAMPLE, scenario="licences_25pct")
    assert printed["summary"]["premium_musd"] == A(expected.premium_musd, rel=1e-9)
    assert "scenario licences\\_25pct" in target.read_text()
    assert main(["report", str(SPEC_EXAMPLE), "-o", str(tmp_path / "r"), "-f", "csv", "-s", "no_such"]) == 2


# --------------------------------------------------------------------------
# Tornado bars in words, with their ranges (issue 19, item 11)


def test_scenario_pairs_are_named_by_what_they_scale_and_by_how_much():
    from ree_opt.report.data import pair_in_words, tornado_in_words

    baseline = ree_opt.load_instance(Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml")
    assert pair_in_words(baseline, "heavy_separation") == (
        "capacity of Dy/Tb separation (Lynas, MP Materials) (x0.5 / x2)", 0.5, 2.0)
    assert pair_in_words(baseline, "iluka_capacity") == ("capacity of Iluka (x0.69 / x1.31)", 0.69, 1.31)
    assert pair_in_words(baseline, "shortfall_penalty") == ("unmet-demand penalties (x0.5 / x2)", 0.5, 2.0)
    spread = pd.DataFrame({"factor": ["shortfall_penalty", "demand (x0.8 / x1.2)"],
                           "low": ["shortfall_penalty_low", 0.8], "high": ["shortfall_penalty_high", 1.2]})
    named = tornado_in_words(baseline, spread)
    assert list(named["factor"]) == ["unmet-demand penalties (x0.5 / x2)", "demand (x0.8 / x1.2)"]
    assert list(named["low"]) == [0.5, 0.8] and list(named["high"]) == [2.0, 1.2]


def test_progress_prints_a_line_per_step_when_not_on_a_terminal(capsys):
    from ree_opt.cli import Progress

    with Progress(10, "the report") as progress:  # pytest's stderr is not a terminal
        progress(1)  # a step without a name (a sweep's): no line
        progress(4, "the tornado")
        progress(5, "decisions under uncertainty: the plan at omega 0")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("  (")[0] for line in lines] == [
        "ree-opt:  50%  the tornado", "ree-opt: 100%  decisions under uncertainty: the plan at omega 0"]


def test_the_sourcing_chart_counts_tonnes_as_they_arrive():
    """three_month_lead: 75% of a year's output lands in-year, 25% the next.
    kept: activity 133.3, 88.9, 77.8 t lands 100 t in each year (2028's
    whole output counts in 2028), level with demand. lost: 133.3, 166.7, 0 t
    lands 100, 158.3 (58.3 held for 2028) and 41.7 t."""
    for end, expected in (("kept", [100.0, 100.0, 100.0]), ("lost", [100.0, 475 / 3, 125 / 3])):
        data = collect(three_month_lead(end), shares=[1.0, 0.0])
        supply = data.supply()
        part = supply[supply["plan"] == "baseline"].set_index("period")["quantity_t"]
        assert [part.get(p, 0.0) for p in (2026, 2027, 2028)] == A(expected, rel=1e-6), end
        demand = data.demand().set_index("period")["quantity_t"]
        assert list(demand) == A([100.0, 100.0, 100.0])
    assert data.chart_products() == ["ox"]  # none of NdPr, Dy, Tb, magnets: the products asked for


# --------------------------------------------------------------------------
# What to fund (SPEC section 7): builders.two_funded_plants derives every number

FUND_BUDGETS = [0, 2, 3]
FUND_TABLES = {"builds", "budget_curve", "expansion_values"}


@pytest.fixture(scope="module")
def fund_report(tmp_path_factory):
    data = collect(two_funded_plants(), shares=[1.0, 0.0], budgets=FUND_BUDGETS)
    html = build_report(two_funded_plants(), tmp_path_factory.mktemp("fund") / "report.html", data=data)
    return data, html


def test_what_to_fund_is_the_libraries_answer(fund_report):
    from ree_opt.funding import budget_curve, expansion_value

    data, _ = fund_report
    curve = budget_curve(two_funded_plants(), FUND_BUDGETS, executor=None)
    pd.testing.assert_frame_equal(data.budget_curve, curve)
    pd.testing.assert_frame_equal(data.expansion_values, expansion_value(two_funded_plants()))
    funding = data.funding()
    assert list(funding["premium_musd"]) == A([16.0, 12.0, 12.0, 10.5])
    assert list(funding["limit_musd"]) == A([0, 2, 3, 5])  # no limit: every module offered costs 5
    assert list(funding["first_clean_period"]) == ["never", "never", "never", 2027]


def test_what_to_fund_shows_the_hand_derived_numbers(fund_report):
    data, html = fund_report
    sections = numbered_sections(data)
    assert [key for key, _ in sections] == ["answer", "mix", "binding", "prices", "curve", "tornado", "fund", "inputs"]
    assert dict(sections)["fund"] == "7. What to fund"
    text = html.read_text()
    page = Numbers(text)
    assert page.keys["premium_unfunded_musd"] == ("16.0", A(16.0))
    assert page.keys["premium_funded_musd"] == ("10.5", A(10.5))
    assert page.keys["capex_funded_musd"] == ("5.0", A(5.0))
    assert page.keys["top_value_musd"] == ("4.0", A(4.0))  # the Australian line

    budget = page.tables["table-budget"]
    assert [row[0][0] for row in budget] == ["USD 0 (no funding)", "USD 2 million", "USD 3 million", "no limit"]
    columns = list(zip(*[[cell[1] for cell in row[1:6]] for row in budget]))
    assert list(columns[0]) == A([0.0, 2.0, 2.0, 5.0])  # capex the non-China plan uses
    assert list(columns[1]) == A([20.0, 16.0, 16.0, 14.5])  # non-China cost
    assert list(columns[2]) == A([4.0, 4.0, 4.0, 4.0])  # baseline cost: China, no builds
    assert list(columns[3]) == A([16.0, 12.0, 12.0, 10.5])  # premium
    assert list(columns[4]) == A([0.0, 4.0, 4.0, 5.5])  # saved against no funding
    assert [row[6][1] for row in budget] == A([400.0, 200.0, 200.0, 100.0])  # unmet without China, t
    assert [row[7][0] for row in budget] == ["not by 2027", "not by 2027", "not by 2027", "2027"]
    assert budget[3][8][0] == ("Australian refinery: line x1 (decided 2026); "
                               "American refinery: line x1 (decided 2027)")

    builds = page.tables["table-builds"]  # plan, facility, country, expansion, modules, decided, online, t, for
    assert [[cell[0] for cell in row[:10]] for row in builds] == [  # the buyer, product, capex, charge
        ["non-China", "Australian refinery", "AU", "line", "1", "2026", "2026", "200", "100", "NdPr oxide"],
        ["non-China", "American refinery", "US", "line", "1", "2027", "2027", "100", "100", "NdPr oxide"],
    ]
    assert [(row[10][1], row[11][1]) for row in builds] == [(A(2.0), A(2.0)), (A(3.0), A(1.5))]

    values = page.tables["table-expansion-values"]  # most valuable to the clean chain first
    assert [(row[0][0], row[3][1], row[5][1], row[6][1], row[7][1], row[8][1]) for row in values] == [
        ("Australian refinery", A(2.0), 0.0, 1.0, A(0.0, abs=1e-9), A(4.0)),
        ("American refinery", A(3.0), 0.0, 1.0, A(0.0, abs=1e-9), A(1.5)),
    ]
    assert ("A chain that never touches CN should fund first: Australian refinery (AU): line, decided in 2026, "
            "capacity from 2026; and American refinery (US): line, decided in 2027, capacity from 2027. Without "
            "funding (a budget of 0), the non-China premium is USD 16.0 million and the plan leaves demand unmet up "
            "to 2027; with its builds funded (USD 5.0 million of capex), it is USD 10.5 million and the plan serves "
            "all demand from 2027, leaving 300 t less demand unmet over the horizon (the premium counts unmet demand "
            "at the assumed penalties, USD 50/kg). The least-cost plan, free to buy from CN, builds none of them.") in text
    assert ("USD 2 million cuts the premium to USD 12.0 million (capex used USD 2.0 million; demand still unmet up to "
            "2027); USD 3 million buys nothing more; with no budget limit, the plan cuts the premium to USD 10.5 "
            "million (capex used USD 5.0 million; all demand served from 2027).") in text
    assert "not the first year a clean chain can exist" in text[text.index('id="fund"'):]
    # the first screen says what the answer counts on funding
    answer = text[text.index('id="answer"'):text.index('id="mix"')]
    assert ("It counts on USD 5.0 million of capex, funding Australian refinery (AU): line, decided in 2026, "
            "capacity from 2026; and American refinery (US): line, decided in 2027, capacity from 2027; without any "
            "funding it would not serve all demand by 2027 (premium USD 16.0 million at a budget of 0; see What to "
            "fund).") in answer
    # the first screen's cost table adds up: supply with the capital charges (6.0 + 3.5), plus 5.0 of penalty
    costs = {row[0][0]: row for row in page.tables["table-costs"]}
    assert [costs["Non-China plan"][i][1] for i in (1, 2, 3)] == A([9.5, 5.0, 14.5])
    assert "Supply (paid, held, less sales, capital charges of builds)" in text


def test_the_funding_section_is_in_markdown_and_csv(fund_report, tmp_path):
    data, _ = fund_report
    text = build_report(two_funded_plants(), tmp_path / "memo.md", format="md", data=data).read_text()
    assert "## 7. What to fund" in text
    for chart in ("budget", "builds"):
        assert (tmp_path / f"memo-{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tables = build_report(two_funded_plants(), tmp_path / "tables", format="csv", data=data)
    assert FUND_TABLES <= {p.stem for p in tables.iterdir()}
    values = pd.read_csv(tables / "expansion_values.csv")
    assert list(values["non_china_value_musd"]) == A([4.0, 1.5])


def test_no_funding_section_without_expansions(spec_report, tmp_path):
    data, html = spec_report
    assert data.budget_curve is None and data.expansion_values is None
    assert "fund" not in dict(numbered_sections(data))
    assert not FUND_TABLES & set(data.tables())
    text = html.read_text()
    assert 'id="fund"' not in text and "chart-budget" not in text and "What to fund" not in text
    assert "Supply (paid, held, less sales)<" in text  # the first screen as before section 7


def test_progress_adds_up_to_the_step_count_with_expansions():
    seen = []
    collect(two_funded_plants(), shares=[1.0, 0.0], budgets=FUND_BUDGETS,
            progress=lambda weight, label="": seen.append((weight, label)))
    assert sum(w for w, _ in seen) == A(step_count(two_funded_plants(), shares=[1.0, 0.0], budgets=FUND_BUDGETS))
    labels = [label for _, label in seen]
    assert "what each expansion is worth" in labels and "the budget curve" in labels


def test_the_funding_section_opens_in_chromium(browser, fund_report, tmp_path):
    _, html = fund_report
    browser.open(html.as_uri())
    assert browser.errors() == []
    assert browser.requests() == [html.as_uri()]
    for chart in ("chart-budget", "chart-builds"):
        size = browser.evaluate(
            f"(() => {{ const svg = document.querySelector('#{chart} > svg'); if (!svg) return null;"
            " const r = svg.getBoundingClientRect(); return [r.width, r.height, svg.querySelectorAll('path').length]; })()"
        )
        assert size is not None, f"chart {chart} missing"
        width, height, paths = size
        assert width > 600 and height > 100 and paths > 5
    order = browser.evaluate("[...document.querySelectorAll('section.report')].map(s => s.id)")
    assert order[-2:] == ["fund", "inputs"]
    shot = browser.screenshot(tmp_path / "fund.png", full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
