"""A second opinion: the model written out as MPS and solved by CBC.

CBC (COIN-OR Branch and Cut, whose LP engine is CLP) shares no code with
HiGHS. The model that HiGHS holds is written out as it stands (with a
sweep's changed costs, bounds and coefficients) to an MPS file, which CBC
solves in a separate process; its primal values and LP duals are read back
from CBC's solution file in the model's column and row order, so the
Solution's tables are built from them exactly as from HiGHS's.

The CBC binary is the one PuLP's wheel carries (`pip install
"ree-opt[cbc]"`), else a `cbc` on the PATH (Debian's `coinor-cbc`).
CBC prints 8 significant digits of each value: enough for tables, and the
objective is read from its own line (8 decimals).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .solver import CompiledModel, Outcome, fix_integers

#: How CBC's solution file begins, and our status for it.
CBC_STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Integer infeasible": "infeasible",
    "Unbounded": "unbounded",
    "Stopped on time": "time_limit",
    "Stopped on iterations": "time_limit",
}


class SolverUnavailable(ImportError):
    """The second solver is not installed."""


def cbc_path() -> str:
    """The CBC binary: PuLP's bundled one, else `cbc` on the PATH."""
    try:
        from pulp.apis import coin_api  # the module only: its solver classes warn of PuLP 4
    except ImportError:
        coin_api = None
    bundled = getattr(coin_api, "pulp_cbc_path", None)
    if bundled and os.path.isfile(bundled) and os.access(bundled, os.X_OK):
        return bundled
    found = shutil.which("cbc")
    if found:
        return found
    raise SolverUnavailable(
        'the second solver, CBC, is not installed: pip install "ree-opt[cbc]" (PuLP carries it), '
        "or apt-get install coinor-cbc"
    )


def cbc_version(path: str | None = None) -> str:
    """CBC's version line, e.g. 'CBC 2.10.3'."""
    done = subprocess.run(
        [path or cbc_path(), "-quit"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    for line in done.stdout.splitlines():
        if line.startswith("Version:"):
            return "CBC " + line.split(":", 1)[1].strip()
    return "CBC"


@dataclass
class CbcResult:
    status: str
    objective: float | None
    values: np.ndarray | None
    duals: np.ndarray | None
    message: str = ""


def read_solution(path: Path, nrow: int, ncol: int) -> CbcResult:
    """CBC's solution file (`-printingOptions all`): a status line, then one
    line per row (index, name, activity, dual), then one per column (index,
    name, value, reduced cost), in the model's order."""
    lines = path.read_text().splitlines()
    if not lines:
        return CbcResult("error", None, None, None, "CBC wrote an empty solution file")
    head = lines[0].strip()
    status = next((ours for text, ours in CBC_STATUS.items() if head.startswith(text)), "error")
    if status != "optimal":
        return CbcResult(status, None, None, None, f"CBC: {head}")
    objective = float(head.rsplit(None, 1)[-1])
    body = [line.split() for line in lines[1:] if line.strip()]
    body = [fields[1:] if fields[0] == "**" else fields for fields in body]  # ** marks an infeasibility
    if len(body) != nrow + ncol:
        return CbcResult("error", None, None, None, f"CBC's solution has {len(body)} lines, expected {nrow + ncol}")
    duals = np.array([float(fields[3]) for fields in body[:nrow]], dtype=float)
    values = np.array([float(fields[2]) for fields in body[nrow:]], dtype=float)
    return CbcResult("optimal", objective, values, duals)


def solve_mps(mps: Path, nrow: int, ncol: int, time_limit: float | None = None, mip_gap: float | None = None) -> CbcResult:
    """Solve an MPS file with CBC (an LP: CLP's dual simplex after presolve;
    integer columns: CBC's branch and cut to `mip_gap`)."""
    solution = mps.with_suffix(".sol")
    command = [cbc_path(), str(mps)]
    if time_limit:
        command += ["-sec", f"{float(time_limit):g}"]
    if mip_gap is not None:
        command += ["-ratioGap", f"{float(mip_gap):g}"]
    command += ["-solve", "-printingOptions", "all", "-solution", str(solution)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=None if not time_limit else float(time_limit) + 10.0,  # CBC honours -sec; a hung one does not
        )
    except subprocess.TimeoutExpired:
        return CbcResult("time_limit", None, None, None, f"CBC did not stop within its time limit of {time_limit:g} s")
    if done.returncode != 0 or not solution.exists():
        tail = " ".join((done.stdout + done.stderr).split()[-30:])
        return CbcResult("error", None, None, None, f"CBC failed (exit code {done.returncode}): {tail}")
    result = read_solution(solution, nrow, ncol)
    if result.status == "time_limit" and time_limit:
        result.message = (
            f"CBC stopped at the time limit of {time_limit:g} s ({result.message}) before it proved a plan "
            "optimal: no plan is reported; allow more time (time_limit, --time-limit)"
        )
    return result


def solve_compiled(compiled, time_limit: float | None = None, workdir: str | None = None,
                   mip_gap: float | None = None) -> CbcResult:
    """The model HiGHS holds now, solved by CBC: `compiled` is anything that
    keeps a HiGHS model in `.highs` (a CompiledModel, the stochastic
    extensive form); integer columns stay integer."""
    highs = compiled.highs
    nrow, ncol = highs.getNumRow(), highs.getNumCol()
    with (nullcontext(workdir) if workdir else tempfile.TemporaryDirectory(prefix="ree-opt-cbc-")) as folder:
        mps = Path(folder) / "model.mps"
        highs.writeModel(str(mps))
        return solve_mps(mps, nrow, ncol, time_limit, mip_gap)


def cbc_outcome(
    compiled: CompiledModel, tie_break_columns: np.ndarray | None = None, time_limit: float | None = None,
    mip_gap: float | None = None,
) -> Outcome:
    """What `CompiledModel.solve` returns, from CBC: minimize cost (for lumpy
    builds, CBC's branch and cut, then the builds fixed and the LP solved
    again for prices, as SPEC section 7 says); then, among cost-optimal
    plans (the same slack as HiGHS's), the least sum of the tie-break
    columns. Duals are CBC's LP duals."""
    try:
        first = solve_compiled(compiled, time_limit, mip_gap=mip_gap if compiled.is_mip else None)
    except SolverUnavailable:
        raise  # an installation problem, not a solver status
    except (OSError, subprocess.SubprocessError) as error:
        return Outcome("error", None, None, None, f"CBC: {error}")
    if first.status != "optimal":
        return Outcome(first.status, None, None, None, first.message)
    objective = first.objective
    fixed = fix_integers(compiled.highs, compiled.integer_columns, first.values) if compiled.is_mip else None
    try:
        if fixed is not None:
            first = solve_compiled(compiled, time_limit)
            if first.status != "optimal":
                return Outcome(first.status, None, None, None, f"the LP with the builds fixed: {first.message}")
        values = first.values
        if tie_break_columns is not None and len(tie_break_columns):
            # CBC prints the objective to 8 decimals: allow for its rounding.
            with compiled.tie_break_model(tie_break_columns, first.objective + 5e-9):
                second = solve_compiled(compiled, time_limit)
            if second.status == "optimal":
                values = second.values[: len(first.values)]
    finally:
        if fixed is not None:
            fixed.restore()
    return Outcome("optimal", objective, values, first.duals)
