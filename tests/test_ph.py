"""Progressive hedging as mpi-sppy hub and spokes (issue 17): `mpiexec -n 3
python -m ree_opt.ph` (the PH hub, a Lagrangian bound spoke, an xhatshuffle
spoke) on cases with a known optimum: every run ends with objective >=
optimum >= bound, and a gap. Skipped without the [mpi] extra."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_evaluate import spec_futures
from test_stochastic import licence_gamble

import ree_opt

MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
pytestmark = [
    pytest.mark.mpi,
    pytest.mark.skipif(importlib.util.find_spec("mpisppy") is None, reason="mpi-sppy absent: pip install -e '.[mpi]'"),
    pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec: pip install -e '.[mpi]' (the mpich wheel carries it)"),
]


def ph(path, *options, ranks=3) -> tuple[float, float, float, str]:
    run = subprocess.run(
        [MPIEXEC, "-n", str(ranks), sys.executable, "-m", "ree_opt.ph", str(path), *options],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    *_, objective, bound, gap = run.stdout.strip().splitlines()
    assert objective.startswith("objective: ") and bound.startswith("bound: ") and gap.startswith("gap: "), run.stdout
    return float(objective.split(": ")[1]), float(bound.split(": ")[1]), float(gap.split(": ")[1]), run.stdout


@pytest.mark.parametrize("omega, optimum", [(0.0, 5.5), (0.5, 6.0)], ids=["risk-neutral", "cvar"])
def test_hub_and_spokes_bracket_the_known_optimum(tmp_path, omega, optimum):
    """The licence gamble with Australian oxide at 60 USD/kg: risk-neutral the
    buyer gambles (E = 5.5: each future alone costs 1.0 or 6.0, so the
    trivial bound is 3.5 and only the Lagrangian spoke's weights close it);
    with omega 0.5 it hedges all 100 t (6.0; eta is a first-stage variable of
    every future). The objective is a plan's cost, the bound the Lagrangian
    spoke's: bound <= optimum <= objective, within 1%."""
    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(licence_gamble(60.0)))
    objective, bound, gap, screen = ph(path, "--omega", str(omega), "--gap", "1e-4")
    assert "on 3 ranks (hub, lagrangian, xhatshuffle)" in screen
    assert bound <= optimum + 1e-6
    assert objective >= optimum - 1e-6
    assert gap == pytest.approx((objective - bound) / objective, abs=1e-6)
    assert gap <= 1e-4
    assert "best bound from: lagrangian" in screen


def test_the_subgradient_spoke_bounds_from_below(tmp_path):
    """The subgradient spoke attaches W alone yet switches the proximal term
    on: its subproblems must not carry one, or its "bound" overshoots the
    optimum (it did: 10,867 on the baseline against the optimum 10,813)."""
    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(licence_gamble(60.0)))
    objective, bound, gap, screen = ph(path, "--spokes", "subgradient,xhatshuffle", "--iterations", "30")
    assert bound <= 5.5 + 1e-6 <= objective + 2e-6


def test_the_lshaped_spoke_closes_the_gap_and_the_plan_is_written(tmp_path):
    """The spec example's 8 futures (an offtake with fee and spot) at omega
    0.5, with the L-shaped bound spoke beside the Lagrangian one (4 ranks):
    the gap closes on the extensive form's optimum, and --out writes the
    tables `ree-opt stochastic --out` writes, bound and gap in the summary."""
    case = spec_futures(omega=0.5)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(case))
    optimum = ree_opt.solve_stochastic(case, value_of_information=False).objective
    objective, bound, gap, screen = ph(
        path, "--spokes", "lagrangian,lshaped,xhatshuffle", "--gap", "1e-6", "--out", str(tmp_path / "plan"), ranks=4)
    assert bound <= optimum * (1 + 1e-7)
    assert objective >= optimum * (1 - 1e-7)
    assert objective == pytest.approx(optimum, rel=1e-5)
    assert "best bound from: lshaped" in screen
    summary = pd.read_csv(tmp_path / "plan" / "summary.csv", index_col=0).iloc[:, 0]
    assert float(summary["objective_musd"]) == pytest.approx(objective, rel=1e-9)
    assert float(summary["bound_musd"]) == pytest.approx(bound, rel=1e-9)
    names = {p.name for p in (tmp_path / "plan").iterdir()}
    assert {"futures.csv", "offtakes.csv", "first_stage_activity.csv", "stockpile.csv"} <= names


def test_a_rank_count_that_does_not_fit_the_cylinders_is_refused(tmp_path):
    path = tmp_path / "gamble.yaml"
    path.write_text(yaml.safe_dump(licence_gamble(60.0)))
    run = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "ree_opt.ph", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "3 cylinders (the hub and lagrangian, xhatshuffle) need a multiple of 3 ranks" in run.stderr


def test_ph_refuses_an_instance_without_uncertainty(capsys):
    from conftest import SPEC_EXAMPLE

    from ree_opt.ph import main

    assert main([str(SPEC_EXAMPLE)]) == 2
    assert "no `uncertainty` section" in capsys.readouterr().err


SURGE = {
    "name": "surge", "periods": [2026, 2027], "discount_rate": 0,
    "products": {"ndpr_oxide": {"shortfall_penalty": 50}},
    "facilities": [{"id": "plant", "country": "AU", "stage": "separation", "outputs": {"ndpr_oxide": 1.0},
                    "capacity": 0, "cost": 10, "expansions": [
                        {"name": "m", "capacity": 100, "capex": 2.5, "life_years": 2, "build_months": 12,
                         "earliest": 2026, "latest": 2026}]}],
    "demand": [{"segment": "buyer", "product": "ndpr_oxide", "quantity": {2026: 0, 2027: 50}}],
    "scenarios": {"surge": {"scale": [{"where": {}, "field": "quantity", "factor": 3}]}},
    "uncertainty": {"reveal": 2027, "events": [
        {"name": "demand", "outcomes": [{"probability": 0.5}, {"scenario": "surge", "probability": 0.5}]}]},
}


def test_ph_refuses_lumpy_builds_and_relaxes_them_when_told(tmp_path, capsys):
    """The build decided before a surge (tests/test_investment.py) is lumpy:
    PH refuses it, naming --relax. Relaxed, a fraction x of the module costs
    2.5 x and serves 100 x t in 2027. For x <= 0.5 both futures use it all:
    E = 2.5 x + 0.5 (2.5 - 4 x) + 0.5 (7.5 - 4 x) = 5 - 1.5 x; beyond, the
    normal future (50 t) is served and E = 2.5 x + 0.25 + 0.5 (7.5 - 4 x)
    = 4 + 0.5 x. So x = 0.5 and E = 4.25, below the lumpy 4.5."""
    from ree_opt.ph import main

    path = tmp_path / "surge.yaml"
    path.write_text(yaml.safe_dump(SURGE))
    assert main([str(path)]) == 2
    assert "--relax" in capsys.readouterr().err
    objective, bound, gap, screen = ph(path, "--relax", "--iterations", "60", "--extensive", "--gap", "1e-4")
    optimum = float(next(line for line in screen.splitlines() if line.startswith("extensive form: ")).split(": ")[1])
    assert optimum == pytest.approx(4.25)
    assert bound <= optimum + 1e-6 and abs(objective - optimum) <= 0.01 * optimum
