"""The multi-cut L-shaped method (Benders) with CVaR, over kept HiGHS models (issue 17).

    python -m ree_opt.stochastic.decomposition INSTANCE [--omega W] [--sample N --seed S] [--gap G] [--out DIR]
    mpiexec -n K python -m ree_opt.stochastic.decomposition INSTANCE ...   (futures spread over K ranks)

The first stage x (every variable before `reveal`, and the reservations) is
the master's; each future keeps one HiGHS model of its LP (twostage.KeptFuture)
that, with x fixed, gives its cost C_s(x) and a subgradient g_s (the reduced
costs of the fixed first-stage columns). The master (rank 0, one HiGHS model
kept and grown in place):

    min  (1 - omega) sum_s pi_s theta_s + omega (eta + 1/(1 - alpha) sum_s pi_s u_s)
    s.t. the first-stage rows (periods before `reveal`) over x, and what the
         other rows imply for x alone (module counts, funding budgets: FutureLP.master_rows)
         theta_s >= W_s                                   (wait-and-see: C_s(x) >= W_s for every x)
         theta_s >= C_s(x^k) + g_s^k (x - x^k)            (one cut per future and evaluated plan x^k)
         u_s >= theta_s - eta,  u_s >= 0                  (only when omega > 0)
         col_lower <= x <= the bounds of twostage.first_stage_upper (families' `bounded_by`)
         x integer where a first-stage build is lumpy (SPEC section 7)

theta_s stands for the whole cost C_s (first stage included), so CVaR reads
it directly: eta is a first-stage variable of the master, as in the extensive
form (Rockafellar-Uryasev), and both solve the same problem.

Bounds. Every cut under-estimates C_s, so the master is a relaxation of the
extensive form: its optimum is a lower bound (`bound`). Every evaluated x is
a plan (the first-stage rows hold: the master imposes them) whose costs C_s(x)
give its risk-adjusted objective exactly (the minimising eta is VaR): the
best evaluated plan's is an upper bound (`objective`). gap = (objective -
bound) / |objective|; the run stops at `gap`, or at the iteration or time
limit with the gap it has.

Lumpy builds (SPEC section 7). A build decided before `reveal` is a
first-stage integer: the master is a MIP (HiGHS's branch and cut, solved
afresh after each round of cuts) and the bound is its proven dual bound,
still a lower bound on the problem's optimum (the MIP master is a
relaxation of the extensive form, its dual bound below its optimum). The
cuts stay valid: C_s is convex in x over the reals, integers or not. A
build decided from `reveal` on is the future's own: its cuts come from the
future's LP relaxation (which under-estimates it, so the bound stays
valid), and a plan's cost from the future's MIP with x fixed (so the
objective is what the plan costs). Where those own builds matter the gap
may not close: the run then stops with status `converged` when no cut is
left to add, and says so.

Complete recourse: only optimality cuts are needed. For every x >= 0 that
meets the first-stage rows, each future has a second stage: activity 0,
deliveries 0 and shortfall = demand; stock and arrivals from the first
stage disposed of (`disc` is free in every balance row); `paid` raised to any
floor (it has no upper bound), so take-or-pay on any reservation holds; the
offtake rows (activity <= reservation + spot) hold at activity 0; policy
shares hold at zero deliveries. So no future is ever infeasible at a master's
x; should one be (a model change that breaks this), the run stops and names
the future (tests/test_decomposition.py checks the claim on extreme plans).
A future's own builds are simply not built.

Cost per iteration: one warm-started HiGHS re-solve per future (a few
milliseconds: bounds of ~200 fixed columns change) spread over the ranks,
one master re-solve from its last basis (from scratch where it is a MIP), and two messages (x out, costs and
subgradients back). Only violated cuts are added.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
from scipy import sparse

from ..instance import InstanceError
from ..solver import DEFAULT_MIP_GAP, highs_model, solve_highs
from ..loading import load_instance
from .twostage import KeptFuture, Ranks, TwoStage, continuous_builds, peak_memory_mb, relative_gap, two_stage

#: A cut is added when C_s(x) exceeds the master's theta_s by more than this
#: share of max(1, |C_s(x)|).
CUT_TOLERANCE = 1e-9
#: Subgradient entries smaller than this (USD million per t) are dropped
#: from a cut (they are the LP's round-off).
GRADIENT_ZERO = 1e-12


@dataclass
class Step:
    """One iteration as it is reported."""

    iteration: int
    seconds: float
    bound: float
    objective: float  # best so far
    evaluated: float  # of this iteration's plan
    cuts: int


@dataclass
class Decomposition:
    """The outcome of a run, the same on every rank (`solution` and
    `peak_memory_mb` on rank 0 only)."""

    status: str  # optimal (gap reached), converged (no cut left, a gap from the futures' own lumpy builds), iteration_limit, time_limit, error
    objective: float  # risk-adjusted objective of the best plan evaluated (upper bound)
    bound: float  # master's optimum (lower bound)
    iterations: int
    seconds: float
    futures: int
    ranks: int
    first: np.ndarray | None  # the best plan's first stage
    steps: list[Step] = field(default_factory=list)
    peak_memory_mb: list[float] = field(default_factory=list)  # per rank
    timings: dict = field(default_factory=dict)
    message: str = ""
    solution: object = None  # StochasticSolution (rank 0)

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.bound)

    def time_to(self, gap: float) -> float | None:
        """Seconds until the gap first fell to `gap` (None: never)."""
        for step in self.steps:
            if relative_gap(step.objective, step.bound) <= gap:
                return step.seconds
        return None


def risk(costs: np.ndarray, probabilities: np.ndarray, alpha: float, omega: float) -> float:
    """(1 - omega) E[C] + omega CVaR_alpha(C) (section 6)."""
    from .results import risk_measure

    return float(risk_measure(costs, probabilities, alpha, omega))


class Master:
    """The cutting-plane master, one HiGHS model grown in place.

    Columns: x (first stage), theta (one per future), then with CVaR eta and
    u. Integer where a first-stage build is lumpy: the master is then a MIP,
    solved afresh each iteration by branch and cut, and its bound is HiGHS's
    proven dual bound (<= its optimum, still below the problem's)."""

    def __init__(self, rows: sparse.csr_matrix, row_lower, row_upper, x_lower, x_upper,
                 wait_and_see: np.ndarray, probabilities: np.ndarray, alpha: float, omega: float,
                 x_integer: np.ndarray | None = None):
        n, count = rows.shape[1], len(probabilities)
        self.n, self.count = n, count
        self.with_cvar = omega > 0
        self.theta = n + np.arange(count)
        ncol = n + count + (1 + count if self.with_cvar else 0)
        cost = np.zeros(ncol)
        cost[self.theta] = (1.0 - omega) * probabilities
        lower = np.concatenate([x_lower, wait_and_see, [-np.inf] if self.with_cvar else [], np.zeros(count) if self.with_cvar else []])
        upper = np.concatenate([x_upper, np.full(ncol - n, np.inf)])
        blocks = [sparse.hstack([rows, sparse.csr_matrix((rows.shape[0], ncol - n))])]
        lows, highs = [row_lower], [row_upper]
        if self.with_cvar:
            self.eta = n + count
            self.u = n + count + 1 + np.arange(count)
            cost[self.eta] = omega
            cost[self.u] = omega * probabilities / (1.0 - alpha)
            # u_s - theta_s + eta >= 0
            r = np.repeat(np.arange(count), 3)
            c = np.column_stack([self.u, self.theta, np.full(count, self.eta)]).ravel()
            v = np.tile([1.0, -1.0, 1.0], count)
            blocks.append(sparse.csr_matrix((v, (r, c)), shape=(count, ncol)))
            lows.append(np.zeros(count))
            highs.append(np.full(count, np.inf))
        matrix = sparse.vstack(blocks).tocsc()
        integrality = np.zeros(ncol, dtype=bool)
        if x_integer is not None:
            integrality[:n] = x_integer
        self.integer_columns = np.flatnonzero(integrality)
        self.highs = highs_model(matrix, cost, lower, upper, np.concatenate(lows), np.concatenate(highs),
                                 integrality=integrality if len(self.integer_columns) else None,
                                 mip_gap=DEFAULT_MIP_GAP if len(self.integer_columns) else None)
        if not len(self.integer_columns):
            self.highs.setOptionValue("solver", "simplex")
        self.cut_count = 0
        self.trouble: list[str] = []  # how the warm starts that failed ended

    @property
    def is_mip(self) -> bool:
        return len(self.integer_columns) > 0

    def add_cuts(self, futures: np.ndarray, x: np.ndarray, costs: np.ndarray, gradients: np.ndarray) -> None:
        """theta_s - g_s x >= C_s(x) - g_s x, for each s in `futures`."""
        if not len(futures):
            return
        starts, indices, values = [0], [], []
        lower = np.empty(len(futures))
        for i, (s, g) in enumerate(zip(futures, gradients)):
            nonzero = np.flatnonzero(np.abs(g) > GRADIENT_ZERO)
            indices += [nonzero, [self.theta[s]]]
            values += [-g[nonzero], [1.0]]
            starts.append(starts[-1] + len(nonzero) + 1)
            lower[i] = costs[i] - float(g[nonzero] @ x[nonzero])
        self.highs.addRows(
            len(futures), lower, np.full(len(futures), highspy.kHighsInf),
            starts[-1], np.array(starts[:-1], dtype=np.int32),
            np.concatenate(indices).astype(np.int32), np.concatenate(values),
        )
        self.cut_count += len(futures)

    def solve(self) -> tuple[str, float, float, np.ndarray | None, np.ndarray | None]:
        """(status, optimum, bound, x, theta) by the one solve path
        (solver.solve_highs): for an LP the bound is the optimum, for a MIP
        its proven dual bound; a warm start that ends anywhere but at the
        optimum is tried once more from scratch."""
        outcome = solve_highs(self.highs, self.integer_columns, duals=False)
        if outcome.status != "optimal":
            self.trouble.append(outcome.status)
            self.highs.clearSolver()
            outcome = solve_highs(self.highs, self.integer_columns, duals=False)
        if outcome.status != "optimal":
            self.trouble.append(outcome.status)
            return f"{outcome.status} ({outcome.message})", float("nan"), float("nan"), None, None
        bound = outcome.mip_bound if self.is_mip else outcome.objective
        values = outcome.values
        return outcome.status, outcome.objective, bound, values[: self.n], values[self.theta]


def decompose(
    two: TwoStage,
    gap: float = 0.01,
    iterations: int = 500,
    time_limit: float | None = None,
    ranks: Ranks | None = None,
    log=None,
    watch=None,
    stability: float = 1.0,
) -> Decomposition:
    """The L-shaped method over `ranks` (default: MPI's if launched by it, else this process).

    `log(step)` is called on rank 0 after each iteration; `watch(bound,
    objective)` on every rank before each iteration, with the bound and the
    best plan's objective so far: it returns True to stop the run (the same
    on every rank: mpi-sppy's kill signal)."""
    ranks = ranks or Ranks()
    started = time.perf_counter()
    count = len(two.futures)
    probabilities = two.probabilities
    timings = {"build": 0.0, "futures": 0.0, "master": 0.0}

    # Build this rank's futures, their first stage bounded as the family records say.
    mine = ranks.mine(count)
    lps = {p: two.build(p) for p in mine}
    first_upper = two.first_upper
    kept = {p: KeptFuture(lp, first_upper) for p, lp in lps.items()}
    own_lumpy = any(ranks.allgather(any(len(k.own_integer) for k in kept.values())))
    timings["build"] = time.perf_counter() - started

    # Each future alone: W_s, and the average of their first stages as the first plan.
    clock = time.perf_counter()
    alone = [(p, *kept[p].alone()) for p in mine]
    timings["futures"] += time.perf_counter() - clock
    gathered = ranks.gather(alone)
    master = None
    x = stop = None
    message = ""
    if ranks.root:
        results = sorted((r for part in gathered for r in part), key=lambda r: r[0])
        failed = [two.futures[p].index for p, status, *_ in results if status != "optimal"]
        if failed:
            stop, message = "error", f"future {failed[0]} could not be solved alone ({len(failed)} futures in all)"
        else:
            wait_and_see = np.array([r[2] for r in results])
            lp0 = lps[0]
            rows, row_lower, row_upper = lp0.master_rows()
            x_lower = lp0.col_lower[lp0.first]
            x_upper = kept[0].first_upper
            master = Master(
                rows, row_lower, row_upper, x_lower, x_upper,
                wait_and_see, probabilities, two.alpha, two.omega, x_integer=lp0.first_integer,
            )
            # the first plan: the futures' average first stage (it meets the
            # master's rows, which are convex); with lumpy builds the master's
            # first optimum (an average of whole modules is not a plan)
            x = np.clip(sum(probabilities[p] * r[3] for p, r in zip(range(count), results)), x_lower, x_upper)
    bound, first_x = first_bound(master)
    if master is not None and master.is_mip:
        # the average with whole modules rounded down, where it still meets the
        # master's rows (module counts and budgets do); else the master's first plan
        x = np.where(lp0.first_integer, np.floor(x + 1e-6), x)
        activity = rows @ x
        slack = 1e-6 * np.maximum(1.0, np.abs(activity))
        if not (np.all(activity >= row_lower - slack) and np.all(activity <= row_upper + slack)):
            x = first_x
        if x is None:
            stop, message = "error", "the master ended without a plan before any cut"
    best, best_x = float("inf"), None
    steps: list[Step] = []
    theta = x_master = None
    x_is_master = False
    incumbent: dict = {}
    iteration = 0
    improved = False
    while True:
        x, improved, stop, shared_bound, shared_best = ranks.bcast((x, improved, stop, bound, best))
        if improved:
            incumbent = last
        if watch is not None and watch(shared_bound, shared_best) and stop is None:
            stop = "stopped"
        if stop is not None:
            break
        iteration += 1
        clock = time.perf_counter()
        last, local, relaxed = {}, [], {}
        for p in mine:
            relaxed[p] = kept[p].at(x)
        exact = True
        if own_lumpy:
            # A future's MIP costs at least its LP relaxation, and the risk
            # measure grows with every cost: where the relaxation's risk is no
            # better than the best plan's, the plan cannot be, and the
            # futures' MIPs are skipped.
            found = {p: r[1] for p, r in relaxed.items() if r[0] == "optimal"}
            everything = {}
            for part in ranks.allgather(found):
                everything.update(part)
            exact = len(everything) < count or risk(
                np.array([everything[p] for p in range(count)]), probabilities, two.alpha, two.omega) < shared_best
        for p in mine:
            status, cut_cost, gradient, _ = relaxed[p]
            cost, values = cut_cost, None
            if status == "optimal" and exact:
                status, cost, values = kept[p].cost_at(x, relaxed[p])
            if status != "optimal":
                local.append((p, status, None, None, None))
                continue
            local.append((p, status, cost, cut_cost, gradient))
            if exact:
                last[p] = (cost, lps[p].unmet(values), values if p == 0 else None)
        timings["futures"] += time.perf_counter() - clock
        gathered = ranks.gather(local)
        improved = False
        if not ranks.root:
            continue
        results = sorted((r for part in gathered for r in part), key=lambda r: r[0])
        failed = [two.futures[p].index for p, status, *_ in results if status != "optimal"]
        if failed:
            stop = "error"
            message = (f"future {failed[0]} has no second stage for the master's plan ({len(failed)} futures "
                       "in all): the recourse is not complete, which the L-shaped method here assumes")
            continue
        costs = np.array([r[2] for r in results])  # what the plan costs (the futures' own builds whole)
        cut_costs = np.array([r[3] for r in results])  # their LP relaxation's, where the cuts come from
        gradients = np.array([r[4] for r in results])
        evaluated = risk(costs, probabilities, two.alpha, two.omega)  # (a lower estimate where not exact)
        if exact and evaluated < best:
            best, best_x, improved = evaluated, kept[mine[0]].plan(x) if mine else x.copy(), True
        if theta is None:
            violated = np.arange(count)
        else:  # the cuts at x that cut off the master's last point (x_master, theta)
            at_master = cut_costs if x_is_master else cut_costs + gradients @ (x_master - x)
            violated = np.flatnonzero(at_master - theta > CUT_TOLERANCE * np.maximum(1.0, np.abs(cut_costs)))
        clock = time.perf_counter()
        master.add_cuts(violated, x, cut_costs[violated], gradients[violated])
        converged = not len(violated) and x_is_master
        status, optimum, master_bound, x_master, theta = master.solve()
        timings["master"] += time.perf_counter() - clock
        if status != "optimal":
            stop, message = "error", f"the master ended {status}"
            continue
        bound = max(bound, master_bound)
        step = Step(iteration, time.perf_counter() - started, bound, best, evaluated, len(violated))
        steps.append(step)
        if log:
            log(step)
        if relative_gap(best, bound) <= gap:
            stop = "optimal"
        elif converged:
            # no cut is violated at the master's point: the bound is the
            # problem's (or, where futures build lumpy modules of their own,
            # its relaxation's); what gap remains is theirs
            stop = "converged" if own_lumpy and relative_gap(best, bound) > gap else "optimal"
            if stop == "converged":
                message = ("no cut is left to add: the gap left is that of the futures' own lumpy builds, "
                           "whose cuts come from their LP relaxation")
        elif iteration >= iterations:
            stop = "iteration_limit"
        elif time_limit is not None and step.seconds >= time_limit:
            stop = "time_limit"
        # In-out stabilisation (Ben-Ameur and Neto 2007): evaluate between the
        # master's point and the best plan; where that yields no cut against
        # the master's point, evaluate the master's point itself next.
        # (Not with lumpy builds: a point between two plans is no plan.)
        x_is_master = master.is_mip or not (len(violated) and stability < 1.0 and best_x is not None)
        x = x_master if x_is_master else stability * x_master + (1.0 - stability) * best_x
    seconds = time.perf_counter() - started
    if master is not None and master.trouble:
        timings["master_restarts"] = len(master.trouble)
        restarts = (f"the master's warm start ended {', '.join(dict.fromkeys(master.trouble))} "
                    f"{len(master.trouble)} time(s); solved again from scratch")
        message = f"{message}; {restarts}" if message else restarts
    memory = ranks.gather(peak_memory_mb())
    pieces = ranks.gather(incumbent)
    best, bound, best_x, steps = ranks.bcast((best, bound, best_x, steps))  # every rank reports the same run
    result = Decomposition(
        status=stop, objective=best, bound=bound, iterations=iteration, seconds=seconds,
        futures=count, ranks=ranks.size, first=best_x, steps=steps,
        peak_memory_mb=memory or [], timings=timings, message=message,
    )
    if ranks.root and best_x is not None:
        found = {p: v for part in pieces for p, v in part.items()}
        costs = np.array([found[p][0] for p in range(count)])
        unmet = [found[p][1] for p in range(count)]
        note = (f"plan of the multi-cut L-shaped method: objective within {100 * result.gap:.3g}% of the bound "
                f"{bound:,.6f} (USD million); duals are not reported")
        result.solution = two.report(best_x, found[0][2], costs, unmet, note)
    return result


def first_bound(master: Master | None) -> tuple[float, np.ndarray | None]:
    """The first lower bound: the master before any cut (theta_s = W_s, the
    risk measure of the wait-and-see optima), and its plan; (-inf, None) off rank 0."""
    if master is None:
        return -float("inf"), None
    status, _, bound, x, _ = master.solve()
    return (bound, x) if status == "optimal" else (-float("inf"), None)


# -- the command line ----------------------------------------------------------------


def write_plan(out: Path, solution, extra: dict, instance_path: Path) -> None:
    """The plan's tables as `ree-opt stochastic --out` writes them (CSV files in a
    directory, or one .xlsx workbook), the summary with `extra` lines (bound, gap)."""
    import pandas as pd

    from ..outputs import write_tables
    from .text import stochastic_tables

    tables = stochastic_tables(solution)
    tables["summary"] = pd.concat([tables["summary"], pd.Series(extra, dtype=object)])
    if out.suffix.lower() == ".xlsx":
        from ..workbook import write_workbook

        lines = [(name.replace("_", " "), value, "") for name, value in tables["summary"].items()]
        write_workbook(out, f"Decide now, under uncertainty: {instance_path}", lines,
                       {k: v for k, v in tables.items() if k != "summary"}, inputs=[instance_path])
    else:
        write_tables(out, tables, inputs=[instance_path])


def certificate_lines(objective: float, bound: float) -> list[str]:
    """The three last lines of the screen, for people and scripts alike."""
    return [
        f"objective: {objective:.6f}",
        f"bound: {bound:.6f}",
        f"gap: {relative_gap(objective, bound):.6g}",
    ]


def problem_arguments(parser: argparse.ArgumentParser) -> None:
    """The instance and what overrides its `uncertainty` section (shared with ree_opt.ph)."""
    parser.add_argument("instance", type=Path)
    parser.add_argument("--omega", type=float, help="weight of CVaR in the objective, in [0, 1]")
    parser.add_argument("--alpha", type=float, help="CVaR level in [0, 1)")
    parser.add_argument("--sample", type=int, metavar="N", help="draw N futures instead of every combination")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ree_opt.stochastic.decomposition",
        description="The stochastic plan by the multi-cut L-shaped method (Benders), with a certified gap: "
        "[mpiexec -n K] python -m ree_opt.stochastic.decomposition INSTANCE",
    )
    problem_arguments(parser)
    parser.add_argument("--gap", type=float, default=0.01, help="stop at this relative gap (default 0.01: 1%%)")
    parser.add_argument("--iterations", type=int, default=500, help="iteration limit (default 500)")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument("--out", type=Path, help="directory to write the tables to, as CSV; or one Excel workbook (.xlsx)")
    parser.add_argument("--json", action="store_true", help="print the run and its bound as JSON")
    parser.add_argument("--stability", type=float, default=1.0,
                        help="in-out stabilisation: evaluate this share of the way from the best plan to the master's "
                        "(default 1: the master's point)")
    parser.add_argument("--relax", action="store_true",
                        help="treat lumpy expansions as lumpy: false (their LP relaxation: a lower bound on the lumpy optimum)")
    parser.add_argument("--verbose", action="store_true", help="one line per iteration")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    ranks = Ranks()
    sample = {"n": args.sample, "seed": args.seed} if args.sample is not None else None
    try:
        if args.gap < 0:
            raise ValueError(f"--gap expects a number >= 0, got {args.gap}")
        instance = load_instance(args.instance)
        if args.relax:
            instance = continuous_builds(instance, True)
        two = two_stage(instance, alpha=args.alpha, omega=args.omega, sample=sample)
    except (InstanceError, ValueError) as error:
        if ranks.root:
            print(f"ree-opt decomposition: {error}", file=sys.stderr)
        return 2

    def log(step: Step) -> None:
        if args.verbose:
            print(f"  iteration {step.iteration:4d}  {step.seconds:8.1f} s  bound {step.bound:14.4f}  "
                  f"objective {step.objective:14.4f}  gap {100 * relative_gap(step.objective, step.bound):8.4f}%  "
                  f"cuts {step.cuts}", flush=True)

    result = decompose(two, args.gap, args.iterations, args.time_limit, ranks, log, stability=args.stability)
    if not ranks.root:
        return 0
    if result.solution is None:
        print(f"ree-opt decomposition: {result.status}: {result.message}", file=sys.stderr)
        return 1
    extra = {"bound_musd": result.bound, "gap": result.gap, "method": "multi-cut L-shaped",
             "iterations": result.iterations, "seconds": round(result.seconds, 3), "ranks": result.ranks}
    if args.out:
        write_plan(args.out, result.solution, extra, args.instance)
    if args.json:
        print(json.dumps({
            "status": result.status, "message": result.message, "objective": result.objective, "bound": result.bound, "gap": result.gap,
            "iterations": result.iterations, "seconds": result.seconds, "futures": result.futures,
            "ranks": result.ranks, "peak_memory_mb": result.peak_memory_mb, "timings": result.timings,
            "time_to_1pct": result.time_to(0.01), "time_to_0.1pct": result.time_to(0.001),
        }))
        return 0
    from .text import stochastic_text

    print(stochastic_text(result.solution, str(args.instance)))
    print()
    print(f"multi-cut L-shaped: {result.futures} futures on {result.ranks} rank{'s' if result.ranks > 1 else ''}; "
          f"{result.iterations} iterations, {result.seconds:.1f} s ({result.status}); "
          f"peak memory {max(result.peak_memory_mb):.0f} MB per rank")
    print("\n".join(certificate_lines(result.objective, result.bound)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
