"""What the splice of SPEC section 6 cuts off a scenario that an uncertainty
event names.

Before `reveal` every future sees the instance as it is: the per-period
figures of section 3 are the base instance's for t < reveal and the
future's from `reveal` on, and a policy a future adds applies from
max(its `from`, reveal). A scenario whose changes reach before `reveal`
therefore loses them in every future it is part of (a halt from 2026 seen
from a 2027 reveal is a halt from 2027). This module names those scenarios
and the periods they lose; loading warns with :class:`SpliceWarning`.

A scenario *loses* period t (t before `reveal`) when, applied alone to the
instance, it changes in t one of the figures the splice keeps:

- a facility's usable capacity cap_f(t) = max(0, capacity x ramp - reserved)
  x availability, zero before `online` (so an availability cut at a plant
  not yet online loses nothing);
- its take-or-pay floor (`min_take` from `online` on);
- its cost_f(t), where the facility can run or pays a floor in t (in the
  instance or under the scenario): a price nobody pays is no loss;
- a demand entry's quantity_d(t), or its shortfall penalty where it asks for
  a quantity in t;
- or it adds a policy that covers t (its `from` is absent or before
  `reveal`, its `to` not before t).

Figures are compared within 1e-9 relative. Pure Python on purpose: it runs
on `ree-opt validate`, which loads neither NumPy nor pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

from .instance import Instance, Problem, _Locator, listed, online_index

#: Figures within this relative distance are the same.
TOLERANCE = 1e-9


class SpliceWarning(UserWarning):
    """A scenario named by an uncertainty event changes periods before
    `reveal`, which the splice cuts off (SPEC section 6)."""


@dataclass(frozen=True)
class SpliceLoss:
    """A scenario's changes before `reveal`: the periods lost and what changes in them."""

    scenario: str
    events: tuple[str, ...]  # the events one of whose outcomes names it
    periods: tuple  # period labels before reveal in which it changes a figure, in order
    changes: tuple[str, ...]  # what changes there ("capacity of cn_ndpr_oxide_export", ...)


def _series(value, labels: list[str]) -> list[float]:
    """A time series as one value per period (0 before a mapping's first key)."""
    if not isinstance(value, dict):
        return [float(value)] * len(labels)
    out = [0.0] * len(labels)
    for index, item in sorted((labels.index(str(key)), item) for key, item in value.items()):
        out[index:] = [float(item)] * (len(labels) - index)
    return out


def _differ(a: float, b: float) -> bool:
    return abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b))


def _facility_figures(instance: Instance, facility, labels: list[str], until: int) -> dict[str, list[float]]:
    """cap_f(t), the take-or-pay floor and cost_f(t) for t < until."""
    start = online_index(instance, facility.online)
    capacity = _series(facility.capacity, labels)
    reserved = _series(facility.reserved, labels)
    availability = _series(facility.availability, labels)
    min_take = _series(facility.min_take, labels)
    usable, floor = [], []
    for t in range(until):
        k = t - start if start is not None else -1
        ramp = (facility.ramp_up[k] if k < len(facility.ramp_up) else 1.0) if k >= 0 else 0.0
        usable.append(max(0.0, capacity[t] * ramp - reserved[t]) * availability[t] if ramp > 0 else 0.0)
        floor.append(min_take[t] if k >= 0 else 0.0)
    return {"capacity": usable, "take-or-pay floor": floor, "cost": _series(facility.cost, labels)[:until]}


def _demand_figures(instance: Instance, entry, labels: list[str], until: int) -> dict[str, list[float]]:
    product = instance.products.get(entry.product)
    penalty = entry.shortfall_penalty if entry.shortfall_penalty is not None else product.shortfall_penalty
    return {
        "quantity": _series(entry.quantity, labels)[:until],
        "shortfall penalty": _series(penalty, labels)[:until],
    }


