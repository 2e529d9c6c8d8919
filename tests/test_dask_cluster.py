"""`ree-opt evaluate` through a Dask cluster (issue 17): a scheduler and two
workers started as separate processes (`dask scheduler`, `dask worker`, as
on a cluster's nodes), the scheduler's address given with --executor; the
table is the serial one."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instances" / "sampled" / "baseline_futures.yaml"
BIN = Path(sys.executable).parent
DASK = shutil.which("dask", path=str(BIN) + os.pathsep + os.environ.get("PATH", ""))
REE_OPT = shutil.which("ree-opt", path=str(BIN) + os.pathsep + os.environ.get("PATH", ""))


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two one-thread workers, each its own process group."""
    if DASK is None:
        pytest.skip("no `dask` command (pip install 'dask[distributed]')")
    address_file = tmp_path / "scheduler.json"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=tmp_path)
    processes = [subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(address_file)], **quiet)]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() or not address_file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        for _ in range(2):
            processes.append(subprocess.Popen(
                [DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                 "--memory-limit", "0", "--local-directory", str(tmp_path)], **quiet))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def evaluate(executor: str, out: Path) -> dict:
    run = subprocess.run(
        [REE_OPT, "evaluate", str(INSTANCE), "--sample", "4", "--seed", "7", "--evaluate-sample", "24",
         "--evaluate-seed", "3", "--replications", "0", "--executor", executor, "--json", "--quiet", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_evaluate_through_a_scheduler_and_two_workers_gives_the_serial_table(cluster, tmp_path):
    distributed = evaluate(cluster, tmp_path / "cluster")
    serial = evaluate("serial", tmp_path / "serial")
    assert len(distributed["futures"]) == len(serial["futures"]) > 10
    assert [f["future"] for f in distributed["futures"]] == [f["future"] for f in serial["futures"]]
    for ours, theirs in zip(distributed["futures"], serial["futures"]):
        assert ours["scenario"] == theirs["scenario"]
        assert ours["probability"] == pytest.approx(theirs["probability"], rel=1e-12)
        assert ours["cost_musd"] == pytest.approx(theirs["cost_musd"], rel=1e-9)
    assert (tmp_path / "cluster" / "futures.csv").read_text() == (tmp_path / "serial" / "futures.csv").read_text()
