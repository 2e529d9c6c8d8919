"""Results as one Excel workbook: summary in words, a sheet per table, the sourcing-mix charts."""

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import ree_opt
from ree_opt.cli import main
from ree_opt.workbook import column_unit, write_workbook

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def table_of(path, sheet):
    """A table sheet read back: names in row 1, units in row 2."""
    return pd.read_excel(path, sheet_name=sheet, header=0, skiprows=[1])


def summary_rows(book):
    return {r[0]: r[1:] for r in book["summary"].iter_rows(values_only=True) if r[0]}


def chart_xml(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [archive.read(n).decode() for n in sorted(archive.namelist()) if re.match(r"xl/charts/chart\d+\.xml", n)]


def test_solve_writes_one_workbook(capsys, tmp_path, spec_example):
    target = tmp_path / "plan.xlsx"
    code, _, err = run(capsys, "solve", spec_example, "--out", target)
    assert code == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xlsx"]  # one file, no temporary left
    solution = ree_opt.solve(spec_example)
    book = openpyxl.load_workbook(target)
    tables = solution.tables()
    assert book.sheetnames == ["summary", "sourcing_mix", *tables]

    rows = summary_rows(book)
    assert rows["Cost of the plan"][:2] == (pytest.approx(427.14, abs=0.005), "USD million")
    assert rows["  unmet-demand penalty"][0] == pytest.approx(0, abs=1e-6)
    assert "  none: every demand is met" in rows
    assert any(k.startswith("  1. the") and "binds" in k for k in rows)  # what binds, in words

    for name, table in tables.items():
        sheet = book[name]
        frame = table.to_frame().reset_index(names="item") if isinstance(table, pd.Series) else table
        assert [c.value for c in sheet[1]] == list(frame.columns)
        assert [c.value for c in sheet[2]] == [column_unit(c)[0] or None for c in frame.columns]
        assert sheet.freeze_panes == "A3"
        back = table_of(target, name)
        if frame.empty:
            assert back.empty
            continue
        if name == "ranging":  # a range end with no limit (+-inf) is a blank cell
            frame = frame.replace([np.inf, -np.inf], np.nan)
        # (whole tonnes read back as integers: compared to 1e-12, not bit for bit)
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_dtype=False, check_exact=False,
                                      rtol=1e-12)
    assert "tightest 5" in " ".join(k for k in rows if isinstance(k, str))
    assert any(k.startswith("  1. Chinese NdPr oxide, export-licensed may cost up to USD 75.5/kg in 2026") for k in rows)
    activity = book["activity"]
    assert activity.cell(3, 6).number_format == "#,##0.0"  # quantity_t
    assert activity.cell(3, 7).number_format == "#,##0.00"  # cost_musd
    assert [c.value for c in activity[2]][5:] == ["t (tonnes)", "USD million"]

    charts = chart_xml(target)
    assert len(charts) == 1  # one stage (separation) in the toy
    assert 'grouping val="stacked"' in charts[0] and 'barDir val="col"' in charts[0]
    mix = book["sourcing_mix"]
    assert mix["A1"].value == "separation: activity by country (t of main output)"
    by_country = solution.activity.groupby(["period", "country"])["quantity_t"].sum()
    heads = [c.value for c in mix[2]]
    assert heads[0] == "period" and set(heads[1:]) == set(solution.activity["country"])
    for row in mix.iter_rows(min_row=3, max_row=5, values_only=True):
        for country, value in zip(heads[1:], row[1:]):
            assert value == pytest.approx(by_country.get((row[0], country), 0.0))


def test_premium_workbook_says_the_answer(capsys, tmp_path, spec_example):
    target = tmp_path / "premium.xlsx"
    code, out, err = run(capsys, "premium", spec_example, "--out", target)
    assert code == 0, err
    book = openpyxl.load_workbook(target)
    assert book.sheetnames[:3] == ["summary", "mix_baseline", "mix_non_china"]
    rows = summary_rows(book)
    assert rows["Premium with unmet-demand penalties"][:2] == (pytest.approx(466.03, abs=0.005), "USD million")
    assert rows["  of which unmet-demand penalty (assumed)"][0] == pytest.approx(360.0)
    # the supply premium first: 466.03 less the 360 of assumed penalty
    assert rows["Supply premium (no assumed penalty in it)"][:2] == (pytest.approx(106.03, abs=0.005), "USD million")
    assert "  NdPr oxide 2026: 900 t" in rows
    assert "  NdPr oxide: 2027" in rows
    assert table_of(target, "premium").set_index("item").loc["premium_musd", "value"] == pytest.approx(466.02875)
    assert len(chart_xml(target)) == 2
    # covered countries are red in the charts
    assert "C0392B" in "".join(chart_xml(target))


