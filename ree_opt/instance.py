"""The instance format of SPEC section 2: pydantic models, and loading them.

Every field carries its unit in its description. Validation runs in two
passes: pydantic checks shapes and ranges, then :func:`check_instance`
checks what pydantic cannot see (references between entities, period keys,
the period grid of ``online``). Both passes report every problem they find,
each with its location (``facilities[3].capacity``) and, where the input was
a file, its file and line.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from . import bounded_yaml
from .countries import ISO_ALPHA2

STAGES = ("mine", "separation", "metal", "magnet", "recycling", "trade")
Stage = Literal["mine", "separation", "metal", "magnet", "recycling", "trade"]

def _number(value):
    """No booleans (pydantic would read `capacity: yes`, or a spreadsheet's
    TRUE, as 1.0), and NaN or infinity named as such before any range check."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):  # the common case, at once
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    if isinstance(value, (int, float, str)):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return value
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
    return value


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_number)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_number)]
PeriodLabel = Union[StrictInt, StrictStr]
#: A number (the same every period) or a mapping period -> number; a value
#: holds from its key until the next key, and before the first key it is 0.
Series = Union[NonNegative, dict[PeriodLabel, NonNegative]]
ShareSeries = Union[Share, dict[PeriodLabel, Share]]


class _Entity(BaseModel):
    """Common to every entity: provenance, and no unknown keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    source: str | None = Field(None, description="Source id(s) of the figures")
    assumption: str | None = Field(None, description="What is assumed, and why")
    notes: str | None = Field(None, description="Free text for the reader")


class Product(_Entity):
    """A material the chain makes, moves or uses (oxide, metal, magnet)."""

    shortfall_penalty: Series = Field(description="USD/kg of demand left unmet")
    holding_cost: Series = Field(0.0, description="USD/kg per period, on end-of-period stock")
    initial_stock: NonNegative = Field(0.0, description="t of clean stock before the first period")
    sale_price: Series = Field(0.0, description="USD/kg received for surplus sold")
    sale_limit: Series = Field(0.0, description="t per period that may be sold")


class Offtake(_Entity):
    """An offtake contract (SPEC section 6): a reservation signed now, from `reveal` on."""

    fee: Series = Field(0.0, description="USD/kg of reserved activity, paid whether taken or not")
    take_or_pay: Share = Field(0.0, description="Share of the reservation paid for in every future, at its cost")
    spot_markup: NonNegative | None = Field(
        None, description="Extra share of cost paid for activity beyond the reservation (absent: none allowed)"
    )


class Expansion(_Entity):
    """Modules of capacity the plan may fund (SPEC section 7)."""

    name: StrictStr = Field(description="Unique within the facility")
    capacity: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] = Field(
        description="t of activity per period added by one module, at full rate"
    )
    capex: NonNegative = Field(description="USD million per module, committed in the decision period")
    life_years: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] = Field(
        20.0, description="Years of economic life, for the capital charge"
    )
    fixed_cost: NonNegative = Field(0.0, description="USD million per year per module once it has capacity")
    build_months: NonNegative = Field(0.0, description="Months from decision to first capacity")
    ramp_up: list[Share] | None = Field(
        None, description="Share of the module's capacity in its first periods (default: the facility's ramp_up)"
    )
    earliest: PeriodLabel | None = Field(None, description="First period a decision may be taken (default: the first)")
    latest: PeriodLabel | None = Field(None, description="Last period a decision may be taken (default: the last)")
    modules: Annotated[StrictInt, Field(ge=1)] = Field(1, description="How many may be built over the horizon")
    lumpy: StrictBool = Field(True, description="Whole modules (true) or any fraction of a module (false: an LP)")


class Facility(_Entity):
    """A source the buyer can draw on: a mine, plant, recycler or trader."""

    id: StrictStr = Field(description="Unique id; policies and scenarios refer to it")
    name: str | None = Field(None, description="Display name (default: id)")
    company: str | None = Field(None, description="Owner or operator")
    country: StrictStr = Field(description="ISO 3166-1 alpha-2 code")
    stage: Stage = Field(description="Stage of the chain: mine, separation, metal, magnet, recycling or trade")
    inputs: dict[StrictStr, NonNegative] = Field(
        default_factory=dict, description="product -> t consumed per t of activity"
    )
    outputs: dict[StrictStr, NonNegative] = Field(
        description="product -> t produced per t of activity"
    )
    capacity: Series = Field(description="t of activity per period")
    online: PeriodLabel | None = Field(None, description="First period with capacity")
    ramp_up: list[Share] = Field(
        default_factory=list, description="Share of capacity in the first periods online"
    )
    availability: ShareSeries = Field(
        1.0, description="Share of the capacity left after `reserved` this buyer can get"
    )
    cost: Series = Field(description="USD/kg of activity: price, toll, freight")
    lead_time_months: NonNegative = Field(0.0, description="Months from activity to output")
    risk: Share = Field(0.0, description="Policy-risk score in [0, 1]")
    reserved: Series = Field(0.0, description="t of activity per period claimed by others first")
    min_take: Series = Field(0.0, description="t of activity per period paid for (take-or-pay)")
    offtake: Offtake | None = Field(None, description="Offtake terms under uncertainty (section 6)")
    expansions: Annotated[list[Expansion], Field(min_length=1)] | None = Field(
        None, description="Modules of capacity the plan may fund (section 7)"
    )

    @property
    def display_name(self) -> str:
        return self.name or self.id


class Demand(_Entity):
    """What the buyer needs: tonnes of one product for one segment."""

    segment: StrictStr = Field(description="Who needs it (defense, commercial, ...)")
    product: StrictStr = Field(description="A product key of `products`")
    quantity: Series = Field(description="t per period")
    shortfall_penalty: Series | None = Field(
        None, description="USD/kg left unmet (default: the product's)"
    )
    clean_only_from: PeriodLabel | None = Field(
        None, description="From this period only clean material may serve it"
    )


class _Policy(_Entity):
    #: The field a sweep may move (share, limit), or None.
    swept: ClassVar[str | None] = None
    #: Does it read use by maker (SPEC section 3: its products are tracked)?
    tracks_makers: ClassVar[bool] = False

    from_: PeriodLabel | None = Field(None, alias="from", description="First period (inclusive)")
    to: PeriodLabel | None = Field(None, description="Last period (inclusive)")


NonEmptyStrings = Annotated[list[StrictStr], Field(min_length=1)]


class MaxCoveredShare(_Policy):
    """At most `share` of deliveries may be covered material."""

    swept: ClassVar[str | None] = "share"

    type: Literal["max_covered_share"] = Field(description="Policy type")
    share: Share = Field(description="Largest covered share of deliveries, in [0, 1]")
    products: NonEmptyStrings | None = Field(None, description="Products it applies to (default: all demanded)")
    segments: NonEmptyStrings | None = Field(None, description="Demand segments it applies to (default: all)")


class MaxCountryShare(_Policy):
    """No single country may make more than `share` of what is used."""

    swept: ClassVar[str | None] = "share"
    tracks_makers: ClassVar[bool] = True

    type: Literal["max_country_share"] = Field(description="Policy type")
    share: Share = Field(description="Largest share of use from one country, in [0, 1]")
    products: NonEmptyStrings | None = Field(None, description="Products it applies to (default: all)")
    countries: NonEmptyStrings | None = Field(None, description="Countries it caps, ISO alpha-2 (default: every one)")


class MaxAverageRisk(_Policy):
    """The use-weighted average risk score may not pass `limit`."""

    swept: ClassVar[str | None] = "limit"
    tracks_makers: ClassVar[bool] = True

    type: Literal["max_average_risk"] = Field(description="Policy type")
    limit: Share = Field(description="Largest average policy-risk score, in [0, 1]")
    products: NonEmptyStrings | None = Field(None, description="Products it applies to (default: all)")


class Exclude(_Policy):
    """No activity at the facilities matched (all of the given fields)."""

    type: Literal["exclude"] = Field(description="Policy type")
    countries: NonEmptyStrings | None = Field(None, description="Countries excluded, ISO alpha-2")
    facilities: NonEmptyStrings | None = Field(None, description="Facility ids excluded")
    stage: Stage | None = Field(None, description="Stage excluded (with countries: that stage there)")


class MaxCapex(_Policy):
    """A funding budget: the capex of the matched expansions decided in from..to (SPEC section 7)."""

    swept: ClassVar[str | None] = "limit"

    type: Literal["max_capex"] = Field(description="Policy type")
    limit: NonNegative = Field(description="USD million of capex committed, at most")
    facilities: NonEmptyStrings | None = Field(None, description="Facility ids whose expansions it counts (default: all)")
    countries: NonEmptyStrings | None = Field(None, description="Countries whose expansions it counts, ISO alpha-2")


def policy_type(model: type) -> str:
    """The `type` a policy model is written with (its Literal)."""
    return get_args(model.model_fields["type"].annotation)[0]


#: The policy types of the format: type -> pydantic model. A new type is a
#: model here and its builder in the registry of model/policies.py.
POLICY_MODELS: dict[str, type] = {
    policy_type(model): model for model in (MaxCoveredShare, MaxCountryShare, MaxAverageRisk, Exclude, MaxCapex)
}
POLICY_TYPES = tuple(POLICY_MODELS)
Policy = Annotated[Union[tuple(POLICY_MODELS.values())], Field(discriminator="type")]


class Scale(BaseModel):
    """Multiply a numeric field of the facilities or demand entries matched."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    where: dict[StrictStr, Any] = Field(
        default_factory=dict, description="Field -> value every matched entity has (empty: all of that kind)"
    )
    field: Literal[
        "cost", "capacity", "availability", "reserved", "min_take", "capex", "quantity", "shortfall_penalty"
    ] = Field(description="The field multiplied (same unit as the field; capex: every expansion's of the facility)")
    factor: NonNegative = Field(description="Multiplier, >= 0 (1.5: half as much again)")


