"""Ranging: how far each facility's cost and each capacity may move before
the plan changes (the sensitivity report of an LP desk).

Read at the cost-minimal solve, from the optimal basis HiGHS holds right
then, *before* the tie-break solve (SPEC section 3): the tie-break moves
to another cost-optimal vertex chosen for a secondary goal, and ranges
read there would describe that vertex, not the least-cost plan. So the
solver calls :func:`read_ranging` between the two solves
(`CompiledModel.solve(at_optimum=...)`), and :func:`ranging_table` turns
what it read into business rows.

**Cost of a facility in a period.** A facility's price (USD/kg of
activity) sits on several columns of the model: one per label it can
make (clean, covered) and, for a trader, one per maker it passes on; or
on its single `paid` column under take-or-pay. A price change moves all
of them together, so the range is computed along that direction:
with `d` = 1 on the facility-period's columns, the reduced costs move as

    r_j(delta) = r_j + delta (d_j - sum_{k basic in d} (B^-1 A)_kj)
    y_i(delta) = y_i + delta (B^-T d_B)_i            (row duals)

and the basis stays optimal while every nonbasic column and row keeps its
sign (at lower bound >= 0, at upper bound <= 0, equations free). That is
exactly HiGHS's column cost ranging (`Highs.getRanging`) when the
facility-period has one column, which is what HiGHS gives us there; when
none of its columns is basic the reduced costs move one for one, which is
the intersection of HiGHS's column ranges; otherwise the formula above is
evaluated with one of HiGHS's basis solves, y_d = B^-T d_B
(`getBasisTransposeSolve`), the column rates being d - A^T y_d.

**Capacity.** The right-hand side ranging of the row `capacity[f,t]`
(usable capacity: after ramp-up, reservations and availability): for a
binding row, HiGHS's `row_bound_up/dn`, the interval over which its
shadow price holds; for a row with room left, from the plan's use of it
up, with no upper limit.

Units: the model is in USD million and tonnes, so a cost coefficient of
1 is USD 1000/kg; the table is in USD/kg and t. An end that does not exist
is +-inf in the table and "no upper limit" / "no lower limit" in words.

**What an end means.** Inside a range the least-cost plan is certain to
stay optimal (its basis does). Just past an end the basis changes; the
plan changes with it unless the LP is degenerate there, where another
basis of the same plan takes over and the plan holds a little further.
So an end is where the plan *may* change, and the words say so ("the plan
holds", "it may take more"). On the SPEC example, Lynas's 2027 price
range ends at USD 97.36/kg and the plan still holds at 97.4; it changes
by 100 (a degenerate vertex). On the hand-derived instances of
tests/test_ranging.py the plan changes just past every end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
from scipy import sparse

from .data import ModelData
from .model.flows import ACTIVITY, CAPACITY, price_columns

RANGING_COLUMNS = [
    "kind", "facility", "name", "country", "period", "value", "lower", "upper", "unit", "used_t", "room_pct", "tie",
    "meaning",
]
USD_PER_KG = 1000.0  # USD/kg per (USD million per t)
TOLERANCE = 1e-9
USE_TOLERANCE_T = 1e-6
#: Less room than this on a side is a tie, not a tight range: prices are
#: quoted in cents, and a basis that changes within a cent marks an
#: alternative that is as cheap to within a cent.
TIE_USD_PER_KG = 0.01
TIE_T = 1e-3  # the same for capacities


@dataclass
class RawRanging:
    """What the solver read at the cost-minimal basis, in model units,
    keyed (facility id, period index)."""

    cost: dict = field(default_factory=dict)  # -> (coefficient now, lower, upper), USD million per t
    capacity: dict = field(default_factory=dict)  # -> (rhs now, lower, upper, binding), t
    used_t: dict = field(default_factory=dict)  # -> t of activity in the cost-minimal plan


def _interval(values: np.ndarray, rates: np.ndarray, signs: np.ndarray) -> tuple[float, float]:
    """The delta interval keeping sign * (value + delta rate) >= 0 for all."""
    a = np.maximum(signs * values, 0.0)
    b = signs * rates
    scale = max(1.0, float(np.max(np.abs(rates))) if len(rates) else 1.0)
    falling = b < -TOLERANCE * scale
    rising = b > TOLERANCE * scale
    upper = float(np.min(a[falling] / -b[falling])) if falling.any() else np.inf
    lower = float(np.max(-a[rising] / b[rising])) if rising.any() else -np.inf
    return lower, upper


class _Basis:
    """The optimal basis, its duals and the signs they must keep."""

    def __init__(self, highs: highspy.Highs, lp_lower, lp_upper, row_lower, row_upper, lp=None):
        lp = lp if lp is not None else highs.getLp()
        matrix = lp.a_matrix_
        if matrix.format_ != highspy.MatrixFormat.kColwise:
            raise RuntimeError("ranging expects HiGHS's column-wise matrix")
        self.matrix_t = sparse.csc_matrix(
            (np.asarray(matrix.value_, dtype=float), np.asarray(matrix.index_), np.asarray(matrix.start_)),
            shape=(lp.num_row_, lp.num_col_),
        ).T.tocsr()  # A^T, for the column rates A^T y
        solution = highs.getSolution()
        basis = highs.getBasis()
        self.highs = highs
        self.col_dual = np.asarray(solution.col_dual, dtype=float)
        self.row_dual = np.asarray(solution.row_dual, dtype=float)
        col_status = np.array([int(s) for s in basis.col_status])
        row_status = np.array([int(s) for s in basis.row_status])
        self.row_basic = row_status == int(highspy.HighsBasisStatus.kBasic)
        lower, upper, basic = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kUpper), int(
            highspy.HighsBasisStatus.kBasic
        )
        self.col_sign = np.where(col_status == lower, 1.0, np.where(col_status == upper, -1.0, 0.0))
        self.col_sign[lp_lower == lp_upper] = 0.0  # fixed columns may have any reduced cost
        self.row_sign = np.where(row_status == lower, 1.0, np.where(row_status == upper, -1.0, 0.0))
        self.row_sign[row_lower == row_upper] = 0.0  # equations: any dual
        _, order = highs.getBasicVariables()
        self.position = {int(v): k for k, v in enumerate(order) if v >= 0}
        self.row_count = len(row_status)
        self.col_basic = col_status == basic

    def direction(self, columns: np.ndarray) -> tuple[float, float]:
        """The cost change (model units) that keeps the basis optimal when
        every column of `columns` moves by the same amount."""
        col_rate = np.zeros(len(self.col_dual))
        col_rate[columns] = 1.0
        row_rate = np.zeros(self.row_count)
        members = [self.position[c] for c in columns.tolist() if c in self.position]
        if members:
            d_basic = np.zeros(self.row_count)
            d_basic[members] = 1.0
            _, row_rate = self.highs.getBasisTransposeSolve(d_basic)  # y_d = B^-T d_B
            row_rate = np.asarray(row_rate, dtype=float)
            col_rate -= self.matrix_t @ row_rate  # d - A^T y_d = d - sum_k (B^-1 A)_k
        col_rate[self.col_basic] = 0.0
        cols = self.col_sign != 0
        rows = self.row_sign != 0
        lo_c, hi_c = _interval(self.col_dual[cols], col_rate[cols], self.col_sign[cols])
        lo_r, hi_r = _interval(self.row_dual[rows], row_rate[rows], self.row_sign[rows])
        return max(lo_c, lo_r), min(hi_c, hi_r)


def read_ranging(compiled) -> RawRanging | None:
    """Cost and capacity ranges at the basis HiGHS holds now (call it right
    after the cost-minimal solve). None if HiGHS cannot range it."""
    highs = compiled.highs
    status, ranging = highs.getRanging()
    if status == highspy.HighsStatus.kError or not ranging.valid:
        return None
    lp = highs.getLp()
    col_lower, col_upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    row_lower, row_upper = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    cost = np.asarray(lp.col_cost_, dtype=float)
    solution = highs.getSolution()
    values = np.asarray(solution.col_value, dtype=float)
    row_values = np.asarray(solution.row_value, dtype=float)
    cost_up = np.asarray(ranging.col_cost_up.value_, dtype=float)
    cost_dn = np.asarray(ranging.col_cost_dn.value_, dtype=float)
    basis = _Basis(highs, col_lower, col_upper, row_lower, row_upper, lp)

    raw = RawRanging()
    act_keys, act_cols = compiled.columns_of(ACTIVITY)
    for (f_id, _, _, t), col in zip(act_keys, act_cols):
        raw.used_t[(f_id, t)] = raw.used_t.get((f_id, t), 0.0) + values[col]
    for key, cols in price_columns(compiled).items():
        now = float(cost[cols[0]])
        if len(cols) == 1 or not basis.col_basic[cols].any():
            # HiGHS's own column ranging (for several nonbasic columns their intersection is exact)
            lower, upper = float(np.max(cost_dn[cols])), float(np.min(cost_up[cols]))
        else:
            down, up = basis.direction(cols)
            lower, upper = now + down, now + up
        raw.cost[key] = (now, _clean(lower), _clean(upper))

    up = np.asarray(ranging.row_bound_up.value_, dtype=float)
    dn = np.asarray(ranging.row_bound_dn.value_, dtype=float)
    for key, row in zip(*compiled.rows_of(CAPACITY)):
        rhs = float(row_upper[row])
        if basis.row_basic[row]:
            raw.capacity[key] = (rhs, float(row_values[row]), np.inf, False)
        else:
            raw.capacity[key] = (rhs, _clean(dn[row]), _clean(up[row]), True)
    return raw


def _clean(value: float) -> float:
    """HiGHS's infinity (1e30 and beyond) as inf."""
    value = float(value)
    if value >= highspy.kHighsInf or value >= 1e29:
        return np.inf
    if value <= -highspy.kHighsInf or value <= -1e29:
        return -np.inf
    return value + 0.0  # no "-0"


