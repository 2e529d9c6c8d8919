"""The `ree-opt` command line.

Exit codes: 0 done, 2 bad input (the instance, a scenario, an argument),
1 anything else (a solve that is not optimal, an unexpected error), each
with a message and never a traceback (``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    import pandas as pd

# Heavy modules (pandas, the solver, the report) load inside the commands
# that need them: `--help` and `validate` answer at once.

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CommandError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def _records(frame: pd.DataFrame | pd.Series):
    import pandas as pd

    if isinstance(frame, pd.Series):
        return {str(k): (None if pd.isna(v) else v) for k, v in frame.items()}
    return json.loads(frame.to_json(orient="records"))


def _emit_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, default=str))


def _workbook(path: Path | None) -> bool:
    return path is not None and path.suffix.lower() == ".xlsx"


def _wrote(args, written) -> None:
    """The "wrote ..." line after the answer (not with --json: stdout is then JSON)."""
    if args.json or not written:
        return
    if isinstance(written, list):
        print(f"wrote {len(written)} CSV table{'s' if len(written) != 1 else ''} to {args.out}")
    else:
        print(f"wrote {args.out} ({Path(written).stat().st_size / 1024:,.0f} KB)")


def _covered(instance_path) -> list[str]:
    from .loading import load_instance

    return list(load_instance(instance_path).covered_countries)


def _colors(instance_path) -> dict:
    """Each country's colour, the report's (ree_opt.colors)."""
    from .colors import instance_colors
    from .loading import load_instance

    return instance_colors(load_instance(instance_path))


def cmd_validate(args) -> int:
    from .loading import load_instance
    from .splice import SpliceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpliceWarning)
        instance = load_instance(args.instance)
    notes = [str(w.message) for w in caught if issubclass(w.category, SpliceWarning)]
    for other in (w for w in caught if not issubclass(w.category, SpliceWarning)):
        warnings.showwarning(other.message, other.category, other.filename, other.lineno)
    facts = (
        f"{len(instance.periods)} periods, {len(instance.products)} products, "
        f"{len(instance.facilities)} facilities, {len(instance.demand)} demand entries, "
        f"{len(instance.policies)} policies, {len(instance.scenarios)} scenarios"
    )
    uncertainty = instance.uncertainty
    if uncertainty is not None:
        facts += (f"; uncertainty: {len(uncertainty.events)} events, {uncertainty.future_count():,} futures"
                  + (" drawn" if uncertainty.sample else ""))
        dropped = uncertainty.dropped_futures()
        if dropped:
            facts += f" ({dropped:,} future{'s' if dropped != 1 else ''} of probability 0 dropped)"
    if args.json:
        _emit_json({"valid": True, "instance": instance.name, "summary": facts, "warnings": notes})
    else:
        print(f"{args.instance}: valid ({facts})")
        for note in notes:
            print(f"ree-opt: warning: {note}", file=sys.stderr)
    return EXIT_OK


def cmd_solve(args) -> int:
    from .outputs import write_tables
    from .plan import solve
    from .text import solution_text

    try:
        solution = solve(
            args.instance, scenario=args.scenario, tie_break=not args.no_tie_break, time_limit=args.time_limit,
            solver=args.solver,
        )
    except ImportError as error:  # second_solver.SolverUnavailable: CBC is not installed
        raise CommandError(str(error)) from None
    written = None
    if args.out and solution.optimal and _workbook(args.out):
        from .workbook import solution_sheets, write_workbook

        written = write_workbook(args.out, *solution_sheets(solution, covered=_covered(args.instance), colors=_colors(args.instance)),
                                 inputs=[args.instance])
    elif args.out and solution.optimal:
        written = write_tables(args.out, solution.tables(), inputs=[args.instance])
    if args.json:
        payload = {
            "status": solution.status, "objective_musd": solution.objective, "message": solution.message,
            "solver": solution.solver, "warnings": solution.warnings,
        }
        payload.update({name: _records(table) for name, table in solution.tables().items()})
        _emit_json(payload)
    else:
        print(solution_text(solution))
    _wrote(args, written)
    for warning in solution.warnings:
        print(f"ree-opt: warning: {warning}", file=sys.stderr)
    if not solution.optimal:
        raise CommandError(f"the solve ended {solution.status}: {solution.message}")
    return EXIT_OK


def cmd_premium(args) -> int:
    from .analysis import non_china_premium
    from .outputs import write_tables
    from .text import comparison_text

    comparison = non_china_premium(
        args.instance, scenario=args.scenario, by_product=not args.fast, time_limit=args.time_limit
    )
    if not comparison.ok:
        bad = comparison.baseline if not comparison.baseline.optimal else comparison.non_china
        raise CommandError(f"the solve ended {bad.status}: {bad.message}")
    tables = {
        "premium": comparison.summary(),
        "unmet": comparison.unmet,
        "baseline_activity": comparison.baseline.activity,
        "non_china_activity": comparison.non_china.activity,
        "non_china_binding": comparison.non_china.binding,
    }
    written = None
    if _workbook(args.out):
        from .workbook import comparison_sheets, write_workbook

        title = f"ree-opt: the non-China premium of {args.instance.name}" + (f" [{args.scenario}]" if args.scenario else "")
        solved, values, curve = _funding(args, comparison)
        written = write_workbook(args.out, *comparison_sheets(comparison, title, covered=_covered(args.instance),
                                                                   colors=_colors(args.instance), instance=solved,
                                                                   values=values, curve=curve),
                                 inputs=[args.instance])
    elif args.out:
        written = write_tables(args.out, tables, inputs=[args.instance])
    if args.json:
        _emit_json(
            {
                "summary": _records(comparison.summary()),
                "supply_premium_usd_per_kg": comparison.supply_premium_usd_per_kg,
                "first_full_period": comparison.first_full_period,
                "unmet": _records(comparison.unmet),
                "non_china_binding": _records(comparison.non_china.binding.head(10)),
            }
        )
    else:
        title = str(args.instance) + (f" [{args.scenario}]" if args.scenario else "")
        print(comparison_text(comparison, title))
    _wrote(args, written)
    for warning in dict.fromkeys(comparison.baseline.warnings + comparison.non_china.warnings):
        print(f"ree-opt: warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _funding(args, comparison, budgets=None):
    """The instance as solved, each expansion's value and the budget curve
    (at the answer's budgets unless given), for the answer workbook of an
    instance whose facilities offer expansions; (instance, None, None) otherwise."""
    from .builds import answer_budgets
    from .loading import load_instance
    from .scenarios import apply_scenario

    solved = apply_scenario(load_instance(args.instance), args.scenario)
    if not comparison.baseline.has_expansions:
        return solved, None, None
    from .funding import budget_curve, expansion_value

    budgets = answer_budgets(solved) if budgets is None else budgets
    expansions = sum(len(f.expansions or []) for f in solved.facilities)
    with Progress(2 + 2 * expansions + 2 * len(budgets), "valuing each expansion, then the budget curve",
                  getattr(args, "quiet", False) or args.json) as progress:
        values = expansion_value(args.instance, scenario=args.scenario,
                                 progress=lambda n=1: progress(n, "what each expansion is worth"))
        curve = budget_curve(args.instance, budgets, scenario=args.scenario, executor=None,
                             progress=lambda n=1: progress(2 * n, "the budget curve"))
    return solved, values, curve


def _budgets(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not v >= 0 for v in values):
        raise CommandError(f"--budgets expects USD million >= 0 separated by commas, got {text!r}", EXIT_BAD_INPUT)
    return values


def cmd_invest(args) -> int:
    from .analysis import non_china_premium
    from .funding import budget_curve, expansion_value
    from .outputs import write_tables
    from .text import invest_text

    budgets = _budgets(args.budgets)
    with Progress(3, "building both plans, valuing each expansion, the budget curve", args.quiet) as progress:
        comparison = non_china_premium(args.instance, scenario=args.scenario, time_limit=args.time_limit)
        progress(1)
        if not comparison.ok:
            bad = comparison.baseline if not comparison.baseline.optimal else comparison.non_china
            raise CommandError(f"the solve ended {bad.status}: {bad.message}")
        values = expansion_value(args.instance, scenario=args.scenario)
        progress(1)
        curve = budget_curve(args.instance, budgets, scenario=args.scenario, executor=None)
        progress(1)
    tables = {
        "baseline_investments": comparison.baseline.investments,
        "non_china_investments": comparison.non_china.investments,
        "expansion_value": values,
        "budget_curve": curve,
    }
    written = None
    if _workbook(args.out):
        from .loading import load_instance
        from .scenarios import apply_scenario
        from .workbook import investment_sheets, write_workbook

        title = f"ree-opt: what to build and fund for {args.instance.name}" + (
            f" [{args.scenario}]" if args.scenario else "")
        solved = apply_scenario(load_instance(args.instance), args.scenario)
        written = write_workbook(args.out, *investment_sheets(comparison, solved, values, curve, title),
                                 inputs=[args.instance])
    elif args.out:
        written = write_tables(args.out, tables, inputs=[args.instance])
    if args.json:
        _emit_json({name: _records(table) for name, table in tables.items()})
    else:
        title = str(args.instance) + (f" [{args.scenario}]" if args.scenario else "")
        print(invest_text(comparison, values, curve, title))
    _wrote(args, written)
    return EXIT_OK


def cmd_stochastic(args) -> int:
    from .loading import load_instance
    from .outputs import write_tables
    from .stochastic import solve_stochastic
    from .stochastic.text import stochastic_tables, stochastic_text

    sample = None
    if args.sample is not None:
        sample = {"n": args.sample, "seed": args.seed if args.seed is not None else 0}
    instance = load_instance(args.instance)
    count = instance.uncertainty.future_count(sample) if instance.uncertainty else 0
    from .stochastic.decision import ALONE_WEIGHT, BUILD_WEIGHT, SOLVE_WEIGHT_PER_FUTURE

    # weighed by cost: the extensive form's solve dwarfs the builds and the futures' own solves
    # (wait-and-see, and each with the nominal plan's first stage)
    solves = count * (SOLVE_WEIGHT_PER_FUTURE + 2 * ALONE_WEIGHT)
    with Progress(count * BUILD_WEIGHT + solves, f"building {count} futures, then solving", args.quiet) as progress:
        solution = solve_stochastic(
            instance, alpha=args.alpha, omega=args.omega, sample=sample, time_limit=args.time_limit,
            progress=lambda n=1: progress(n * BUILD_WEIGHT),
        )
        progress(solves, "solved")
    dropped = instance.uncertainty.dropped_futures(sample) if instance.uncertainty else 0
    tables = stochastic_tables(solution)
    written = None
    if args.out and solution.optimal and _workbook(args.out):
        from .workbook import write_workbook

        lines = [(name.replace("_", " "), value, "") for name, value in solution.summary().items()]
        written = write_workbook(args.out, f"Decide now, under uncertainty: {args.instance}", lines,
                                 {k: v for k, v in tables.items() if k != "summary"}, inputs=[args.instance])
    elif args.out and solution.optimal:
        written = write_tables(args.out, tables, inputs=[args.instance])
    if args.json:
        _emit_json({
            "status": solution.status,
            "message": solution.message,
            "dropped_futures": dropped,
            **{name: _records(table) for name, table in tables.items()},
        })
    else:
        print(stochastic_text(solution, str(args.instance), dropped=dropped))
    _wrote(args, written)
    if not solution.optimal:
        raise CommandError(f"the solve ended {solution.status}: {solution.message}")
    return EXIT_OK


def _seconds(text: str) -> float:
    """A time limit: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value

def _seconds_or_none(text: str) -> float | None:
    """A time limit in seconds, 0 for none."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0: no limit), got {text!r}")
    return value or None


def cmd_evaluate(args) -> int:
    from .loading import load_instance
    from .outputs import write_tables
    from .stochastic import enumerate_futures, evaluate, solve_stochastic
    from .stochastic.evaluate import fresh_sample
    from .stochastic.text import evaluation_text

    sample = {"n": args.sample, "seed": args.seed or 0} if args.sample is not None else None
    fresh = {"n": args.evaluate_sample, "seed": args.evaluate_seed or 0} if args.evaluate_sample is not None else None
    instance = load_instance(args.instance)
    if fresh is not None:
        fresh = fresh_sample(fresh)
    if args.replications < 0:
        raise CommandError(f"--replications expects an integer >= 0, got {args.replications}", EXIT_BAD_INPUT)
    with Progress(1, "choosing the plan", args.quiet) as progress:
        plan = solve_stochastic(instance, alpha=args.alpha, omega=args.omega, sample=sample,
                                value_of_information=False)
        progress(1)
    if not plan.optimal:
        raise CommandError(f"the plan's solve ended {plan.status}: {plan.message}")
    count = len(plan.futures) if fresh is None else len(enumerate_futures(instance.uncertainty, fresh))
    executor = None if args.executor == "serial" else args.executor
    with Progress(count + args.replications, "evaluating the plan", args.quiet) as progress:
        evaluation = evaluate(instance, plan, sample=fresh, executor=executor,
                              replications=args.replications, progress=progress)
    tables = {"summary": evaluation.summary(), "futures": evaluation.futures}
    written = write_tables(args.out, tables, inputs=[args.instance]) if args.out else None
    if args.json:
        _emit_json({"message": evaluation.message, **{name: _records(t) for name, t in tables.items()},
                    "replications": evaluation.gap.replications if evaluation.gap else []})
    else:
        dropped = instance.uncertainty.dropped_futures(sample) if instance.uncertainty and fresh is None else 0
        print(evaluation_text(evaluation, plan, str(args.instance), dropped=dropped))
    _wrote(args, written)
    return EXIT_OK


def _where(text: str | None) -> dict | None:
    if not text:
        return None
    where = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--where expects key=value[,key=value], got {text!r}", EXIT_BAD_INPUT)
        where[key.strip()] = value.strip()
    return where


def _values(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CommandError(f"--values expects numbers separated by commas, got {text!r}", EXIT_BAD_INPUT) from None


class Progress:
    """A progress bar on the terminal (rich); elsewhere (a file, a pipe, CI) a
    line on stderr per step that names itself; nothing with --quiet.

    Called as `progress(amount=1, label=None)`: `amount` is the step's weight
    (the report weighs its solves by their cost, so the bar moves with time)."""

    def __init__(self, total: float, label: str, quiet: bool = False):
        self.bar = None
        self.lines = False
        self.total, self.done = float(total), 0.0
        self.started = time.monotonic()
        self.last_label, self.last_line = None, self.started
        if quiet:
            return
        if not sys.stderr.isatty():
            self.lines = True
            return
        try:
            from rich.progress import Progress as RichProgress
        except ImportError:  # pragma: no cover - rich is a dependency
            return
        self.bar = RichProgress(transient=True)
        self.task = self.bar.add_task(label, total=total)

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __call__(self, done: float = 1, label: str | None = None) -> None:
        self.done += done
        if self.bar:
            self.bar.advance(self.task, done)
        elif self.lines and label:
            # a line per step; a run of steps under one label (24 futures built) is one line,
            # again every 10 s while it lasts
            now = time.monotonic()
            if label != self.last_label or now - self.last_line >= 10.0:
                share = 100.0 * min(1.0, self.done / self.total) if self.total > 0 else 100.0
                print(f"ree-opt: {share:3.0f}%  {label}  ({now - self.started:,.1f} s)", file=sys.stderr, flush=True)
                self.last_label, self.last_line = label, now

    def __exit__(self, *_):
        if self.bar:
            self.bar.stop()


def cmd_sweep(args) -> int:
    import pandas as pd

    from .analysis import sweep
    from .outputs import write_tables

    values = _values(args.values)
    executor = None if args.executor == "serial" else args.executor
    with Progress(len(values), f"sweeping {args.parameter}", args.quiet) as progress:
        table = sweep(
            args.instance, args.parameter, values, where=_where(args.where), scenario=args.scenario,
            premium=args.premium, executor=executor, progress=progress,
        )
    if args.out:
        write_tables(args.out, {"sweep": table}, inputs=[args.instance])
    if args.json:
        _emit_json({"sweep": _records(table)})
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            print(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    return EXIT_OK


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}"
        return str(value).replace("|", "\\|")

    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---:" if table[c].dtype.kind in "if" else "---" for c in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([head, rule] + body)


def cmd_compare(args) -> int:
    import pandas as pd

    from .analysis import scenario_table
    from .loading import load_instance
    from .outputs import write_tables

    instance = load_instance(args.instance)
    names = [n for n in (args.scenarios.split(",") if args.scenarios else instance.scenarios) if n.strip()]
    with Progress(len(names) + 1, "solving scenarios", args.quiet) as progress:
        table = scenario_table(instance, names, progress=progress)
    if args.out:
        write_tables(args.out, {"scenarios": table}, inputs=[args.instance])
    if args.json:
        _emit_json({"scenarios": _records(table)})
    elif args.markdown:
        print(markdown_table(table))
    else:
        with pd.option_context("display.width", 250, "display.max_columns", 50):
            print(table.drop(columns="description").to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    return EXIT_OK


def cmd_convert(args) -> int:
    from .excel import WorkbookError, convert
    from .loading import load_instance

    try:
        written = convert(load_instance(args.instance), args.instance, args.output)
    except WorkbookError as error:
        raise CommandError(str(error), EXIT_BAD_INPUT) from None
    if args.json:
        _emit_json({"written": str(written)})
    else:
        print(f"wrote {args.output} ({written.stat().st_size / 1024:,.0f} KB)")
    return EXIT_OK


def _report_format(args) -> str:
    if args.format:
        return args.format
    suffix = args.output.suffix.lower() if args.output else ""
    return "md" if suffix in (".md", ".markdown") else "html"


def cmd_report(args) -> int:
    from .report import ReportError, build_report, collect, step_count
    from .report.data import DRAW_WEIGHT

    report_format = _report_format(args)
    output = args.output
    if output is None:
        stem = args.instance.stem + "-report"
        output = Path(stem if report_format == "csv" else f"{stem}.{report_format}")
    limit = {"frontier_time_limit": args.frontier_time_limit} if hasattr(args, "frontier_time_limit") else {}
    with Progress(step_count(args.instance, scenario=args.scenario, **limit) + DRAW_WEIGHT,
                  "solving and drawing the report", args.quiet) as progress:
        try:
            data = collect(args.instance, scenario=args.scenario, progress=progress, mip_gap=args.mip_gap, **limit)
        except ReportError as error:
            raise CommandError(str(error)) from None
        written = build_report(args.instance, output, format=report_format, data=data)
        progress(DRAW_WEIGHT, "the report drawn and written")
    summary = data.summary
    if args.json:
        _emit_json({"report": str(written), "format": report_format, "summary": _records(summary)})
    else:
        size = sum(p.stat().st_size for p in written.iterdir()) if written.is_dir() else written.stat().st_size
        print(
            f"wrote {written} ({size / 1024:,.0f} KB): non-China premium USD {summary['premium_musd']:,.1f} million "
            f"(+{summary['premium_pct']:,.1f}%) over {data.horizon}"
        )
    return EXIT_OK


def cmd_schema(args) -> int:
    from .outputs import write_text
    from .schema import schema_text

    if args.out:
        write_text(args.out, schema_text())
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(schema_text())
    return EXIT_OK


def _number_in(low: float, high: float, closed: bool):
    """An argparse type: a number in [low, high] (or [low, high))."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (low <= value <= high if closed else low <= value < high):
            raise argparse.ArgumentTypeError(
                f"expected a number in [{low:g}, {high:g}{']' if closed else ')'}, got {text!r}")
        return value
    return parse


def plan_options(sub) -> None:
    """How the stochastic plan is chosen: the CVaR weight and level, the futures drawn."""
    sub.add_argument("--omega", type=_number_in(0.0, 1.0, True), metavar="W",
                     help="weight of CVaR in the plan's objective, in [0, 1]")
    sub.add_argument("--alpha", type=_number_in(0.0, 1.0, False), metavar="A",
                     help="CVaR level in [0, 1): the mean of the worst (1 - alpha)")
    sub.add_argument("--sample", type=int, metavar="N", help="choose the plan on N drawn futures instead of every combination")
    sub.add_argument("--seed", type=int, help="seed of the plan's draws (with --sample; default 0)")


class _NotAsked:
    """A command not asked for: neither its parser nor its options are built
    (argparse takes about half a millisecond per parser)."""

    def add_argument(self, *args, **kwargs) -> None:
        pass


def parser(asked: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `asked`, only that command's options are built
    (every command is still listed, with its help, by `ree-opt --help`)."""
    main = argparse.ArgumentParser(
        prog="ree-opt",
        description="Plan rare-earth procurement with linear programming: least-cost sourcing, "
        "and what a supply chain that never touches China costs.",
    )
    main.add_argument("--version", action="version", version=f"ree-opt {__version__}")
    main.add_argument("--debug", action="store_true", help="show a traceback on unexpected errors")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    only = asked
    named: list[str] = []

    def command(name, function, help_text):
        named.append(name)
        if only is not None and name != only:
            return _NotAsked()
        # `help` is %-formatted by argparse (95%% shows as 95%); `description` is printed as it is
        sub = commands.add_parser(name, help=help_text, description=help_text.replace("%%", "%"))
        sub.set_defaults(function=function)
        sub.add_argument("instance", type=Path, help="instance file (YAML, JSON or an .xlsx workbook)")
        sub.add_argument("--json", action="store_true", help="print JSON for machines")
        return sub

    command("validate", cmd_validate, "check an instance and list every problem")
    solve = command("solve", cmd_solve, "least-cost sourcing plan")
    premium = command("premium", cmd_premium, "the non-China premium: baseline beside the whole-chain clean plan")
    for sub in (solve, premium):
        sub.add_argument("--scenario", "-s", help="scenario name(s), comma separated, applied in order")
        sub.add_argument("--out", type=Path, help="directory to write the tables to, as CSV; or one Excel workbook (.xlsx)")
    solve.add_argument("--no-tie-break", action="store_true", help="skip the least-covered tie-break solve")
    for sub in (solve, premium):
        sub.add_argument("--time-limit", type=_seconds, metavar="SECONDS",
                         help="seconds each solve may take (status time_limit and exit code 1 when reached)")
    solve.add_argument("--solver", choices=("highs", "cbc"), default="highs",
                       help="highs (default) or cbc, for a second opinion (pip install 'ree-opt[cbc]')")
    premium.add_argument("--fast", action="store_true", help="skip the per-product supply premium solves")
    premium.add_argument("--quiet", "-q", action="store_true",
                         help="no progress bar (a workbook of an instance with expansions values each expansion and "
                         "solves the budget curve)")

    sweep = command("sweep", cmd_sweep, "re-solve over values of one parameter (the model is built once)")
    sweep.add_argument("--parameter", "-p", required=True,
                       help="max_covered_share | max_country_share | max_average_risk | policies[i] | "
                       "cost | capacity | availability | demand")
    sweep.add_argument("--values", "-v", required=True, help="comma-separated values, e.g. 1,0.75,0.5")
    sweep.add_argument("--where", help="which facilities or demand entries a multiplier applies to: key=value,...")
    sweep.add_argument("--scenario", "-s", help="scenario name(s), comma separated")
    sweep.add_argument("--premium", action="store_true", help="also solve the non-China plan at each value")
    sweep.add_argument("--executor", default="auto",
                       help="auto (processes for 32 values or more) | serial | processes | a Dask scheduler address")
    sweep.add_argument("--out", type=Path, help="directory to write sweep.csv to")
    sweep.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    compare = command("compare", cmd_compare, "the scenario table: cost, premium, unmet tonnes, first full-coverage year")
    compare.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    compare.add_argument("--markdown", action="store_true", help="print a Markdown table")
    compare.add_argument("--out", type=Path, help="directory to write scenarios.csv to")
    compare.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    invest = command("invest", cmd_invest, "what to build and fund: the builds of the plan and the non-China plan, "
                     "each expansion's value and the budget curve (SPEC section 7)")
    invest.add_argument("--budgets", default="0,250,500,1000",
                        help="public capex budgets, USD million, comma separated (default 0,250,500,1000)")
    invest.add_argument("--scenario", "-s", help="scenario name(s), comma separated, applied in order")
    invest.add_argument("--time-limit", type=_seconds, metavar="SECONDS", help="seconds each solve may take")
    invest.add_argument("--out", type=Path, help="directory to write the tables to, as CSV; or one Excel workbook (.xlsx)")
    invest.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    stochastic = command("stochastic", cmd_stochastic, "decide now under uncertainty: the offtakes to sign and "
                         "the stock to build before the future is known (SPEC section 6)")
    plan_options(stochastic)
    stochastic.add_argument("--time-limit", type=_seconds, metavar="SECONDS",
                            help="seconds each solve may take (status time_limit and exit code 1 when reached)")
    stochastic.add_argument("--out", type=Path, help="directory to write the tables to, as CSV; or one Excel workbook (.xlsx)")
    stochastic.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    convert = command("convert", cmd_convert, "turn an instance into an Excel workbook (.xlsx) or back into YAML, "
                      "by the output's suffix; the instance is validated on the way")
    convert.add_argument("output", type=Path, help="file to write: .xlsx or .yaml/.yml (never the input)")

    evaluate = command("evaluate", cmd_evaluate, "choose the stochastic plan, then cost it on futures: its own or "
                       "freshly drawn ones, with a 95%% interval, CVaR and the optimality gap")
    plan_options(evaluate)
    evaluate.add_argument("--evaluate-sample", type=int, metavar="N",
                          help="evaluate on N fresh draws (default: the plan's own futures)")
    evaluate.add_argument("--evaluate-seed", type=int, help="seed of the fresh draws (default 0)")
    evaluate.add_argument("--replications", type=int, default=5,
                          help="in-sample solves of other samples for the gap's lower bound (0: no gap; default 5)")
    evaluate.add_argument("--executor", default="serial",
                          help="serial | processes | a Dask scheduler address")
    evaluate.add_argument("--out", type=Path, help="directory to write summary.csv and futures.csv to")
    evaluate.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    report = command("report", cmd_report, "the sensitivity report: one self-contained HTML file with charts "
                     "(or Markdown with PNG charts, or CSV tables)")
    report.add_argument("--output", "-o", "--out", type=Path,
                        help="file to write (html, md) or directory (csv); default INSTANCE-report.html")
    report.add_argument("--format", "-f", choices=("html", "md", "csv"),
                        help="html (default; md when --output ends in .md), md, or csv")
    report.add_argument("--scenario", "-s", help="scenario name(s), comma separated, for sections 1-6")
    report.add_argument("--mip-gap", type=_number_in(0.0, 1.0, False), metavar="G",
                        help="relative gap the decisions under uncertainty are proven to, where builds are whole "
                             "modules (default 1e-6; 0.005 gives a draft in minutes, and the report says so)")
    report.add_argument("--frontier-time-limit", type=_seconds_or_none, metavar="S", default=argparse.SUPPRESS,
                        help="seconds each point of the risk frontier besides the two plans may take (default 120; "
                             "0: no limit, every point proven to the gap, which "
                             "can take hours on the baseline); a point stopped there keeps the best plan found, and "
                             "the report says how close to optimal it is proven")
    report.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    named.append("schema")
    if only is not None and only not in named:  # a misspelt command: the list of them all
        return parser()
    if only in (None, "schema"):
        schema_help = "print the JSON Schema of the instance format (for editors and validators)"
        schema = commands.add_parser("schema", help=schema_help, description=schema_help)
        schema.add_argument("--out", "-o", type=Path, help="write it to this file instead (e.g. docs/instance.schema.json)")
        schema.set_defaults(function=cmd_schema)
    return main


#: The library's bad-input errors: (module, class).
BAD_INPUT_ERRORS = (("instance", "InstanceError"), ("outputs", "OutputError"))


def bad_input(error: Exception) -> bool:
    """Whether `error` is one of the library's bad-input errors. Their modules
    are looked up, not imported: a class never loaded was never raised, and
    `--help` need not load pydantic or pandas."""
    for module, name in BAD_INPUT_ERRORS:
        loaded = sys.modules.get(f"{__package__}.{module}")
        if loaded is not None and isinstance(error, getattr(loaded, name)):
            return True
    return False


#: Commands that read an instance's `uncertainty`: they show the warnings
#: about it (SPEC section 6's splice); the others solve the instance as it is.
UNCERTAINTY_COMMANDS = ("validate", "stochastic", "evaluate", "report")


def _warning_printer(command: str | None):
    """Show the library's own warnings as one line, `ree-opt: warning: ...`
    (Python's default shows a file and a source line); a warning about
    `uncertainty` only where the command reads it."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not category.__module__.startswith(f"{__package__}."):
            return default(message, category, filename, lineno, file, line)
        if category.__name__ == "SpliceWarning" and command not in UNCERTAINTY_COMMANDS:
            return None
        print(f"ree-opt: warning: {message}", file=sys.stderr)
        return None

    return show


def _asked(argv: list[str]) -> str | None:
    """The command named on the line (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None, on_command=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    arguments = parser(_asked(argv)).parse_args(argv)
    if on_command is not None:
        on_command(arguments.command)
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer(arguments.command)
        return _run(arguments)


def _run(arguments) -> int:
    TERMINATION["asked"] = False  # each command run in this process starts afresh
    try:
        return arguments.function(arguments)
    except CommandError as error:
        if TERMINATION["asked"]:  # a solve stopped by SIGTERM inside HiGHS: say what happened
            print("ree-opt: terminated", file=sys.stderr)
            return EXIT_FAILED
        print(f"ree-opt: {error}", file=sys.stderr)
        return error.code
    except BrokenPipeError:  # `ree-opt ... | head`: the reader has gone
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM (Terminated)
        print(f"ree-opt: {'terminated' if isinstance(error, Terminated) else 'interrupted'}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # the analyst gets a message, not a traceback
        if TERMINATION["asked"]:
            print("ree-opt: terminated", file=sys.stderr)
            return EXIT_FAILED
        outputs = sys.modules.get(f"{__package__}.outputs")
        if outputs is not None and isinstance(error, outputs.OutputWriteError):  # a folder that cannot be written
            print(f"ree-opt: {error.strerror}", file=sys.stderr)
            return EXIT_FAILED
        if bad_input(error):
            print(f"ree-opt: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if arguments.debug:
            raise
        print(f"ree-opt: unexpected error: {type(error).__name__}: {error} (rerun with --debug for details)", file=sys.stderr)
        return EXIT_FAILED


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, as Ctrl-C is: outputs being
    written are cleaned up on the way out (no temporary or partial file)."""


#: Set when SIGTERM has asked the program to end.
TERMINATION = {"asked": False}


def _terminate(signum, frame):
    """Raise Terminated where the program is, unless it is importing or
    HiGHS is running: an exception inside a module's initialisation (numpy's
    compiled ones) was swallowed, the run going on to exit 0, or crashed the
    interpreter, and one raised while HiGHS ran crashed it too. Then the
    running HiGHS is cancelled and the signal asked again (SIGALRM) every
    50 ms until the program is back in its own code."""
    TERMINATION["asked"] = True
    solver = sys.modules.get(f"{__package__}.solver")
    running = list(solver.RUNNING) if solver is not None else []
    if running or _importing(frame):
        for highs in running:
            highs.cancelSolve()
        signal.signal(signal.SIGALRM, _terminate)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        return
    raise Terminated()


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


#: Commands that run briefly: the cyclic garbage collector stays off for them.
BRIEF_COMMANDS = ("validate", "schema")


def run() -> None:
    """The console script. The garbage collector is off while the command
    line starts (imports and validation allocate much and free almost
    nothing: collections were a tenth of `validate`), back on before a
    command that solves; at exit what is left is frozen, so the interpreter's
    last full collection has nothing to walk (a fifth of `validate`)."""
    signal.signal(signal.SIGTERM, _terminate)
    gc.disable()
    try:
        code = main(on_command=_collect_unless_brief)
    except Terminated:  # after the command returned, before the program ends
        print("ree-opt: terminated", file=sys.stderr)
        code = EXIT_FAILED
    finally:
        # the work is done and written: a SIGTERM now is not raised into the
        # interpreter's own shutdown (which it crashed)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        gc.freeze()
    sys.exit(code)


def _collect_unless_brief(command: str) -> None:
    if command not in BRIEF_COMMANDS:
        gc.enable()
