"""Progressive hedging on mpi-sppy over MPI (issue 9): a thin adapter.

    mpiexec -n K python -m ree_opt.ph INSTANCE [--sample N --seed S] [--iterations I] [--rho R]

`scenario_creator(name, problem=...)` builds one future's model with the same
per-future builder as the extensive form (`StochasticProblem.model_of`),
turns it into an ordinary Pyomo model (`ree_opt.model.to_pyomo`: the rows as
constraints, the future's cost C_s as the objective) and attaches mpi-sppy's
root node on the first-stage variables (every column before `reveal`, and the
offtake reservations) with probability `_mpisppy_probability` = the future's.
mpi-sppy's PH (`PH.ph_main`) runs the futures spread over the ranks, HiGHS
through Pyomo (`appsi_highs`, or `highs`), with linearized proximal terms.

rho is a multiple (`--rho`, default 0.1) of each first-stage variable's cost
per t (the median cost where it has none). With linearized proximal terms the
prox is piecewise linear with a kink at xbar, so a large rho can hold every
future at a consensus that is not optimal (W stops moving once x = xbar): on
the licence gamble of the tests a multiple of 10 stalls at 28 t instead of 0;
0.1 reaches the optimum. The iteration limit (default 50) is the stopping
rule that matters on degenerate instances: the consensus metric may never
fall below `--convergence` while the plan is already optimal.

Risk-neutral only: the objective is the expected cost (omega = 0); an
instance with omega > 0 is solved at omega = 0, and says so.

Reported (USD million), rank 0:
- objective: the expected cost of PH's plan, the first stage held at the
  average of the futures' first stages (xbar, within 1e-4 t: see
  XBAR_ABSOLUTE) and each future re-solved: a plan's cost, so >= the
  optimum (less the slack's worth, far below a cent);
- bound: the best of the trivial bound (each future alone, iteration 0) and
  the Lagrangian bound with PH's final weights: <= the optimum.

Needs the `[mpi]` extra: `pip install -e ".[mpi]"` (mpi-sppy, mpi4py and the
`mpich` wheel, which carries `mpiexec`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from .instance import InstanceError, Problem
from .loading import load_instance
from .stochastic.solve import StochasticProblem, stochastic_problem

ROOT = "ROOT"


def future_name(index: int) -> str:
    return f"future{index}"


def first_stage_variables(model, built, reveal: int) -> list:
    """The Pyomo variable data of every first-stage column, in column order
    (each family's stage rule, model/families.py)."""
    from .model.pyomo import column_variables

    variables = column_variables(model, built)
    return [variables[col] for col in np.flatnonzero(built.first_stage_columns(reveal))]


def first_stage_cost(model, built, reveal: int):
    """The Pyomo expression of the first-stage columns' share of the cost."""
    from .model.pyomo import column_variables, linear

    first = built.first_stage_columns(reveal)
    return linear([(c, col) for c, col in built.objective if first[col]], column_variables(model, built))


def scenario_creator(name: str, problem: StochasticProblem):
    """mpi-sppy's scenario_creator: one future as an ordinary Pyomo model."""
    from mpisppy.utils import sputils

    from .model import to_pyomo

    index = int(name.removeprefix("future"))
    future = problem.futures[index]
    built = problem.model_of(future).model
    model = to_pyomo(built)
    model.name = name
    bound_first_stage(model, built, problem.reveal, first_stage_bounds(problem))
    sputils.attach_root_node(
        model, first_stage_cost(model, built, problem.reveal), first_stage_variables(model, built, problem.reveal)
    )
    model._mpisppy_probability = future.probability
    model._ree_costs = column_costs(model, built)
    return model


def column_costs(model, built) -> dict:
    """id of each Pyomo variable -> its cost (USD million per t), for rho."""
    from .model.pyomo import column_variables

    columns = column_variables(model, built)
    costs: dict = {}
    for c, col in built.objective:
        costs[id(columns[col])] = costs.get(id(columns[col]), 0.0) + abs(c)
    return costs


#: Every first-stage variable gets an upper bound near what the base
#: instance allows before `reveal` (where every future sees the base
#: instance): twice a facility's largest capacity or take before `reveal`
#: (activity, payment), twice a product's supply before `reveal` with its
#: initial stock (stock, disposal, sales, relabelling, deliveries), twice a
#: demand's quantity (shortfall); a reservation (from `reveal` on, where
#: futures differ) RESERVE_FACTOR times its facility's largest nameplate
#: capacity. No optimum comes near them, but they keep PH's subproblems
#: bounded: with linearized proximal terms cut on one side of xbar, or in
#: the Lagrangian bound (W on, no prox), an unbounded variable whose weight
#: outweighs its cost made the baseline's subproblems unbounded. Bounds near
#: the data (not one big M) keep the prox cuts well scaled.
BOUND_FACTOR, RESERVE_FACTOR = 2.0, 10.0


def first_stage_bounds(problem: StochasticProblem) -> dict:
    """What the bound of each first-stage variable is read from."""
    data, r = problem.base_data, problem.reveal
    labels = [str(p) for p in problem.base.periods]
    from .data import resolve_series

    nameplate = {f.id: max(1.0, float(max(resolve_series(f.capacity, labels)))) for f in problem.base.facilities}
    facility, reserve = {}, {}
    for f in data.facilities:
        early = np.maximum(np.maximum(f.ramped_t[:r], f.capacity_t[:r]), f.min_take_t[:r])
        facility[f.id] = BOUND_FACTOR * max(1.0, float(early.max()) if r else 1.0)
        reserve[f.id] = RESERVE_FACTOR * nameplate[f.id]
    supply: dict = {p: product.initial_stock_t for p, product in data.products.items()}
    for f in data.facilities:
        total = float(np.maximum(f.ramped_t[:r], f.capacity_t[:r]).sum())
        for p, ratio in f.outputs.items():
            supply[p] = supply.get(p, 0.0) + total * ratio
    product = {p: BOUND_FACTOR * max(1.0, v) for p, v in supply.items()}
    modules = {(f.id, e.name): float(e.modules) for f in data.facilities for e in f.expansions}
    return {"facility": facility, "nameplate": reserve, "product": product, "demand": list(data.demand),
            "modules": modules}


def upper_bound(bounds: dict, family, key) -> float | None:
    """A first-stage variable's bound, from what its family's record says
    bounds it (`bounded_by`)."""
    def at(dimension):
        return key[family.dims.index(dimension)]

    rule = family.bounded_by
    if rule == "nameplate":
        return bounds["nameplate"].get(at("facility"))
    if rule == "facility":
        return bounds["facility"].get(at("facility"))
    if rule == "product":
        return bounds["product"].get(at("product"))
    if rule == "demand product":
        return bounds["product"].get(bounds["demand"][at("demand")].product)
    if rule == "modules":
        return bounds["modules"].get((at("facility"), at("expansion")))
    if rule == "demand":
        return BOUND_FACTOR * max(1.0, float(bounds["demand"][at("demand")].quantity_t[family.period_of(key)]))
    return None


def bound_first_stage(model, built, reveal: int, bounds: dict) -> None:
    for name, block in built.columns.items():
        component = getattr(model, name)
        first = block.family.first_stage(block.keys, reveal)
        for key, take in zip(block.keys, first):
            if not take:
                continue
            bound = upper_bound(bounds, block.family, key)
            if bound is None:
                raise RuntimeError(f"no upper bound for first-stage variable {name}{key} (a bug in ree_opt.ph)")
            var = component[key]
            if var.ub is None or var.ub > bound:
                var.setub(bound)


def all_solved(ph) -> bool:
    """Did every future's last solve, on every rank, end with a solution?"""
    from mpisppy import MPI

    local = np.array([float(all(s._mpisppy_data.solution_available for s in ph.local_scenarios.values()))])
    total = np.zeros(1)
    ph.mpicomm.Allreduce(local, total, op=MPI.MIN)
    return bool(total[0])


#: PH's plan is evaluated with each first-stage value held within this many
#: t (plus XBAR_RELATIVE of it) of xbar, not fixed: xbar averages solutions
#: that each meet the first-stage rows only to HiGHS's tolerance, and fixed
#: exactly it broke an equality row by 7e-6 t on the baseline (every future
#: then infeasible). The slack moves the cost by far less than a cent.
XBAR_ABSOLUTE, XBAR_RELATIVE = 1e-4, 1e-6


def hold_near(ph, xbar: list) -> list:
    """Bound every local future's first-stage variables to xbar +- the slack;
    their former bounds, to restore."""
    saved = []
    for scenario in ph.local_scenarios.values():
        for var, value in zip(scenario._mpisppy_node_list[0].nonant_vardata_list, xbar):
            saved.append((var, var.lb, var.ub))
            slack = XBAR_ABSOLUTE + XBAR_RELATIVE * abs(value)
            low = value - slack if var.lb is None else max(var.lb, value - slack)
            high = value + slack if var.ub is None else min(var.ub, value + slack)
            var.setlb(low)
            var.setub(max(low, high))
    return saved


def scenario_denouement(rank, name, scenario):
    pass


def cost_rho_setter(scenario, scale: float = 1.0):
    """rho per first-stage variable: `scale` x its cost (USD million per t),
    the median nonzero cost where it has none."""
    costs = scenario._ree_costs
    nonants = scenario._mpisppy_node_list[0].nonant_vardata_list
    known = [costs[id(v)] for v in nonants if costs.get(id(v), 0.0) > 0]
    fallback = float(np.median(known)) if known else 1.0
    return [(id(v), scale * (costs.get(id(v), 0.0) or fallback)) for v in nonants]


def pick_solver(name: str | None) -> str:
    import pyomo.environ as pyo

    for candidate in ([name] if name else ["appsi_highs", "highs"]):
        try:
            if pyo.SolverFactory(candidate).available(exception_flag=False):
                return candidate
        except Exception:
            continue
    raise RuntimeError(f"no HiGHS interface of Pyomo is available (tried {name or 'appsi_highs, highs'})")


def run_ph(
    problem: StochasticProblem,
    iterations: int = 50,
    rho: float = 0.1,
    convergence: float = 1e-4,
    solver: str | None = None,
    verbose: bool = False,
) -> dict:
    """PH over the ranks of MPI.COMM_WORLD; the same dict on every rank."""
    import mpisppy.opt.ph
    import pyomo.environ as pyo

    names = [future_name(f.index) for f in problem.futures]
    options = {
        "solver_name": pick_solver(solver),
        "PHIterLimit": iterations,
        "defaultPHrho": rho,
        "convthresh": convergence,
        "verbose": verbose,
        "display_timing": False,
        "display_progress": verbose,
        "iter0_solver_options": {},
        "iterk_solver_options": {},
        "smoothed": 0,
        "asynchronousPH": False,
        "toc": False,
        "linearize_proximal_terms": True,
        "proximal_linearization_tolerance": 1e-3,
        "rho_setter_kwargs": {"scale": rho},
    }
    started = time.perf_counter()
    ph = mpisppy.opt.ph.PH(
        options, names, scenario_creator, scenario_denouement,
        scenario_creator_kwargs={"problem": problem}, rho_setter=cost_rho_setter,
    )
    convergence_value, _, trivial = ph.ph_main()
    lagrangian = ph.post_solve_bound()
    notes = []
    if not all_solved(ph):  # a subproblem unbounded or failed: its stale bound is no bound
        lagrangian = float("-inf")
        notes.append("a Lagrangian subproblem was not solved: the bound is the trivial one")
    # PH's plan: the first stage at xbar, each future re-solved without W and prox.
    xbar = None
    for scenario in ph.local_scenarios.values():
        xbar = [pyo.value(scenario._mpisppy_model.xbars[(ROOT, i)])
                for i in range(len(scenario._mpisppy_node_list[0].nonant_vardata_list))]
        break
    saved = hold_near(ph, xbar)
    ph.disable_W_and_prox()
    ph.solve_loop(gripe=True, tee=False)
    objective = ph.Eobjective()
    if not all_solved(ph):
        objective = float("nan")
        notes.append("a future with the first stage at xbar was not solved: no objective")
    for var, lower, upper in saved:
        var.setlb(lower)
        var.setub(upper)
    return {
        "objective": float(objective),
        "bound": float(max(trivial, lagrangian)),
        "trivial_bound": float(trivial),
        "lagrangian_bound": float(lagrangian),
        "iterations": int(ph._PHIter),
        "convergence": float(convergence_value),
        "seconds": time.perf_counter() - started,
        "futures": len(names),
        "ranks": ph.n_proc,
        "notes": notes,
    }


def continuous_builds(instance, relax: bool):
    """PH here averages continuous first stages: lumpy expansions (SPEC
    section 7) are refused unless `relax` treats them as `lumpy: false` (their
    LP relaxation: a lower bound on the lumpy optimum)."""
    lumpy = [f"{f.id}/{e.name}" for f in instance.facilities for e in (f.expansions or []) if e.lumpy]
    if not lumpy:
        return instance
    if not relax:
        raise InstanceError([Problem(
            "facilities", f"progressive hedging needs a continuous first stage, and {len(lumpy)} expansion(s) are "
            f"lumpy ({', '.join(lumpy[:5])}{', ...' if len(lumpy) > 5 else ''}): run it with --relax to treat them "
            "as lumpy: false (their LP relaxation), or solve the extensive form (ree-opt stochastic) for whole modules",
        )])
    facilities = [
        f.model_copy(update={"expansions": [e.model_copy(update={"lumpy": False}) for e in f.expansions]})
        if f.expansions else f
        for f in instance.facilities
    ]
    return instance.model_copy(update={"facilities": facilities})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ree_opt.ph",
        description="Progressive hedging on mpi-sppy over MPI (risk-neutral): "
        "mpiexec -n K python -m ree_opt.ph INSTANCE",
    )
    parser.add_argument("instance", type=Path)
    parser.add_argument("--sample", type=int, metavar="N", help="draw N futures instead of every combination")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    parser.add_argument("--iterations", type=int, default=50, help="PH iteration limit (default 50)")
    parser.add_argument("--rho", type=float, default=0.1, help="rho as a multiple of each variable's cost (default 0.1)")
    parser.add_argument("--convergence", type=float, default=1e-4, help="PH convergence threshold (default 1e-4)")
    parser.add_argument("--solver", help="Pyomo solver name (default appsi_highs, else highs)")
    parser.add_argument("--extensive", action="store_true",
                        help="also solve the extensive form on rank 0 and print its optimum beside PH's")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--relax", action="store_true",
                        help="treat lumpy expansions as lumpy: false (PH's first stage is continuous)")
    args = parser.parse_args(argv)
    sample = {"n": args.sample, "seed": args.seed} if args.sample is not None else None
    try:
        instance = continuous_builds(load_instance(args.instance), args.relax)
        problem = stochastic_problem(instance, sample=sample, omega=0.0)
    except InstanceError as error:  # before MPI starts: rank 0 of mpiexec (MPICH's PMI_RANK) tells
        if os.environ.get("PMI_RANK", "0") == "0":
            print(f"ree-opt ph: {error}", file=sys.stderr)
        return 2
    from mpisppy import MPI

    rank = MPI.COMM_WORLD.Get_rank()
    asked = problem.base.uncertainty.omega if problem.base.uncertainty else 0.0
    result = run_ph(problem, args.iterations, args.rho, args.convergence, args.solver, args.verbose)
    if rank == 0:
        if asked:
            print(f"note: PH here is risk-neutral: the instance's omega {asked:g} is taken as 0")
        print(f"futures: {result['futures']} on {result['ranks']} ranks; iterations: {result['iterations']}; "
              f"convergence: {result['convergence']:.3g}; {result['seconds']:.1f} s")
        print(f"trivial bound: {result['trivial_bound']:.6f}; Lagrangian bound: {result['lagrangian_bound']:.6f}")
        for note in result["notes"]:
            print(f"note: {note}")
        if args.extensive:
            from .stochastic import solve_stochastic

            ef = solve_stochastic(instance, sample=sample, omega=0.0, value_of_information=False)
            print(f"extensive form: {ef.objective:.6f}")
        print(f"objective: {result['objective']:.6f}")
        print(f"bound: {result['bound']:.6f}")
    return 0 if np.isfinite(result["objective"]) else 1


if __name__ == "__main__":
    sys.exit(main())