# --------------------------------------------------------------------------
# The table, in business words


def empty_ranging() -> pd.DataFrame:
    return pd.DataFrame(columns=RANGING_COLUMNS)


def _usd(value: float, digits: int = 1) -> str:
    return f"USD {value:,.{digits}f}/kg"


def _digits(now: float, *ends: float) -> int:
    """Decimals enough to tell the ends from the value now (1 to 3)."""
    gaps = [abs(e - now) for e in ends if np.isfinite(e) and abs(e - now) > TIE_USD_PER_KG]
    gap = min(gaps) if gaps else 1.0
    return 1 if gap >= 0.05 else 2 if gap >= 0.005 else 3


def _t(value: float) -> str:
    return f"{value:,.0f} t"


def _is_tie(kind: str, value: float, lower: float, upper: float) -> bool:
    return min(value - lower, upper - value) < (TIE_USD_PER_KG if kind == "cost" else TIE_T)


def _room_pct(value: float, lower: float, upper: float) -> float:
    """The smaller move to an end, as a percentage of the value now."""
    if not value:
        return float("nan")
    return 100.0 * min(value - lower, upper - value) / abs(value)


def cost_meaning(name: str, period, now: float, lower: float, upper: float, used: bool) -> str:
    up_tie, down_tie = upper - now < TIE_USD_PER_KG, now - lower < TIE_USD_PER_KG
    if used and up_tie and down_tie:
        return (
            f"{name} in {period} is a tie at {_usd(now, 2)}: an alternative as cheap to within a cent exists, "
            "so any move of its price may change the plan"
        )
    n = _digits(now, lower, upper)
    if used and up_tie:
        tail = f"below {_usd(lower, n)} it may take more" if np.isfinite(lower) else "no lower limit"
        return (
            f"{name} in {period} is at a tie at {_usd(now, 2)}: an alternative as cheap to within a cent exists, "
            f"so the plan may change if its price rises at all; {tail}"
        )
    if used and down_tie:
        head = (
            f"{name} may cost up to {_usd(upper, n)} in {period} and the plan holds (now {now:,.{n}f})"
            if np.isfinite(upper)
            else f"{name} stays in the plan in {period} at any price: no upper limit (now {_usd(now, n)})"
        )
        return f"{head}; the plan may change if its price falls at all (a tie to within a cent)"
    if used:
        head = (
            f"{name} may cost up to {_usd(upper, n)} in {period} and the plan holds (now {now:,.{n}f})"
            if np.isfinite(upper)
            else f"{name} stays in the plan in {period} at any price: no upper limit (now {_usd(now, n)})"
        )
        tail = f"below {_usd(lower, n)} it may take more" if np.isfinite(lower) else "no lower limit"
        return f"{head}; {tail}"
    if np.isfinite(lower):
        return (
            f"{name} is not used in {period} at {_usd(now, n)}; below {_usd(lower, n)} it may be "
            "(no upper limit)"
        )
    return f"{name} is not used in {period} at {_usd(now)}, at any price (no lower limit)"