class Shift(BaseModel):
    """Move the `online` period of the facilities matched."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    where: dict[StrictStr, Any] = Field(
        default_factory=dict, description="Field -> value every matched facility has (empty: all)"
    )
    field: Literal["online"] = Field("online", description="The field moved (only `online`)")
    by: StrictInt = Field(description="Periods later (negative: earlier)")


class Scenario(_Entity):
    """A named patch of the instance: set, then scale and shift, then add_policies."""

    description: str | None = Field(None, description="What the scenario asks (shown in reports)")
    set: dict[StrictStr, dict[StrictStr, Any]] = Field(
        default_factory=dict, description="Facility id -> fields overridden"
    )
    scale: list[Scale] = Field(default_factory=list, description="Multipliers, applied in order")
    shift: list[Shift] = Field(default_factory=list, description="Moves of `online`, applied in order")
    add_policies: list[Policy] = Field(default_factory=list, description="Policies added for this scenario")


class Outcome(_Entity):
    scenario: StrictStr | None = Field(
        None, description="Scenario name(s), comma separated, applied in this outcome (absent: no change)"
    )
    probability: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_number)] = Field(
        description="Probability of this outcome, in [0, 1]"
    )


class Event(_Entity):
    """An independent event: each future picks one of its outcomes."""

    name: StrictStr = Field(description="Name of the event (shown in the futures' names)")
    outcomes: Annotated[list[Outcome], Field(min_length=1)] = Field(
        description="Its outcomes; their probabilities sum to 1"
    )


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    n: Annotated[StrictInt, Field(ge=1)] = Field(description="Number of futures drawn")
    seed: StrictInt = Field(0, description="Seed of the random generator")


class Uncertainty(_Entity):
    """Two-stage decisions under uncertainty (SPEC section 6)."""

    reveal: PeriodLabel | None = Field(
        None, description="First period that differs between futures (default: the second period)"
    )
    alpha: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), BeforeValidator(_number)] = Field(
        0.9, description="CVaR level: the mean of the worst (1 - alpha) of outcomes"
    )
    omega: Share = Field(0.0, description="Weight of CVaR in the objective (0: risk-neutral)")
    events: list[Event] = Field(default_factory=list, description="Independent events; futures combine their outcomes")
    sample: Sample | None = Field(None, description="Draw n futures instead of every combination")

    def combinations(self) -> int:
        """How many futures every combination of outcomes makes."""
        return math.prod(len(event.outcomes) for event in self.events)

    def positive_combinations(self) -> int:
        """How many combinations have probability > 0: a future of
        probability 0 (an outcome given probability 0) is dropped (section 6)."""
        return math.prod(sum(1 for o in event.outcomes if o.probability > 0) for event in self.events)

    def future_count(self, sample: Sample | Mapping | None = None) -> int:
        """How many futures are built: n draws with a sample (the section's own
        unless one is given), else every combination of probability > 0."""
        sample = sample if sample is not None else self.sample
        if sample is None:
            return self.positive_combinations()
        return int(sample["n"] if isinstance(sample, Mapping) else sample.n)

    def dropped_futures(self, sample: Sample | Mapping | None = None) -> int:
        """How many combinations of probability 0 are dropped (none with a
        sample: an outcome of probability 0 is never drawn)."""
        sample = sample if sample is not None else self.sample
        return self.combinations() - self.positive_combinations() if sample is None else 0


class Instance(_Entity):
    """A whole planning problem: periods, products, facilities, demand, policies."""

    name: str = Field("instance", description="Short name, shown in outputs")
    description: str | None = Field(None, description="What the instance models")
    period_length_months: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] = Field(
        12.0, description="Months per period (12: years, 3: quarters)"
    )
    periods: Annotated[list[PeriodLabel], Field(min_length=1)] = Field(
        description="Ordered period labels (years such as 2026, or text such as 2026Q1)"
    )
    covered_countries: list[StrictStr] = Field(
        default_factory=lambda: ["CN"], description="ISO alpha-2 codes whose material is `covered`"
    )
    discount_rate: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), BeforeValidator(_number)] = Field(
        0.08, description="Per year, for the capital charges of expansions (section 7)"
    )
    end_of_horizon: Literal["lost", "kept"] = Field(
        "lost",
        description="Output due after the last period: lost (default), or kept (it arrives in the last period)",
    )
    sources: list[Any] = Field(
        default_factory=list, description="Free-form source items (id, title, url, ...) cited by `source`"
    )
    products: dict[StrictStr, Product] = Field(description="Product key -> product")
    facilities: list[Facility] = Field(description="Every source the buyer can draw on")
    demand: list[Demand] = Field(default_factory=list, description="What the buyer needs, per segment and product")
    policies: list[Policy] = Field(default_factory=list, description="Caps and exclusions on the plan")
    scenarios: dict[StrictStr, Scenario] = Field(default_factory=dict, description="Scenario name -> patch")
    uncertainty: Uncertainty | None = Field(None, description="Futures and risk (SPEC section 6)")

    def facility(self, facility_id: str) -> Facility:
        for facility in self.facilities:
            if facility.id == facility_id:
                return facility
        raise KeyError(facility_id)


# --------------------------------------------------------------------------
# Problems: what is wrong, and where


@dataclass(frozen=True)
class Problem:
    location: str
    message: str
    file: str | None = None
    line: int | None = None
    entity: str | None = None  # the entry's id (facility), segment / product (demand) or type (policy), shown beside its index

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        location = self.location
        found = _ENTITY_INDEX.match(location) if self.entity else None
        if found:  # the entry's id beside its index: facilities[2] (lynas_malaysia_hre1).capacity
            location = f"{found.group(0)} ({self.entity}){location[found.end():]}"
        return f"{where}{location}: {self.message}" if location else where + self.message


_ENTITY_INDEX = re.compile(r"^(facilities|demand|policies)\[(\d+)\]")


def with_entities(problems: list[Problem], data) -> list[Problem]:
    """Each problem inside a list entry also names the entry, for people:
    `facilities[2] (lynas_malaysia_hre1).capacity`, `demand[0] (defense / ndfeb_magnet)`,
    `policies[1] (max_country_share).share`. `Problem.location` itself is unchanged."""
    out = []
    for problem in problems:
        found = _ENTITY_INDEX.match(problem.location or "")
        items = data.get(found.group(1)) if found and isinstance(data, Mapping) else None
        index = int(found.group(2)) if found else 0
        label = None
        if isinstance(items, list) and index < len(items) and isinstance(items[index], Mapping):
            item = items[index]
            if found.group(1) == "facilities":
                label = item.get("id")
            elif found.group(1) == "demand":
                parts = [item.get("segment"), item.get("product")]
                label = " / ".join(str(p) for p in parts if isinstance(p, (str, int))) or None
            else:
                label = item.get("type")
        if isinstance(label, (str, int)) and not isinstance(label, bool) and str(label).strip():
            problem = replace(problem, entity=_shown(str(label).strip())[:80])
        out.append(problem)
    return out


class InstanceError(ValueError):
    """A bad instance: every problem found, each with its location."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        head = f"the instance has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head] + [f"  - {p}" for p in self.problems]))


