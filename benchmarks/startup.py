"""Start-up of the command line, against `python -c "import yaml, pydantic"`
(the least any validation of a YAML instance must import), measured in the
same run. Not part of the test suite.

    python benchmarks/startup.py            # 9 runs of each, medians and ratios
    python benchmarks/startup.py --runs 15

Each command runs in a fresh process with the same interpreter; the ratio is
the command's median wall time over the reference's. The goal is 1.5x.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "instances" / "baseline.yaml"

REFERENCE = ("python -c 'import yaml, pydantic'", [sys.executable, "-c", "import yaml, pydantic"])
COMMANDS = [
    # What pydantic validation itself costs to load (not the reference: for scale)
    ("python -c 'import yaml; from pydantic import BaseModel'",
     [sys.executable, "-c", "import yaml; from pydantic import BaseModel"]),
    ("ree-opt --help", [sys.executable, "-m", "ree_opt", "--help"]),
    ("ree-opt validate instances/baseline.yaml", [sys.executable, "-m", "ree_opt", "validate", str(BASELINE)]),
]


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    cases = [REFERENCE] + COMMANDS
    for _, command in cases:  # warm the file cache and the bytecode
        wall_time(command)
    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    for _ in range(runs):  # interleaved, so a busy moment hits every case alike
        for name, command in cases:
            times[name].append(wall_time(command))
    reference = statistics.median(times[REFERENCE[0]])
    print(f"| command | median (s) over {runs} runs | ratio to `import yaml, pydantic` |")
    print("|---|---:|---:|")
    for name, _ in cases:
        median = statistics.median(times[name])
        print(f"| `{name}` | {median:.3f} | {median / reference:.2f}x |")


if __name__ == "__main__":
    main()
