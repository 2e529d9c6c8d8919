"""Investment (SPEC section 7, issue 16): how long the integer builds take
against their LP relaxation, the budget curve re-solved in place against
independent solves, and the extensive form with builds. Each reference is
measured in the same run. Not part of the test suite.

    python benchmarks/investment.py            # writes benchmarks/investment_results.md

(a) The baseline and non-China plans of instances/baseline.yaml solved to
    mip_gap 1e-6 (HiGHS branch and cut, then the LP with the builds fixed
    and the tie-break), against the same plans with every expansion
    `lumpy: false` (the LP relaxation, same code path); what HiGHS spends
    the MIP on (nodes, LP iterations, its own run time).
(b) The budget curve of 8 points (one model per plan, the budget row's
    bound moved between points) against 8 independent solves (a model
    built and solved for each budget).
(c) The extensive form of the baseline's 24 futures with builds (a MIP)
    against its relaxation; and VSS's expected value plan (the extensive
    form with the nominal plan's first stage fixed) solved whole, as it
    was, against future by future (`solve_first_stage_fixed`), as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import ree_opt  # noqa: E402
from ree_opt.analysis import NON_CHINA  # noqa: E402
from ree_opt.funding import budget_curve  # noqa: E402
from ree_opt.loading import load_instance  # noqa: E402
from ree_opt.plan import Plan  # noqa: E402

BASELINE = HERE.parent / "instances" / "baseline.yaml"
BUDGETS = [0, 100, 250, 500, 750, 1000, 1500, 2000]


def relaxed(instance):
    """Every expansion lumpy: false."""
    data = instance.model_dump(by_alias=True, exclude_none=True)
    for facility in data["facilities"]:
        for expansion in facility.get("expansions", []):
            expansion["lumpy"] = False
    return load_instance(data)


def timed_solve(instance, policies=()) -> dict:
    started = time.perf_counter()
    plan = Plan(instance, None, list(policies))
    built = time.perf_counter()
    solution = plan.solve(ranging=False)
    done = time.perf_counter()
    return {
        "build_s": built - started, "solve_s": done - built, "objective": solution.objective,
        "gap": solution.mip_gap, "nodes": plan.last_mip_nodes,
        "builds": len(solution.investments), "integers": len(plan.compiled.integer_columns),
    }


def expected_value_plan(instance) -> list[tuple[str, float, float]]:
    """VSS's expected value plan (SPEC section 6) two ways, each timed alone:
    the extensive form with the nominal first stage fixed, solved whole (a
    MIP with every future's own builds), and future by future."""
    from ree_opt.stochastic.extensive import ExtensiveForm
    from ree_opt.stochastic.solve import build_futures, nominal_first_stage, solve_first_stage_fixed, stochastic_problem

    problem = stochastic_problem(instance)
    models = build_futures(problem)
    form = ExtensiveForm(models, [f.probability for f in problem.futures], problem.uncertainty.alpha,
                         problem.uncertainty.omega)
    nominal = nominal_first_stage(problem, form)
    started = time.perf_counter()
    form.fix_first_stage(nominal)
    whole = form.solve().objective
    form.fix_first_stage(None)
    whole_s = time.perf_counter() - started
    started = time.perf_counter()
    by_future = solve_first_stage_fixed(form, nominal).objective(form, form.omega)
    by_future_s = time.perf_counter() - started
    return [("the extensive form whole", whole_s, whole), ("future by future", by_future_s, by_future)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", type=Path, default=BASELINE)
    parser.add_argument("--out", type=Path, default=HERE / "investment_results.md")
    parser.add_argument("--skip-extensive", action="store_true")
    args = parser.parse_args()
    instance = load_instance(args.instance)
    relaxation = relaxed(instance)
    lines = [
        f"Instance: {args.instance.name}; machine: {os.cpu_count()} cores, load average before the run "
        f"{os.getloadavg()[0]:.2f}; every reference measured in the same run.",
        "",
        "## (a) The plans with lumpy builds (mip_gap 1e-6) against their LP relaxation",
        "",
        "| plan | integer columns | MIP solve (s) | relaxation solve (s) | ratio | objective | relaxation | gap | nodes | builds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, policies in (("baseline", ()), ("non-China", (NON_CHINA,))):
        mip = timed_solve(instance, policies)
        lp = timed_solve(relaxation, policies)
        print(name, mip, lp, file=sys.stderr)
        lines.append(
            f"| {name} | {mip['integers']} | {mip['solve_s']:.2f} | {lp['solve_s']:.2f} | "
            f"{mip['solve_s'] / lp['solve_s']:.1f}x | {mip['objective']:,.2f} | {lp['objective']:,.2f} | "
            f"{mip['gap']:.1e} | {mip['nodes']} | {mip['builds']} |"
        )

    started = time.perf_counter()
    curve = budget_curve(instance, BUDGETS, executor=None)
    in_place = time.perf_counter() - started
    started = time.perf_counter()
    cold = []
    for limit in BUDGETS:
        counted = [f.id for f in instance.facilities if f.expansions]
        budget = {"type": "max_capex", "limit": limit, "facilities": counted}
        cold.append((
            Plan(instance, None, [budget]).solve(tie_break=False, ranging=False).objective,
            Plan(instance, None, [budget, NON_CHINA]).solve(tie_break=False, ranging=False).objective,
        ))
    independent = time.perf_counter() - started
    worst = max(
        max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(curve["baseline_musd"], [c[0] for c in cold])),
        max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(curve["non_china_musd"], [c[1] for c in cold])),
    )
    lines += [
        "",
        f"## (b) The budget curve, {len(BUDGETS)} budgets (USD million: {', '.join(map(str, BUDGETS))}), both plans",
        "",
        "| way | seconds | speed-up |",
        "|---|---:|---:|",
        f"| one model per plan, its budget moved in place (budget_curve: the largest budget first, a smaller one given its plan where it fits) | {in_place:.1f} | {independent / in_place:.1f}x |",
        f"| a model built and solved per budget | {independent:.1f} | 1.0x |",
        "",
        f"Largest relative difference between the two ways' optima: {worst:.1e}.",
    ]

    if not args.skip_extensive and instance.uncertainty is not None:
        rows = []
        for name, case in (("lumpy builds (MIP)", instance), ("relaxation", relaxation)):
            started = time.perf_counter()
            solution = ree_opt.solve_stochastic(case, value_of_information=False)
            rows.append((name, time.perf_counter() - started, solution.objective, len(solution.investments)))
            print(name, rows[-1], file=sys.stderr)
        eev = expected_value_plan(instance)
        print("expected value plan", eev, file=sys.stderr)
        reference = rows[1][1]
        lines += [
            "",
            "## (c) The extensive form of the baseline's futures with builds",
            "",
            "| first stage | seconds (build and solve) | ratio to the relaxation | objective | builds before reveal |",
            "|---|---:|---:|---:|---:|",
        ] + [f"| {n} | {s:.1f} | {s / reference:.1f}x | {o:,.2f} | {b} |" for n, s, o, b in rows] + [
            f"| the nominal plan's fixed (VSS), {name} | {s:.1f} | {s / reference:.2f}x | {o:,.6f} | |"
            for name, s, o in eev
        ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
