"""Progressive hedging as mpi-sppy's hub and spokes, over kept HiGHS models (issue 17).

    mpiexec -n 3 python -m ree_opt.ph INSTANCE [--omega W] [--sample N --seed S] [--gap G] [--relax] [--out DIR]

Three cylinders share the ranks (mpi-sppy's `WheelSpinner`): the PH hub; a
Lagrangian spoke, which solves every future with the hub's weights W and no
proximal term, sum_s pi_s min (f_s + W_s x) <= the optimum (a valid lower
bound, `bound`); and an xhat spoke (xhatshuffle), which fixes the first stage
to one future's PH solution after another and solves every future: a plan,
whose cost is an upper bound. The run stops at `--gap` (relative, between
the best of each), at the iteration limit, after `--stalled` iterations
without progress, or at `--time-limit`. The best plan is then evaluated
once more on every future (on the hub's ranks) with the risk measure's own
eta (the minimising eta is VaR): `objective`, its risk-adjusted cost, is
what the plan costs, at most the xhat spoke's figure.

`--spokes lagrangian,lshaped,xhatshuffle` adds a fourth cylinder that runs
the multi-cut L-shaped method of ree_opt.stochastic.decomposition: it sends
its master's optimum as an outer bound and its best plan's cost as an inner
bound, and its plan is a candidate for the report beside the xhat spoke's.
`subgradient` and `xhatxbar` are mpi-sppy's other spokes of those kinds.

The futures are mpi-sppy "agnostic" guests (mpisppy.agnostic): mpi-sppy's
Pyomo models hold only the first-stage variables (the host side), and each
future's LP lives in a HiGHS model kept for the whole run (`GuestFuture`),
built from the future's matrix with no Pyomo model of it. Each PH iteration
changes costs, bounds and right-hand sides in place and HiGHS starts from
the last basis (about 90 simplex iterations against 900 for a cold solve on
the baseline). HiGHS's QP solver (for an exact quadratic proximal term) was
200 times slower on a future than its warm-started simplex, and tangent cuts
on x^2 (mpi-sppy's `linearize_proximal_terms`) piled up rows that cost the
warm start (1,800 simplex iterations a solve). So the proximal term is
written around its centre: f + W x + rho/2 (x - xbar)^2 = f + rho/2 (x -
t)^2 + constant with t = xbar - W / rho, and rho/2 (x - t)^2 is a convex
piecewise-linear function of x - t with breakpoints scaled to the step PH is
about to take (GuestFuture): the same rows and columns every iteration,
only t, the segments' widths and their slopes change.

Risk aversion (omega > 0): eta is one more first-stage variable, and each
future adds u_s >= C_s - eta, u_s >= 0 and weighs (1 - omega) C_s + omega
(eta + u_s / (1 - alpha)), the Rockafellar-Uryasev form that the extensive
form solves (mpisppy.utils.cvar does the same transform). Its expectation is
the objective of section 6, so PH, the Lagrangian bound and the xhat
evaluations all see the risk-averse problem. eta is bounded by
[min_s W_s, (cost of a plan - (1 - omega) sum_s pi_s W_s) / omega], which
holds VaR at an optimal plan (W_s the future alone, the plan the average of
their first stages): a free eta with the Lagrangian's weights on it makes
subproblems unbounded.

rho: `--rho` (default 0.1) times each first-stage variable's cost per unit
in the future's objective (the median cost where it has none). With 1.0 the
licence gamble of the tests settles at once on a consensus (x_s = xbar, so W
stops moving) whose weights bound nothing; 0.1 reaches the optimum and its
Lagrangian bound in a few iterations.

Lumpy expansions (SPEC section 7): PH averages first stages, so it needs a
continuous one. An instance with lumpy expansions is refused unless
`--relax` treats them as `lumpy: false` (their LP relaxation): the plan's
builds may then be fractions of a module and the bound is the relaxation's
(a lower bound on the lumpy optimum too). For whole modules with a certified
gap, python -m ree_opt.stochastic.decomposition (a MIP master).

Needs the `[mpi]` extra: `pip install -e ".[mpi]"` (mpi-sppy, mpi4py and the
`mpich` wheel, which carries `mpiexec`). Ranks: a multiple of the number of
cylinders (1 + spokes), or any number >= that with `--ratios`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import highspy
import numpy as np

from .instance import InstanceError
from .loading import load_instance
from .solver import solve_highs
from .stochastic.twostage import (
    FutureLP,
    KeptFuture,
    Ranks,
    TwoStage,
    continuous_builds,
    kept_highs,
    peak_memory_mb,
    relative_gap,
    two_stage,
)

#: Breakpoints of the piecewise-linear proximal term, in units of sigma_j:
#: the distance from the target of the variable's last value (at least
#: PROX_FLOOR x |xbar_j|, and 0.1 t), so the segments bracket the step PH is
#: about to take; beyond the last one the term grows linearly. The first
#: segment is short: the approximation's kink at the target is rho/2 sigma
#: BETA_1 wide, and a kink as wide as a future's cost slope holds PH at a
#: consensus whose weights bound nothing.
PROX_BETA = (0.0, 0.05, 0.25, 1.0, 3.0)
PROX_FLOOR = 0.001
SPOKES = {
    "lagrangian": "Lagrangian bound (PH's weights, no proximal term)",
    "subgradient": "subgradient bound (its own weights)",
    "lshaped": "L-shaped bound (ree_opt.stochastic.decomposition's master, as a spoke)",
    "xhatshuffle": "plans: one future's first stage after another",
    "xhatxbar": "plans: the average first stage",
}


def future_name(position: int) -> str:
    return f"future{position}"


class GuestFuture:
    """One future as the PH, Lagrangian and xhat cylinders see it.

    Columns: the future's own (z), then with CVaR eta and u, then 2K per
    nonant: the segments of its proximal term. Rows: the future's, then with
    CVaR u + eta - C_s(z) >= 0, then one per nonant,
        x_j - sum_k p_jk + sum_k m_jk = t_j,
    whose segments p_jk, m_jk >= 0 (widths sigma_j (BETA_k - BETA_k-1), the
    last one open) carry the secant slopes rho_j / 2 sigma_j (BETA_k +
    BETA_k-1) of the parabola rho_j / 2 d^2: a convex piecewise-linear
    proximal term exact at the breakpoints (see PROX_BETA). Nonants: the
    first-stage columns, then eta."""

    def __init__(self, lp: FutureLP, first_upper: np.ndarray, alpha: float, omega: float, eta_bounds=None):
        from scipy import sparse

        if lp.integer.any():
            raise RuntimeError("PH's futures must be LPs: lumpy builds go through continuous_builds (a bug in ree_opt.ph)")
        self.lp = lp
        self.alpha, self.omega = alpha, omega
        n = lp.matrix.shape[1]
        cvar = omega > 0
        self.nonants = np.array(list(lp.first) + ([n] if cvar else []), dtype=np.int32)
        count = len(self.nonants)
        self.eta = n if cvar else None
        own = n + (2 if cvar else 0)
        K = len(PROX_BETA)
        self.segments = (own + np.arange(2 * K * count)).astype(np.int32)
        ncol = own + 2 * K * count
        cost = np.zeros(ncol)
        cost[:n] = (1.0 - omega) * lp.cost if cvar else lp.cost
        lower = np.zeros(ncol)
        lower[:n] = lp.col_lower
        upper = np.full(ncol, np.inf)
        upper[:n] = lp.col_upper
        upper[lp.first] = np.minimum(lp.col_upper[lp.first], first_upper)
        blocks = [sparse.hstack([lp.matrix, sparse.csc_matrix((lp.matrix.shape[0], ncol - n))])]
        row_lower, row_upper = [lp.row_lower], [lp.row_upper]
        if cvar:
            cost[self.eta] = omega
            cost[n + 1] = omega / (1.0 - alpha)
            lower[self.eta], upper[self.eta] = eta_bounds
            nonzero = np.flatnonzero(lp.cost)
            blocks.append(sparse.csr_matrix(
                (np.concatenate([-lp.cost[nonzero], [1.0, 1.0]]),
                 (np.zeros(len(nonzero) + 2, dtype=np.int64), np.concatenate([nonzero, [n, n + 1]]))),
                shape=(1, ncol)))
            row_lower.append([0.0])
            row_upper.append([np.inf])
        # x_j - sum p + sum m = t_j
        rows = np.repeat(np.arange(count), 1 + 2 * K)
        columns = np.column_stack([self.nonants, self.segments.reshape(count, 2 * K)]).ravel()
        values = np.tile(np.concatenate([[1.0], -np.ones(K), np.ones(K)]), count)
        blocks.append(sparse.csr_matrix((values, (rows, columns)), shape=(count, ncol)))
        row_lower.append(np.zeros(count))
        row_upper.append(np.zeros(count))
        self.prox_rows = (sum(len(r) for r in row_lower[:-1]) + np.arange(count)).astype(np.int32)
        matrix = sparse.vstack(blocks).tocsc()
        self.base_cost = cost
        self.lower, self.upper = lower, upper
        self.highs = kept_highs(matrix, cost, lower, upper, np.concatenate(row_lower), np.concatenate(row_upper))
        self.first_rows = np.flatnonzero(lp.first_rows).astype(np.int32)
        self.first_row_bounds = (lp.row_lower[self.first_rows], lp.row_upper[self.first_rows])
        beta = np.asarray(PROX_BETA, dtype=float)
        self.widths = np.diff(beta)
        self.slopes = beta + np.concatenate([beta[1:], [2 * beta[-1]]])  # B_k + B_k+1 per segment, the open one extrapolated
        self.cost = cost.copy()
        self.segment_upper = np.full(len(self.segments), np.inf)
        self.fixed = False
        self.prox_on = False
        self.attached = (False, False)  # (W, prox) as mpi-sppy attached them to this cylinder's objective
        self.W = np.zeros(count)
        self.rho = self.xbar = None
        self.values = self.last = None
        self.floor = None

    # -- the objective as mpi-sppy has set it on the host --------------------------------
    def objective_from(self, host) -> None:
        """Costs and the proximal term from the host's W, rho, xbar and switches (an xhatter has none)."""
        cost = self.base_cost.copy()
        segment_upper = np.full(len(self.segments), np.inf)
        data = getattr(host, "_mpisppy_model", None)
        self.prox_on = False
        if data is not None and hasattr(data, "W"):
            # by key: a mutable Param's values() runs in the order values were first set, not index order
            keys = list(host._mpisppy_data.nonant_indices)

            def read(param) -> np.ndarray:
                return np.fromiter((param[k].value for k in keys), dtype=float, count=len(keys))

            with_w, with_prox = self.attached
            w_on, prox_on = with_w and bool(data.W_on.value), with_prox and bool(data.prox_on.value)
            self.W = read(data.W) if w_on else np.zeros(len(self.nonants))
            if prox_on and not self.fixed:
                # f + W x + rho/2 (x - xbar)^2 = f + rho/2 (x - t)^2 + constant, t = xbar - W / rho
                self.rho, self.xbar = read(data.rho), read(data.xbars)
                target = self.xbar - self.W / self.rho
                if self.floor is None:
                    self.floor = np.maximum(0.1, PROX_FLOOR * np.abs(self.xbar))
                last = self.last if self.last is not None else self.xbar
                sigma = np.maximum(self.floor, np.abs(last - target))
                K = len(PROX_BETA)
                slopes = self.rho[:, None] * sigma[:, None] / 2.0 * self.slopes[None, :]
                cost[self.segments] = np.concatenate([slopes, slopes], axis=1).ravel()
                widths = np.full((len(self.nonants), 2 * K), np.inf)
                widths[:, : K - 1] = sigma[:, None] * self.widths
                widths[:, K : 2 * K - 1] = sigma[:, None] * self.widths
                segment_upper = widths.ravel()
                self.highs.changeRowsBounds(len(self.prox_rows), self.prox_rows, target, target)
                self.prox_on = True
                self.constant = float(np.sum(self.W * self.xbar - self.W**2 / (2.0 * self.rho)))
            else:
                cost[self.nonants] += self.W
        changed = np.flatnonzero(cost != self.cost).astype(np.int32)
        if len(changed):
            self.highs.changeColsCost(len(changed), changed, cost[changed])
            self.cost = cost
        changed = np.flatnonzero(segment_upper != self.segment_upper)
        if len(changed):
            columns = self.segments[changed]
            self.highs.changeColsBounds(len(columns), columns, np.zeros(len(columns)), segment_upper[changed])
            self.segment_upper = segment_upper

    def prox_constant(self) -> float:
        return self.constant if self.prox_on else 0.0

    # -- fixing the first stage ----------------------------------------------------------
    def fix(self, values: np.ndarray | None) -> None:
        """Fix the nonants to `values` (None: free them)."""
        if values is None:
            if not self.fixed:
                return
            lower, upper = self.lower[self.nonants], self.upper[self.nonants]
            self.highs.changeRowsBounds(len(self.first_rows), self.first_rows, *self.first_row_bounds)
            self.fixed = False
        else:
            lower = upper = np.clip(values, self.lower[self.nonants], self.upper[self.nonants])
            if not self.fixed and len(self.first_rows):
                infinite = np.full(len(self.first_rows), np.inf)
                self.highs.changeRowsBounds(len(self.first_rows), self.first_rows, -infinite, infinite)
            self.fixed = True
        self.highs.changeColsBounds(len(self.nonants), self.nonants, lower, upper)

    # -- solving -------------------------------------------------------------------------
    def solve(self) -> tuple[str, float]:
        outcome = solve_highs(self.highs, duals=False)
        if outcome.status != "optimal":
            self.values = None
            return outcome.status, float("nan")
        self.values = outcome.values
        self.last = self.values[self.nonants]
        return outcome.status, outcome.objective

    def risk_cost(self) -> float:
        """The future's risk-weighted cost (1 - omega) C_s + omega (eta + u/(1 - alpha)), no W, no prox."""
        return float(self.base_cost @ self.values)

    def first_values(self) -> np.ndarray:
        return self.values[self.nonants]

    def evaluate(self, first: np.ndarray) -> tuple[str, float, np.ndarray | None]:
        """C_s with the first stage fixed to `first` (eta, when there is one, left free): status, cost, values."""
        n = self.lp.matrix.shape[1]
        cost = np.zeros(len(self.cost))
        cost[:n] = self.lp.cost
        everything = np.arange(len(cost), dtype=np.int32)
        self.highs.changeColsCost(len(cost), everything, cost)
        self.cost = cost
        free = np.full(len(self.segments), np.inf)
        self.highs.changeColsBounds(len(self.segments), self.segments, np.zeros(len(self.segments)), free)
        self.segment_upper = free
        values = np.zeros(len(self.nonants))
        values[: len(self.lp.first)] = first
        self.fix(values)
        if self.eta is not None:
            self.highs.changeColBounds(self.eta, -highspy.kHighsInf, highspy.kHighsInf)
        outcome = solve_highs(self.highs, duals=False)
        if outcome.status != "optimal":
            return outcome.status, float("nan"), None
        values = outcome.values[:n]
        return outcome.status, float(self.lp.cost @ values), values