def lost_periods(base: Instance, patched: Instance, added_policies, reveal: int) -> tuple[list[int], list[str]]:
    """The period indices before `reveal` where `patched` (the base with one
    scenario applied, `added_policies` being what it adds) differs from
    `base` in a figure the splice keeps, and what differs there."""
    labels = [str(p) for p in base.periods]
    lost: set[int] = set()
    changes: dict[str, list[str]] = {}  # what -> entities

    def note(what: str, entity: str, periods) -> None:
        periods = list(periods)
        if periods:
            lost.update(periods)
            changes.setdefault(what, []).append(entity)

    before = {f.id: f for f in base.facilities}
    for facility in patched.facilities:
        if facility == before[facility.id]:  # untouched by the scenario (most are)
            continue
        old = _facility_figures(base, before[facility.id], labels, reveal)
        new = _facility_figures(patched, facility, labels, reveal)
        for what in ("capacity", "take-or-pay floor"):
            note(what, facility.id, (t for t in range(reveal) if _differ(old[what][t], new[what][t])))
        paying = [
            max(old["capacity"][t], new["capacity"][t], old["take-or-pay floor"][t], new["take-or-pay floor"][t]) > 0
            for t in range(reveal)
        ]
        note("cost", facility.id, (t for t in range(reveal) if paying[t] and _differ(old["cost"][t], new["cost"][t])))
    for entry, old_entry in zip(patched.demand, base.demand):
        if entry == old_entry:
            continue
        old = _demand_figures(base, old_entry, labels, reveal)
        new = _demand_figures(patched, entry, labels, reveal)
        name = f"{entry.segment} {entry.product}"
        note("quantity", name, (t for t in range(reveal) if _differ(old["quantity"][t], new["quantity"][t])))
        asked = [max(old["quantity"][t], new["quantity"][t]) > 0 for t in range(reveal)]
        note(
            "shortfall penalty", name,
            (t for t in range(reveal) if asked[t] and _differ(old["shortfall penalty"][t], new["shortfall penalty"][t])),
        )
    for index, policy in enumerate(added_policies):
        first = labels.index(str(policy.from_)) if policy.from_ is not None else 0
        last = labels.index(str(policy.to)) if policy.to is not None else len(labels) - 1
        note("policy", f"add_policies[{index}] ({policy.type})", range(first, min(last + 1, reveal)))
    described = [f"{what} of {listed(dict.fromkeys(entities), most=6)}" for what, entities in changes.items()]
    return sorted(lost), described


def splice_losses(instance: Instance, patched: dict[str, Instance]) -> list[SpliceLoss]:
    """Every scenario an uncertainty event names (in an outcome of
    probability > 0: the others are in no future) that loses periods to the
    splice. `patched` maps scenario name -> the instance with it applied alone
    (what loading has already computed); a name missing there is skipped
    (it failed, and loading reports that)."""
    uncertainty = instance.uncertainty
    if uncertainty is None:
        return []
    labels = [str(p) for p in instance.periods]
    if uncertainty.reveal is not None:
        reveal = labels.index(str(uncertainty.reveal))
    else:
        reveal = 1 if len(labels) > 1 else 0
    if reveal == 0:
        return []
    events: dict[str, list[str]] = {}
    for event in uncertainty.events:
        for outcome in event.outcomes:
            if outcome.probability == 0:  # in no future (dropped): it loses nothing
                continue
            for name in (n.strip() for n in (outcome.scenario or "").split(",")):
                if name and event.name not in events.setdefault(name, []):
                    events[name].append(event.name)
    losses = []
    for name, named_by in events.items():
        if name not in patched:
            continue
        periods, changes = lost_periods(instance, patched[name], instance.scenarios[name].add_policies, reveal)
        if periods:
            losses.append(SpliceLoss(name, tuple(named_by), tuple(instance.periods[t] for t in periods), tuple(changes)))
    return losses


def _joined(periods) -> str:
    periods = [str(p) for p in periods]
    return periods[0] if len(periods) == 1 else ", ".join(periods[:-1]) + " and " + periods[-1]


def splice_warnings(instance: Instance, patched: dict[str, Instance], locator: _Locator | None = None) -> list[Problem]:
    """The losses as located messages (at the scenario's definition)."""
    locator = locator or _Locator()
    labels = [str(p) for p in instance.periods]
    reveal = instance.uncertainty.reveal if instance.uncertainty and instance.uncertainty.reveal is not None else (
        labels[1] if len(labels) > 1 else labels[0]
    )
    problems = []
    for loss in splice_losses(instance, patched):
        events = ("event " if len(loss.events) == 1 else "events ") + _joined([repr(e) for e in loss.events])
        lost = _joined(loss.periods)
        problems.append(locator.problem(
            ("scenarios", loss.scenario),
            f"scenario {loss.scenario!r}, an outcome of {events}, loses {lost} to the splice: every "
            f"future sees the instance as it is before the reveal in {reveal}, so its changes there are cut off "
            f"({'; '.join(loss.changes)})",
        ))
    return problems