def test_the_writer_takes_any_tables(tmp_path):
    """What `stochastic` and other commands will use: a title, lines, DataFrames."""
    frame = pd.DataFrame({"future": ["a", "b"], "probability": [0.25, 0.75], "cost_musd": [1.5, float("nan")]})
    path = write_workbook(tmp_path / "x.xlsx", "Title", ["a line", ("Expected cost", 2.5, "USD million")], {"futures": frame})
    book = openpyxl.load_workbook(path)
    assert book["summary"]["A1"].value == "Title"
    assert summary_rows(book)["Expected cost"] == (2.5, "USD million")
    assert [c.value for c in book["futures"][2]] == [None, None, "USD million"]
    assert book["futures"]["C4"].value is None  # NaN is an empty cell
    with pytest.raises(ree_opt.outputs.OutputError):
        write_workbook(path, "T", [], {}, inputs=[path])


def test_the_premium_workbook_prints_whole_pages(capsys, tmp_path):
    """Issue 19, item 10, on the baseline: the premium sheet's numbers carry
    their unit and format, table headers repeat on every printed page, every
    sheet has a print area fit to the page's width, charts sit below their
    block's title and whole blocks go to a page, long text wraps."""
    from ree_opt.workbook import CHARTS_PER_PAGE, SUMMARY_WIDTH

    target = tmp_path / "premium.xlsx"
    assert run(capsys, "premium", ROOT / "instances" / "baseline.yaml", "--out", target)[0] == 0
    book = openpyxl.load_workbook(target)
    premium = book["premium"]
    assert [c.value for c in premium[1]] == ["item", "value", "unit"]
    rows = {r[0].value: r for r in premium.iter_rows(min_row=3)}
    assert rows["baseline_musd"][2].value == "USD million" and rows["baseline_musd"][1].number_format == "#,##0.00"
    assert rows["premium_pct"][2].value == "%" and rows["premium_pct"][1].number_format == "0.0"
    assert rows["unmet_non_china_t"][2].value == "t (tonnes)" and rows["unmet_non_china_t"][1].number_format == "#,##0.0"
    for sheet in book.worksheets:
        assert sheet.print_area, sheet.title
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    for name in ("premium", "baseline_activity", "non_china_binding"):
        assert book[name].print_title_rows == "$1:$2"
    binding = book["non_china_binding"]
    meaning = [c.value for c in binding[1]].index("meaning") + 1
    assert binding.cell(3, meaning).alignment.wrap_text
    assert binding.column_dimensions[openpyxl.utils.get_column_letter(meaning)].width <= 70
    assert binding.row_dimensions[3].height and binding.row_dimensions[3].height > 15
    mix = book["mix_non_china"]
    titles = [row for row in range(1, mix.max_row + 1) if str(mix.cell(row, 1).value or "").startswith("non-China, ")]
    anchors = [chart.anchor._from.row + 1 for chart in mix._charts]  # 0-based in the drawing
    assert len(anchors) == len(titles) > CHARTS_PER_PAGE
    assert all(anchor == title + 1 for anchor, title in zip(anchors, titles))  # below the title, never over it
    breaks = [b.id for b in mix.row_breaks.brk]
    assert breaks == [titles[i] - 1 for i in range(CHARTS_PER_PAGE, len(titles), CHARTS_PER_PAGE)]
    summary = book["summary"]
    assert max(len(str(c.value or "")) for c in summary["A"]) <= SUMMARY_WIDTH + 4  # wrapped: it prints readably


def summary_text(book) -> str:
    """The summary sheet's column A as one text, its wrapped lines joined."""
    return " ".join(" ".join(str(c.value).split()) for c in book["summary"]["A"] if c.value)