class Guests:
    """mpi-sppy's agnostic callouts (mpisppy.agnostic.Agnostic calls them by
    the name of the mpi-sppy method that calls out) over GuestFutures, and
    the scenario creator of the host models."""

    def __init__(self, two: TwoStage, first_upper: np.ndarray, eta_bounds, rho_scale: float):
        self.two = two
        self.first_upper = first_upper
        self.eta_bounds = eta_bounds
        self.rho_scale = rho_scale
        self.cfg = None

    # -- the host model (mpi-sppy's scenario_creator) --------------------------------------
    def scenario_creator(self, name: str):
        import pyomo.environ as pyo
        from mpisppy.utils import sputils

        position = int(name.removeprefix("future"))
        lp = self.two.build(position)
        guest = GuestFuture(lp, self.first_upper, self.two.alpha, self.two.omega, self.eta_bounds)
        host = pyo.ConcreteModel(name)
        host.x = pyo.Var(range(len(guest.nonants)), dense=True)
        host.Obj = pyo.Objective(expr=0.0, sense=pyo.minimize)
        sputils.attach_root_node(host, host.Obj, [host.x])
        host._mpisppy_probability = lp.probability
        host._agnostic_dict = {"guest": guest, "sense": pyo.minimize, "BFs": None}
        host._ree_guest = guest
        return host

    def host_creator(self, name: str):
        """A host model alone, no guest: for a spoke that brings its own models."""
        import pyomo.environ as pyo
        from mpisppy.utils import sputils

        position = int(name.removeprefix("future"))
        host = pyo.ConcreteModel(name)
        host.x = pyo.Var(range(self.two.first_count + (1 if self.two.omega > 0 else 0)), dense=True)
        host.Obj = pyo.Objective(expr=0.0, sense=pyo.minimize)
        sputils.attach_root_node(host, host.Obj, [host.x])
        host._mpisppy_probability = self.two.futures[position].probability
        return host

    def rho_setter(self, host, scale: float | None = None):
        """rho_j = scale x the future's cost of nonant j (the median nonzero cost where it has none)."""
        guest: GuestFuture = host._ree_guest
        costs = np.abs(guest.base_cost[guest.nonants])
        known = costs[costs > 0]
        fallback = float(np.median(known)) if len(known) else 1.0
        rho = (scale or self.rho_scale) * np.where(costs > 0, costs, fallback)
        return [(id(var), float(r)) for var, r in zip(host._mpisppy_node_list[0].nonant_vardata_list, rho)]

    # -- callouts ------------------------------------------------------------------------------
    def attach_Ws_and_prox(self, Ag, sname, scenario):
        pass  # the guest reads W, rho and xbar off the host's parameters at each solve

    def attach_PH_to_objective(self, Ag, sname, scenario, add_duals, add_prox):
        """What the cylinder attaches is what the guest may switch on: the
        subgradient spoke attaches W alone yet turns prox_on to 1."""
        scenario._ree_guest.attached = (bool(add_duals), bool(add_duals and add_prox))

    def _disable_prox(self, Ag, scenario):
        pass

    def _disable_W(self, Ag, scenario):
        pass

    def _reenable_prox(self, Ag, scenario):
        pass

    def _reenable_W(self, Ag, scenario):
        pass

    def _sync_fixed(self, s):
        guest: GuestFuture = s._ree_guest
        variables = s._mpisppy_node_list[0].nonant_vardata_list
        fixed = [v.fixed for v in variables]
        if all(fixed):
            guest.fix(np.array([v._value for v in variables], dtype=float))
        elif not any(fixed):
            guest.fix(None)
        else:
            raise RuntimeError("some first-stage variables fixed and others not (not expected by ree_opt.ph)")

    def _restore_nonants(self, Ag, s):
        self._sync_fixed(s)

    def _restore_original_fixedness(self, Ag, s):
        self._sync_fixed(s)

    def _fix_nonants(self, Ag, s):
        self._sync_fixed(s)

    def _fix_root_nonants(self, Ag, s):
        self._sync_fixed(s)

    def solve_one(self, Ag, s, solve_keyword_args, gripe, tee=False, need_solution=True):
        guest: GuestFuture = s._ree_guest
        guest.objective_from(s)
        status, objective = guest.solve()
        if status != "optimal":
            s._mpisppy_data.solution_available = False
            s._mpisppy_data.outer_bound = -float("inf")
            s._mpisppy_data.inner_bound = float("inf")
            if gripe:
                print(f"ree_opt.ph: {s.name} ended {status}", file=sys.stderr)
            return
        s._mpisppy_data.solution_available = True
        for var, value in zip(s._mpisppy_node_list[0].nonant_vardata_list, guest.first_values()):
            var._value = float(value)
        s._mpisppy_data.outer_bound = objective + guest.prox_constant()
        s._mpisppy_data.inner_bound = guest.risk_cost()


