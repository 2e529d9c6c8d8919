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
  serial and on 2 processes;
- the futures' builds after the reveal (integer since SPEC section 7): the
  kept branch and bound (ree_opt/branch_and_bound.py) against HiGHS's own
  branch and cut on the same kept template, future by future, on the first
  `--mip-draws` draws: seconds, nodes, and the largest difference in cost.
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


def kept_mip_against_highs(draws: int) -> dict:
    """The same futures on one worker's template, solved by KeptMIP and by
    HiGHS's branch and cut (its integrality restored for each future)."""
    import warnings

    import ree_opt
    from ree_opt.stochastic.evaluate import Setup, _worker
    from ree_opt.stochastic.futures import enumerate_futures, reveal_index
    from ree_opt.stochastic.solve import tracked_in_every_future

    warnings.simplefilter("ignore")
    plan = ree_opt.solve_stochastic(FUTURES, sample={"n": 10, "seed": 7}, value_of_information=False)
    instance = ree_opt.load_instance(FUTURES)
    futures = sorted(enumerate_futures(instance.uncertainty, {"n": draws, "seed": 1}), key=lambda f: f.scenarios)
    setup = Setup(instance, tracked_in_every_future(instance, instance.uncertainty),
                  reveal_index(instance, instance.uncertainty), plan.first_stage_values, "bench")
    base, template = _worker(setup)
    datas = [template.future_data(base, f.scenarios) for f in futures]
    row = {"futures": len(futures)}
    costs = {}
    for name, solve in (("kept", template.mip.solve), ("highs", template.mip._branch_and_cut)):
        template.start_run()
        nodes, fractional, started = 0, 0, time.perf_counter()
        found = []
        for data in datas:
            template.set_future(data)
            outcome = solve()
            found.append(outcome.objective)
            nodes += outcome.mip_nodes
        row[f"{name}_s"], row[f"{name}_nodes"] = time.perf_counter() - started, nodes
        costs[name] = found
    row["largest_difference"] = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(costs["kept"], costs["highs"]))
    return row


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
    parser.add_argument("--mip-draws", type=int, default=300, help="draws of the branch-and-bound comparison")
    parser.add_argument("--mip-case", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mip_case:
        print(json.dumps(kept_mip_against_highs(args.mip_draws)))
        return
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
    out = subprocess.run([sys.executable, __file__, "--mip-case", "--mip-draws", str(args.mip_draws)],
                         capture_output=True, text=True, check=True)
    mip = json.loads(out.stdout.strip().splitlines()[-1])
    lines += [
        "",
        f"The futures' builds after the reveal, {mip['futures']:,} draws on one template (one process):",
        "",
        "| solved by | seconds | futures/s | branch-and-bound nodes |",
        "|---|---:|---:|---:|",
        f"| HiGHS's branch and cut, from scratch each future | {mip['highs_s']:.2f} | "
        f"{mip['futures'] / mip['highs_s']:.1f} | {mip['highs_nodes']:,} |",
        f"| KeptMIP (ree_opt/branch_and_bound.py), warm | {mip['kept_s']:.2f} | "
        f"{mip['futures'] / mip['kept_s']:.1f} | {mip['kept_nodes']:,} |",
        "",
        f"KeptMIP is {mip['highs_s'] / mip['kept_s']:.1f}x faster; the largest difference in a future's cost "
        f"is {mip['largest_difference']:.1e} (relative).",
    ]
    lines += [
        "",
        "Before issue 15 (benchmarks/futures_results.md, 200 draws of the generated futures, quiet machine):",
        "31.5 futures/s on 1 process, 55.0 on 2 (each future's model built in Pyomo, HiGHS about a third).",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