class Key:
    """A mapping key in a location (a period label may be an int, not an index)."""

    def __init__(self, key):
        self.key = key

    def __eq__(self, other):
        return isinstance(other, Key) and (type(self.key), self.key) == (type(other.key), other.key)

    def __hash__(self):
        return hash(("Key", self.key))


def _shown(key) -> str:
    """A key as written, or quoted with escapes where it holds a character a
    terminal would act on (a line break, an escape sequence)."""
    text = str(key)
    return text if text.isprintable() else repr(text)


def format_location(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, Key):
            out += f".{_shown(part.key)}"
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_shown(part)}" if out else _shown(part)
    return out


class _Locator:
    """Maps a path in the input to the file and line it came from."""

    def __init__(self, file: str | None = None, lines: dict[tuple, int] | None = None):
        self.file = file
        self.lines = lines or {}

    def problem(self, path: tuple, message: str) -> Problem:
        line = None
        probe = tuple(p.key if isinstance(p, Key) else p for p in path)
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe[:-1]
        if line is None:
            line = self.lines.get(())
        if isinstance(line, tuple):  # a row of a CSV table the instance names
            return Problem(format_location(path), message, line[0], line[1])
        return Problem(format_location(path), message, self.file, line)


# --------------------------------------------------------------------------
# Loading