# -- before the wheel: bounds every rank agrees on ---------------------------------------------


def eta_bounds(two: TwoStage, ranks: Ranks, first_upper: np.ndarray) -> tuple[float, float]:
    """[lo, hi] holding VaR_alpha(C(x*)) for an optimal plan x*: C_s(x*) >= W_s
    (the future alone), so VaR >= min_s W_s; and VaR <= CVaR(x*) <= (F(xbar) -
    (1 - omega) E[C(x*)]) / omega <= (F(xbar) - (1 - omega) sum_s pi_s W_s) / omega,
    F(xbar) the objective of a plan (xbar: the average of the futures' own first stages)."""
    mine = ranks.mine(len(two.futures))
    kept = {p: KeptFuture(two.build(p), first_upper) for p in mine}
    alone = {p: kept[p].alone() for p in mine}
    if any(status != "optimal" for status, *_ in alone.values()):
        raise RuntimeError("a future could not be solved alone")
    probabilities = two.probabilities
    local = sum(probabilities[p] * x for p, (_, _, x) in alone.items()) if alone else np.zeros(two.first_count)
    xbar = np.sum(ranks.allgather(local), axis=0)
    costs = {}
    for p in mine:
        status, cost, _, _ = kept[p].at(xbar)
        if status != "optimal":
            raise RuntimeError(f"future {two.futures[p].index} has no second stage for the average plan")
        costs[p] = cost
    waits = {p: w for p, (_, w, _) in alone.items()}
    every_wait, every_cost = {}, {}
    for part in ranks.allgather(waits):
        every_wait.update(part)
    for part in ranks.allgather(costs):
        every_cost.update(part)
    count = len(two.futures)
    W = np.array([every_wait[p] for p in range(count)])
    C = np.array([every_cost[p] for p in range(count)])
    from .stochastic.results import risk_measure

    plan = risk_measure(C, probabilities, two.alpha, two.omega)
    low = float(W.min())
    high = float((plan - (1.0 - two.omega) * probabilities @ W) / two.omega)
    slack = 1e-6 * max(1.0, abs(low), abs(high))
    return low - slack, max(high, float(C.max())) + slack


