"""Outputs are written whole or not at all (issue 10, Files): an interrupted
run leaves no partial or temporary file, and a folder that cannot be
written is a message and exit code 1."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ree_opt.cli import main

TOY = Path(__file__).resolve().parents[1] / "instances" / "toy.yaml"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize(
    "argv",
    [
        ["solve", "SPEC", "--out", "BLOCK/out"],
        ["premium", "SPEC", "--fast", "--out", "BLOCK/out"],
        ["report", "TOY", "--format", "md", "-o", "BLOCK/report.md"],
    ],
)
def test_a_folder_that_cannot_be_written_is_exit_1_with_a_message(tmp_path, capsys, spec_example, argv):
    block = tmp_path / "block"
    block.write_text("a file where a folder should be\n")  # root cannot write into it either
    argv = [a.replace("SPEC", str(spec_example)).replace("TOY", str(TOY)).replace("BLOCK", str(block)) for a in argv]
    if argv[0] == "report":
        pytest.importorskip("matplotlib")
    assert main(argv + (["-q"] if argv[0] == "report" else [])) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ree-opt: cannot write {block}/") and err.endswith(f": {block} is a file, not a folder\n")
    assert "Traceback" not in err
    assert block.read_text() == "a file where a folder should be\n"


def test_a_read_only_file_system_is_exit_1(tmp_path, capsys, spec_example):
    assert main(["solve", str(spec_example), "--out", "/proc/ree-opt-out"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ree-opt: cannot write /proc/ree-opt-out/") and "Traceback" not in err


def test_writing_over_the_input_stays_exit_2(tmp_path, capsys, spec_example):
    instance = tmp_path / "report.html"
    instance.write_text(spec_example.read_text())
    assert main(["report", str(instance), "-o", str(instance), "-q"]) == 2
    assert "it is an input file" in capsys.readouterr().err
    assert instance.read_text() == spec_example.read_text()


# A run that gets SIGTERM at a chosen point of the writing: the signal is
# real (the process sends it to itself), the timing is not left to chance.
SCRIPT = textwrap.dedent(
    """\
    import os, signal, sys, time
    import ree_opt.outputs as outputs
    from ree_opt import cli

    where = sys.argv[1]
    original = getattr(outputs.os, where)

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the handler raises before this ends
        return original(*args, **kwargs)

    setattr(outputs.os, where, interrupted)
    sys.argv = ["ree-opt"] + sys.argv[2:]
    cli.run()
    """
)


@pytest.mark.parametrize("where", ["chmod", "replace"])  # after a temporary file is written; at the first rename
@pytest.mark.parametrize("command", ["solve", "report"])
def test_sigterm_while_writing_leaves_no_file(tmp_path, where, command, spec_example):
    out = tmp_path / "out"
    if command == "solve":
        argv = ["solve", str(spec_example), "--out", str(out)]
    else:
        argv = ["report", str(spec_example), "--format", "md", "-o", str(out / "report.md"), "-q"]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, where, *argv], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().endswith("ree-opt: terminated")
    assert leftovers(out) == []  # neither `.name.*` temporaries nor a part of the tables


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc to see the handler installed")
def test_sigterm_from_outside_ends_the_run_with_a_message(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "ree_opt", "report", str(TOY), "--format", "csv", "-o", str(out), "-q"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    # wait until the command line catches SIGTERM (its handler is installed),
    # then a little more: it is solving by then
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        status = Path(f"/proc/{process.pid}/status").read_text()
        caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:  # pragma: no cover - a machine that wrote the report within 2 s
        pytest.skip("the report was done before the signal")
    assert process.returncode == 1 and err.strip().endswith("ree-opt: terminated")
    assert "Traceback" not in err
    assert leftovers(out) == []


def test_a_sigterm_while_a_module_is_imported_waits_for_the_import(tmp_path, monkeypatch):
    """Raised inside a module's initialisation, the interrupt was swallowed
    by numpy's compiled modules (the run went on and exited 0) or crashed
    the interpreter (CI: exit -11): it waits until the import is done, then
    ends the run as any SIGTERM does."""
    from ree_opt import cli

    monkeypatch.setitem(cli.TERMINATION, "asked", False)

    (tmp_path / "module_being_imported.py").write_text(
        "import signal, sys\nfrom ree_opt import cli\ncli._terminate(signal.SIGTERM, sys._getframe())\nLOADED = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    previous = signal.getsignal(signal.SIGALRM)
    try:
        import module_being_imported  # noqa: F401 - its body ran whole

        assert module_being_imported.LOADED
        with pytest.raises(cli.Terminated):
            time.sleep(2)  # the signal asked again 50 ms later, outside the import
        with pytest.raises(cli.Terminated):
            cli._terminate(signal.SIGTERM, sys._getframe())  # not importing: at once
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.modules.pop("module_being_imported", None)


def test_a_sigterm_while_highs_runs_cancels_it_and_ends_the_run_after(monkeypatch):
    """Raised while HiGHS ran (highspy checks for signals there), the
    interrupt crashed the interpreter or came back as a HiGHS 'Solve error'
    (CI): the running HiGHS is cancelled, and the run ends 50 ms later, in
    ree_opt's own code, as any SIGTERM does."""
    from ree_opt import cli, solver

    class Running:
        cancelled = 0

        def cancelSolve(self):
            self.cancelled += 1

    highs = Running()
    monkeypatch.setattr(solver, "RUNNING", [highs])
    monkeypatch.setitem(cli.TERMINATION, "asked", False)
    previous = signal.getsignal(signal.SIGALRM)
    try:
        assert cli._terminate(signal.SIGTERM, sys._getframe()) is None  # not raised inside HiGHS
        assert highs.cancelled == 1 and cli.TERMINATION["asked"]
        monkeypatch.setattr(solver, "RUNNING", [])  # HiGHS has returned
        with pytest.raises(cli.Terminated):
            time.sleep(2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