def _read_table(path: Path, display: str, key: str, lines: dict, problems: list, budget: int) -> list:
    """A CSV table of facilities or demand: one row per entity.

    Its cells count against the same node budget as the document."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        if isinstance(error, pd.errors.ParserError) or isinstance(error, UnicodeDecodeError):
            reason = str(error).splitlines()[0][:200]
        problems.append(Problem(key, f"cannot read the table {display}: {reason}"))
        return []
    if frame.size > budget:
        problems.append(Problem(key, f"the table {display} has more than {budget:,} cells; refused"))
        return []
    rows = []
    spent = 0
    for index, record in enumerate(frame.to_dict("records")):
        row = {}
        for column, cell in record.items():
            cell = cell.strip()
            if cell == "":
                continue
            try:
                row[column], spent = bounded_yaml.scalar(cell, spent, budget)
            except bounded_yaml.TooLarge as error:
                problems.append(Problem(f"{key}[{index}].{column}", error.message))
                return []
            except yaml.YAMLError:
                row[column] = cell
        rows.append(row)
        lines[(key, index)] = index + 2
    return rows


def _table_path(folder: Path, name: str) -> Path | None:
    """The CSV table `name` if it lies in `folder` or below it (symlinks
    resolved), else None: an instance reads no file outside its folder."""
    relative = Path(name)
    if relative.is_absolute() or relative.drive or ".." in relative.parts:
        return None
    base = folder.resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        return None
    return target


def _too_big(size: int) -> str:
    return (
        f"the file is {size / 2**20:,.1f} MB; an instance file or table may be at most "
        f"{bounded_yaml.MAX_BYTES // 2**20} MB (refused before reading)"
    )


def _yaml_problem(error: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """What is wrong with a YAML document, and on which line."""
    if isinstance(error, bounded_yaml.TooLarge):
        return error.message, error.line
    if isinstance(error, yaml.reader.ReaderError):  # a control character, bad UTF-8
        character = error.character
        what = f"#x{ord(character) if isinstance(character, str) else character:02x}"
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)  # libyaml counts bytes, PyYAML characters
        line = text[: found.start()].count("\n") + 1 if found else None
        return f"not valid YAML: the character {what} is not allowed ({error.reason})", line
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark else None
    reason = getattr(error, "problem", None) or str(error)
    return f"not valid YAML: {reason}", line


def read_instance_data(path: str | os.PathLike, readers: Mapping | None = None) -> tuple[dict, _Locator]:
    """Read a YAML or JSON file (tables may be CSV files it names, in its
    folder), or another format by its suffix in `readers` (path -> (data,
    locator)): loading.py gives the workbook reader."""
    path = Path(path)
    display = str(path)
    try:
        size = path.stat().st_size
        if size > bounded_yaml.MAX_BYTES:
            raise InstanceError([Problem("", _too_big(size), display)])
        if readers and path.suffix.lower() in readers:
            return readers[path.suffix.lower()](path)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = None
        try:
            line = path.read_bytes()[: error.start].count(b"\n") + 1
        except OSError:
            pass
        raise InstanceError([Problem("", f"not UTF-8 text (byte 0x{error.object[error.start]:02x})", display, line)])
    except OSError as error:
        raise InstanceError([Problem("", f"cannot read the instance: {error.strerror}", display)])
    try:
        data, lines = bounded_yaml.load_yaml(text)
    except bounded_yaml.DuplicateKeys as error:
        raise InstanceError(
            [
                Problem(
                    format_location(key_path),
                    f"this key is written twice in the same mapping (first on line {first}); "
                    "YAML would keep the last one silently: keep one",
                    display,
                    line,
                )
                for key_path, first, line in error.duplicates
            ]
        ) from None
    except yaml.YAMLError as error:
        message, line = _yaml_problem(error, text)
        if path.suffix.lower() == ".json" and not isinstance(error, bounded_yaml.TooLarge):
            try:
                data, lines = bounded_yaml.load_json(text), {}
            except bounded_yaml.TooLarge as json_error:
                raise InstanceError([Problem("", json_error.message, display, json_error.line)])
            except json.JSONDecodeError as json_error:
                raise InstanceError(
                    [Problem("", f"not valid JSON: {json_error.msg}", display, json_error.lineno)]
                )
        else:
            raise InstanceError([Problem("", message, display, line)])
    if not isinstance(data, dict):
        raise InstanceError([Problem("", "expected a mapping of instance fields at the top", display, 1)])
    problems: list[Problem] = []
    for key in ("facilities", "demand"):
        table = data.get(key)
        if isinstance(table, str) and table.lower().endswith(".csv"):
            where = lines.get((key,))
            target = _table_path(path.parent, table)
            if target is None:
                problems.append(
                    Problem(
                        key,
                        f"the table {table!r} lies outside the instance's folder; a table must be "
                        "in the folder of the instance or below it (no absolute path, no `..`)",
                        display,
                        where,
                    )
                )
                continue
            if not target.is_file():
                what = "does not exist" if not target.exists() else "is not a regular file"
                problems.append(Problem(key, f"the table {table!r} {what}", display, where))
                continue
            if target.stat().st_size > bounded_yaml.MAX_BYTES:
                problems.append(Problem(key, f"the table {table!r}: {_too_big(target.stat().st_size)}", display, where))
                continue
            table_lines: dict = {}
            data[key] = _read_table(target, table, key, table_lines, problems, bounded_yaml.MAX_NODES)
            table_file = str(path.parent / table)
            for (_, index), line in table_lines.items():
                lines[(key, index)] = (table_file, line)
    if problems:
        raise InstanceError([Problem(p.location, p.message, p.file or display, p.line) for p in problems])
    return data, _Locator(display, lines)


_TYPE_ERRORS = {
    "dict_type": "a mapping",
    "list_type": "a list",
    "int_type": "an integer",
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_parsing": "an integer",
    "bool_type": "true or false",
}


#: Pydantic error types in the words of the format (their `ctx` fills the blanks).
_MESSAGES = {
    "extra_forbidden": "unknown key (misspelt?); it is not part of the format",
    "missing": "required field is missing",
    "greater_than_equal": "expected a number >= {ge}",
    "greater_than": "expected a number > {gt}",
    "less_than_equal": "expected a number <= {le}",
    "finite_number": "expected a finite number",
    "too_short": "expected a non-empty list (an empty list is refused)",
    "literal_error": "expected {expected}",
    "less_than": "expected a number < {lt}",
    "value_error": "{error}",
}


def _pydantic_problems(error: ValidationError, locator: _Locator) -> list[Problem]:
    """One problem per location; union branches (a number or a mapping) merged."""
    by_location: dict[tuple, list[dict]] = {}
    for item in error.errors():
        parts, after_mapping = [], False
        for part in item["loc"]:
            if part in POLICY_TYPES or (
                isinstance(part, str) and ("[" in part or part in ("float", "int", "str", "constrained-float"))
            ):
                after_mapping = isinstance(part, str) and part.startswith("dict[")
                continue
            parts.append(Key(part) if after_mapping else part)  # a period key, not an index
            after_mapping = False
        path = tuple(parts)
        by_location.setdefault(path, []).append(item)
    problems = []
    for path, items in by_location.items():
        specific = [i for i in items if i["type"] not in _TYPE_ERRORS]
        if not specific and any(len(other) > len(path) and other[: len(path)] == path for other in by_location):
            # a mapping where a number or a mapping is expected: what is wrong is inside it
            continue
        if specific:
            item = specific[0]
            message = item["msg"]
            kind, context = item["type"], item.get("ctx") or {}
            if kind in _MESSAGES:
                message = _MESSAGES[kind].format(**context)
        else:
            kinds = list(dict.fromkeys(_TYPE_ERRORS[i["type"]] for i in items))
            item = items[0]
            message = "expected " + " or ".join(kinds)
        given = item.get("input")
        if item["type"] not in ("missing", "union_tag_invalid", "extra_forbidden") and not isinstance(
            given, (dict, list)
        ):
            message += f" (got {given!r})"
        problems.append(locator.problem(path, message))
    return problems


def _lenient(data: Mapping) -> Instance | None:
    """The instance with each invalid entity left out (None in its place), so
    reference checks can still run beside pydantic's own problems."""
    from pydantic import TypeAdapter

    def valid(adapter, value):
        try:
            return adapter.validate_python(value)
        except ValidationError:
            return None

    try:
        periods = TypeAdapter(Annotated[list[PeriodLabel], Field(min_length=1)]).validate_python(data.get("periods"))
    except ValidationError:
        return None
    policy = TypeAdapter(Policy)

    def listed(key, adapter):
        value = data.get(key) or []
        return [valid(adapter, item) for item in value] if isinstance(value, list) else []

    def mapped(key, model):
        value = data.get(key) or {}
        return {k: valid(TypeAdapter(model), v) for k, v in value.items()} if isinstance(value, dict) else {}

    covered = data.get("covered_countries", ["CN"])
    return Instance.model_construct(
        name=str(data.get("name", "instance")),
        periods=periods,
        covered_countries=[c for c in covered if isinstance(c, str)] if isinstance(covered, list) else [],
        products={k: v for k, v in mapped("products", Product).items() if v is not None}
        | {k: None for k, v in mapped("products", Product).items() if v is None},
        facilities=listed("facilities", TypeAdapter(Facility)),
        demand=listed("demand", TypeAdapter(Demand)),
        policies=listed("policies", policy),
        scenarios={k: v for k, v in mapped("scenarios", Scenario).items() if v is not None},
    )


