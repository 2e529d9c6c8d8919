"""One future's model: the shape of mpi-sppy's `scenario_creator`.

SPEC section 6. Before `reveal` every future sees the instance as it is, so a
future's per-period figures (capacity after ramp-up, reservation and
availability, cost, the take-or-pay floor, demand and penalties) are the
base instance's for t < reveal and the future's own from `reveal` on; a
policy the future adds applies from max(its `from`, reveal). Every future
tracks the same products, so every future has the same variables before
`reveal`: those are the first stage, shared by all futures.

Offtakes (facilities with `offtake`) add their reservations, spot purchases
and rows (offtakes.py). Which column is first stage is each family's stage
rule (model/families.py): before `reveal` by period, reservations always,
spot purchases never.

The model is the ordinary `BuiltModel` of `ree_opt.model` (its cost is
C_s, the future's whole cost), so it can be solved alone (wait-and-see),
joined with the others (the extensive form) or handed to mpi-sppy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import ModelData, resolve, resolve_again
from ..instance import Instance
from ..model import build_model
from ..model.families import BuiltModel
from ..solver import StandardForm, standard_form
from .offtakes import add_offtakes, offtake_terms

FACILITY_SERIES = (
    "capacity_t", "ramped_t", "reserved_t", "availability", "cost_usd_per_kg", "min_take_t", "active", "online_t",
)
DEMAND_SERIES = ("quantity_t", "shortfall_penalty")


@dataclass
class FutureModel:
    """A future's data and built model, and once compiled its standard form."""

    data: ModelData
    model: BuiltModel
    reveal: int
    form: StandardForm | None = None

    def compile(self, keep_model: bool = True) -> FutureModel:
        """Compute the standard form; without `keep_model`, drop what only the
        build needed (the rows' terms, the cost terms, policy members),
        keeping the column and row keys and the data the tables read. A few
        hundred futures then hold their matrices, not their terms."""
        self.form = standard_form(self.model)
        if not keep_model:
            self.model.release()
        return self

    def first_stage_columns(self) -> np.ndarray:
        return self.model.first_stage_columns(self.reveal)

    def first_stage_rows(self) -> np.ndarray:
        return self.model.first_stage_rows(self.reveal)


def _splice(before: np.ndarray, after: np.ndarray, reveal: int) -> np.ndarray:
    return np.concatenate([before[:reveal], after[reveal:]])


def future_data(
    base: ModelData, instance: Instance, reveal: int, tracked, base_policy_count: int, reuse: bool = False
) -> ModelData:
    """The future's instance resolved, with the base instance's figures before
    `reveal`. With `reuse`, what the future leaves as it is keeps the base's
    resolution (shared, not copied: for reading only, as the evaluation's
    template reads it)."""
    data = resolve_again(base, instance) if reuse else resolve(instance, tracked=tracked)
    for policy in data.policies[base_policy_count:]:
        policy.periods = [t for t in policy.periods if t >= reveal]
    for facility, before in zip(data.facilities, base.facilities, strict=True):
        assert facility.id == before.id
        if facility is before:
            continue
        for name in FACILITY_SERIES:
            setattr(facility, name, _splice(getattr(before, name), getattr(facility, name), reveal))
    for entry, before in zip(data.demand, base.demand, strict=True):
        if entry is before:
            continue
        for name in DEMAND_SERIES:
            setattr(entry, name, _splice(getattr(before, name), getattr(entry, name), reveal))
    return data


def future_model(data: ModelData, reveal: int, offtakes: bool = True) -> FutureModel:
    """The model of one future (data from `future_data`); with `offtakes`, the
    reservations, spot purchases and their rows (section 6)."""
    contracts = offtake_terms(data) if offtakes else {}
    if contracts:
        for f in data.facilities:
            if f.id in contracts and contracts[f.id].take_or_pay > 0:
                after = np.arange(data.period_count) >= reveal
                f.contracted = after if f.contracted is None else (f.contracted | after)
    model = build_model(data)
    if contracts:
        add_offtakes(model, data, reveal, contracts)
    return FutureModel(data, model, reveal)
