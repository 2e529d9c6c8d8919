"""Shadow prices in the words and units their reader knows (issue 19,
item 5): per extra tonne of what the facility makes, not "t of activity",
the same on the screen, in the report and in the workbook."""

from pathlib import Path

import pytest
from builders import demand, facility, instance

import ree_opt
from ree_opt import dual_words
from ree_opt.workbook import comparison_sheets

A = pytest.approx
BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"
PRODUCTS = {"dy_oxide": {"shortfall_penalty": 2000}, "tb_oxide": {"shortfall_penalty": 8000},
            "la_ce_oxide": {"shortfall_penalty": 0, "sale_price": 1.0, "sale_limit": 100}}


def heavy_separator():
    """One Dy/Tb separator: 10 t of activity a year, each making 1 t of Dy oxide,
    0.2 t of Tb oxide and 3 t of La/Ce oxide (sold at 1 USD/kg, a byproduct),
    at 400 USD/kg. 20 t of Dy and 10 t of Tb wanted: both short, so one more
    tonne of capacity saves 2,000 (Dy) + 0.2 x 8,000 (Tb) + 3 x 1 (La/Ce sold)
    - 400 = 3,203 USD/kg: USD 3.20 million per tonne."""
    return instance(
        [facility("hre", "AU", 400, 10, outputs={"dy_oxide": 1.0, "tb_oxide": 0.2, "la_ce_oxide": 3.0},
                  name="Heavy circuit")],
        [demand(20, product="dy_oxide"), demand(10, product="tb_oxide")],
        products=PRODUCTS,
    )


def test_a_separators_capacity_is_priced_per_tonne_of_its_products():
    sol = ree_opt.solve(heavy_separator())
    row = sol.binding[sol.binding["constraint"] == "capacity"].iloc[0]
    assert row["dual"] == A(3203.0)
    assert row["unit"] == "USD/kg of Dy oxide capacity"
    assert row["meaning"] == (
        "capacity of Heavy circuit (AU) binds in 2026: USD 3.20 million saved per extra tonne of Dy/Tb separation "
        "capacity (1 t of Dy oxide with 0.2 t of Tb oxide)"
    )
    assert "activity" not in " ".join(sol.binding["meaning"]) + " ".join(sol.binding["unit"])


@pytest.mark.parametrize("stage, outputs, expected", [
    ("separation", {"ndpr_oxide": 1.0, "la_ce_oxide": 3.0}, "NdPr separation"),
    ("separation", {"dy_oxide": 1.0, "tb_oxide": 0.17}, "Dy/Tb separation"),
    ("metal", {"ndpr_metal": 1.0}, "NdPr metal making"),
    ("magnet", {"ndfeb_magnet": 1.0}, "magnet making"),
    ("recycling", {"ndfeb_magnet": 1.0}, "magnet recycling"),
    ("mine", {"mixed_concentrate": 1.0}, "mixed concentrate mining"),
    ("trade", {"dy_oxide": 1.0}, "Dy oxide resale"),
])
def test_activities_in_product_words(stage, outputs, expected):
    assert dual_words.activity_words(stage, outputs, {"la_ce_oxide"}) == expected


@pytest.mark.parametrize("usd_per_kg, text", [(6050.4, "USD 6.05 million"), (999.6, "USD 1.00 million"),
                                              (90.0, "USD 90,000"), (0.25, "USD 250")])
def test_a_dual_per_kg_said_per_tonne(usd_per_kg, text):
    assert dual_words.per_tonne(usd_per_kg) == text


def test_screen_report_and_workbook_say_the_same(tmp_path):
    """The baseline's non-China plan: MP's heavy circuit binds hardest in 2026."""
    from ree_opt.report import layout
    from ree_opt.report.data import ReportData
    from ree_opt.text import comparison_text

    comparison = ree_opt.non_china_premium(BASELINE, by_product=False)
    top = comparison.non_china.binding.iloc[0]
    assert top["meaning"].startswith(
        "capacity of MP Materials heavy rare earth separation (Dy/Tb) (US) binds in 2026: USD 6.05 million saved "
        "per extra tonne of Dy/Tb separation capacity (1 t of Dy oxide with 0.2 t of Tb oxide)")
    assert top["unit"] == "USD/kg of Dy oxide capacity" and top["dual"] == A(6053.5, abs=1)
    assert f"  1. {top['meaning']}" in comparison_text(comparison, "baseline")
    _, lines, tables, _ = comparison_sheets(comparison)
    assert f"  1. {top['meaning']}" in lines
    assert tables["non_china_binding"]["unit"].iloc[0] == "USD/kg of Dy oxide capacity"
    data = ReportData(instance=ree_opt.load_instance(BASELINE), instance_path=None, scenario=None,
                      comparison=comparison, curve=None, tornado=None, scenarios=None)
    table = next(b for b in layout.binding(data) if getattr(b, "id", "") == "table-binding-non-china")
    assert [c.text for c in table.rows[0][1:4]] == [top["meaning"], "6,054", "USD/kg of Dy oxide capacity"]