def capacity_meaning(name: str, period, now: float, lower: float, upper: float, binding: bool, dual: float | None) -> str:
    if not binding and now - lower <= USE_TOLERANCE_T:
        return (
            f"capacity of {name} in {period} is fully used ({_t(now)}) but one more tonne is worth nothing "
            "to the plan: any less and the plan may change; no upper limit"
        )
    if not binding:
        return (
            f"capacity of {name} in {period} has room ({_t(now)}, {_t(lower)} used): it may fall to "
            f"{_t(lower)} and the plan holds; no upper limit"
        )
    high = _t(upper) if np.isfinite(upper) else "no upper limit"
    low = _t(lower) if np.isfinite(lower) else "no lower limit"
    worth = f"each tonne more is worth {_usd(dual)} to the plan" if dual is not None else "its shadow price holds"
    return (
        f"capacity of {name} in {period} binds (now {_t(now)}): from {low} to {high} {worth}; "
        "beyond, the plan's sources may change"
    )


def ranging_table(data: ModelData, raw: RawRanging | None, capacity_duals: dict | None = None) -> pd.DataFrame:
    """Solution.ranging: one row per facility and period for its cost
    (USD/kg) and one for its capacity (t). `capacity_duals`: (facility, t)
    -> shadow price of the capacity, USD/kg (positive: more saves)."""
    if raw is None:
        return empty_ranging()
    facilities = {f.id: f for f in data.facilities}
    capacity_duals = capacity_duals or {}
    rows = []
    for (f_id, t), (now, lower, upper) in raw.cost.items():
        f = facilities[f_id]
        used_t = raw.used_t.get((f_id, t), 0.0)
        now, lower, upper = now * USD_PER_KG, lower * USD_PER_KG, upper * USD_PER_KG
        period = data.periods[t]
        rows.append((
            "cost", f_id, f.name, f.country, period, now, lower, upper, "USD/kg", used_t,
            _room_pct(now, lower, upper), _is_tie("cost", now, lower, upper),
            cost_meaning(f.name, period, now, lower, upper, used_t > USE_TOLERANCE_T),
        ))
    for (f_id, t), (now, lower, upper, binding) in raw.capacity.items():
        f = facilities[f_id]
        period = data.periods[t]
        used_t = raw.used_t.get((f_id, t), 0.0)
        rows.append((
            "capacity", f_id, f.name, f.country, period, now, lower, upper, "t", used_t,
            _room_pct(now, lower, upper), _is_tie("capacity", now, lower, upper),
            capacity_meaning(f.name, period, now, lower, upper, binding, capacity_duals.get((f_id, t))),
        ))
    frame = pd.DataFrame(rows, columns=RANGING_COLUMNS)
    order = {str(p): i for i, p in enumerate(data.periods)}
    position = {f.id: i for i, f in enumerate(data.facilities)}
    frame = frame.assign(
        _k=frame["kind"].map({"cost": 0, "capacity": 1}),
        _t=frame["period"].map(lambda p: order[str(p)]),
        _f=frame["facility"].map(position),
    )
    return frame.sort_values(["_k", "_f", "_t"], kind="stable").drop(columns=["_k", "_t", "_f"]).reset_index(drop=True)


def tightest(ranging: pd.DataFrame, top: int = 5, ties: bool = False) -> pd.DataFrame:
    """The ranges with the least room (as a share of the value now) among
    facilities the plan uses: the prices and capacities a small move would
    change the plan for. Ties (less than a cent of room, or a thousandth
    of a tonne: an alternative as cheap, so any move may change the plan)
    are left out unless `ties`."""
    if ranging.empty:
        return ranging
    used = ranging[(ranging["used_t"] > USE_TOLERANCE_T) & ranging["room_pct"].notna()]
    if not ties:
        used = used[~used["tie"].astype(bool)]
    return used.sort_values("room_pct", kind="stable").head(top).reset_index(drop=True)


def tie_count(ranging: pd.DataFrame) -> int:
    """How many ranges of used facility-periods are ties (see `tightest`)."""
    if ranging.empty:
        return 0
    used = ranging[(ranging["used_t"] > USE_TOLERANCE_T) & ranging["room_pct"].notna()]
    return int(used["tie"].astype(bool).sum())
