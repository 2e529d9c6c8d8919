"""Out-of-sample evaluation through a Dask cluster (issue 17): a scheduler and
N single-threaded workers started as separate processes, as on a cluster's
nodes, and `ree_opt.evaluate` given the scheduler's address. Not part of the
test suite.

    python benchmarks/dask_evaluate.py                  # 10,000 fresh draws, 2 workers
    python benchmarks/dask_evaluate.py --draws 2000 --workers 2

The plan is chosen on 10 futures of instances/sampled/baseline_futures.yaml;
futures per second = distinct futures / seconds of `evaluate` alone, beside a
serial reference on the first `--reference` draws measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTANCE = HERE.parent / "instances" / "sampled" / "baseline_futures.yaml"
BIN = Path(sys.executable).parent


def start_cluster(workers: int, directory: Path) -> tuple[str, list]:
    address_file = directory / "scheduler.json"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=directory)
    processes = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--no-dashboard", "--scheduler-file", str(address_file)], **quiet)]
    while not address_file.exists() or not address_file.read_text().strip():
        time.sleep(0.2)
    time.sleep(0.2)
    address = json.loads(address_file.read_text())["address"]
    for _ in range(workers):
        processes.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                           "--no-dashboard", "--memory-limit", "0", "--local-directory", str(directory)],
                                          **quiet))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, processes


def stop(processes) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for process in processes:
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reference", type=int, default=300, help="draws of the serial reference")
    parser.add_argument("--out", type=Path, default=HERE / "dask_evaluate_results.md",
                        help="the table written (default benchmarks/dask_evaluate_results.md)")
    args = parser.parse_args()
    import ree_opt

    plan = ree_opt.solve_stochastic(INSTANCE, sample={"n": 10, "seed": 7}, value_of_information=False)
    t = time.perf_counter()
    serial = ree_opt.evaluate(INSTANCE, plan, sample={"n": args.reference, "seed": 1}, replications=0)
    serial_rate = len(serial.futures) / (time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as directory:
        address, processes = start_cluster(args.workers, Path(directory))
        try:
            from distributed import Client

            with Client(address) as client:
                warm = ree_opt.evaluate(INSTANCE, plan, sample={"n": 20, "seed": 2}, executor=client, replications=0)
                assert len(warm.futures)  # each worker has imported ree_opt and built a future
                t = time.perf_counter()
                result = ree_opt.evaluate(INSTANCE, plan, sample={"n": args.draws, "seed": 1}, executor=client,
                                          replications=0)
                seconds = time.perf_counter() - t
        finally:
            stop(processes)
    row = {
        "draws": args.draws, "distinct_futures": len(result.futures), "workers": args.workers,
        "seconds": seconds, "per_second": len(result.futures) / seconds,
        "serial_per_second": serial_rate, "speedup_over_serial": len(result.futures) / seconds / serial_rate,
        "expected_cost": result.expected_cost, "load": os.getloadavg()[0],
    }
    print(json.dumps(row))
    if args.out:
        args.out.write_text("\n".join([
            "## evaluate through a Dask cluster (issue 17)",
            "",
            f"`python benchmarks/dask_evaluate.py --draws {args.draws} --workers {args.workers} "
            f"--reference {args.reference}`: a scheduler and {args.workers} single-threaded workers started as "
            f"separate processes on this {os.cpu_count()}-core machine; load average at the end "
            f"{row['load']:.2f}.",
            "",
            "| draws | distinct futures | workers | seconds | futures/s | serial reference, futures/s | "
            "over serial | expected cost (USD M) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {args.draws:,} | {row['distinct_futures']:,} | {args.workers} | {row['seconds']:.1f} | "
            f"{row['per_second']:.1f} | {row['serial_per_second']:.1f} | {row['speedup_over_serial']:.2f}x | "
            f"{row['expected_cost']:,.2f} |",
            "",
            f"The serial reference is `evaluate` on the first {args.reference} draws in this process, in the "
            "same run (its template built once, as each worker's is). The cluster can beat twice the serial "
            "rate: the futures are solved in the order of their outcomes, and among 10,000 draws a future's "
            f"neighbour is closer than among {args.reference} (fewer simplex iterations each).",
        ]) + "\n")


if __name__ == "__main__":
    main()
