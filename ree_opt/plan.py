"""One planning problem, built once and solved as often as needed.

file -> Instance -> scenario patch -> ModelData -> Pyomo model -> HiGHS -> Solution
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .data import COVERED, ModelData, resolve
from .instance import Instance, load_instance
from .model import build_model
from .scenarios import apply_scenario
from .solution import Solution, build_solution
from .solver import CompiledModel

InstanceLike = str | os.PathLike | Mapping | Instance


class Plan:
    """An instance (with its scenario applied), its model and its solver."""

    def __init__(
        self,
        instance: InstanceLike,
        scenario: str | Sequence[str] | None = None,
        policies: Iterable = (),
        time_limit: float | None = None,
    ):
        self.base = load_instance(instance)
        self.scenario = scenario if isinstance(scenario, str) or scenario is None else ",".join(scenario)
        self.instance = apply_scenario(self.base, scenario, policies)
        self.data: ModelData = resolve(self.instance)
        self.model = build_model(self.data)
        self.compiled = CompiledModel(self.model, time_limit=time_limit)
        keys, cols = self.compiled.columns_of(self.model.deliv)
        self.covered_delivery_columns = np.array(
            [c for k, c in zip(keys, cols) if k[1] == COVERED and c >= 0], dtype=np.int64
        )

    def solve(self, tie_break: bool = True) -> Solution:
        outcome = self.compiled.solve(self.covered_delivery_columns if tie_break else None)
        return build_solution(self.data, self.compiled, outcome, self.scenario)


def solve(
    instance: InstanceLike,
    scenario: str | Sequence[str] | None = None,
    policies: Iterable = (),
    tie_break: bool = True,
    time_limit: float | None = None,
) -> Solution:
    """Least-cost sourcing plan of an instance (a path, a dict or an Instance).

    `scenario` names one of the instance's scenarios (or several, comma
    separated, applied in order); `policies` adds policies for this solve.
    """
    return Plan(instance, scenario, policies, time_limit).solve(tie_break=tie_break)
