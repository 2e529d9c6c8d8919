"""Offtake contracts (SPEC section 6): reservations signed now, bought under
contract from `reveal` on.

Math (facilities with `offtake`, periods t >= reveal):

    reserve[f,t] >= 0                        first stage, fee_f(t) per kg
    offtake[f,t]:       sum_{l,s} act[f,l,s,t] - reserve[f,t] - spot[f,t] <= 0
    offtake_paid[f,t]:  paid[f,t] - take_or_pay_f x reserve[f,t] >= 0
    spot[f,t] >= 0                           only with spot_markup, at spot_markup x cost_f(t) per kg
"""

from __future__ import annotations

import numpy as np

from ..data import ModelData, resolve_series
from ..model.families import BuiltModel, Terms, rows, variables
from ..model.flows import ACTIVITY, PAID

def _spot_cost(data: ModelData, keys):
    markup = {f_id: terms.spot_markup or 0.0 for f_id, terms in offtake_terms(data).items()}
    cost = {f.id: f.cost_usd_per_kg for f in data.facilities}
    return np.array([markup[f] * cost[f][t] / 1000.0 for f, t in keys], dtype=float)


RESERVATION = variables(
    "reserve", ("facility", "period"), "t of activity reserved now under an offtake",
    stage="first", objective="fee_f(t) USD/kg of reserved activity",
    words="facility {facility} (reservation, {period})",
    bounded_by="nameplate",
)
SPOT_PURCHASE = variables(
    "spot", ("facility", "period"), "t of activity bought beyond the reservation",
    stage="second", objective="spot_markup_f x cost_f(t) USD/kg, on top of paid",
    words="facility {facility} (spot purchase, {period})", cost_of=_spot_cost,
    bounded_by="facility",
)
WITHIN_RESERVATION = rows(
    "offtake", ("facility", "period"), "activity within the reservation and spot purchases",
    stage="second", words="the reservation of facility {facility} ({period})",
)
RESERVATION_PAID = rows(
    "offtake_paid", ("facility", "period"), "the reserved share paid for in every future",
    stage="second", words="the take-or-pay of the reservation of facility {facility} ({period})",
)


def offtake_terms(data: ModelData) -> dict:
    """facility id -> its Offtake, for the facilities under contract."""
    return {f.id: f.offtake for f in data.instance.facilities if f.offtake is not None}


def add_offtakes(built: BuiltModel, data: ModelData, reveal: int, contracts: dict) -> None:
    periods = range(reveal, data.period_count)
    labels = data.labels
    facilities = {f.id: f for f in data.facilities if f.id in contracts}
    reserve = built.add_columns(RESERVATION, [(f_id, t) for f_id in facilities for t in periods])
    spot_keys = [
        (f_id, t) for f_id, f in facilities.items() for t in periods
        if contracts[f_id].spot_markup is not None and f.active[t]
    ]
    spot = built.add_columns(SPOT_PURCHASE, spot_keys)
    act_by: dict = {}
    keys, cols = built.columns_of(ACTIVITY)
    for key, col in zip(keys, cols):
        act_by.setdefault((key[0], key[3]), []).append(int(col))
    paid = built.block(PAID).index()

    within, paid_rows = Terms(), Terms()
    for f_id, f in facilities.items():
        terms = contracts[f_id]
        fee = resolve_series(terms.fee, labels)
        for t in periods:
            k = reserve[f_id, t]
            if fee[t]:
                built.objective.append((fee[t] / 1000.0, k))
            if f.active[t]:
                for col in act_by.get((f_id, t), []):
                    within.add((f_id, t), 1.0, col)
                within.add((f_id, t), -1.0, k)
                if (f_id, t) in spot:
                    within.add((f_id, t), -1.0, spot[f_id, t])
                    markup = terms.spot_markup * f.cost_usd_per_kg[t] / 1000.0
                    if markup:
                        built.objective.append((markup, spot[f_id, t]))
            if terms.take_or_pay > 0:
                paid_rows.add((f_id, t), 1.0, paid[f_id, t])
                paid_rows.add((f_id, t), -terms.take_or_pay, k)
    built.add_rows(WITHIN_RESERVATION, within, upper=0.0)
    built.add_rows(RESERVATION_PAID, paid_rows, lower=0.0)
    built.finish()
