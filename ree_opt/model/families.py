"""Family records: what each block of the model is, said once, where it is built.

A *family* is a block of variables (`act[f,l,m,t]`) or of rows
(`capacity[f,t]`). Its record, declared beside the code that builds it
(model/flows.py, model/demand.py, model/policies.py, model/investment.py,
model/offtakes.py), carries everything another layer needs to know of it:

- its index dimensions, with the period axis named (`period` for the
  period of activity, `decision` for the period a build is decided in), so
  the first-stage rule of SPEC section 6 reads the key, never a position;
- its stage rule: `by_period` (first stage before `reveal`, each future's
  own from it), `first` (always first stage: offtake reservations) or
  `second` (always the future's own: spot purchases, a budget row that
  spans the horizon);
- for variables, whether they are integer (where a lumpy expansion is) and
  what their objective term is; for rows, the wording and unit of their
  dual (`DualWords`), read by the binding table;
- how it reads in a sentence (`words`: a template over the dimensions),
  for the numerics warnings; what in the data bounds a variable
  (`bounded_by`), for progressive hedging; how its numbers follow a
  future's data (`cost_of`, `floor_of`, `bounds_of`), for evaluation.

Every other layer (solution tables, binding rows in words, numerics
warnings, ranging, the first-stage split, the PH adapter, `to_pyomo`) reads
the records; none names a block by string.

The built model itself is a `BuiltModel`: columns as contiguous blocks per
variable family, rows as (key, terms, bounds) per row family, the linear
objective, and what the policies and sweeps need. No Pyomo: `to_pyomo`
makes a Pyomo model from it when one is the point.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

#: The period axes a key may carry.
PERIOD_AXES = ("period", "decision")


@dataclass(frozen=True)
class DualWords:
    """How a row family's dual reads in the binding table.

    The dual is in USD million per unit of the row (HiGHS's sign: negative
    where relaxing the row saves); `scale` turns it into the reported value
    (-1000: USD/kg saved per t of relaxation; -1: USD million per USD
    million). `describe(data, key, value)` gives (index text, unit,
    sentence), in the words of dual_words.py."""

    describe: Callable
    scale: float = -1000.0


@dataclass(frozen=True)
class Family:
    """The record of one block of variables or rows."""

    name: str
    kind: str  # "variable" | "row"
    dims: tuple[str, ...]
    doc: str
    unit: str = "t"
    stage: str = "by_period"  # "by_period" | "first" | "second"
    integer: bool = False  # may hold integer columns (lumpy expansions)
    objective: str = ""  # the variable's term in the objective, in words
    words: str = ""  # "facility {facility} ({label} activity, {period})"
    dual: DualWords | None = None  # rows: the wording of the dual
    #: rows: does the dual still mean something when the integer builds are
    #: fixed for prices (SPEC section 7)? A budget row then reads only fixed columns.
    dual_with_builds_fixed: bool = True
    #: variables: what in the data bounds its values (a decomposition that
    #: needs finite bounds, ph.py, reads it): "facility" (its capacity),
    #: "product" (its supply), "demand" (the entry's quantity), "demand
    #: product" (the supply of the entry's product), "nameplate" (the
    #: facility's nameplate capacity), "modules" (an expansion's module count)
    bounded_by: str | None = None
    #: The numbers a future changes (per-period data: capacity, cost, floors,
    #: demand), per key, from a ModelData: what lets one kept model serve
    #: many futures in place (stochastic/template.py). `cost_of(data, keys)`:
    #: USD million per unit; `floor_of(data, keys)`: column lower bounds;
    #: rows: `bounds_of(data, keys)` -> (lower, upper). None: the numbers are
    #: the same in every future (recipes, product data, offtake terms).
    cost_of: Callable | None = None
    floor_of: Callable | None = None
    bounds_of: Callable | None = None
    #: variables whose coefficients in other families' rows follow a future's
    #: data (a funded module's capacity, from the facility's online and
    #: availability): `coefficients_of(data, keys)` -> [(key, row family, row key, coefficient)]
    coefficients_of: Callable | None = None
    #: rows: reads the plan's values instead of a dual for the binding table
    #: (take-or-pay paid above what is taken): f(data, view, family, duals, values) -> rows
    binding: Callable | None = None

    def __post_init__(self) -> None:
        if self.stage not in ("by_period", "first", "second"):
            raise ValueError(f"unknown stage rule {self.stage!r} of family {self.name}")
        if self.stage == "by_period" and self.period_axis is None:
            raise ValueError(f"family {self.name} is staged by period but has no period axis")
        known = FAMILIES.setdefault(self.name, self)
        if (known.kind, known.dims) != (self.kind, self.dims):
            raise ValueError(f"two families are named {self.name!r} (a bug in ree_opt)")

    @property
    def period_axis(self) -> int | None:
        """Position of the period in a key (None: the family has no period)."""
        for axis in PERIOD_AXES:
            if axis in self.dims:
                return self.dims.index(axis)
        return None

    def period_of(self, key) -> int | None:
        axis = self.period_axis
        return None if axis is None else key[axis]

    def first_stage(self, keys: list, reveal: int) -> np.ndarray:
        """Per key: is it first stage (shared by every future, SPEC section 6)?"""
        if self.stage == "first":
            return np.ones(len(keys), dtype=bool)
        if self.stage == "second":
            return np.zeros(len(keys), dtype=bool)
        axis = self.period_axis
        return np.fromiter((key[axis] < reveal for key in keys), dtype=bool, count=len(keys))

    def describe(self, key, say: Callable[[str, object], str]) -> str:
        """The key in words: `say(dimension, value)` renders one value."""
        values = {dim: say(dim, value) for dim, value in zip(self.dims, key)}
        return self.words.format(**values) if self.words else f"{self.name}{tuple(key)}"


#: Every family declared so far, by name (a record registers itself).
FAMILIES: dict[str, Family] = {}


def variables(name: str, dims: tuple[str, ...], doc: str, **options) -> Family:
    return Family(name, "variable", dims, doc, **options)


def rows(name: str, dims: tuple[str, ...], doc: str, **options) -> Family:
    return Family(name, "row", dims, doc, **options)


# --------------------------------------------------------------------------
# The built model


class Terms(defaultdict):
    """Row key -> list of (coefficient, column): the linear body of a row."""

    def __init__(self):
        super().__init__(list)

    def add(self, key, coef: float, column) -> None:
        if coef:
            self[key].append((coef, column))


@dataclass
class ColumnBlock:
    """One variable family's columns: contiguous, `start` to `start + len(keys)`."""

    family: Family
    keys: list
    start: int
    lower: np.ndarray | None = None  # None: 0
    upper: np.ndarray | None = None  # None: no upper bound
    integer: np.ndarray | None = None  # bool per column; None: continuous

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def columns(self) -> np.ndarray:
        return np.arange(self.start, self.start + len(self.keys), dtype=np.int64)

    def index(self) -> dict:
        """key -> column."""
        return {key: self.start + offset for offset, key in enumerate(self.keys)}


