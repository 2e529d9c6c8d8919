"""Every output a user sees of the baseline, written to one folder, so two
versions of ree_opt can be compared byte for byte (a refactoring must not
move a digit). Not part of the test suite: it runs for a few minutes.

    python benchmarks/snapshot_outputs.py OUT_DIR            # write the outputs
    python benchmarks/snapshot_outputs.py --compare A B      # list the files that differ

Each command runs in a fresh process with SOURCE_DATE_EPOCH set (the
report's date) and PYTHONHASHSEED fixed; the screen text of each command is
kept too (progress bars off).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = str(ROOT / "instances" / "baseline.yaml")
TOY = str(ROOT / "instances" / "toy.yaml")

#: name -> arguments of `ree-opt`; OUT is replaced by the output folder.
COMMANDS = {
    "solve": ["solve", BASELINE],
    "solve_json": ["solve", BASELINE, "--json"],
    "solve_csv": ["solve", BASELINE, "--out", "OUT/solve_csv"],
    "solve_non_china_json": ["solve", BASELINE, "-s", "non_china", "--json"],
    "premium": ["premium", BASELINE],
    "premium_json": ["premium", BASELINE, "--json"],
    "premium_csv": ["premium", BASELINE, "--out", "OUT/premium_csv"],
    "compare": ["compare", BASELINE, "--markdown"],
    "sweep": ["sweep", BASELINE, "-p", "max_covered_share", "-v", "1,0.75,0.5,0.25,0", "--premium", "--json", "-q"],
    "sweep_cost": ["sweep", BASELINE, "-p", "cost", "--where", "country=CN", "-v", "0.5,1,2", "--json", "-q"],
    "toy_solve_json": ["solve", TOY, "--json"],
    "stochastic": ["stochastic", BASELINE, "-q"],
    "stochastic_json": ["stochastic", BASELINE, "--json", "-q"],
    "stochastic_risk_json": ["stochastic", BASELINE, "--omega", "0.5", "--json", "-q"],
    "stochastic_csv": ["stochastic", BASELINE, "--out", "OUT/stochastic_csv", "-q"],
    "evaluate_json": ["evaluate", BASELINE, "--replications", "0", "--json", "-q"],
    "report": ["report", BASELINE, "-o", "OUT/report.html", "-q"],
}


def write(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", PYTHONHASHSEED="0", COLUMNS="100")
    for name, arguments in COMMANDS.items():
        args = [a.replace("OUT", str(out)) for a in arguments]
        done = subprocess.run(
            [sys.executable, "-m", "ree_opt", *args], capture_output=True, text=True, env=env, cwd=ROOT
        )
        def clean(text: str) -> str:  # the folders named in the text are not part of the output
            return text.replace(str(out), "OUT").replace(str(ROOT), "ROOT")

        (out / f"{name}.out").write_text(clean(done.stdout))
        (out / f"{name}.err").write_text(f"exit {done.returncode}\n" + clean(done.stderr))
        print(f"{name}: exit {done.returncode}", flush=True)


def compare(a: Path, b: Path) -> int:
    differ = []

    def walk(comparison: filecmp.dircmp, prefix: str) -> None:
        differ.extend(prefix + n for n in comparison.diff_files)
        differ.extend(prefix + n + " (only in one)" for n in comparison.left_only + comparison.right_only)
        for name, sub in comparison.subdirs.items():
            walk(sub, prefix + name + "/")

    filecmp.clear_cache()
    walk(filecmp.dircmp(a, b, ignore=[]), "")
    for name in differ:
        print(f"differs: {name}")
    count = sum(1 for _ in a.rglob("*") if _.is_file())
    print(f"{count} files compared, {len(differ)} differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--compare", action="store_true", help="compare two folders written before")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.folders[:2])
    write(args.folders[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
