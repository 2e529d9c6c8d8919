"""Progressive hedging on mpi-sppy over MPI (issue 9): `mpiexec -n 2 python -m
ree_opt.ph` against the extensive form. Skipped without the [mpi] extra."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def ph(path, *options) -> tuple[float, float, str]:
    run = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "-m", "ree_opt.ph", str(path), *options],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    *_, objective, bound = run.stdout.strip().splitlines()
    assert objective.startswith("objective: ") and bound.startswith("bound: "), run.stdout
    return float(objective.split(": ")[1]), float(bound.split(": ")[1]), run.stdout


@pytest.mark.parametrize("case, options", [
    (licence_gamble(60.0), ()),
    (spec_futures(), ("--iterations", "30")),
], ids=["licence-gamble", "spec-8-futures"])
def test_ph_ends_within_one_percent_of_the_extensive_form_and_bounds_it(tmp_path, case, options):
    """The licence gamble's risk-neutral optimum is 5.5 (buy nothing in 2026);
    each future alone costs 1.0 or 6.0, so the trivial bound is 3.5 and PH's
    Lagrangian bound must close it."""
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    optimum = ree_opt.solve_stochastic(case, value_of_information=False).objective
    objective, bound, screen = ph(path, *options)
    assert "futures: " in screen and "on 2 ranks" in screen
    assert abs(objective - optimum) <= 0.01 * abs(optimum)
    assert objective >= optimum - 1e-5 * max(1.0, abs(optimum))  # a plan's cost, less the slack around xbar
    assert bound <= optimum + 1e-6
    assert bound >= 0.99 * optimum


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
    objective, bound, screen = ph(path, "--relax", "--iterations", "60", "--extensive")
    optimum = float(next(line for line in screen.splitlines() if line.startswith("extensive form: ")).split(": ")[1])
    assert optimum == pytest.approx(4.25)
    assert bound <= optimum + 1e-6 and abs(objective - optimum) <= 0.01 * optimum
