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
    if DASK is None or REE_OPT is None:
        pytest.skip("no `dask` or `ree-opt` command (pip install -e '.[dask]')")
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


ARGUMENTS = ["evaluate", str(INSTANCE), "--sample", "3", "--seed", "7", "--evaluate-sample", "20",
             "--evaluate-seed", "3", "--replications", "0", "--json", "--quiet"]


@pytest.mark.slow  # about a minute: the plan (a MIP over 3 futures) is chosen twice, on the cluster and here
def test_evaluate_through_a_scheduler_and_two_workers_gives_the_serial_table(cluster, tmp_path, capsys):
    """The command line, given the scheduler's address, against the same
    command run serially in this process."""
    run = subprocess.run([REE_OPT, *ARGUMENTS, "--executor", cluster, "--out", str(tmp_path / "cluster")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    distributed = json.loads(run.stdout)
    from ree_opt.cli import main

    assert main([*ARGUMENTS, "--executor", "serial", "--out", str(tmp_path / "serial")]) == 0
    serial = json.loads(capsys.readouterr().out)
    assert len(distributed["futures"]) == len(serial["futures"]) > 10
    assert [f["future"] for f in distributed["futures"]] == [f["future"] for f in serial["futures"]]
    for ours, theirs in zip(distributed["futures"], serial["futures"]):
        assert ours["scenario"] == theirs["scenario"]
        assert ours["probability"] == pytest.approx(theirs["probability"], rel=1e-12)
        assert ours["cost_musd"] == pytest.approx(theirs["cost_musd"], rel=1e-9)
    # the same table to 1e-9 (not byte for byte since the futures carry lumpy
    # builds: a future's MIP may end at another of its optima's last digits)
    import pandas as pd

    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "cluster" / "futures.csv"),
                                  pd.read_csv(tmp_path / "serial" / "futures.csv"), check_exact=False, rtol=1e-9)
