"""One colour per country, the same in every chart of the report and the workbook.

Covered countries (China first) take reds; the others take the palette in
the order their first facility appears in the instance, so a country keeps
its colour whatever a chart shows of it.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Countries outside the covered list.
PALETTE = ["#1f6fb2", "#2a9d8f", "#e9c46a", "#8e6bbf", "#f4a261", "#6c8a3c", "#4cc9f0", "#9c6644", "#adb5bd",
           "#3d5a80", "#b5838d", "#52796f", "#ffb4a2", "#6d597a", "#a3b18a", "#264653"]
#: Covered countries (China first): reds.
COVERED_PALETTE = ["#c0392b", "#e57368", "#8b1e13", "#f1a79f"]


def country_colors(countries: Iterable[str], covered: Iterable[str]) -> dict[str, str]:
    """Country -> "#rrggbb": covered ones in the order of `covered`, the rest
    in the order given (an instance's facilities: `instance_countries`)."""
    covered = list(dict.fromkeys(covered))
    colors = {c: COVERED_PALETTE[i % len(COVERED_PALETTE)] for i, c in enumerate(covered)}
    others = [c for c in dict.fromkeys(countries) if c not in colors]
    colors.update({c: PALETTE[i % len(PALETTE)] for i, c in enumerate(others)})
    return colors


def instance_colors(instance) -> dict[str, str]:
    """The colours of an instance's countries (its facilities' order)."""
    return country_colors((f.country for f in instance.facilities), instance.covered_countries)