# -- the wheel -------------------------------------------------------------------------------------


def configuration(args, names_count: int):
    from mpisppy.utils import config

    cfg = config.Config()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.xhatxbar_args()
    cfg.subgradient_args()
    cfg.subgradient_bounder_args()
    cfg.solver_name = "appsi_highs"  # the host's (never used: the guests solve)
    cfg.default_rho = 1.0
    cfg.max_iterations = args.iterations
    cfg.rel_gap = args.gap
    cfg.abs_gap = 0.0
    cfg.max_stalled_iters = args.stalled
    cfg.time_limit = args.time_limit
    cfg.intra_hub_conv_thresh = args.convergence
    cfg.linearize_proximal_terms = False  # the guests linearise their own
    cfg.verbose = False
    cfg.display_progress = False
    cfg.display_timing = False
    cfg.display_convergence_detail = False
    return cfg


def fast_agnostic(guests, cfg):
    """mpi-sppy's Agnostic object, but finding the callout's name from the
    caller's frame: Agnostic asks inspect.stack(), which reads the source of
    every frame (4.5 ms a callout, a fifth of the xhat spoke's time)."""
    from mpisppy.agnostic.agnostic import Agnostic

    class FastAgnostic(Agnostic):
        def callout_agnostic(self, kwargs):
            getattr(self.module, sys._getframe(1).f_code.co_name)(Ag=self, **kwargs)
            return True

    return FastAgnostic(guests, cfg)