def parse_instance(data: Mapping, locator: _Locator | None = None) -> Instance:
    """Validate a mapping (from a file or a Python dict) into an Instance:
    shapes, ranges and references. Whether each scenario applies cleanly is
    checked by `loading.load_instance`, the path every user input takes."""
    locator = locator or _Locator()
    if not isinstance(data, Mapping):
        raise InstanceError([locator.problem((), "expected a mapping of instance fields")])
    # An empty YAML key (`policies:`) means "none", as if it were left out.
    data = {key: value for key, value in data.items() if value is not None}
    tables = [
        locator.problem(
            (key,),
            f"names the table {data[key]!r}, but only an instance read from a file may name a "
            "CSV table (it is looked for in the file's folder); give a list here",
        )
        for key in ("facilities", "demand")
        if isinstance(data.get(key), str) and data[key].lower().endswith(".csv")
    ]
    if tables:
        raise InstanceError(tables)
    try:
        instance = Instance.model_validate(data)
    except ValidationError as error:
        problems = _pydantic_problems(error, locator)
        partial = _lenient(data)
        if partial is not None:
            seen = {p.location for p in problems}
            problems += [p for p in check_instance(partial, locator) if p.location not in seen]
        problems.sort(key=lambda p: p.line or 0)
        raise InstanceError(with_entities(problems, data)) from None
    problems = check_instance(instance, locator)
    if problems:
        raise InstanceError(with_entities(problems, data))
    return instance


