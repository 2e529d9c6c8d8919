"""Decisions under uncertainty (SPEC section 6): two-stage stochastic
procurement with CVaR, built from one model per future."""

from .evaluate import Evaluation, OptimalityGap, evaluate
from .futures import Future, enumerate_futures, reveal_index
from .results import StochasticSolution, conditional_value_at_risk, value_at_risk
from .solve import StochasticProblem, risk_frontier, solve_stochastic, stochastic_problem

__all__ = [
    "Evaluation",
    "Future",
    "OptimalityGap",
    "StochasticProblem",
    "StochasticSolution",
    "conditional_value_at_risk",
    "enumerate_futures",
    "evaluate",
    "reveal_index",
    "risk_frontier",
    "solve_stochastic",
    "stochastic_problem",
    "value_at_risk",
]