FUND_SHEETS = ["non_china_builds", "baseline_builds", "budget_curve", "expansion_values"]


def test_invest_and_premium_workbooks_say_what_to_fund(capsys, tmp_path):
    """builders.two_funded_plants derives every number."""
    import yaml
    from builders import two_funded_plants

    instance = tmp_path / "two.yaml"
    instance.write_text(yaml.safe_dump(two_funded_plants()))
    target = tmp_path / "invest.xlsx"
    code, out, err = run(capsys, "invest", instance, "--budgets", "0,2,3", "--out", target, "-q")
    assert code == 0, err
    assert f"wrote {target}" in out
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["summary", "premium", *FUND_SHEETS]
    for name in FUND_SHEETS:
        sheet = book[name]
        heads = [c.value for c in sheet[1]]
        assert [c.value for c in sheet[2]] == [column_unit(h)[0] or None for h in heads], name
        assert sheet.freeze_panes == "A3" and sheet.print_title_rows == "$1:$2"
        assert sheet.print_area and sheet.page_setup.fitToWidth == 1
    curve = table_of(target, "budget_curve")
    assert list(curve["budget"]) == ["USD 0 (no funding)", "USD 2 million", "USD 3 million", "no limit"]
    assert list(curve["premium_musd"]) == pytest.approx([16.0, 12.0, 12.0, 10.5])
    assert list(curve["saved_musd"]) == pytest.approx([0.0, 4.0, 4.0, 5.5])
    assert list(curve["non_china_capex_musd"]) == pytest.approx([0.0, 2.0, 2.0, 5.0])
    assert [str(v) for v in curve["first_clean_period"]] == ["never", "never", "never", "2027"]
    sheet = book["budget_curve"]
    assert sheet.cell(3, [c.value for c in sheet[1]].index("premium_musd") + 1).number_format == "#,##0.00"
    builds = table_of(target, "non_china_builds")
    assert list(builds["name"]) == ["Australian refinery", "American refinery"]
    assert list(builds["decided"]) == [2026, 2027] and list(builds["online"]) == [2026, 2027]
    assert list(builds["charge_musd"]) == pytest.approx([2.0, 1.5])
    assert list(builds["added_t"]) == pytest.approx([200, 100]) and list(builds["available_t"]) == pytest.approx([100, 100])
    assert table_of(target, "baseline_builds").empty
    values = table_of(target, "expansion_values")
    assert list(values["name"]) == ["Australian refinery", "American refinery"]
    assert list(values["non_china_value_musd"]) == pytest.approx([4.0, 1.5])
    assert list(values["value_musd"]) == pytest.approx([0.0, 0.0], abs=1e-9)
    text = summary_text(book)
    for said in (
        "Builds of the non-China plan: Australian refinery (AU), line: 1 module decided in 2026, capacity from 2026 "
        "(+200 t NdPr oxide a period at full rate, 100 t of it for this buyer); capex USD 2.0 million American "
        "refinery (US), line: 1 module "
        "decided in 2027, capacity from 2027",
        "Builds of the baseline plan: none",
        "USD 3 million: non-China premium USD 12.0 million (4.0 less), capex used USD 2.0 million; the non-China plan "
        "leaves demand unmet up to 2027",
        "no limit: non-China premium USD 10.5 million (5.5 less), capex used USD 5.0 million; the non-China plan "
        "serves all demand from 2027",
        "Australian refinery, line: USD 4.0 million to the non-China plan, USD 0.0 million to the baseline plan",
    ):
        assert said in text, said

    premium = tmp_path / "premium.xlsx"
    code, _, err = run(capsys, "premium", instance, "--out", premium, "-q")
    assert code == 0, err
    book = openpyxl.load_workbook(premium)
    assert book.sheetnames[-4:] == FUND_SHEETS
    assert "Builds of the non-China plan: Australian refinery (AU), line" in summary_text(book)
    curve = table_of(premium, "budget_curve")  # the answer's budgets below the 5 offered: only 0
    assert list(curve["budget"]) == ["USD 0 (no funding)", "no limit"]
    assert list(curve["premium_musd"]) == pytest.approx([16.0, 10.5])