def spin(two: TwoStage, args, ranks: Ranks, guests: Guests):
    import mpisppy.utils.cfg_vanilla as vanilla
    from mpisppy.spin_the_wheel import WheelSpinner

    names = [future_name(p) for p in range(len(two.futures))]
    cfg = configuration(args, len(names))
    agnostic = fast_agnostic(guests, cfg)
    beans = (cfg, guests.scenario_creator, None, names)
    hub = vanilla.ph_hub(*beans, rho_setter=guests.rho_setter)
    hub["opt_kwargs"]["options"]["Ag"] = agnostic
    hub["opt_kwargs"]["scenario_denouement"] = None
    hub["hub_class"] = traced(hub["hub_class"], time.perf_counter())
    spokes = []
    makers = {
        "lagrangian": vanilla.lagrangian_spoke,
        "subgradient": vanilla.subgradient_spoke,
        "xhatshuffle": vanilla.xhatshuffle_spoke,
        "xhatxbar": vanilla.xhatxbar_spoke,
    }
    for name in args.spokes:
        if name == "lshaped":
            spoke = lshaped_spoke(two, cfg, guests.host_creator, names)
        elif name == "subgradient":
            spoke = makers[name](*beans, rho_setter=guests.rho_setter)
        else:
            spoke = makers[name](*beans)
        spoke["opt_kwargs"]["options"]["Ag"] = agnostic
        spoke["spoke_class"] = patient(spoke["spoke_class"])
        spokes.append(spoke)
    if args.ratios:
        for cylinder, ratio in zip([hub, *spokes], args.ratios):
            cylinder["rank_ratio"] = ratio
    wheel = WheelSpinner(hub, spokes)
    with quiet_unless(args.verbose, ranks):
        wheel.spin()
    return wheel


