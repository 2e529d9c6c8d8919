"""HiGHS against CBC on the same models: every shipped instance and scenario
(as is and with the non-China cap), random instances, and the baseline's
stochastic extensive form (risk neutral and with CVaR). Prints how many
solves, the largest relative objective difference (floored at USD 1, as in
tests/test_second_solver.py) and the solve times of each. Not part of the
test suite (the tests assert each case within 1e-6).

    python benchmarks/second_solver.py [--random 25]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import ree_opt  # noqa: E402
from random_instances import random_instance  # noqa: E402
from ree_opt.plan import Plan  # noqa: E402
from ree_opt.second_solver import cbc_version, solve_compiled  # noqa: E402
from ree_opt.stochastic.extensive import ExtensiveForm  # noqa: E402
from ree_opt.stochastic.solve import build_futures, stochastic_problem  # noqa: E402

NON_CHINA = {"type": "max_covered_share", "share": 0.0}


def plans(random_count: int):
    shipped = sorted((ROOT / "instances").glob("*.yaml")) + [ROOT / "tests" / "instances" / "spec_example.yaml"]
    for path in shipped:
        for scenario in [None] + list(ree_opt.load_instance(path).scenarios):
            plan = Plan(path, scenario)
            yield f"{path.stem} [{scenario or 'as is'}]", plan
            yield f"{path.stem} [{scenario or 'as is'}] non-China", Plan(plan.base, scenario, [NON_CHINA])
    for seed in range(random_count):
        yield f"random {seed}", Plan(random_instance(seed))
        yield f"random {seed} non-China", Plan(random_instance(seed), policies=[NON_CHINA])
    # The stochastic extensive form (SPEC section 6) of the baseline, every future
    for omega in (0.0, 0.5):
        problem = stochastic_problem(ROOT / "instances" / "baseline.yaml", None, omega, None, ())
        models = build_futures(problem)
        yield f"baseline extensive form, omega {omega}", ExtensiveForm(
            models, [f.probability for f in problem.futures], problem.uncertainty.alpha, omega
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=25)
    args = parser.parse_args()
    worst, worst_case, count = 0.0, "", 0
    highs_s = cbc_s = 0.0
    for name, plan in plans(args.random):
        start = time.perf_counter()
        ours = plan.compiled.solve() if isinstance(plan, Plan) else plan.solve()
        middle = time.perf_counter()
        theirs = solve_compiled(plan.compiled if isinstance(plan, Plan) else plan)
        end = time.perf_counter()
        highs_s += middle - start
        cbc_s += end - middle
        count += 1
        if ours.status != "optimal" or theirs.status != "optimal":
            print(f"{name}: HiGHS {ours.status}, CBC {theirs.status} {theirs.message}")
            continue
        gap = abs(ours.objective - theirs.objective) / max(1.0, abs(ours.objective))
        if gap >= worst:
            worst, worst_case = gap, name
    print(f"{count} models, each solved by HiGHS and {cbc_version()}")
    print(f"largest relative objective difference: {worst:.1e} ({worst_case})")
    print(f"solve time: HiGHS {highs_s:.1f} s, CBC {cbc_s:.1f} s (MPS written and read included)")


if __name__ == "__main__":
    main()
