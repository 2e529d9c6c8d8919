"""A thousand futures with a certified bound (issue 17): the extensive form
against the multi-cut L-shaped method (python -m ree_opt.stochastic.decomposition)
and progressive hedging as mpi-sppy hub and spokes (python -m ree_opt.ph),
on 2 cores. Not part of the test suite.

    python benchmarks/decomposition.py                       # 24 and 100 futures
    python benchmarks/decomposition.py --sizes 1000 --methods lshaped,ph
    python benchmarks/decomposition.py --report              # the table from what was measured

Cases: 24 futures (instances/baseline.yaml, every combination), 100 (the
rich futures of instances/sampled/baseline_futures.yaml, `--sample 100
--seed 7`) and 1,000 (that file's own `sample: {n: 1000, seed: 7}`).
Methods, each in fresh processes, wall time of the whole command:
- extensive: `solve_stochastic` (HiGHS interior point from 50 futures on);
  at 1,000 futures the figure of benchmarks/futures_results.md is reused (32
  minutes: not re-run);
- lshaped: `mpiexec -n 2 python -m ree_opt.stochastic.decomposition --gap 0.001`;
- ph: `mpiexec -n 3 python -m ree_opt.ph --gap 0.001` (PH hub, Lagrangian and
  xhatshuffle spokes), with a time limit;
- ph+lshaped: `mpiexec -n 4 python -m ree_opt.ph --spokes lagrangian,lshaped,xhatshuffle`.
Times to 1% and 0.1% are the runs' own (from the start of the run to the
first iteration whose certified gap is that small), plus the seconds before
the run started (Python, the instance, the draws) measured as wall time minus
the run's own seconds. Every measurement is appended to
benchmarks/decomposition_runs.jsonl; --report writes
benchmarks/decomposition_results.md from the latest of each case.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = HERE / "decomposition_runs.jsonl"
RESULTS = HERE / "decomposition_results.md"
BIN = Path(sys.executable).parent
MPIEXEC = shutil.which("mpiexec", path=str(BIN) + os.pathsep + os.environ.get("PATH", ""))
CASES = {
    24: (ROOT / "instances" / "baseline.yaml", []),
    100: (ROOT / "instances" / "sampled" / "baseline_futures.yaml", ["--sample", "100", "--seed", "7"]),
    1000: (ROOT / "instances" / "sampled" / "baseline_futures.yaml", []),
}
#: benchmarks/futures_results.md: `python benchmarks/futures.py --case extensive 1000 ipm`, one core.
EXTENSIVE_1000 = {"seconds": 1928.95 + 5.06 + 13.50 + 6.53, "objective": 10543.820624657757, "peak_mb": [3048.0],
                  "note": "benchmarks/futures_results.md (IPM 1,928.95 s + 25 s outside HiGHS; not re-run)"}


def extensive_case(size: int, omega: float) -> dict:
    import ree_opt

    path, extra = CASES[size]
    sample = {"n": int(extra[1]), "seed": int(extra[3])} if extra else None
    started = time.perf_counter()
    solution = ree_opt.solve_stochastic(path, sample=sample, omega=omega, value_of_information=False)
    return {"seconds": time.perf_counter() - started, "objective": solution.objective,
            "peak_mb": [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024], "status": solution.status}


def run(command: list[str], timeout: float) -> tuple[dict, float]:
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), wall


def measure(size: int, method: str, omega: float, time_limit: float) -> dict:
    path, extra = CASES[size]
    options = [*extra, "--omega", str(omega), "--json"]
    if method == "extensive":
        if size == 1000 and omega == 0:
            return {**EXTENSIVE_1000, "wall": EXTENSIVE_1000["seconds"]}
        started = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--case", str(size), str(omega)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        return {**row, "wall": time.perf_counter() - started}
    if method == "lshaped":
        report, wall = run([MPIEXEC, "-n", "2", sys.executable, "-m", "ree_opt.stochastic.decomposition", str(path),
                            *options, "--gap", "0.001", "--time-limit", str(time_limit)], time_limit + 600)
        before = wall - report["seconds"]
        return {
            "wall": wall, "objective": report["objective"], "bound": report["bound"], "gap": report["gap"],
            "to_1pct": None if report["time_to_1pct"] is None else report["time_to_1pct"] + before,
            "to_0.1pct": None if report["time_to_0.1pct"] is None else report["time_to_0.1pct"] + before,
            "peak_mb": report["peak_memory_mb"], "iterations": report["iterations"], "timings": report["timings"],
            "ranks": report["ranks"], "status": report["status"],
        }
    spokes, ranks = ("lagrangian,xhatshuffle", 3) if method == "ph" else ("lagrangian,lshaped,xhatshuffle", 4)
    report, wall = run([MPIEXEC, "-n", str(ranks), sys.executable, "-m", "ree_opt.ph", str(path), *options,
                        "--spokes", spokes, "--gap", "0.001", "--time-limit", str(time_limit), "--iterations", "100000",
                        "--stalled", "100000"], time_limit + 1800)
    before = wall - report["seconds"]
    return {
        "wall": wall, "objective": report["objective"], "bound": report["bound"], "gap": report["gap"],
        "to_1pct": None if report["time_to"]["0.01"] is None else report["time_to"]["0.01"] + before,
        "to_0.1pct": None if report["time_to"]["0.001"] is None else report["time_to"]["0.001"] + before,
        "peak_mb": report["peak_memory_mb"], "iterations": report["iterations"], "ranks": report["ranks"],
        "bound_from": report["bound_from"], "plan_from": report["plan_from"], "spokes": report["spokes"],
    }


def report() -> None:
    latest: dict = {}
    for line in RUNS.read_text().splitlines():
        row = json.loads(line)
        latest[(row["size"], row["omega"], row["method"])] = row
    names = {"extensive": "extensive form", "lshaped": "L-shaped, 2 ranks",
             "ph": "PH hub + Lagrangian + xhatshuffle, 3 ranks",
             "ph+lshaped": "PH hub + Lagrangian + L-shaped + xhatshuffle, 4 ranks"}

    def seconds(value) -> str:
        return "–" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"

    lines = [
        "## A certified gap on 2 cores (issue 17)",
        "",
        "`python benchmarks/decomposition.py --sizes 24,100,1000` (then `--report`); wall seconds of each",
        "command, measured while other jobs shared the 2 cores (load average 4-8). The extensive form's",
        "objective is the optimum; *objective* is the risk-adjusted cost of the method's best plan (an",
        "upper bound), *bound* its certified lower bound, gap = (objective - bound) / objective at the end",
        "of the run (stopping at 0.1%, or at the time limit). Times to 1% and to 0.1%: the first moment",
        "the certified gap was that small. Peak memory: resident, per rank.",
        "",
        "| futures | omega | method | to 1% (s) | to 0.1% (s) | wall (s) | objective | bound | gap | vs. optimum | peak MB per rank |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for (size, omega, method), row in sorted(latest.items(), key=lambda item: (item[0][0], item[0][1], list(names).index(item[0][2]))):
        optimum = latest.get((size, omega, "extensive"), {}).get("objective")
        if method == "extensive":
            cells = ["", "", seconds(row["wall"]), f"{row['objective']:,.2f}", "", "", ""]
        else:
            versus = f"{100 * (row['objective'] - optimum) / optimum:+.3f}%" if optimum else ""
            cells = [seconds(row.get("to_1pct")), seconds(row.get("to_0.1pct")), seconds(row["wall"]),
                     f"{row['objective']:,.2f}", f"{row['bound']:,.2f}", f"{100 * row['gap']:.3f}%", versus]
        memory = ", ".join(f"{m:,.0f}" for m in row["peak_mb"])
        lines.append(f"| {size:,} | {omega:g} | {names[method]} | " + " | ".join(cells) + f" | {memory} |")
    notes = [row.get("note") for row in latest.values() if row.get("note")]
    lines += ["", *[f"Extensive form at 1,000 futures: {note}." for note in dict.fromkeys(notes)]]
    ph_rows = [(k, r) for k, r in latest.items() if k[2].startswith("ph")]
    if ph_rows:
        lines += ["", "Which spoke gave the best bound (and which cylinder the reported plan came from):", ""]
        for (size, omega, method), row in sorted(ph_rows):
            lines.append(f"- {size:,} futures, omega {omega:g}, {names[method]}: bound from {row['bound_from']}, "
                         f"plan from {row['plan_from']}; {row['iterations']} hub iterations")
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="24,100")
    parser.add_argument("--omegas", default="0,0.5")
    parser.add_argument("--methods", default="extensive,lshaped,ph,ph+lshaped")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds each decomposition may run")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(extensive_case(int(args.case[0]), float(args.case[1]))))
        return
    if args.report:
        report()
        return
    if MPIEXEC is None:
        sys.exit("no mpiexec: pip install -e '.[mpi]'")
    if not CASES[1000][0].exists():
        subprocess.run([sys.executable, str(ROOT / "instances" / "make_futures.py")], check=True)
    for size in [int(s) for s in args.sizes.split(",")]:
        for omega in [float(w) for w in args.omegas.split(",")]:
            if size == 1000 and omega and "extensive" in args.methods:
                print("1,000 futures at omega > 0: no extensive-form figure to compare with; run without it",
                      file=sys.stderr)
            for method in args.methods.split(","):
                if size == 1000 and omega and method == "extensive":
                    continue
                row = measure(size, method, omega, args.time_limit)
                row.update(size=size, omega=omega, method=method, load=os.getloadavg()[0],
                           measured=time.strftime("%Y-%m-%d %H:%M"))
                with RUNS.open("a") as stream:
                    stream.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)
    report()


if __name__ == "__main__":
    main()