# --------------------------------------------------------------------------
# What pydantic cannot see


def period_grid(periods: list) -> int | None:
    """The spacing of evenly spaced integer labels, or None."""
    if not all(isinstance(p, int) for p in periods):
        return None
    if len(periods) == 1:
        return 1
    step = periods[1] - periods[0]
    if step <= 0 or any(b - a != step for a, b in zip(periods, periods[1:])):
        return None
    return step


def online_index(instance: Instance, online) -> int | None:
    """Index of `online` among the periods; may lie before or after them on an
    integer grid. None when off the grid."""
    if online is None:
        return 0
    labels = [str(p) for p in instance.periods]
    if str(online) in labels:
        return labels.index(str(online))
    shifted = re.fullmatch(r"(.+?)([+-]\d+)", str(online))
    if isinstance(online, str) and shifted and shifted.group(1) in labels:
        # "2035Q4+2": two periods after a label (what a shift past the horizon gives)
        return labels.index(shifted.group(1)) + int(shifted.group(2))
    step = period_grid(instance.periods)
    if step is None or not isinstance(online, int):
        return None
    offset = online - instance.periods[0]
    if offset % step:
        return None
    return offset // step


def listed(names, most: int = 12) -> str:
    """Names sorted and joined for a message; past `most`, how many more
    (an instance of 100,000 products must not give gigabytes of messages)."""
    names = sorted(map(str, names))
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names) - most:,} more)" if len(names) > most else "")


