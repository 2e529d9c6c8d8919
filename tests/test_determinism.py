"""The same input gives byte-identical outputs (issue 10, Determinism): run
to run, under different PYTHONHASHSEED, with the report's date taken from
SOURCE_DATE_EPOCH."""

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOY = Path(__file__).resolve().parents[1] / "instances" / "toy.yaml"

# One process writes every output, so the test pays the start-up twice only.
SCRIPT = textwrap.dedent(
    """\
    import contextlib, io, sys
    from ree_opt.cli import main

    toy, out = sys.argv[1], sys.argv[2]
    for name, argv in [
        ("solve.json", ["solve", toy, "--json"]),
        ("premium.json", ["premium", toy, "--json", "--out", out + "/premium"]),
        ("solve.txt", ["solve", toy, "--out", out + "/solve"]),
        ("report.txt", ["report", toy, "-o", out + "/report.html", "-q"]),
        ("report-md.txt", ["report", toy, "-o", out + "/md/report.md", "-q"]),
    ]:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main(argv) == 0, argv
        with open(out + "/" + name, "w") as stream:
            stream.write(printed.getvalue().replace(out, "OUT"))
    """
)


def outputs(folder: Path, seed: str, epoch: str = "1767225600") -> dict[str, str]:
    folder.mkdir()
    env = dict(os.environ, PYTHONHASHSEED=seed, SOURCE_DATE_EPOCH=epoch)
    subprocess.run([sys.executable, "-c", SCRIPT, str(TOY), str(folder)], check=True, env=env, timeout=600)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_every_output_is_byte_identical_under_another_hash_seed(tmp_path):
    pytest.importorskip("matplotlib")
    first = outputs(tmp_path / "run1", seed="1")
    second = outputs(tmp_path / "run2", seed="4242")
    assert {"solve.json", "premium/premium.csv", "solve/activity.csv", "report.html", "md/report.md"} <= set(first)
    assert any(name.endswith(".png") for name in first)
    differing = sorted(name for name in first if first[name] != second.get(name))
    assert differing == [] and set(first) == set(second)
    html = (tmp_path / "run1" / "report.html").read_text()
    assert "on 2026-01-01" in html  # SOURCE_DATE_EPOCH 1767225600 is 2026-01-01T00:00:00Z
    assert "on 2026-01-01" in (tmp_path / "run1" / "md" / "report.md").read_text()