def lshaped_spoke(two: TwoStage, cfg, creator, names: list) -> dict:
    """A bound spoke that runs the multi-cut L-shaped method of
    ree_opt.stochastic.decomposition over its ranks and sends the master's
    optimum to the hub after every iteration: a valid lower bound (every cut
    under-estimates a future's cost). It needs nothing from the hub."""
    import mpisppy.utils.cfg_vanilla as vanilla
    from mpisppy.cylinders.spoke import OuterBoundSpoke
    from mpisppy.cylinders.spwindow import Field

    from .stochastic.decomposition import decompose

    class LShapedOuterBound(OuterBoundSpoke):
        """Also sends its best plan's cost as an inner bound, so the hub
        stops as soon as the L-shaped method closes the gap by itself."""

        converger_spoke_char = "B"
        send_fields = (*OuterBoundSpoke.send_fields, Field.OBJECTIVE_INNER_BOUND)

        def send_plan_cost(self, value: float) -> None:
            buffer = self.send_buffers[Field.OBJECTIVE_INNER_BOUND]
            buffer[0] = value
            self.put_send_buffer(buffer, Field.OBJECTIVE_INNER_BOUND)

        def main(self):
            ranks = Ranks(self.cylinder_comm)
            sent = [np.inf]

            def watch(bound: float, objective: float) -> bool:
                if np.isfinite(bound):
                    self.send_bound(bound)
                if objective < sent[0]:
                    self.send_plan_cost(objective)
                    sent[0] = objective
                return self.got_kill_signal()

            result = decompose(two, gap=0.0, iterations=10**9, ranks=ranks, watch=watch)
            self.best_plan, self.best_objective = result.first, result.objective
            if result.status != "stopped":  # converged (or failed): hold until the hub stops
                if np.isfinite(result.bound):
                    self.send_bound(result.bound)
                while not self.got_kill_signal():
                    time.sleep(IDLE_SECONDS)

    spoke = vanilla._PHBase_spoke_foundation(LShapedOuterBound, cfg, creator, None, names)
    return spoke


def traced(hub_class, started: float):
    """`hub_class` that records (seconds, best bound, best plan's cost) each
    time it checks the gap (once a PH iteration): the run's trace."""

    class Traced(hub_class):
        def determine_termination(self, screen_trace=True):
            if not hasattr(self, "trace"):
                self.trace = []
            self.trace.append((time.perf_counter() - started, float(self.BestOuterBound), float(self.BestInnerBound)))
            return super().determine_termination(screen_trace)

    Traced.__name__ = hub_class.__name__
    return Traced


#: A spoke with nothing new from the hub sleeps this long before it looks
#: again. mpi-sppy's spokes poll in a tight loop: with more ranks than cores
#: (3 cylinders on 2 cores) the polling took the hub's core, and a PH
#: iteration on 2 futures took 0.2 s.
IDLE_SECONDS = 0.002


def patient(spoke_class):
    """`spoke_class` that sleeps IDLE_SECONDS whenever the hub has nothing new for it."""

    class Patient(spoke_class):
        def update_Ws(self):
            new = super().update_Ws()
            if not new:
                time.sleep(IDLE_SECONDS)
            return new

        def update_nonants(self):
            new = super().update_nonants()
            if not new:
                time.sleep(IDLE_SECONDS)
            return new

    Patient.__name__ = spoke_class.__name__
    return Patient


class quiet_unless:
    """mpi-sppy prints its progress table on rank 0; keep it for --verbose."""

    def __init__(self, verbose: bool, ranks: Ranks):
        self.verbose = verbose

    def __enter__(self):
        if not self.verbose:
            sys.stdout.flush()
            self.saved = os.dup(1)
            sink = os.open(os.devnull, os.O_WRONLY)
            os.dup2(sink, 1)
            os.close(sink)
        return self

    def __exit__(self, *_):
        if not self.verbose:
            sys.stdout.flush()
            os.dup2(self.saved, 1)
            os.close(self.saved)


def candidate_plans(wheel, ranks: Ranks, names: list[str]) -> list[tuple[float, np.ndarray, str]]:
    """(cost as its cylinder found it, first stage, cylinder) of each plan
    worth reporting, on every rank: the best an xhat spoke evaluated, and
    the best the L-shaped spoke evaluated."""
    found = None
    winner = wheel._determine_innerbound_winner()  # collective: every rank calls it
    spoke = wheel.spcomm
    if spoke.cylinder_rank == 0:
        if getattr(spoke, "best_plan", None) is not None:  # the L-shaped spoke keeps its own
            found = (spoke.best_objective, spoke.best_plan, names[wheel.strata_rank])
        elif winner and hasattr(spoke, "best_inner_bound"):  # an xhat spoke: its hosts hold the plan
            scenario = next(iter(spoke.opt.local_scenarios.values()))
            plan = np.array([v._value for v in scenario._mpisppy_node_list[0].nonant_vardata_list], dtype=float)
            if np.all(np.isfinite(plan)):
                found = (float(spoke.best_inner_bound), plan, names[wheel.strata_rank])
    return sorted((c for c in ranks.allgather(found) if c is not None), key=lambda c: c[0])


def evaluate_plan(wheel, first: np.ndarray, ranks: Ranks, count: int):
    """Every future's cost with the first stage fixed to `first`, on the
    hub's ranks (their guests hold every future), gathered on rank 0."""
    local = {}
    if wheel.strata_rank == 0:
        for host in wheel.spcomm.opt.local_scenarios.values():
            guest: GuestFuture = host._ree_guest
            position = guest.lp.position
            status, cost, values = guest.evaluate(first)
            if status != "optimal":
                local[position] = (status, None, None, None)
                continue
            local[position] = (status, cost, guest.lp.unmet(values), values if position == 0 else None)
    gathered = ranks.gather(local)
    if not ranks.root:
        return None
    found = {}
    for part in gathered:
        found.update(part)
    return [found[p] for p in range(count)]


