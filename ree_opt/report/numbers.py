"""How the report writes numbers and names: thousands separators, units in
headers, and the words for the instance's identifiers."""

from __future__ import annotations

import math

from ..dual_words import PRODUCT_NAMES, product_name  # noqa: F401  (one list of product words, re-exported)

MISSING = "–"


def _number(value, digits: int = 0) -> float | None:
    """A float, or None for missing values; -0 (after rounding) becomes 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    return 0.0 if round(number, digits) == 0 else number


def musd(value) -> str:
    """USD million, one decimal: 3,293.0."""
    number = _number(value, 1)
    return MISSING if number is None else f"{number:,.1f}"


def tonnes(value) -> str:
    number = _number(value)
    return MISSING if number is None else f"{number:,.0f}"


def usd_per_kg(value) -> str:
    """Whole dollars, one decimal below 10: 6,030 or 7.1."""
    number = _number(value, 1)
    if number is None:
        return MISSING
    return f"{number:,.1f}" if abs(number) < 9.95 else f"{number:,.0f}"


def percent(value) -> str:
    number = _number(value, 1)
    return MISSING if number is None else f"{number:,.1f}%"


def share(value) -> str:
    """A share in [0, 1] as a percentage: 0.75 -> 75%."""
    number = _number(value, 2)
    return MISSING if number is None else f"{100 * number:,.0f}%"


def multiple(value) -> str:
    number = _number(value, 6)
    return MISSING if number is None else f"{number:g}"


def plain(value) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        if math.isnan(value):
            return MISSING
        return f"{value:g}"
    return str(value)


def period_label(value) -> str:
    return MISSING if value is None else str(value)
