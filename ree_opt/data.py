"""The instance resolved for the model: time series on the period grid,
capacities after ramp-up, reservations and availability, lead-time splits,
labels, and the makers that tracked products carry (SPEC section 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .instance import Exclude, Instance, online_index

CLEAN, COVERED = "clean", "covered"
UNTRACKED = "*"  # the single maker of an untracked product
STOCK = "stock"  # the maker of initial stock


def resolve_series(value, labels: list[str]) -> np.ndarray:
    """A number, or a mapping period -> number that holds until the next key
    (0 before the first key), as one value per period."""
    count = len(labels)
    if not isinstance(value, dict):
        return np.full(count, float(value))
    out = np.zeros(count)
    for index, item in sorted((labels.index(str(key)), item) for key, item in value.items()):
        out[index:] = float(item)
    return out


def lead_split(lead_time_months: float, period_length_months: float) -> tuple[int, float]:
    """(q, r): output of activity in t arrives as (1 - r) in t + q and r in t + q + 1."""
    ratio = lead_time_months / period_length_months
    whole = math.floor(ratio + 1e-12)
    rest = ratio - whole
    if rest < 1e-12:
        rest = 0.0
    return whole, rest


def maker_key(country: str, risk: float) -> str:
    """Makers pool by (country, risk): only those matter to the caps."""
    return f"{country}|{risk:g}"


@dataclass
class ExpansionData:
    """An expansion on the period grid (SPEC section 7): what one module
    decided in period t adds from its start s(t) = max(t + build, online)."""

    facility: str
    name: str
    capacity_t: float  # t of activity per period per module, at full rate
    capex_musd: float  # per module, committed when decided
    annuity: float  # crf(r, L) x P/12: the capital charge per period per USD million of capex
    fixed_cost_musd: float  # per module per period (fixed_cost x P/12)
    build_periods: int  # ceil(build_months / P)
    ramp: tuple[float, ...]  # the module's ramp-up, by period from its start
    decisions: tuple[int, ...]  # the periods a decision may be taken in
    modules: int
    lumpy: bool

    def start(self, t: int, online: int) -> int:
        """s(t): the first period a module decided in t has capacity."""
        return max(t + self.build_periods, online)

    def ramp_at(self, k: int) -> float:
        return self.ramp[k] if k < len(self.ramp) else 1.0

    def capacity_terms(self, t: int, facility: FacilityData) -> list[tuple[int, float]]:
        """(t', t of activity per module) that a module decided in t adds:
        availability(t') x capacity x ramp(t' - s(t)) from s(t) on (the
        online that applies in t': a future may delay it from `reveal`)."""
        return _capacity_terms(self.capacity_t, self.build_periods, self.ramp, t,
                               _as_bytes(facility.online_t, np.int64), _as_bytes(facility.availability, float))

    def charge(self, t: int, facility: FacilityData) -> float:
        """USD million per module decided in t: the capital charge from t to
        the end, and the fixed cost of the periods from its start."""
        running = _periods_running(self.build_periods, t, _as_bytes(facility.online_t, np.int64))
        return self.capex_musd * self.annuity * (len(facility.online_t) - t) + self.fixed_cost_musd * running


def _as_bytes(series: np.ndarray, dtype) -> bytes:
    return np.ascontiguousarray(series, dtype=dtype).tobytes()


# Pure functions of an expansion's figures and a facility's series (as bytes),
# kept: the evaluation asks again for each future, most with the same series.
@lru_cache(maxsize=1 << 16)
def _capacity_terms(capacity_t: float, build_periods: int, ramp: tuple, t: int, online: bytes,
                    availability: bytes) -> list[tuple[int, float]]:
    online_t, available = np.frombuffer(online, dtype=np.int64), np.frombuffer(availability, dtype=float)
    terms = []
    for later in range(t, len(online_t)):
        start = max(t + build_periods, int(online_t[later]))
        if later >= start:
            k = later - start
            value = float(available[later]) * capacity_t * (ramp[k] if k < len(ramp) else 1.0)
            if value > 0:
                terms.append((later, value))
    return terms


@lru_cache(maxsize=1 << 16)
def _periods_running(build_periods: int, t: int, online: bytes) -> int:
    """The periods from t on in which a module decided in t has started."""
    online_t = np.frombuffer(online, dtype=np.int64)
    return sum(1 for later in range(t, len(online_t)) if later >= max(t + build_periods, int(online_t[later])))


def capital_recovery(rate: float, life_years: float) -> float:
    """crf(r, L) = r / (1 - (1 + r)^-L), 1/L at r = 0: the annuity that repays
    one unit of capital over L years at rate r."""
    if rate == 0:
        return 1.0 / life_years
    return rate / (1.0 - (1.0 + rate) ** -life_years)


@dataclass
class FacilityData:
    id: str
    name: str
    company: str | None
    country: str
    stage: str
    risk: float
    covered: bool
    inputs: dict[str, float]
    outputs: dict[str, float]
    labels: tuple[str, ...]
    capacity_t: np.ndarray  # cap_f(t): t of activity this buyer may run
    ramped_t: np.ndarray  # capacity x ramp (zero before online)
    reserved_t: np.ndarray
    availability: np.ndarray
    cost_usd_per_kg: np.ndarray
    min_take_t: np.ndarray  # zero before online
    lead: tuple[int, float]
    online: int
    active: np.ndarray  # bool: activity allowed (capacity > 0 and not excluded)
    passes_through: str | None = None  # tracked product whose maker a trader keeps
    splits: tuple[str, ...] = (UNTRACKED,)  # makers of passes_through, else one
    maker: str = UNTRACKED  # maker key of its own (non-passed-through) output
    contracted: np.ndarray | None = None  # bool: paid for under an offtake (section 6), even at no min_take
    online_t: np.ndarray | None = None  # the online index that applies in each period (section 6 splices it)
    expansions: tuple[ExpansionData, ...] = ()  # what the plan may fund (section 7)


@dataclass
class ProductData:
    name: str
    shortfall_penalty: np.ndarray
    holding_cost: np.ndarray
    initial_stock_t: float
    sale_price: np.ndarray
    sale_limit_t: np.ndarray
    tracked: bool = False
    makers: tuple[str, ...] = (UNTRACKED,)


@dataclass
class DemandData:
    index: int
    segment: str
    product: str
    quantity_t: np.ndarray
    shortfall_penalty: np.ndarray
    clean_only: np.ndarray  # bool per period


@dataclass
class PolicyData:
    index: int
    kind: str
    periods: list[int]
    policy: object


@dataclass
class ModelData:
    instance: Instance
    periods: list
    labels: list[str]
    products: dict[str, ProductData]
    facilities: list[FacilityData]
    demand: list[DemandData]
    policies: list[PolicyData]
    makers: dict[str, tuple[str, float]] = field(default_factory=dict)  # key -> (country, risk)
    #: products some covered-label activity makes or consumes: only they have covered rows
    covered_products: set[str] = field(default_factory=set)

    @property
    def period_count(self) -> int:
        return len(self.periods)

    def facility(self, facility_id: str) -> FacilityData:
        for facility in self.facilities:
            if facility.id == facility_id:
                return facility
        raise KeyError(facility_id)


def _policy_periods(policy, labels: list[str]) -> list[int]:
    first = labels.index(str(policy.from_)) if policy.from_ is not None else 0
    last = labels.index(str(policy.to)) if policy.to is not None else len(labels) - 1
    return list(range(first, last + 1))


def demanded_products(instance: Instance) -> list[str]:
    return list(dict.fromkeys(entry.product for entry in instance.demand))


def tracked_products(instance: Instance) -> list[str]:
    """Products named by a policy that reads use by maker (country-share,
    average-risk)."""
    tracked: dict[str, None] = {}
    for policy in instance.policies:
        if policy.tracks_makers:
            for name in policy.products or demanded_products(instance):
                tracked[name] = None
    return list(tracked)


def usable_capacity(ramped, reserved, availability) -> np.ndarray:
    """cap_f(t) = max(0, capacity x ramp - reserved) x availability."""
    return np.maximum(0.0, ramped - reserved) * availability


def resolve(instance: Instance, open_facilities=frozenset(), tracked=()) -> ModelData:
    """`open_facilities` keep their activity columns in every period they are
    online, even at zero capacity (so a sweep can give them capacity);
    `tracked` products carry their makers even where no cap reads them (every
    future of a stochastic instance tracks the same products: section 6)."""
    labels = [str(p) for p in instance.periods]
    tracked = set(tracked_products(instance)) | set(tracked)

    products = {}
    for name, product in instance.products.items():
        products[name] = ProductData(
            name=name,
            shortfall_penalty=resolve_series(product.shortfall_penalty, labels),
            holding_cost=resolve_series(product.holding_cost, labels),
            initial_stock_t=float(product.initial_stock),
            sale_price=resolve_series(product.sale_price, labels),
            sale_limit_t=resolve_series(product.sale_limit, labels),
            tracked=name in tracked,
        )
    policies = _policies(instance, labels)
    data = ModelData(
        instance=instance,
        periods=list(instance.periods),
        labels=labels,
        products=products,
        facilities=[_facility(instance, f, policies, labels, open_facilities) for f in instance.facilities],
        demand=[],
        policies=policies,
    )
    _assign_makers(data)
    data.covered_products = covered_products(data)
    data.demand = [_demand(entry, index, products, labels) for index, entry in enumerate(instance.demand)]
    return data


def resolve_again(base: ModelData, instance: Instance) -> ModelData:
    """`instance` resolved where it differs from `base`'s: the same supply
    chain (products, recipes, countries, tracking: a future of a stochastic
    instance), other numbers. A facility or demand entry the instance leaves
    as it is, and no policy of it excludes anew, keeps `base`'s resolution."""
    labels = base.labels
    policies = _policies(instance, labels)
    known = [p.policy for p in base.policies if isinstance(p.policy, Exclude)]
    excluding = [p.policy for p in policies if isinstance(p.policy, Exclude) and p.policy not in known]
    facilities = []
    for facility, before in zip(instance.facilities, base.facilities, strict=True):
        same = facility is base.instance.facilities[len(facilities)] or facility == base.instance.facilities[len(facilities)]
        if same and not any(_excludes(policy, facility) for policy in excluding):
            facilities.append(before)
            continue
        fresh = _facility(instance, facility, policies, labels, frozenset())
        fresh.passes_through, fresh.splits, fresh.maker = before.passes_through, before.splits, before.maker
        facilities.append(fresh)
    demand = [
        before if entry == base.instance.demand[index] else _demand(entry, index, base.products, labels)
        for index, (entry, before) in enumerate(zip(instance.demand, base.demand, strict=True))
    ]
    return ModelData(
        instance=instance, periods=base.periods, labels=labels, products=base.products,
        facilities=facilities, demand=demand, policies=policies, makers=base.makers,
        covered_products=base.covered_products,
    )


def _policies(instance: Instance, labels: list[str]) -> list[PolicyData]:
    return [
        PolicyData(index, policy.type, _policy_periods(policy, labels), policy)
        for index, policy in enumerate(instance.policies)
    ]


def _facility(instance: Instance, facility, policies: list[PolicyData], labels: list[str], open_facilities) -> FacilityData:
    """One facility's figures on the period grid (SPEC section 3)."""
    count = len(labels)
    start = online_index(instance, facility.online)
    ramp = np.zeros(count)
    for t in range(count):
        k = t - start
        if k >= 0:
            ramp[t] = facility.ramp_up[k] if k < len(facility.ramp_up) else 1.0
    capacity = resolve_series(facility.capacity, labels)
    reserved = resolve_series(facility.reserved, labels)
    availability = resolve_series(facility.availability, labels)
    ramped = capacity * ramp
    usable = usable_capacity(ramped, reserved, availability)
    usable[ramp == 0] = 0.0
    online_mask = np.arange(count) >= start
    min_take = resolve_series(facility.min_take, labels) * online_mask
    covered = facility.country in instance.covered_countries
    labels_f = (COVERED,) if covered else ((CLEAN, COVERED) if facility.inputs else (CLEAN,))
    excluded = np.zeros(count, dtype=bool)
    for policy in policies:
        if isinstance(policy.policy, Exclude) and _excludes(policy.policy, facility):
            excluded[policy.periods] = True
    data = FacilityData(
        id=facility.id,
        name=facility.display_name,
        company=facility.company,
        country=facility.country,
        stage=facility.stage,
        risk=float(facility.risk),
        covered=covered,
        inputs={p: float(v) for p, v in facility.inputs.items() if v > 0},
        outputs={p: float(v) for p, v in facility.outputs.items() if v > 0},
        labels=labels_f,
        capacity_t=usable,
        ramped_t=ramped,
        reserved_t=reserved,
        availability=availability,
        cost_usd_per_kg=resolve_series(facility.cost, labels),
        min_take_t=min_take,
        lead=lead_split(facility.lead_time_months, instance.period_length_months),
        online=start,
        active=((usable > 0) | ((ramp > 0) & (facility.id in open_facilities))) & ~excluded,
        online_t=np.full(count, start, dtype=np.int64),
    )
    if facility.expansions:
        data.expansions = tuple(_expansion(instance, facility, e, labels) for e in facility.expansions)
        funded = np.zeros(count, dtype=bool)  # periods a funded module could give capacity in
        for expansion in data.expansions:
            for t in expansion.decisions:
                funded[[later for later, _ in expansion.capacity_terms(t, data)]] = True
        data.active = (data.active | funded) & ~excluded
    return data


def _expansion(instance: Instance, facility, expansion, labels: list[str]) -> ExpansionData:
    months = instance.period_length_months
    first = labels.index(str(expansion.earliest)) if expansion.earliest is not None else 0
    last = labels.index(str(expansion.latest)) if expansion.latest is not None else len(labels) - 1
    return ExpansionData(
        facility=facility.id,
        name=expansion.name,
        capacity_t=float(expansion.capacity),
        capex_musd=float(expansion.capex),
        annuity=capital_recovery(instance.discount_rate, expansion.life_years) * months / 12.0,
        fixed_cost_musd=float(expansion.fixed_cost) * months / 12.0,
        build_periods=math.ceil(expansion.build_months / months - 1e-9),
        ramp=tuple(expansion.ramp_up if expansion.ramp_up is not None else facility.ramp_up),
        decisions=tuple(range(first, last + 1)),
        modules=int(expansion.modules),
        lumpy=bool(expansion.lumpy),
    )


def _demand(entry, index: int, products: dict, labels: list[str]) -> DemandData:
    penalty = (
        resolve_series(entry.shortfall_penalty, labels)
        if entry.shortfall_penalty is not None
        else products[entry.product].shortfall_penalty
    )
    clean_only = np.zeros(len(labels), dtype=bool)
    if entry.clean_only_from is not None:
        clean_only[labels.index(str(entry.clean_only_from)) :] = True
    return DemandData(
        index=index,
        segment=entry.segment,
        product=entry.product,
        quantity_t=resolve_series(entry.quantity, labels),
        shortfall_penalty=penalty,
        clean_only=clean_only,
    )


def covered_products(data: ModelData) -> set[str]:
    """Products some covered-label activity makes or consumes."""
    needed = set()
    for facility in data.facilities:
        if COVERED in facility.labels:
            needed.update(facility.outputs)
            needed.update(facility.inputs)
    return needed


def _excludes(policy: Exclude, facility) -> bool:
    named = set(policy.facilities or ())
    countries = set(policy.countries or ())
    if named or countries:
        hit = facility.id in named or facility.country in countries
    else:
        hit = True
    return hit and (policy.stage is None or facility.stage == policy.stage)


def _assign_makers(data: ModelData) -> None:
    """Give each tracked product its makers, and each facility the maker of its
    output. A trader of a tracked product passes its maker on."""
    for facility in data.facilities:
        if facility.stage == "trade":
            passed = sorted(
                p for p in facility.inputs if p in facility.outputs and data.products[p].tracked
            )
            facility.passes_through = passed[0] if passed else None
        facility.maker = maker_key(facility.country, facility.risk)
    for product in data.products.values():
        if not product.tracked:
            continue
        makers: dict[str, None] = {}
        if product.initial_stock_t > 0:
            makers[STOCK] = None
            data.makers[STOCK] = ("", 0.0)
        for facility in data.facilities:
            if product.name in facility.outputs and facility.passes_through != product.name:
                makers[facility.maker] = None
                data.makers[facility.maker] = (facility.country, facility.risk)
        product.makers = tuple(makers)
    for facility in data.facilities:
        if facility.passes_through:
            facility.splits = data.products[facility.passes_through].makers