def quiet_mpisppy_logs() -> None:
    """mpi-sppy's cylinder modules open log files (hub.log, xhatclp.log,
    xhateval.log) in the working directory as they are imported: give
    those loggers no file (call this before importing them)."""
    import logging

    import mpisppy.log

    def setup_logger(name, out, level=logging.DEBUG, mode="w", fmt=None):
        log = logging.getLogger(name)
        log.setLevel(level)
        log.propagate = False
        log.addHandler(logging.NullHandler())

    mpisppy.log.setup_logger = setup_logger


def run(args, two: TwoStage, ranks: Ranks) -> dict:
    quiet_mpisppy_logs()
    started = time.perf_counter()
    first_upper = two.first_upper
    bounds = eta_bounds(two, ranks, first_upper) if two.omega > 0 else None
    prepared = time.perf_counter() - started
    guests = Guests(two, first_upper, bounds, args.rho)
    wheel = spin(two, args, ranks, guests)
    spun = time.perf_counter() - started
    bound = ranks.bcast(wheel.BestOuterBound if ranks.root else None)
    inner = ranks.bcast(wheel.BestInnerBound if ranks.root else None)
    source = ranks.bcast(wheel.spcomm.last_ob_idx if ranks.root else None)
    iterations = ranks.bcast(wheel.spcomm.opt._PHIter if ranks.root else None)
    trace = ranks.bcast(getattr(wheel.spcomm, "trace", []) if ranks.root else None)
    cylinders = ["hub", *args.spokes]
    candidates = candidate_plans(wheel, ranks, cylinders)
    result = {
        "bound": float(bound), "xhat_objective": float(inner), "iterations": iterations,
        "bound_from": cylinders[source] if source is not None else None,
        "futures": len(two.futures), "ranks": ranks.size, "prepare_seconds": prepared,
        "objective": float("nan"), "solution": None, "eta_bounds": bounds,
        "candidates": [(cost, name) for cost, _, name in candidates],
        "trace": trace,
        "plan_from": candidates[0][2] if candidates else None,
    }
    if not candidates:
        result["message"] = "no spoke found a plan"
    else:
        plan = candidates[0][1]
        evaluated = evaluate_plan(wheel, plan[: two.first_count], ranks, len(two.futures))
        if ranks.root:
            failed = [(two.futures[p].index, status) for p, (status, *_) in enumerate(evaluated) if status != "optimal"]
            if failed:
                result["message"] = (f"future {failed[0][0]} ended {failed[0][1]} with the plan's first stage "
                                     f"({len(failed)} futures in all)")
            else:
                costs = np.array([e[1] for e in evaluated])
                from .stochastic.results import risk_measure

                result["objective"] = float(risk_measure(costs, two.probabilities, two.alpha, two.omega))
                note = (f"plan of progressive hedging (mpi-sppy hub and spokes; the plan from "
                        f"{result['plan_from']}): objective within "
                        f"{100 * relative_gap(result['objective'], result['bound']):.3g}% of the bound "
                        f"{result['bound']:,.6f} (USD million); duals are not reported")
                result["solution"] = two.report(plan[: two.first_count], evaluated[0][3], costs,
                                                [e[2] for e in evaluated], note)
    result["seconds"] = time.perf_counter() - started
    result["wheel_seconds"] = spun - prepared
    result["time_to"] = {
        str(target): next((t + prepared for t, low, high in trace if relative_gap(high, low) <= target), None)
        for target in (0.01, 0.001)
    }
    result["peak_memory_mb"] = ranks.gather(peak_memory_mb())
    return result


def parse_spokes(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SPOKES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown spoke {unknown[0]!r}: expected some of {', '.join(SPOKES)}" if unknown else "no spoke named"
        )
    return names


