"""Thousands of futures (issue 9): the extensive form by size and HiGHS
method, and out-of-sample evaluation by number of workers. Not part of the
test suite.

    python benchmarks/futures.py                 # 10 and 100 futures
    python benchmarks/futures.py --sizes 10,100,1000

On instances/sampled/baseline_futures.yaml (python instances/make_futures.py),
each size in a fresh process:
(a) build time (the futures' models, then the extensive form) against
    HiGHS's own solve time measured in the same run (the reference), for
    simplex and for interior point (HiGHS option `solver`, from scratch each),
    and the process's peak memory;
(b) out-of-sample futures per second of a plan chosen on 10 futures, on 1
    process (serial) and 2 (executor="processes").
Writes benchmarks/futures_results.md.
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
INSTANCE = HERE.parent / "instances" / "sampled" / "baseline_futures.yaml"
METHODS = ("simplex", "ipm")


def extensive_case(size: int, methods) -> dict:
    from ree_opt.plan import paused_garbage_collection
    from ree_opt.solver import run_highs
    from ree_opt.stochastic.extensive import ExtensiveForm
    from ree_opt.stochastic.solve import build_futures, stochastic_problem

    started = time.perf_counter()
    problem = stochastic_problem(INSTANCE, sample={"n": size, "seed": 7})
    enumerated = time.perf_counter()
    with paused_garbage_collection():
        models = build_futures(problem)
        built = time.perf_counter()
        form = ExtensiveForm(models, [f.probability for f in problem.futures], problem.uncertainty.alpha, 0.0)
    assembled = time.perf_counter()
    row = {
        "futures": len(problem.futures),
        "columns": form.column_count,
        "rows": form.row_count,
        "futures_s": enumerated - started,
        "models_s": built - enumerated,
        "extensive_s": assembled - built,
    }
    for method in methods:
        form.highs.clearSolver()
        form.highs.setOptionValue("solver", method)
        form.highs.setOptionValue("threads", 1)
        t = time.perf_counter()
        status, _ = run_highs(form.highs)
        row[f"{method}_s"] = time.perf_counter() - t
        row[f"{method}_objective"] = form.highs.getInfo().objective_function_value if status == "optimal" else None
        row[f"{method}_status"] = status
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def evaluation_case(count: int, executor) -> dict:
    import ree_opt

    plan = ree_opt.solve_stochastic(INSTANCE, sample={"n": 10, "seed": 7}, value_of_information=False)
    t = time.perf_counter()
    result = ree_opt.evaluate(INSTANCE, plan, sample={"n": count, "seed": 1}, executor=executor, replications=0)
    seconds = time.perf_counter() - t
    return {
        "futures": len(result.futures),
        "seconds": seconds,
        "per_second": len(result.futures) / seconds,
        "expected_cost": result.expected_cost,
        "ci": list(result.confidence_interval),
        "reuses": result.kept_model_reuses,
    }


def in_fresh_process(kind: str, *arguments) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", kind, *map(str, arguments)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--evaluate", type=int, default=200, help="fresh draws for (b)")
    parser.add_argument("--out", type=Path, default=HERE / "futures_results.md")
    parser.add_argument("--skip-evaluate", action="store_true")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case
        if kind == "extensive":
            print(json.dumps(extensive_case(int(rest[0]), rest[1].split(","))))
        else:
            print(json.dumps(evaluation_case(int(rest[0]), None if rest[1] == "serial" else rest[1])))
        return
    if not INSTANCE.exists():
        subprocess.run([sys.executable, str(HERE.parent / "instances" / "make_futures.py")], check=True)
    methods = args.methods.split(",")
    lines = [
        "## The extensive form on instances/sampled/baseline_futures.yaml",
        "",
        "| futures | columns | rows | draw + tracked (s) | build models (s) | join (s) | "
        + " | ".join(f"HiGHS {m} (s)" for m in methods)
        + " | outside / HiGHS | peak (MB) |",
        "|---:|---:|---:|---:|---:|---:|" + "---:|" * len(methods) + "---:|---:|",
    ]
    for size in [int(s) for s in args.sizes.split(",")]:
        row = in_fresh_process("extensive", size, ",".join(methods))
        outside = row["futures_s"] + row["models_s"] + row["extensive_s"]
        fastest = min(row[f"{m}_s"] for m in methods)
        cells = " | ".join(f"{row[f'{m}_s']:.2f}" for m in methods)
        lines.append(
            f"| {row['futures']:,} | {row['columns']:,} | {row['rows']:,} | {row['futures_s']:.2f} | "
            f"{row['models_s']:.2f} | {row['extensive_s']:.2f} | {cells} | {outside / fastest:.2f} | {row['peak_mb']:,.0f} |"
        )
        objectives = {m: row[f"{m}_objective"] for m in methods}
        print(size, row, file=sys.stderr)
        lines.append(f"<!-- {size}: objectives {objectives} -->")
    lines += [
        "",
        f"## Out of sample: {args.evaluate} fresh draws, the plan chosen on 10 futures",
        "",
        "| workers | distinct futures | seconds | futures per second | per second per worker | kept-model reuses |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, executor in () if args.skip_evaluate else ((1, "serial"), (2, "processes")):
        row = in_fresh_process("evaluate", args.evaluate, executor)
        print(workers, row, file=sys.stderr)
        lines.append(
            f"| {workers} | {row['futures']:,} | {row['seconds']:.1f} | {row['per_second']:.1f} | "
            f"{row['per_second'] / workers:.1f} | {row['reuses']} |"
        )
    out = args.out
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
