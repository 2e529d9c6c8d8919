"""Start-up of the command line, against `python -c "import yaml, pydantic"`
(the least any validation of a YAML instance must import), measured in the
same run. Not part of the test suite.

    python benchmarks/startup.py            # 9 runs of each, medians and ratios
    python benchmarks/startup.py --runs 15

Each command runs in a fresh process with the same interpreter; the ratio is
the command's median wall time over the reference's (and its CPU time, user
and system, over the reference's: on a shared machine under load the wall
times wait for a core, the CPU times much less). The goal is 2x for
`validate` and below 1x for `--help`.

The warm-up run writes ree_opt's bytecode (__pycache__, as `pip install`
compiles an installed package's), even where PYTHONDONTWRITEBYTECODE is set
(this sandbox sets it; every run then compiled ree_opt's modules again:
2.49x against 2.26x of CPU for `validate`); the measured runs use the environment as it is, and Python
checks each .pyc against its source.

`import pydantic` loads almost nothing of pydantic: the first model
validated loads the rest (pydantic.fields and pydantic.types, the schema
generator, the plugin loader and importlib.metadata). The second and third
rows show that floor: one model of one field, validated, is already about
2.1x.

Last run (--runs 15; 2 cores shared with other work, load average about 7;
under this load the ratios close up: runs a few minutes apart, under
less load, put `validate` between 2.2x and 2.6x):

| command | median wall (s) over 15 runs | ratio | median CPU (s) | ratio |
|---|---:|---:|---:|---:|
| `python -c 'import yaml, pydantic'` | 0.350 | 1.00x | 0.119 | 1.00x |
| `python -c 'import yaml; from pydantic import BaseModel'` | 0.481 | 1.37x | 0.178 | 1.50x |
| `python -c '...one pydantic model of one field, validated'` | 0.740 | 2.11x | 0.245 | 2.05x |
| `ree-opt --help` | 0.145 | 0.41x | 0.049 | 0.41x |
| `ree-opt validate instances/baseline.yaml` | 0.752 | 2.15x | 0.254 | 2.13x |
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "instances" / "baseline.yaml"

ONE_MODEL = "import yaml\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    x: int\nM.model_validate({'x': 1})"
REFERENCE = ("python -c 'import yaml, pydantic'", [sys.executable, "-c", "import yaml, pydantic"])
COMMANDS = [
    # What pydantic validation itself costs to load (not the reference: for scale)
    ("python -c 'import yaml; from pydantic import BaseModel'",
     [sys.executable, "-c", "import yaml; from pydantic import BaseModel"]),
    ("python -c '...one pydantic model of one field, validated'", [sys.executable, "-c", ONE_MODEL]),
    ("ree-opt --help", [sys.executable, "-m", "ree_opt", "--help"]),
    ("ree-opt validate instances/baseline.yaml", [sys.executable, "-m", "ree_opt", "validate", str(BASELINE)]),
]


def wall_time(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall time, and CPU time (user + system) of the child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    cases = [REFERENCE] + COMMANDS
    writing = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    for _, command in cases:  # warm the file cache and the bytecode
        wall_time(command, env=writing)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in cases}
    for _ in range(runs):  # interleaved, so a busy moment hits every case alike
        for name, command in cases:
            times[name].append(wall_time(command))

    def median(name: str, which: int) -> float:
        return statistics.median(run[which] for run in times[name])

    wall, cpu = median(REFERENCE[0], 0), median(REFERENCE[0], 1)
    print(f"| command | median wall (s) over {runs} runs | ratio | median CPU (s) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, _ in cases:
        print(f"| `{name}` | {median(name, 0):.3f} | {median(name, 0) / wall:.2f}x "
              f"| {median(name, 1):.3f} | {median(name, 1) / cpu:.2f}x |")


if __name__ == "__main__":
    main()
