"""Instances as Excel workbooks: read, written, converted, and the errors an analyst sees."""

from pathlib import Path

import openpyxl
import pytest

import ree_opt
from ree_opt.cli import main
from ree_opt.excel import instance_workbook

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "instances").glob("*.yaml")) + sorted((ROOT / "tests" / "instances").glob("*.yaml"))


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def workbook_of(instance_path, tmp_path, name="instance.xlsx"):
    target = tmp_path / name
    target.write_bytes(instance_workbook(ree_opt.load_instance(instance_path)))
    return target


def header(sheet):
    return [c.value for c in sheet[1]]


def set_cell(sheet, row, column, value):
    sheet.cell(row=row, column=header(sheet).index(column) + 1).value = value


def problems_of(path):
    with pytest.raises(ree_opt.InstanceError) as caught:
        ree_opt.load_instance(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_round_trip_gives_the_same_instance(path, tmp_path, capsys):
    original = ree_opt.load_instance(path).model_dump()
    code, out, err = run(capsys, "convert", path, tmp_path / "x.xlsx")
    assert code == 0, err
    assert ree_opt.load_instance(tmp_path / "x.xlsx").model_dump() == original
    code, _, err = run(capsys, "convert", tmp_path / "x.xlsx", tmp_path / "back.yaml")
    assert code == 0, err
    assert ree_opt.load_instance(tmp_path / "back.yaml").model_dump() == original


def test_the_layout_an_analyst_sees(tmp_path, spec_example):
    book = openpyxl.load_workbook(workbook_of(spec_example, tmp_path))
    assert book.sheetnames[:7] == ["instance", "products", "facilities", "demand", "policies", "scenarios", "sources"]
    facilities = book["facilities"]
    heads = header(facilities)
    assert heads[:5] == ["id", "name", "company", "country", "stage"]
    assert heads[-3:] == ["source", "assumption", "notes"]
    assert facilities.freeze_panes == "A2"
    row = {h: c.value for h, c in zip(heads, facilities[2])}
    assert row["outputs"] == "{ndpr_oxide: 1.0, la_ce_oxide: 3.0}"
    assert row["capacity"] == 10500 and row["ramp_up"] == "[0.6, 0.9]"
    assert "t of activity per period" in facilities.cell(1, heads.index("capacity") + 1).comment.text
    # the defence demand varies by period: one column per period
    demand = book["demand"]
    assert header(demand)[:5] == ["segment", "product", "quantity", "quantity[2026]", "quantity[2027]"]
    assert [c.value for c in demand[2]][2:5] == [None, 400, 450]
    assert [c.value for c in demand[3]][2:5] == [2000, None, None]
    instance = {r[0].value: r[1].value for r in book["instance"].iter_rows(min_row=2)}
    assert instance["periods"] == "[2026, 2027, 2028]" and instance["name"] == "toy"


def test_both_conventions_and_plain_lists_are_read(tmp_path, spec_example):
    path = workbook_of(spec_example, tmp_path)
    book = openpyxl.load_workbook(path)
    demand = book["demand"]
    demand.delete_cols(4, 2)  # quantity[2026], quantity[2027] -> a mapping in the `quantity` cell
    set_cell(demand, 2, "quantity", "{2026: 400, 2027: 450}")
    set_cell(book["policies"], 2, "products", "ndpr_oxide")
    set_cell(book["facilities"], 2, "ramp_up", "0.6, 0.9")
    set_cell(book["facilities"], 2, "capacity", "10500")  # a number typed as text
    book["instance"].cell(row=[r[0].value for r in book["instance"].iter_rows()].index("covered_countries") + 1,
                          column=2, value="CN")
    book.create_sheet("_my_pivot")["A1"] = "anything"  # the analyst's own sheet is skipped
    book.save(path)
    assert ree_opt.load_instance(path).model_dump() == ree_opt.load_instance(spec_example).model_dump()


def test_problems_name_sheet_and_cell_all_at_once(tmp_path, spec_example):
    path = workbook_of(spec_example, tmp_path)
    book = openpyxl.load_workbook(path)
    facilities = book["facilities"]
    set_cell(facilities, 2, "outputs", "{ndpr_oxide: 1.0")
    set_cell(facilities, 3, "capacity", -5)
    set_cell(facilities, 4, "country", "XX")
    extra = openpyxl.utils.get_column_letter(len(header(facilities)) + 1)
    facilities.cell(row=1, column=len(header(facilities)) + 1, value="capcity")
    facilities.cell(row=2, column=len(header(facilities)), value=5)
    set_cell(book["scenarios"], 3, "set", "{no_such_plant: {availability: 0.25}}")
    book.save(path)
    assert problems_of(path) == [
        f"{path} facilities!G2: facilities[0] (lynas_ndpr).outputs: not valid YAML in the cell: expected ',' or '}}', but got '<stream end>'",
        f"{path} facilities!{extra}2: facilities[0] (lynas_ndpr).capcity: unknown key (misspelt?); it is not part of the format",
        f"{path} facilities!H3: facilities[1] (iluka_eneabba).capacity: expected a number >= 0.0 (got -5)",
        f"{path} facilities!D4: facilities[2] (cn_ndpr_export).country: expected an ISO 3166-1 alpha-2 country code (e.g. AU, CN, US), got 'XX'",
    ]
    # once the facilities are mended, the scenario's bad reference shows, at its cell
    book = openpyxl.load_workbook(workbook_of(spec_example, tmp_path, "second.xlsx"))
    set_cell(book["scenarios"], 3, "set", "{no_such_plant: {availability: 0.25}}")
    set_cell(book["facilities"], 2, "cost", None)  # a required field left empty: its row
    book.save(path)
    assert problems_of(path) == [f"{path} facilities!2:2: facilities[0] (lynas_ndpr).cost: required field is missing"]
    set_cell(book["facilities"], 2, "cost", 85)
    book.save(path)
    assert problems_of(path) == [
        f"{path} scenarios!C3: scenarios.licences_25pct.set.no_such_plant: unknown facility id 'no_such_plant'"
    ]


def test_sheet_problems(tmp_path, spec_example):
    path = workbook_of(spec_example, tmp_path)
    book = openpyxl.load_workbook(path)
    del book["products"]
    book.create_sheet("polices")
    set_cell(book["facilities"], 2, "inputs", "&a [1, *a]")
    book.save(path)
    problems = problems_of(path)
    assert f"{path}: unknown sheet 'polices'" in problems[0]
    assert problems[1] == f"{path}: the workbook has no sheet 'products'"
    (tmp_path / "not.xlsx").write_text("name: toy\n")
    assert problems_of(tmp_path / "not.xlsx") == [f"{tmp_path / 'not.xlsx'}: cannot read the workbook: not an .xlsx workbook"]
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    assert problems_of(tmp_path / "old.xls") == [
        f"{tmp_path / 'old.xls'}: an Excel 97-2003 workbook (.xls) cannot be read: save it as .xlsx"
    ]


def test_aliases_are_refused_in_a_cell(tmp_path, spec_example):
    path = workbook_of(spec_example, tmp_path)
    book = openpyxl.load_workbook(path)
    set_cell(book["facilities"], 2, "outputs", "{ndpr_oxide: &x 1.0, la_ce_oxide: *x}")
    book.save(path)
    assert problems_of(path)[0] == (
        f"{path} facilities!G2: facilities[0] (lynas_ndpr).outputs: not valid YAML in the cell: "
        "anchors and aliases (&, *) are not allowed in a cell"
    )


def test_convert_never_writes_over_its_input(tmp_path, capsys, spec_example):
    path = workbook_of(spec_example, tmp_path)
    before = path.read_bytes()
    code, _, err = run(capsys, "convert", path, path)
    assert code == 2 and "it is an input file" in err
    assert path.read_bytes() == before
    code, _, err = run(capsys, "convert", spec_example, tmp_path / "x.txt")
    assert code == 2 and "the suffix must be one of .xlsx, .yaml, .yml" in err
    assert not list(tmp_path.glob(".*"))


def test_an_invalid_instance_is_not_converted(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("periods: [2026]\nproducts: {p: {shortfall_penalty: -1}}\nfacilities: []\n")
    code, _, err = run(capsys, "convert", bad, tmp_path / "bad.xlsx")
    assert code == 2
    assert "products.p.shortfall_penalty: expected a number >= 0" in err
    assert not (tmp_path / "bad.xlsx").exists()


def test_uncertainty_offtake_and_end_of_horizon_round_trip(tmp_path, spec_example):
    """SPEC section 6 in a workbook: an uncertainty sheet, its events one row per outcome, offtake in a cell."""
    import yaml

    data = yaml.safe_load(spec_example.read_text())
    data["end_of_horizon"] = "kept"
    data["facilities"][0]["offtake"] = {"fee": {2026: 1.0, 2027: 2.0}, "take_or_pay": 0.8, "spot_markup": 0.25}
    data["uncertainty"] = {
        "reveal": 2027, "alpha": 0.8, "omega": 0.5, "sample": {"n": 10, "seed": 3},
        "events": [
            {"name": "licences", "outcomes": [{"probability": 0.5}, {"scenario": "licences_25pct", "probability": 0.5}]},
            {"name": "projects", "outcomes": [{"probability": 0.7}, {"scenario": "lynas_slips_1y", "probability": 0.3}]},
        ],
    }
    instance = ree_opt.load_instance(data)
    path = tmp_path / "uncertain.xlsx"
    path.write_bytes(instance_workbook(instance))
    assert ree_opt.load_instance(path).model_dump() == instance.model_dump()
    book = openpyxl.load_workbook(path)
    assert [r for r in book["events"].iter_rows(values_only=True)][:3] == [
        ("event", "scenario", "probability", "source", "assumption", "notes"),
        ("licences", None, 0.5, None, None, None),
        ("licences", "licences_25pct", 0.5, None, None, None),
    ]
    settings = {r[0]: r[1] for r in book["uncertainty"].iter_rows(min_row=2, values_only=True)}
    assert settings["reveal"] == 2027 and settings["sample"] == "{n: 10, seed: 3}" and "events" not in settings
    book["events"]["C3"] = 0.6
    book.save(path)
    assert problems_of(path) == [
        f"{path} events!2:2: uncertainty.events[0].outcomes: the probabilities of event 'licences' must sum to 1, got 1.1"
    ]


EXPANDING = {
    "name": "two plants", "periods": [2026, 2027], "discount_rate": 0.05,
    "products": {"ndpr_oxide": {"shortfall_penalty": 50}},
    "facilities": [
        {"id": "plant", "country": "AU", "stage": "separation", "outputs": {"ndpr_oxide": 1.0}, "capacity": 0,
         "cost": 10, "expansions": [{"name": "m", "capacity": 100, "capex": 1.5, "ramp_up": [0.5], "modules": 2},
                                    {"name": "n", "capacity": 50, "capex": 1, "lumpy": False, "earliest": 2027}]},
        {"id": "cn", "country": "CN", "stage": "separation", "outputs": {"ndpr_oxide": 1.0}, "capacity": 100, "cost": 12},
    ],
    "demand": [{"segment": "d", "product": "ndpr_oxide", "quantity": 200}],
}


def test_expansions_go_on_their_own_sheet_and_come_back(tmp_path):
    """One row per expansion on the `expansions` sheet, its facility named;
    the round trip gives the same instance, and a bad cell there is located."""
    instance = ree_opt.load_instance(EXPANDING)
    target = tmp_path / "expanding.xlsx"
    target.write_bytes(instance_workbook(instance))
    book = openpyxl.load_workbook(target)
    sheet = book["expansions"]
    assert header(sheet)[:3] == ["facility", "name", "capacity"]
    assert [row[:2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [("plant", "m"), ("plant", "n")]
    assert "expansions" not in header(book["facilities"])
    assert ree_opt.load_instance(target) == instance
    set_cell(sheet, 3, "capacity", "lots")
    set_cell(sheet, 2, "facility", "nowhere")
    book.save(target)
    found = problems_of(target)
    assert any("expansions!A2" in p and "nowhere" in p for p in found)
    assert any("expansions!C3" in p and "expected a number" in p for p in found)


def test_three_bad_cells_give_three_problems_at_once(tmp_path):
    """Issue 19's workbook: a capacity with its unit typed in (H4), a cost in
    words (V5) and "n/a" in a per-period capacity column of a row that gives
    its capacity in the plain column (L3). All three at once, each at its cell
    and naming the facility; the per-period one used to hide the others."""
    path = workbook_of(ROOT / "instances" / "baseline.yaml", tmp_path)
    book = openpyxl.load_workbook(path)
    facilities = book["facilities"]
    assert (facilities["H1"].value, facilities["L1"].value, facilities["V1"].value) == (
        "capacity", "capacity[2029]", "cost")
    facilities["H4"], facilities["V5"], facilities["L3"] = "10,500 t", "eighty", "n/a"
    book.save(path)
    assert problems_of(path) == [
        f"{path} facilities!L3: facilities[1] (lynas_kalgoorlie).capacity: give capacity either in one column "
        "or per period (capacity[...]), not both",
        f"{path} facilities!H4: facilities[2] (lynas_malaysia_light).capacity: expected a number or a mapping "
        "(got '10,500 t')",
        f"{path} facilities!V5: facilities[3] (lynas_malaysia_hre1).cost: expected a number or a mapping (got 'eighty')",
    ]


def test_an_answer_workbook_given_as_an_instance_gets_one_hint(tmp_path, capsys, spec_example):
    answer = tmp_path / "premium.xlsx"
    assert main(["premium", str(spec_example), "--out", str(answer)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"wrote {answer} ({answer.stat().st_size / 1024:,.0f} KB)")
    assert problems_of(answer) == [
        f"{answer}: this is an answer workbook written by ree-opt (it opens on a `summary` sheet), not an "
        "instance: give the instance itself (YAML, JSON, or a workbook made by `ree-opt convert INSTANCE.yaml "
        "INSTANCE.xlsx`, with sheets instance, products, facilities, ...)"
    ]
