"""The quarterly baseline: instances/make_quarterly.py writes it from the
yearly one, expansions (SPEC section 7) included."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUARTERLY = ROOT / "instances" / "baseline_quarterly.yaml"


def generator():
    spec = importlib.util.spec_from_file_location("make_quarterly", ROOT / "instances" / "make_quarterly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_instance_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "baseline_quarterly.yaml"
    generator().main(out)
    assert out.read_text() == QUARTERLY.read_text(), "rerun python instances/make_quarterly.py"


def test_an_expansion_in_quarters():
    """A 1,200 t/yr line decided 2026-2032, ramping 50% then 90%: 300 t a
    quarter, each ramp share for four quarters, decisions from 2026Q1 to
    2032Q4; capex per module, fixed cost per year and build months as they
    were (the model converts those by P/12 itself)."""
    yearly = {"id": "line", "capacity": 1200, "online": 2026, "ramp_up": [0.5],
              "expansions": [{"name": "l2", "capacity": 1200, "capex": 49.1, "fixed_cost": 1.47, "build_months": 18,
                              "life_years": 20, "ramp_up": [0.5, 0.9], "earliest": 2026, "latest": 2032,
                              "modules": 3, "lumpy": True}]}
    (quarterly,) = generator().facility(yearly)["expansions"]
    assert quarterly == {"name": "l2", "capacity": 300.0, "capex": 49.1, "fixed_cost": 1.47, "build_months": 18,
                         "life_years": 20, "ramp_up": [0.5] * 4 + [0.9] * 4, "earliest": "2026Q1",
                         "latest": "2032Q4", "modules": 3, "lumpy": True}


def test_a_module_without_its_own_ramp_gets_the_facilitys_whole_ramp():
    """A plant online in 2025 with ramp [0.2, 0.6] enters 2026Q1 with what is
    left of it (0.6 for four quarters); a module built later ramps from the
    start: 0.2 for four quarters, then 0.6."""
    yearly = {"id": "old", "capacity": 100, "online": 2025, "ramp_up": [0.2, 0.6],
              "expansions": [{"name": "more", "capacity": 40, "capex": 10}]}
    out = generator().facility(yearly)
    assert out["ramp_up"] == [0.6] * 4
    assert out["expansions"][0]["ramp_up"] == [0.2] * 4 + [0.6] * 4
    assert out["expansions"][0]["capacity"] == 10.0
