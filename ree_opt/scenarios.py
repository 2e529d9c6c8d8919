"""Scenario patches (SPEC section 2): `set`, then each `scale` and `shift` in
list order, then `add_policies`; the patched instance is validated again.

Scenarios compose like Calliope's overrides: ``"licences_25pct,non_china"``
applies one after the other.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

from .instance import (
    Facility,
    Instance,
    InstanceError,
    Problem,
    Scenario,
    _Locator,
    did_you_mean,
    online_index,
    period_grid,
    parse_instance,
    unknown_scenario,
)

FACILITY_FIELDS = set(Facility.model_fields) - {"source", "assumption", "notes"}
FACILITY_SCALE_FIELDS = {"cost", "capacity", "availability", "reserved", "min_take"}
DEMAND_SCALE_FIELDS = {"quantity", "shortfall_penalty"}
FACILITY_DEFAULTS = {"availability": 1.0, "reserved": 0.0, "min_take": 0.0}


def scenario_names(scenario: str | Sequence[str] | None) -> list[str]:
    if scenario is None:
        return []
    if isinstance(scenario, str):
        return [name.strip() for name in scenario.split(",") if name.strip()]
    return list(scenario)


def _matches(entity: dict, where: dict) -> bool:
    return all(str(entity.get(key)) == str(value) for key, value in where.items())


def _scaled(value, factor: float):
    if isinstance(value, dict):
        return {key: item * factor for key, item in value.items()}
    return value * factor


def online_label(instance: Instance, index: int):
    """The `online` value for a period index that may lie outside the horizon."""
    periods = instance.periods
    if 0 <= index < len(periods):
        return periods[index]
    step = period_grid(periods)
    if step is not None:
        return periods[0] + index * step
    anchor = 0 if index < 0 else len(periods) - 1
    return f"{periods[anchor]}{index - anchor:+d}"


def patch(
    instance: Instance,
    scenario: Scenario,
    name: str = "scenario",
    locator: _Locator | None = None,
    extra_policies: Iterable = (),
    dumped: dict | None = None,
) -> Instance:
    """Apply one scenario patch and validate the result. `dumped` is
    `instance.model_dump(by_alias=True, exclude_none=True)` where the caller
    has it (applying every scenario of an instance dumps it once)."""
    data = _instance_data(instance, dumped)
    _patch_data(data, instance, scenario, name, locator or _Locator(), extra_policies)
    return _validated(data, ("scenarios", name), locator or _Locator())


def _instance_data(instance: Instance, dumped: dict | None = None) -> dict:
    """The instance as a plain mapping for `_patch_data`: its dump, or a copy
    of `dumped` deep enough that patching leaves `dumped` as it is (a patch
    replaces an entity's values, and changes in place only its expansions)."""
    if dumped is None:
        data = instance.model_dump(by_alias=True, exclude_none=True)
    else:
        data = dict(dumped)
        data["facilities"] = [dict(item) for item in dumped["facilities"]]
        for item in data["facilities"]:
            if "expansions" in item:
                item["expansions"] = [dict(expansion) for expansion in item["expansions"]]
        data["demand"] = [dict(item) for item in dumped.get("demand", [])]
    data["scenarios"] = {}
    data.pop("uncertainty", None)  # it names the scenarios; given back by apply_scenario
    return data


def _validated(data: dict, base: tuple, locator: _Locator) -> Instance:
    try:
        return parse_instance(data)
    except InstanceError as error:
        anchor = locator.problem(base, "")
        raise InstanceError(
            [
                Problem(f"{'.'.join(base)} gives {p.location}", p.message, anchor.file, anchor.line)
                for p in error.problems
            ]
        ) from None


def _patch_data(
    data: dict, instance: Instance, scenario: Scenario, name: str, locator: _Locator, extra_policies: Iterable = ()
) -> None:
    """Apply one scenario patch to an instance's data (a plain mapping), in
    place: `set`, then each `scale` and `shift` in list order, then
    `add_policies`; not validated."""
    base = ("scenarios", name)
    problems: list[Problem] = []
    facilities = {item["id"]: item for item in data["facilities"]}
    penalties = {key: item["shortfall_penalty"] for key, item in data["products"].items()}

    for facility_id, fields in scenario.set.items():
        if facility_id not in facilities:
            problems.append(locator.problem(
                base + ("set", facility_id), f"unknown facility id {facility_id!r}{did_you_mean(facility_id, facilities)}",
            ))
            continue
        for field, value in fields.items():
            if field not in FACILITY_FIELDS or field == "id":
                problems.append(
                    locator.problem(
                        base + ("set", facility_id, field),
                        f"`set` can change a facility's {', '.join(sorted(FACILITY_FIELDS - {'id'}))}; "
                        f"not {field!r}",
                    )
                )
                continue
            facilities[facility_id][field] = copy.deepcopy(value)

    steps = [("scale", i, s) for i, s in enumerate(scenario.scale)]
    steps += [("shift", i, s) for i, s in enumerate(scenario.shift)]
    for kind, index, step in sorted(steps, key=lambda item: (item[1], item[0])):
        path = base + (kind, index)
        on_demand = kind == "scale" and step.field in DEMAND_SCALE_FIELDS
        entities = data["demand"] if on_demand else data["facilities"]
        known = {"segment", "product"} if on_demand else FACILITY_FIELDS
        unknown = [key for key in step.where if key not in known]
        if unknown:
            problems.append(
                locator.problem(
                    path + ("where",),
                    f"cannot match on {', '.join(map(repr, unknown))}; "
                    f"{'demand entries' if on_demand else 'facilities'} match on "
                    f"{', '.join(sorted(known))}",
                )
            )
            continue
        matched = [entity for entity in entities if _matches(entity, step.where)]
        if kind == "scale" and step.field == "capex":  # every expansion of the facilities matched
            matched = [entity for entity in matched if entity.get("expansions")]
        if not matched:
            problems.append(
                locator.problem(path + ("where",), f"matches no {'demand entry' if on_demand else 'facility'}"
                                f"{' with expansions' if kind == 'scale' and step.field == 'capex' else ''}: {step.where}")
            )
            continue
        for entity in matched:
            if kind == "scale" and step.field == "capex":
                for expansion in entity["expansions"]:
                    expansion["capex"] = _scaled(expansion["capex"], step.factor)
            elif kind == "scale":
                if step.field in entity:
                    value = entity[step.field]
                elif on_demand:
                    value = penalties[entity["product"]]
                else:
                    value = FACILITY_DEFAULTS[step.field]
                entity[step.field] = _scaled(value, step.factor)
            else:
                start = online_index(instance, entity.get("online"))
                if start is None:  # an invalid online is reported by validation
                    continue
                entity["online"] = online_label(instance, start + step.by)

    data["policies"] = list(data.get("policies", []))
    data["policies"] += [p.model_dump(by_alias=True, exclude_none=True) for p in scenario.add_policies]
    data["policies"] += [
        p.model_dump(by_alias=True, exclude_none=True) if hasattr(p, "model_dump") else dict(p)
        for p in extra_policies
    ]
    if scenario.description:
        data["description"] = f"{data.get('description') or ''} [{name}: {scenario.description}]".strip()
    if problems:
        raise InstanceError(problems)


def apply_scenario(
    instance: Instance,
    scenario: str | Sequence[str] | Scenario | dict | None = None,
    policies: Iterable = (),
    locator: _Locator | None = None,
    dumped: dict | None = None,
) -> Instance:
    """The instance with the named scenario(s) applied and `policies` added
    (`dumped`: the instance's dump, as `patch` takes it)."""
    policies = list(policies)
    if isinstance(scenario, dict):
        scenario = Scenario.model_validate(scenario)
    if isinstance(scenario, Scenario):
        return patch(instance, scenario, "scenario", locator, policies)
    names = scenario_names(scenario)
    for name in names:
        if name not in instance.scenarios:
            raise InstanceError([Problem("scenario", unknown_scenario(name, instance.scenarios))])
    if not names and not policies:
        return instance
    definitions = instance.scenarios
    if len(names) > 1:
        result = _composed(instance, names, policies, locator, dumped)
    elif names:
        result = patch(instance, definitions[names[0]], names[0], locator, policies, dumped=dumped)
    else:
        result = patch(instance, Scenario(), "policies", locator, policies)
    return result.model_copy(update={"scenarios": definitions, "uncertainty": instance.uncertainty})


def _composed(
    instance: Instance, names: list[str], policies: list, locator: _Locator | None, dumped: dict | None = None
) -> Instance:
    """Several scenarios, one after the other: patched on one copy of the
    data and validated once. Where that fails (a composition that breaks a
    rule, or a value only validation would make usable), each patch is
    applied and validated in turn, so a problem names the scenario that
    gives it."""
    definitions = instance.scenarios
    data = _instance_data(instance, dumped)
    try:
        for position, name in enumerate(names):
            last = position == len(names) - 1
            _patch_data(data, instance, definitions[name], name, _Locator(), policies if last else ())
        return parse_instance(data)
    except (InstanceError, TypeError, ValueError):
        pass
    result = instance
    for position, name in enumerate(names):
        last = position == len(names) - 1
        result = patch(result, definitions[name], name, locator, policies if last else ())
    return result


def applied_scenarios(instance: Instance, locator: _Locator) -> tuple[dict[str, Instance], list[Problem]]:
    """Each scenario applied alone: the instances it gives, by name, and the
    problems of those that do not apply cleanly or give an invalid instance."""
    applied: dict[str, Instance] = {}
    problems: list[Problem] = []
    dumped = instance.model_dump(by_alias=True, exclude_none=True) if instance.scenarios else None
    for name in instance.scenarios:
        try:
            applied[name] = apply_scenario(instance, name, locator=locator, dumped=dumped)
        except InstanceError as error:
            problems.extend(error.problems)
    return applied, problems


def check_scenarios(instance: Instance, locator: _Locator) -> list[Problem]:
    """Each scenario applies cleanly and gives a valid instance."""
    return applied_scenarios(instance, locator)[1]