def capex_matches(policy: MaxCapex, facility: Facility) -> bool:
    """Does the budget count this facility's expansions (its ids and countries, both where given)?"""
    return (policy.facilities is None or facility.id in policy.facilities) and (
        policy.countries is None or facility.country in policy.countries
    )


def did_you_mean(name, known) -> str:
    """" (did you mean 'x'?)" for the closest of `known` to a mistyped `name`
    (difflib's ratio of at least 0.6), else ""."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_scenario(name, scenarios) -> str:
    """The message for a scenario name the instance does not have."""
    return f"unknown scenario {name!r}{did_you_mean(name, scenarios)}; the instance has: {listed(scenarios) or '(none)'}"


def check_instance(instance: Instance, locator: _Locator | None = None) -> list[Problem]:
    """Every reference resolves, every period key exists, every code is known."""
    locator = locator or _Locator()
    problems: list[Problem] = []

    def problem(path, message):
        problems.append(locator.problem(path, message))

    labels = [str(p) for p in instance.periods]
    label_set = set(labels)
    if len(label_set) != len(labels):
        counts = Counter(labels)
        duplicates = sorted(x for x, n in counts.items() if n > 1)
        problem(("periods",), f"period labels must be unique; repeated: {listed(duplicates)}")
    products = set(instance.products)
    segments = {d.segment for d in instance.demand if d is not None}
    known_segments = listed(segments)
    facility_ids = [f.id for f in instance.facilities if f is not None]

    def period(path, value, what="a period label"):
        if value is not None and str(value) not in label_set:
            problem(path, f"expected {what} among the periods {labels[0]}..{labels[-1]}, got {value!r}")

    def series(path, value):
        if isinstance(value, dict):
            for key in value:
                period(path + (Key(key),), key, "a period label as key")

    def country(path, code):
        if code not in ISO_ALPHA2:
            problem(path, f"expected an ISO 3166-1 alpha-2 country code (e.g. AU, CN, US), got {code!r}")

    known_products: list[str] = []

    def product(path, name):
        if name not in products:
            if not known_products:
                known_products.append(listed(products))  # once: an instance may have 100,000
            problem(path, f"unknown product {name!r}{did_you_mean(name, instance.products)}; "
                          f"products are: {known_products[0]}")

    for index, code in enumerate(instance.covered_countries):
        country(("covered_countries", index), code)
    for name, item in instance.products.items():
        if item is None:
            continue
        for field in ("shortfall_penalty", "holding_cost", "sale_price", "sale_limit"):
            series(("products", name, field), getattr(item, field))

    seen: set[str] = set()
    for index, facility in enumerate(instance.facilities):
        if facility is None:
            continue
        path = ("facilities", index)
        if facility.id in seen:
            problem(path + ("id",), f"facility id {facility.id!r} is used more than once")
        seen.add(facility.id)
        country(path + ("country",), facility.country)
        for kind in ("inputs", "outputs"):
            for name in getattr(facility, kind):
                product(path + (kind, name), name)
        if not facility.outputs:
            problem(path + ("outputs",), "a facility must produce at least one product")
        for field in ("capacity", "availability", "cost", "reserved", "min_take"):
            series(path + (field,), getattr(facility, field))
        if isinstance(facility.cost, dict) and labels[0] not in {str(k) for k in facility.cost}:
            problem(
                path + ("cost",),
                f"a cost mapping needs a key at the first period {labels[0]} "
                "(a cost that starts later would make earlier activity free)",
            )
        if facility.offtake is not None:
            series(path + ("offtake", "fee"), facility.offtake.fee)
        if facility.online is not None and online_index(instance, facility.online) is None:
            grid = period_grid(instance.periods)
            expected = (
                f"a period label, or a year on the grid of step {grid}"
                if grid
                else "one of the period labels"
            )
            problem(path + ("online",), f"expected {expected}, got {facility.online!r}")
        names: set[str] = set()
        for e, expansion in enumerate(facility.expansions or []):
            where = path + ("expansions", e)
            if expansion.name in names:
                problem(where + ("name",), f"expansion name {expansion.name!r} is used more than once in facility {facility.id!r}")
            names.add(expansion.name)
            period(where + ("earliest",), expansion.earliest)
            period(where + ("latest",), expansion.latest)
            if (
                expansion.earliest is not None and expansion.latest is not None
                and str(expansion.earliest) in label_set and str(expansion.latest) in label_set
                and labels.index(str(expansion.earliest)) > labels.index(str(expansion.latest))
            ):
                problem(where + ("latest",), f"`latest` ({expansion.latest}) comes before `earliest` ({expansion.earliest})")

    for index, entry in enumerate(instance.demand):
        if entry is None:
            continue
        path = ("demand", index)
        product(path + ("product",), entry.product)
        series(path + ("quantity",), entry.quantity)
        if entry.shortfall_penalty is not None:
            series(path + ("shortfall_penalty",), entry.shortfall_penalty)
        period(path + ("clean_only_from",), entry.clean_only_from)

    def check_policy(path, policy):
        period(path + ("from",), policy.from_)
        period(path + ("to",), policy.to)
        if (
            policy.from_ is not None
            and policy.to is not None
            and str(policy.from_) in label_set
            and str(policy.to) in label_set
            and labels.index(str(policy.from_)) > labels.index(str(policy.to))
        ):
            problem(path + ("to",), f"`to` ({policy.to}) comes before `from` ({policy.from_})")
        for index, name in enumerate(getattr(policy, "products", None) or []):
            product(path + ("products", index), name)
        if isinstance(policy, MaxCoveredShare):
            for index, name in enumerate(policy.segments or []):
                if name not in segments:
                    problem(
                        path + ("segments", index),
                        f"no demand entry has segment {name!r}; segments are: "
                        f"{known_segments or '(none)'}",
                    )
        if isinstance(policy, (MaxCountryShare, Exclude, MaxCapex)):
            for index, code in enumerate(policy.countries or []):
                country(path + ("countries", index), code)
        if isinstance(policy, (Exclude, MaxCapex)):
            for index, name in enumerate(policy.facilities or []):
                if name not in facility_ids:
                    problem(path + ("facilities", index), f"unknown facility id {name!r}{did_you_mean(name, facility_ids)}")
        if isinstance(policy, Exclude) and not (policy.countries or policy.facilities or policy.stage):
            problem(path, "an exclude policy needs at least one of countries, facilities, stage")
        if isinstance(policy, MaxCapex) and not any(
            capex_matches(policy, f) for f in instance.facilities if f is not None and f.expansions
        ):
            problem(path, "a max_capex policy must count at least one expansion: its facilities and countries match none")

    for index, policy in enumerate(instance.policies):
        if policy is not None:
            check_policy(("policies", index), policy)
    for name, scenario in instance.scenarios.items():
        for index, policy in enumerate(scenario.add_policies):
            check_policy(("scenarios", name, "add_policies", index), policy)
    if getattr(instance, "uncertainty", None) is not None:
        problems += check_uncertainty(instance, locator)
    return problems


#: What a scenario named by an uncertainty event may `set` on a facility: what
#: varies by period (SPEC section 6); every future has the same supply chain.
FUTURE_FIELDS = ("capacity", "availability", "reserved", "min_take", "cost", "online", "ramp_up")


def check_uncertainty(instance: Instance, locator: _Locator) -> list[Problem]:
    """Section 6: events, outcomes, probabilities, scenarios that may vary, reveal."""
    problems: list[Problem] = []
    uncertainty = instance.uncertainty
    base = ("uncertainty",)
    labels = [str(p) for p in instance.periods]
    if uncertainty.reveal is not None and str(uncertainty.reveal) not in labels:
        problems.append(locator.problem(
            base + ("reveal",),
            f"expected a period label among the periods {labels[0]}..{labels[-1]}, got {uncertainty.reveal!r}",
        ))
    named: dict[str, tuple] = {}
    seen: set[str] = set()
    for e, event in enumerate(uncertainty.events):
        path = base + ("events", e)
        if event.name in seen:
            problems.append(locator.problem(path + ("name",), f"event name {event.name!r} is used more than once"))
        seen.add(event.name)
        total = sum(outcome.probability for outcome in event.outcomes)
        if abs(total - 1.0) > 1e-9:
            problems.append(locator.problem(
                path + ("outcomes",),
                f"the probabilities of event {event.name!r} must sum to 1, got {total:.12g}",
            ))
        for o, outcome in enumerate(event.outcomes):
            for name in (n.strip() for n in (outcome.scenario or "").split(",")):
                if not name:
                    continue
                if name not in instance.scenarios:
                    problems.append(locator.problem(
                        path + ("outcomes", o, "scenario"), unknown_scenario(name, instance.scenarios),
                    ))
                else:
                    named.setdefault(name, path + ("outcomes", o, "scenario"))
    for name, where in named.items():
        for index, step in enumerate(instance.scenarios[name].scale):
            if step.field == "capex":
                problems.append(locator.problem(
                    ("scenarios", name, "scale", index, "field"),
                    f"scenario {name!r} is an outcome of {format_location(where)}, so it may not change an "
                    "expansion's capex: every future has the same investment options (a capex overrun is a "
                    "deterministic scenario, for the tornado)",
                ))
        for facility_id, fields in instance.scenarios[name].set.items():
            for field in fields:
                if field not in FUTURE_FIELDS:
                    problems.append(locator.problem(
                        ("scenarios", name, "set", facility_id, field),
                        f"scenario {name!r} is an outcome of {format_location(where)}, so it may change only "
                        f"what varies by period ({', '.join(FUTURE_FIELDS)}, demand quantity and "
                        f"shortfall_penalty, policies); not {field!r}: every future has the same supply chain",
                    ))
    return problems