def parse_ratios(text: str) -> list[float]:
    try:
        ratios = [float(part) for part in text.split(",")]
    except ValueError:
        ratios = []
    if not ratios or any(not r > 0 for r in ratios):
        raise argparse.ArgumentTypeError(f"expected positive numbers separated by commas, got {text!r}")
    return ratios


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ree_opt.ph",
        description="Progressive hedging as mpi-sppy's hub and spokes, with a certified gap: "
        "mpiexec -n 3 python -m ree_opt.ph INSTANCE",
    )
    from .stochastic.decomposition import problem_arguments

    problem_arguments(parser)
    parser.add_argument("--spokes", type=parse_spokes, default=["lagrangian", "xhatshuffle"],
                        help=f"comma-separated spokes beside the PH hub (default lagrangian,xhatshuffle; "
                        f"any of {', '.join(SPOKES)}); ranks: a multiple of 1 + their number")
    parser.add_argument("--ratios", type=parse_ratios,
                        help="ranks per cylinder as ratios, hub first (e.g. 2,1,1: the hub gets half the ranks)")
    parser.add_argument("--gap", type=float, default=0.01, help="stop at this relative gap (default 0.01: 1%%)")
    parser.add_argument("--iterations", type=int, default=200, help="PH iteration limit (default 200)")
    parser.add_argument("--stalled", type=int, default=50,
                        help="stop after this many hub iterations without a better bound or plan (default 50)")
    parser.add_argument("--time-limit", type=float, metavar="SECONDS", help="stop PH after this many seconds")
    parser.add_argument("--rho", type=float, default=0.1, help="rho as a multiple of each variable's cost (default 0.1)")
    parser.add_argument("--convergence", type=float, default=0.0,
                        help="stop when PH's own convergence metric falls below this (default 0: never; a "
                        "consensus is not a certificate, the gap is)")
    parser.add_argument("--out", type=Path, help="directory to write the tables to, as CSV; or one Excel workbook (.xlsx)")
    parser.add_argument("--extensive", action="store_true",
                        help="also solve the extensive form on rank 0 and print its optimum beside PH's")
    parser.add_argument("--json", action="store_true", help="print the run, its bound and its trace as JSON")
    parser.add_argument("--relax", action="store_true",
                        help="treat lumpy expansions as lumpy: false (their LP relaxation; PH's first stage is "
                        "continuous): the plan's builds may be fractions and the bound is the relaxation's")
    parser.add_argument("--verbose", action="store_true", help="mpi-sppy's progress table")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    rank0 = os.environ.get("PMI_RANK", "0") == "0"
    sample = {"n": args.sample, "seed": args.seed} if args.sample is not None else None
    cylinders = 1 + len(args.spokes)
    launched = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE")  # known before MPI starts
    size = int(launched) if launched and launched.isdigit() else None
    if args.ratios and len(args.ratios) != cylinders:
        if rank0:
            print(f"ree-opt ph: --ratios gives {len(args.ratios)} ratios for {cylinders} cylinders", file=sys.stderr)
        return 2
    if size is not None and ((not args.ratios and size % cylinders) or size < cylinders):
        if rank0:
            print(f"ree-opt ph: {cylinders} cylinders (the hub and {', '.join(args.spokes)}) need a multiple of "
                  f"{cylinders} ranks (mpiexec -n {cylinders}), or --ratios; got {size}", file=sys.stderr)
        return 2
    try:
        if args.gap < 0:
            raise ValueError(f"--gap expects a number >= 0, got {args.gap}")
        instance = continuous_builds(load_instance(args.instance), args.relax)
        two = two_stage(instance, alpha=args.alpha, omega=args.omega, sample=sample)
    except (InstanceError, ValueError) as error:  # before MPI starts: rank 0 of mpiexec (MPICH's PMI_RANK) tells
        if rank0:
            print(f"ree-opt ph: {error}", file=sys.stderr)
        return 2
    ranks = Ranks()
    if ranks.comm is None:
        from mpi4py import MPI

        ranks = Ranks(MPI.COMM_WORLD)
    if (not args.ratios and ranks.size % cylinders) or ranks.size < cylinders:
        if ranks.root:
            print(f"ree-opt ph: {cylinders} cylinders (the hub and {', '.join(args.spokes)}) need a multiple of "
                  f"{cylinders} ranks (mpiexec -n {cylinders}), or --ratios; got {ranks.size}", file=sys.stderr)
        return 2
    try:
        result = run(args, two, ranks)
    except Exception:  # one rank's failure would leave the others polling for ever
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        ranks.comm.Abort(1)
    if not ranks.root:
        return 0
    solution = result["solution"]
    if solution is None:
        print(f"ree-opt ph: {result.get('message')}", file=sys.stderr)
        return 1
    from .stochastic.decomposition import certificate_lines, write_plan
    from .stochastic.text import stochastic_text

    gap = relative_gap(result["objective"], result["bound"])
    if args.out:
        write_plan(args.out, solution, {
            "bound_musd": result["bound"], "gap": gap, "method": "progressive hedging (mpi-sppy hub and spokes)",
            "iterations": result["iterations"], "seconds": round(result["seconds"], 3), "ranks": result["ranks"],
            "bound_from": result["bound_from"],
        }, args.instance)
    if args.json:
        import json

        fields = ("objective", "bound", "xhat_objective", "iterations", "bound_from", "plan_from", "futures", "ranks",
                  "seconds", "prepare_seconds", "wheel_seconds", "peak_memory_mb", "time_to", "trace")
        print(json.dumps({"gap": gap, "spokes": args.spokes, **{k: result[k] for k in fields}}))
        return 0
    print(stochastic_text(solution, str(args.instance)))
    print()
    print(f"progressive hedging: {result['futures']} futures on {result['ranks']} ranks (hub, {', '.join(args.spokes)}); "
          f"{result['iterations']} hub iterations, {result['seconds']:.1f} s; "
          f"peak memory {max(result['peak_memory_mb']):.0f} MB per rank")
    print(f"best bound from: {result['bound_from']}; plan from: {result['plan_from']} "
          f"(candidates: {'; '.join(f'{name} {cost:,.6f}' for cost, name in result['candidates'])})")
    if args.extensive:
        from .stochastic import solve_stochastic

        ef = solve_stochastic(instance, alpha=args.alpha, omega=args.omega, sample=sample,
                              value_of_information=False)
        print(f"extensive form: {ef.objective:.6f}")
    print("\n".join(certificate_lines(result["objective"], result["bound"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