@dataclass
class RowBlock:
    """One row family: `lower <= sum(terms) <= upper`, one row per key."""

    family: Family
    keys: list
    terms: list | None  # per key: list of (coefficient, column); None once compiled and released
    lower: np.ndarray
    upper: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class BuiltModel:
    """A model as the builders leave it: column blocks, row blocks, the cost.

    Row families may be opened early and given terms by later builders
    (the capacity rows take the expansions' terms as the balance rows take
    every flow's); `finish()` turns them into blocks, dropping rows
    without terms (they could only be trivially satisfied)."""

    name: str
    columns: dict[str, ColumnBlock] = field(default_factory=dict)  # family name -> block, in column order
    rows: dict[str, RowBlock] = field(default_factory=dict)  # family name -> block, in row order
    objective: list | None = field(default_factory=list)  # (coefficient, column), USD million per unit
    column_count: int = 0
    #: policy family name -> (terms, members): what each policy coefficient is made of (sweeps)
    policy_members: dict | None = field(default_factory=dict)
    #: (product, t) -> maker -> [columns]: what the buyer uses of tracked products
    uses: dict | None = field(default_factory=dict)
    _open: dict = field(default_factory=dict)  # family name -> (family, terms, lower, upper), not yet finished

    # -- building --------------------------------------------------------------
    def add_columns(self, family: Family, keys: Iterable, lower=None, upper=None, integer=None) -> dict:
        """Columns for `family`, one per key, after those declared before;
        `lower`/`upper`: dict key -> bound (absent keys: 0 / none); `integer`:
        dict key -> bool. Returns key -> column."""
        if family.name in self.columns:
            raise RuntimeError(f"family {family.name} built twice (a bug in ree_opt)")
        keys = list(keys)

        def per_key(values, default):
            return None if values is None else np.array([values.get(k, default) for k in keys], dtype=float)

        block = ColumnBlock(
            family, keys, self.column_count, per_key(lower, 0.0), per_key(upper, np.inf),
            None if integer is None else np.array([bool(integer.get(k, False)) for k in keys], dtype=bool),
        )
        self.columns[family.name] = block
        self.column_count += len(keys)
        return block.index()

    def open_rows(self, family: Family, lower=None, upper=None) -> Terms:
        """Open a row family; its Terms may be added to until `finish()`.
        `lower`/`upper`: a number, a dict key -> number, or None (unbounded)."""
        if family.name in self._open or family.name in self.rows:
            raise RuntimeError(f"row family {family.name} opened twice (a bug in ree_opt)")
        terms = Terms()
        self._open[family.name] = (family, terms, lower, upper)
        return terms

    def terms_of(self, family: Family) -> Terms:
        """The Terms of a row family still open, for a later builder to add to."""
        return self._open[family.name][1]

    def add_rows(self, family: Family, terms: Terms, lower=None, upper=None) -> None:
        """A row family whose terms are complete."""
        if family.name in self._open or family.name in self.rows:
            raise RuntimeError(f"row family {family.name} added twice (a bug in ree_opt)")
        self._open[family.name] = (family, terms, lower, upper)

    def finish(self) -> BuiltModel:
        """Every open row family as a block, in the order they were opened
        (after those finished before)."""
        for name, (family, terms, lower, upper) in self._open.items():
            keys = [key for key, items in terms.items() if items]

            def bounds(value, infinite):
                if value is None:
                    return np.full(len(keys), infinite)
                if isinstance(value, dict):
                    return np.array([value.get(k, 0.0) for k in keys], dtype=float)
                return np.full(len(keys), float(value))

            self.rows[name] = RowBlock(
                family, keys, [terms[k] for k in keys], bounds(lower, -np.inf), bounds(upper, np.inf)
            )
        self._open = {}
        return self

    # -- reading ---------------------------------------------------------------
    def block(self, family: Family) -> ColumnBlock | None:
        return self.columns.get(family.name)

    def row_block(self, family: Family) -> RowBlock | None:
        return self.rows.get(family.name)

    def columns_of(self, family: Family) -> tuple[list, np.ndarray]:
        """Keys of a variable family and their columns (empty if not built)."""
        block = self.columns.get(family.name)
        if block is None:
            return [], np.zeros(0, dtype=np.int64)
        return block.keys, block.columns

    def has(self, family: Family) -> bool:
        return family.name in self.columns or family.name in self.rows

    @property
    def integer(self) -> bool:
        """Does any column have to be integer (a MIP)?"""
        return any(b.integer is not None and b.integer.any() for b in self.columns.values())

    def integer_groups(self) -> list[list[int]]:
        """The integer columns of each block grouped by their key without its
        period (one expansion's modules), each group in period order: what a
        branch and bound branches on the running totals of
        (branch_and_bound.KeptMIP)."""
        groups: dict = {}
        for block in self.columns.values():
            axis = block.family.period_axis
            if block.integer is None or axis is None:
                continue
            for key, column, integer in zip(block.keys, block.columns, block.integer):
                if integer:
                    groups.setdefault((block.family.name, key[:axis] + key[axis + 1:]), []).append((key[axis], int(column)))
        return [[column for _, column in sorted(members)] for members in groups.values()]

    def first_stage_columns(self, reveal: int) -> np.ndarray:
        """Per column: does it belong to the first stage (SPEC section 6)?"""
        mask = np.zeros(self.column_count, dtype=bool)
        for block in self.columns.values():
            mask[block.start : block.start + len(block)] = block.family.first_stage(block.keys, reveal)
        return mask

    def first_stage_rows(self, reveal: int) -> np.ndarray:
        """Per row (family order): rows that read only first-stage columns."""
        flags = [block.family.first_stage(block.keys, reveal) for block in self.rows.values()]
        return np.concatenate(flags) if flags else np.zeros(0, dtype=bool)

    def stage_keys(self, mask: np.ndarray) -> list:
        """(family name, key) of the columns `mask` picks, in column order."""
        keys = []
        for name, block in self.columns.items():
            picked = mask[block.start : block.start + len(block)]
            keys += [(name, key) for key, take in zip(block.keys, picked) if take]
        return keys

    def release(self) -> None:
        """Drop what only the build needed (row terms, cost terms, policy
        members, uses): a compiled future keeps its keys and its matrix."""
        for block in self.rows.values():
            block.terms = None
        self.objective = self.policy_members = self.uses = None
