"""Out-of-sample evaluation speed (issue 15): futures per second, per core,
and the workers' time outside HiGHS against HiGHS's own, measured in the
same run. Not part of the test suite.

    python benchmarks/evaluate.py              # writes benchmarks/evaluate_results.md

Cases, each in a fresh process:
- the baseline's plan (its 24 futures) on 2,000 fresh draws, executor
  "processes": `ree-opt evaluate instances/baseline.yaml --evaluate-sample
  2000 --executor processes` (2,000 draws of 24 combinations are at most 24
  distinct futures, each solved once: the rate counts draws and futures);
- instances/sampled/baseline_futures.yaml (python instances/make_futures.py):
  a plan chosen on 10 futures, costed on N fresh draws (nearly all distinct),
  serial and on 2 processes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASELINE = HERE.parent / "instances" / "baseline.yaml"
FUTURES = HERE.parent / "instances" / "sampled" / "baseline_futures.yaml"


def case(path: str, plan_sample: int | None, draws: int, executor: str) -> dict:
    import ree_opt

    sample = {"n": plan_sample, "seed": 7} if plan_sample else None
    plan = ree_opt.solve_stochastic(path, sample=sample, value_of_information=False)
    started = time.perf_counter()
    result = ree_opt.evaluate(
        path, plan, sample={"n": draws, "seed": 1}, replications=0,
        executor=None if executor == "serial" else executor,
    )
    seconds = time.perf_counter() - started
    return {
        "futures": len(result.futures),
        "draws": draws,
        "seconds": seconds,
        "highs_s": result.highs_seconds,
        "worker_s": result.worker_seconds,
        "expected_cost": result.expected_cost,
        "in_place": result.kept_model_reuses,
    }


def in_fresh_process(*arguments) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--case", *map(str, arguments)], capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=1000, help="fresh draws of the generated futures")
    parser.add_argument("--out", type=Path, default=HERE / "evaluate_results.md")
    parser.add_argument("--case", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        path, plan_sample, draws, executor = args.case
        print(json.dumps(case(path, int(plan_sample) or None, int(draws), executor)))
        return
    if not FUTURES.exists():
        subprocess.run([sys.executable, str(HERE.parent / "instances" / "make_futures.py")], check=True)
    cases = [
        ("baseline.yaml, 2,000 draws", BASELINE, 0, 2000, "processes", 2),
        (f"baseline_futures.yaml, {args.draws:,} draws", FUTURES, 10, args.draws, "serial", 1),
        (f"baseline_futures.yaml, {args.draws:,} draws", FUTURES, 10, args.draws, "processes", 2),
    ]
    lines = [
        f"Machine: {os.cpu_count()} cores; load average before the run {os.getloadavg()[0]:.2f}.",
        "",
        "| case | executor | distinct futures | seconds | futures/s | futures/s per core | "
        "draws/s | workers outside HiGHS / HiGHS |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, path, plan_sample, draws, executor, cores in cases:
        row = in_fresh_process(path, plan_sample, draws, executor)
        print(name, executor, row, file=sys.stderr)
        rate = row["futures"] / row["seconds"]
        outside = (row["worker_s"] - row["highs_s"]) / row["highs_s"] if row["highs_s"] else float("nan")
        lines.append(
            f"| {name} | {executor} | {row['futures']:,} | {row['seconds']:.2f} | {rate:.1f} | {rate / cores:.1f} | "
            f"{row['draws'] / row['seconds']:.0f} | {outside:.2f} |"
        )
    lines += [
        "",
        "Before issue 15 (benchmarks/futures_results.md, 200 draws of the generated futures, quiet machine):",
        "31.5 futures/s on 1 process, 55.0 on 2 (each future's model built in Pyomo, HiGHS about a third).",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
