"""What a shadow price means, in the words and units its reader knows.

One function per family of rows whose dual `Solution.binding` reports; each
returns `(unit, meaning)`. The number itself stays the model's: USD per kg of
the row's quantity (USD thousand per tonne). The words turn "t of activity"
into what the facility makes: a capacity row of a Dy/Tb separator reads
"USD 6.05 million per extra tonne of Dy/Tb separation capacity in 2026 (a
tonne of Dy oxide a year, with 0.2 t of Tb oxide)".

Nothing here reads a model: facilities and products come in as plain
attributes (`name`, `country`, `stage`, `outputs`), so the wording can move
with the row families it describes.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Words for the usual product ids (the id itself when unknown).
PRODUCT_NAMES = {
    "ndpr_oxide": "NdPr oxide",
    "dy_oxide": "Dy oxide",
    "tb_oxide": "Tb oxide",
    "ndpr_metal": "NdPr metal",
    "ndfeb_magnet": "NdFeB magnets",
    "mixed_concentrate": "mixed concentrate",
    "mixed_carbonate": "mixed carbonate",
    "heavy_concentrate": "heavy concentrate",
    "la_ce_oxide": "La/Ce oxide",
}

#: What a stage does, as a noun: "Dy/Tb separation", "magnet making".
STAGE_WORDS = {
    "mine": "mining",
    "separation": "separation",
    "metal": "metal making",
    "magnet": "magnet making",
    "recycling": "recycling",
    "trade": "resale",
}


def product_name(product) -> str:
    """Words for a product id (the id itself when unknown)."""
    return PRODUCT_NAMES.get(str(product), str(product))


def element(product) -> str:
    """The material of an oxide without the word oxide: "Dy", "NdPr"."""
    name = product_name(product)
    return name[: -len(" oxide")] if name.endswith(" oxide") else name


def byproducts(products: Iterable[str], demanded: Iterable[str], consumed: Iterable[str]) -> set[str]:
    """Products nobody asks for and no facility consumes: sold or discarded
    beside a facility's main output (La/Ce oxide beside NdPr oxide)."""
    wanted = set(demanded) | set(consumed)
    return {p for p in products if p not in wanted}


def main_outputs(outputs: dict, side: set[str] = frozenset()) -> list[str]:
    """A facility's outputs that are not byproducts, its main one first: the
    one made at 1 t per t of activity (the usual unit of activity), else the
    largest. Only byproducts: all of them."""
    kept = [p for p in outputs if p not in side] or list(outputs)
    unit = [p for p in kept if abs(float(outputs[p]) - 1.0) < 1e-9]
    first = unit[0] if unit else max(kept, key=lambda p: float(outputs[p]))
    return [first] + [p for p in kept if p != first]


def activity_words(stage: str, outputs: dict, side: set[str] = frozenset()) -> str:
    """What a facility's activity is, in product words: "Dy/Tb separation",
    "NdPr metal making", "magnet making", "mixed concentrate mining"."""
    made = main_outputs(outputs, side) if outputs else []
    verb = STAGE_WORDS.get(stage, str(stage))
    if not made:
        return verb
    if stage == "separation":
        return f"{'/'.join(element(p) for p in made)} {verb}"
    if stage == "magnet" or (stage == "recycling" and made[0] == "ndfeb_magnet"):
        return "magnet making" if stage == "magnet" else "magnet recycling"
    if stage == "metal":
        return f"{element(made[0]).removesuffix(' metal')} {verb}"
    return f"{product_name(made[0])} {verb}"


def per_tonne(usd_per_kg: float) -> str:
    """A dual in USD/kg said per tonne: "USD 6.05 million", "USD 90,000"."""
    value = float(usd_per_kg)
    if abs(value) >= 999.5:  # USD thousand per t: a million and more
        return f"USD {value / 1000:,.2f} million"
    return f"USD {value * 1000:,.0f}"


def _yield_note(outputs: dict, side: set[str]) -> str:
    """What one tonne of capacity makes, where that is not simply a tonne of
    the main output: "1 t of Dy oxide with 0.2 t of Tb oxide"."""
    made = main_outputs(outputs, side)
    if not made:
        return ""
    first, rest = made[0], made[1:]
    amount = float(outputs[first])
    if not rest and abs(amount - 1) < 1e-9:
        return ""
    note = f"{amount:g} t of {product_name(first)}"
    if rest:
        note += " with " + " and ".join(f"{float(outputs[p]):g} t of {product_name(p)}" for p in rest)
    return note


# --------------------------------------------------------------------------
# One function per family of rows


def capacity(facility, period, usd_per_kg: float, side: set[str] = frozenset()) -> tuple[str, str]:
    """A facility's capacity row: what one more tonne of its capacity in a
    period would save. `facility` has name, country, stage, outputs."""
    activity = activity_words(facility.stage, facility.outputs, side)
    main = main_outputs(facility.outputs, side)
    unit = f"USD/kg of {product_name(main[0])} capacity" if main else "USD/kg of capacity"
    note = _yield_note(facility.outputs, side)
    meaning = (
        f"capacity of {facility.name} ({facility.country}) binds in {period}: {per_tonne(usd_per_kg)} saved per "
        f"extra tonne of {activity} capacity" + (f" ({note})" if note else "")
    )
    return unit, meaning


def take_or_pay(facility, period, usd_per_kg: float, unused_t: float, side: set[str] = frozenset()) -> tuple[str, str]:
    """A take-or-pay floor paid above what the plan takes."""
    main = main_outputs(facility.outputs, side)
    what = f"t of {product_name(main[0])}" if main else "t"
    return (
        f"USD/kg of {product_name(main[0]) if main else 'output'} paid, not taken",
        f"the take-or-pay floor of {facility.name} ({facility.country}) in {period} pays for {unused_t:,.0f} {what} "
        f"the plan does not take (USD {usd_per_kg * unused_t / 1000:,.2f} million)",
    )


def sales_limit(product, period, usd_per_kg: float) -> tuple[str, str]:
    return (
        f"USD/kg of {product_name(product)} sold",
        f"the sales limit of {product_name(product)} in {period} binds: {per_tonne(usd_per_kg)} earned per extra "
        "tonne sold",
    )


def covered_share(product, period, usd_per_kg: float) -> tuple[str, str]:
    return (
        f"USD/kg of covered {product_name(product)} delivered",
        f"the covered-share cap on {product_name(product)} in {period} binds: {per_tonne(usd_per_kg)} saved per "
        "extra tonne of covered material allowed",
    )


def country_share(product, country, period, usd_per_kg: float) -> tuple[str, str]:
    return (
        f"USD/kg of {product_name(product)} used from {country}",
        f"the single-country cap on {product_name(product)} from {country} in {period} binds: "
        f"{per_tonne(usd_per_kg)} saved per extra tonne of use allowed from {country}",
    )


def average_risk(product, period, usd_per_kg: float) -> tuple[str, str]:
    return (
        "USD/kg of risk-weighted excess use",
        f"the average-risk cap on {product_name(product)} in {period} binds: {per_tonne(usd_per_kg)} per tonne "
        "of risk-weighted excess use (not per tonne of product)",
    )
