"""The reference: the same LP written by hand against highspy, no Pyomo.

Covers what the synthetic instances use (untracked products, labels,
pro-rata lead times, ramp-up, availability, take-or-pay, stock, relabelling,
disposal, sales, deliveries with clean_only_from, shortfall and one
max_covered_share cap on every demanded product). It is also a second,
independent implementation of SPEC section 3 for that subset: the benchmark
checks that both give the same optimum.
"""

from __future__ import annotations

import math

import highspy
import numpy as np

INF = highspy.kHighsInf


def series(value, labels):
    if not isinstance(value, dict):
        return [float(value)] * len(labels)
    out = [0.0] * len(labels)
    for key, item in sorted(value.items(), key=lambda kv: labels.index(str(kv[0]))):
        for t in range(labels.index(str(key)), len(labels)):
            out[t] = float(item)
    return out


def online_index(online, periods) -> int:
    if online is None:
        return 0
    labels = [str(p) for p in periods]
    if str(online) in labels:
        return labels.index(str(online))
    return (online - periods[0]) // (periods[1] - periods[0] if len(periods) > 1 else 1)


class DirectLP:
    def __init__(self, data: dict, share: float | None = None):
        labels = [str(p) for p in data["periods"]]
        T = len(labels)
        P = data.get("period_length_months", 12)
        covered_countries = set(data.get("covered_countries", ["CN"]))
        products = data["products"]
        cost, lower, upper = [], [], []
        rows_lower, rows_upper = [], []
        entries_r, entries_c, entries_v = [], [], []

        def column(c, lo=0.0, hi=INF):
            cost.append(c)
            lower.append(lo)
            upper.append(hi)
            return len(cost) - 1

        def row(lo, hi):
            rows_lower.append(lo)
            rows_upper.append(hi)
            return len(rows_lower) - 1

        def put(r, c, v):
            entries_r.append(r)
            entries_c.append(c)
            entries_v.append(v)

        needs_covered = set()
        for f in data["facilities"]:
            if f["country"] in covered_countries or f.get("inputs"):
                needs_covered.update(f.get("outputs", {}))
                needs_covered.update(f.get("inputs", {}))
        balance = {}
        for p in products:
            for label in ("clean", "covered") if p in needs_covered else ("clean",):
                for t in range(T):
                    stock = products[p].get("initial_stock", 0.0) if (label == "clean" and t == 0) else 0.0
                    balance[(p, label, t)] = row(-stock, -stock)

        for f in data["facilities"]:
            covered = f["country"] in covered_countries
            f_labels = ("covered",) if covered else (("clean", "covered") if f.get("inputs") else ("clean",))
            capacity = series(f["capacity"], labels)
            availability = series(f.get("availability", 1.0), labels)
            reserved = series(f.get("reserved", 0.0), labels)
            min_take = series(f.get("min_take", 0.0), labels)
            price = series(f["cost"], labels)
            start = online_index(f.get("online"), data["periods"])
            ramp = f.get("ramp_up", [])
            ratio = f.get("lead_time_months", 0.0) / P
            q = math.floor(ratio + 1e-12)
            r = ratio - q if ratio - q > 1e-12 else 0.0
            for t in range(T):
                k = t - start
                if k < 0:
                    continue
                level = ramp[k] if k < len(ramp) else 1.0
                cap = max(0.0, capacity[t] * level - reserved[t]) * availability[t]
                floor = min_take[t]
                acts = []
                if cap > 0:
                    cap_row = row(-INF, cap)
                    for label in f_labels:
                        a = column(0.0 if floor > 0 else price[t] / 1000)
                        acts.append(a)
                        put(cap_row, a, 1.0)
                        for p, out in f["outputs"].items():
                            for when, share_ in ((t + q, 1 - r), (t + q + 1, r)):
                                if share_ > 0 and when < T:
                                    put(balance[(p, label, when)], a, out * share_)
                        for p, use in f.get("inputs", {}).items():
                            put(balance[(p, label, t)], a, -use)
                if floor > 0:
                    paid = column(price[t] / 1000, floor, INF)
                    if acts:
                        tp = row(0.0, INF)
                        put(tp, paid, 1.0)
                        for a in acts:
                            put(tp, a, -1.0)

        for p, spec in products.items():
            holding = series(spec.get("holding_cost", 0.0), labels)
            price = series(spec.get("sale_price", 0.0), labels)
            limit = series(spec.get("sale_limit", 0.0), labels)
            for t in range(T):
                sales_row = row(-INF, limit[t]) if limit[t] > 0 else None
                for label in ("clean", "covered") if p in needs_covered else ("clean",):
                    inv = column(holding[t] / 1000)
                    put(balance[(p, label, t)], inv, -1.0)
                    if t + 1 < T:
                        put(balance[(p, label, t + 1)], inv, 1.0)
                    put(balance[(p, label, t)], column(0.0), -1.0)  # disposal
                    if sales_row is not None:
                        s = column(-price[t] / 1000)
                        put(balance[(p, label, t)], s, -1.0)
                        put(sales_row, s, 1.0)
                if p in needs_covered:
                    down = column(0.0)
                    put(balance[(p, "clean", t)], down, -1.0)
                    put(balance[(p, "covered", t)], down, 1.0)

        self.covered_columns = []
        cap_rows = {}
        for d in data["demand"]:
            p = d["product"]
            quantity = series(d["quantity"], labels)
            penalty = series(d.get("shortfall_penalty", products[p]["shortfall_penalty"]), labels)
            clean_from = labels.index(str(d["clean_only_from"])) if "clean_only_from" in d else T
            for t in range(T):
                if quantity[t] <= 0:
                    continue
                demand_row = row(quantity[t], quantity[t])
                put(demand_row, column(penalty[t] / 1000), 1.0)
                for label in ("clean", "covered") if p in needs_covered else ("clean",):
                    if label == "covered" and t >= clean_from:
                        continue
                    x = column(0.0)
                    put(demand_row, x, 1.0)
                    put(balance[(p, label, t)], x, -1.0)
                    if share is not None:
                        if (p, t) not in cap_rows:
                            cap_rows[(p, t)] = row(-INF, 0.0)
                        put(cap_rows[(p, t)], x, (1 - share) if label == "covered" else -share)
                    if label == "covered":
                        self.covered_columns.append(x)
        # Rows of the share cap: (row, column, is_covered) for changing the share.
        self.cap_entries = [
            (r_, c_, c_ in set(self.covered_columns))
            for r_, c_ in zip(entries_r, entries_c)
            if r_ in set(cap_rows.values())
        ]

        lp = highspy.HighsLp()
        lp.num_col_ = len(cost)
        lp.num_row_ = len(rows_lower)
        lp.col_cost_ = np.array(cost)
        lp.col_lower_ = np.array(lower)
        lp.col_upper_ = np.array(upper)
        lp.row_lower_ = np.array(rows_lower)
        lp.row_upper_ = np.array(rows_upper)
        import scipy.sparse as sp

        matrix = sp.csc_matrix((entries_v, (entries_r, entries_c)), shape=(len(rows_lower), len(cost)))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.columns = len(cost)

    def solve(self) -> float:
        self.highs.run()
        return self.highs.getInfo().objective_function_value

    def set_share(self, share: float) -> None:
        for r_, c_, covered in self.cap_entries:
            self.highs.changeCoeff(r_, c_, (1 - share) if covered else -share)
