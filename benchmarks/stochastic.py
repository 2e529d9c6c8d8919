"""The extensive form against the number of futures (SPEC section 6).

For each size, in a fresh process: the futures' models built (`model_of`,
the per-future builder), the extensive form assembled and passed to HiGHS,
and solved; HiGHS's own run time beside the time spent outside it, and the
process's peak memory. The instance is the baseline with rich futures
(benchmarks/rich_futures.py), sampled.

    python benchmarks/stochastic.py                  # 10 and 100 futures
    python benchmarks/stochastic.py 10 100 1000 --solver ipm

Goal (issue 8): time outside HiGHS below half of HiGHS's own, growing
linearly with the futures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(n: int, solver: str) -> dict:
    sys.path.insert(0, str(HERE))
    from rich_futures import rich_baseline

    from ree_opt.plan import paused_garbage_collection
    from ree_opt.stochastic import stochastic_problem
    from ree_opt.stochastic.extensive import ExtensiveForm

    start = time.perf_counter()
    problem = stochastic_problem(rich_baseline(n))
    with paused_garbage_collection():
        models = [problem.model_of(future) for future in problem.futures]
        built = time.perf_counter()
        form = ExtensiveForm(models, [f.probability for f in problem.futures], 0.9, 0.0)
    assembled = time.perf_counter()
    form.highs.setOptionValue("solver", solver)
    outcome = form.solve()
    solved = time.perf_counter()
    highs_s = form.highs.getRunTime()
    outside = (assembled - start) + (solved - assembled - highs_s)
    return {
        "futures": len(problem.futures),
        "columns": form.column_count,
        "rows": form.row_count,
        "solver": solver,
        "status": outcome.status,
        "objective_musd": outcome.objective,
        "build_s": round(built - start, 2),
        "assemble_s": round(assembled - built, 2),
        "highs_s": round(highs_s, 2),
        "outside_highs_s": round(outside, 2),
        "outside_over_highs": round(outside / highs_s, 3) if highs_s else None,
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100])
    parser.add_argument("--solver", default="ipm", help="HiGHS solver option: simplex | ipm")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.solver)))
        return
    rows = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), "--solver", args.solver],
            check=True, capture_output=True, text=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    head = list(rows[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in head) + " |")


if __name__ == "__main__":
    main()
