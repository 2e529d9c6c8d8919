"""Benchmarks: ree_opt against a hand-written highspy model of the same LP,
measured in the same run. Not part of the test suite.

    python benchmarks/run.py            # the full table (1M columns takes minutes)
    python benchmarks/run.py --quick    # 10k and 100k only

(a) a 101-point max_covered_share sweep, ree_opt (one model, shares changed
    in place, warm starts) against the direct loop (changeCoeff + warm
    start) and against rebuilding the model for every point;
(b) a single build + solve, end to end from the instance data, with peak
    memory, each case in a fresh process.
Writes benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from direct import DirectLP  # noqa: E402
from synthetic import synthetic_instance  # noqa: E402

SIZES = {"10k": 13, "100k": 125, "1M": 1250}  # synthetic groups (12 facilities x 20 periods)


def warm_up() -> None:
    """First calls pay for lazy imports and one-time set-up on both sides:
    run both once, untimed, on a small instance."""
    import ree_opt
    from ree_opt.analysis import sweep

    small = synthetic_instance(groups=2, facilities_per_group=12, periods=5)
    reference = DirectLP(small, share=1.0)
    reference.set_share(0.5)
    reference.solve()
    sweep(small, "max_covered_share", [1.0, 0.5])
    ree_opt.Plan(small).solve(tie_break=False)


def instance_data(name: str) -> dict:
    if name == "baseline":
        import ree_opt

        return ree_opt.load_instance(HERE.parent / "instances" / "baseline.yaml").model_dump(by_alias=True, exclude_none=True)
    return synthetic_instance(groups=SIZES[name], facilities_per_group=12, periods=20)


def sweep_case(name: str, rebuild_points: int = 5) -> dict:
    import ree_opt
    from ree_opt.analysis import sweep

    data = instance_data(name)
    shares = list(np.round(np.linspace(1.0, 0.0, 101), 4))
    warm_up()

    start = time.perf_counter()
    reference = DirectLP(data, share=shares[0])
    direct_objectives = []
    for share in shares:
        reference.set_share(share)
        direct_objectives.append(reference.solve())
    direct = time.perf_counter() - start

    start = time.perf_counter()
    table = sweep(data, "max_covered_share", shares, executor=None)  # serial, as the reference
    ours = time.perf_counter() - start
    gap = np.max(np.abs(table["objective_musd"].to_numpy() - direct_objectives) / np.maximum(1, np.abs(direct_objectives)))

    start = time.perf_counter()
    for share in shares[:: max(1, len(shares) // rebuild_points)][:rebuild_points]:
        ree_opt.solve(data, policies=[{"type": "max_covered_share", "share": share}], tie_break=False)
    rebuild = (time.perf_counter() - start) / rebuild_points * len(shares)
    return {
        "case": name, "columns": reference.columns, "direct_s": direct, "ree_opt_s": ours,
        "rebuild_s": rebuild, "max_rel_gap": float(gap),
    }


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def single_case(name: str, which: str) -> dict:
    """One build + solve in this process; peak memory above what the process
    held before (the instance data and the imported libraries)."""
    data = instance_data(name)
    warm_up()
    base_rss = memory_mb("VmRSS")
    start = time.perf_counter()
    if which == "direct":
        lp = DirectLP(data)
        objective = lp.solve()
        columns = lp.columns
    else:
        import ree_opt

        plan = ree_opt.Plan(data)
        solution = plan.solve(tie_break=False)
        objective, columns = solution.objective, plan.model.column_count
    seconds = time.perf_counter() - start
    peak = memory_mb("VmHWM")
    return {"case": name, "which": which, "seconds": seconds, "peak_mb": peak - base_rss, "objective": objective, "columns": columns}


def in_fresh_process(name: str, which: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--single", name, which], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 1M-column case")
    parser.add_argument("--single", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        # Load the libraries first so both sides start from the same process baseline.
        import highspy  # noqa: F401
        import ree_opt  # noqa: F401

        print(json.dumps(single_case(*args.single)))
        return

    lines = ["## Sweeps: 101-point max_covered_share sweep (build included)", "",
             "| instance | columns | direct highspy loop (s) | ree_opt sweep (s) | ratio | rebuild per point (s, est.) | speed-up over rebuild | max rel. objective gap |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("baseline", "100k"):
        r = sweep_case(name)
        lines.append(
            f"| {name} | {r['columns']:,} | {r['direct_s']:.2f} | {r['ree_opt_s']:.2f} | {r['ree_opt_s'] / r['direct_s']:.2f}x "
            f"| {r['rebuild_s']:.1f} | {r['rebuild_s'] / r['ree_opt_s']:.0f}x | {r['max_rel_gap']:.1e} |"
        )
        print(lines[-1], flush=True)
    lines += ["", "## Single build + solve, end to end from the instance data (fresh process each)", "",
              "| instance | columns | direct highspy (s) | ree_opt (s) | ratio | direct peak (MB) | ree_opt peak (MB) | memory ratio |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("10k", "100k") if args.quick else ("10k", "100k", "1M"):
        d = in_fresh_process(name, "direct")
        o = in_fresh_process(name, "ree_opt")
        assert abs(d["objective"] - o["objective"]) <= 1e-6 * max(1, abs(d["objective"])), (d, o)
        lines.append(
            f"| synthetic {name} | {o['columns']:,} | {d['seconds']:.2f} | {o['seconds']:.2f} | {o['seconds'] / d['seconds']:.2f}x "
            f"| {d['peak_mb']:.0f} | {o['peak_mb']:.0f} | {o['peak_mb'] / max(d['peak_mb'], 1):.2f}x |"
        )
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    (HERE / "results.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
