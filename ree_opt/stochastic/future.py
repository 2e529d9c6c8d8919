"""One future's model: the shape of mpi-sppy's `scenario_creator`.

SPEC section 6. Before `reveal` every future sees the instance as it is, so a
future's per-period figures (capacity after ramp-up, reservation and
availability, cost, the take-or-pay floor, demand and penalties) are the
base instance's for t < reveal and the future's own from `reveal` on; a
policy the future adds applies from max(its `from`, reveal). Every future
tracks the same products, so every future has the same variables before
`reveal`: those are the first stage, shared by all futures.

Offtakes (facilities with `offtake`, periods t >= reveal):

    reserve[f,t] >= 0                        first stage, fee_f(t) per kg
    offtake[f,t]:       sum_{l,s} act[f,l,s,t] - reserve[f,t] - spot[f,t] <= 0
    offtake_paid[f,t]:  paid[f,t] - take_or_pay_f x reserve[f,t] >= 0
    spot[f,t] >= 0                           only with spot_markup, at spot_markup x cost_f(t) per kg

The model is the ordinary row-family model of `ree_opt.model` (its cost is
C_s, the future's whole cost), so it can be solved alone (wait-and-see),
joined with the others (the extensive form) or handed to mpi-sppy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from ..data import ModelData, resolve, resolve_series
from ..instance import Instance
from ..model import build_model
from ..model.common import Terms, add_rows, nonnegative
from ..solver import StandardForm, standard_form

#: Variable components that belong to the first stage whatever their period.
FIRST_STAGE_ALWAYS = ("reserve",)
#: ... and those that never do.
SECOND_STAGE_ALWAYS = ("spot",)

FACILITY_SERIES = ("capacity_t", "ramped_t", "reserved_t", "availability", "cost_usd_per_kg", "min_take_t", "active")
DEMAND_SERIES = ("quantity_t", "shortfall_penalty")


@dataclass
class FutureModel:
    """A future's data and model (`model.columns`, `model.row_families`), and
    once compiled its standard form."""

    data: ModelData
    model: pyo.ConcreteModel
    reveal: int
    form: StandardForm | None = None

    def compile(self, keep_model: bool = True) -> FutureModel:
        """Compute the standard form; without `keep_model`, drop what only the
        build needed (the Pyomo variables, the rows' terms, the cost terms),
        keeping the column and row keys and the data the tables read. A few
        hundred futures then hold their matrices, not their Pyomo objects."""
        self.form = standard_form(self.model)
        if not keep_model:
            model = self.model
            for name in model.columns:
                model.del_component(name)
                model.del_component(f"{name}_index")
            for family in model.row_families.values():
                family.terms = None
            model.objective_terms = model.policy_members = None
            model.delivery_columns = model.consumption_columns = None
            self.data.uses = None
        return self


def _splice(before: np.ndarray, after: np.ndarray, reveal: int) -> np.ndarray:
    return np.concatenate([before[:reveal], after[reveal:]])


def future_data(base: ModelData, instance: Instance, reveal: int, tracked, base_policy_count: int) -> ModelData:
    """The future's instance resolved, with the base instance's figures before `reveal`."""
    data = resolve(instance, tracked=tracked)
    for policy in data.policies[base_policy_count:]:
        policy.periods = [t for t in policy.periods if t >= reveal]
    for facility, before in zip(data.facilities, base.facilities, strict=True):
        assert facility.id == before.id
        for name in FACILITY_SERIES:
            setattr(facility, name, _splice(getattr(before, name), getattr(facility, name), reveal))
    for entry, before in zip(data.demand, base.demand, strict=True):
        for name in DEMAND_SERIES:
            setattr(entry, name, _splice(getattr(before, name), getattr(entry, name), reveal))
    return data


def offtake_terms(data: ModelData) -> dict:
    """facility id -> its Offtake, for the facilities under contract."""
    return {f.id: f.offtake for f in data.instance.facilities if f.offtake is not None}


def future_model(data: ModelData, reveal: int, offtakes: bool = True) -> FutureModel:
    """The model of one future (data from `future_data`); with `offtakes`, the
    reservations, spot purchases and their rows (section 6)."""
    contracts = offtake_terms(data) if offtakes else {}
    if contracts:
        for f in data.facilities:
            if f.id in contracts and contracts[f.id].take_or_pay > 0:
                f.contracted = np.arange(data.period_count) >= reveal
    model = build_model(data)
    if contracts:
        add_offtakes(model, data, reveal, contracts)
    return FutureModel(data, model, reveal)


def _columns(model, name: str) -> dict:
    keys, start = model.columns[name]
    return {key: start + i for i, key in enumerate(keys)}


def add_offtakes(model, data: ModelData, reveal: int, contracts: dict) -> None:
    periods = range(reveal, data.period_count)
    labels = data.labels
    facilities = {f.id: f for f in data.facilities if f.id in contracts}
    reserve = nonnegative(
        model, "reserve", [(f_id, t) for f_id in facilities for t in periods],
        "t of activity reserved now under an offtake",
    )
    spot_keys = [
        (f_id, t) for f_id, f in facilities.items() for t in periods
        if contracts[f_id].spot_markup is not None and f.active[t]
    ]
    spot = nonnegative(model, "spot", spot_keys, "t of activity bought beyond the reservation")
    act_by = {}
    for key, col in _columns(model, "act").items():
        act_by.setdefault((key[0], key[3]), []).append(col)
    paid = _columns(model, "paid")

    within, paid_rows = Terms(), Terms()
    for f_id, f in facilities.items():
        terms = contracts[f_id]
        fee = resolve_series(terms.fee, labels)
        for t in periods:
            k = reserve[f_id, t]
            if fee[t]:
                model.objective_terms.append((fee[t] / 1000.0, k))
            if f.active[t]:
                for col in act_by.get((f_id, t), []):
                    within.add((f_id, t), 1.0, col)
                within.add((f_id, t), -1.0, k)
                if (f_id, t) in spot:
                    within.add((f_id, t), -1.0, spot[f_id, t])
                    markup = terms.spot_markup * f.cost_usd_per_kg[t] / 1000.0
                    if markup:
                        model.objective_terms.append((markup, spot[f_id, t]))
            if terms.take_or_pay > 0:
                paid_rows.add((f_id, t), 1.0, paid[f_id, t])
                paid_rows.add((f_id, t), -terms.take_or_pay, k)
    add_rows(model, "offtake", within, upper=0.0, doc="activity within the reservation and spot purchases")
    add_rows(model, "offtake_paid", paid_rows, lower=0.0, doc="the reserved share paid for in every future")


def is_first_stage(component: str, key, reveal: int) -> bool:
    if component in FIRST_STAGE_ALWAYS:
        return True
    if component in SECOND_STAGE_ALWAYS:
        return False
    return key[-1] < reveal


def first_stage_mask(model, reveal: int) -> np.ndarray:
    """Per column of the model: does it belong to the first stage?"""
    mask = np.zeros(model.column_count, dtype=bool)
    for name, (keys, start) in model.columns.items():
        mask[start : start + len(keys)] = [is_first_stage(name, key, reveal) for key in keys]
    return mask


def first_stage_rows(model, reveal: int) -> np.ndarray:
    """Per row (family order): rows of periods before `reveal` read only first-stage columns."""
    flags = []
    for family in model.row_families.values():
        if family.name in ("offtake", "offtake_paid"):
            flags.append(np.zeros(len(family.keys), dtype=bool))
        else:
            flags.append(np.fromiter((key[-1] < reveal for key in family.keys), dtype=bool, count=len(family.keys)))
    return np.concatenate(flags) if flags else np.zeros(0, dtype=bool)
