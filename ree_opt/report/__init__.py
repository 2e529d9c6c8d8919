"""The sensitivity report a decision maker reads: HTML, Markdown or CSV.

    from ree_opt.report import build_report
    build_report("instances/baseline.yaml", "report.html")

`collect` runs every solve once into a `ReportData`; the renderers lay the
same numbers out as one self-contained HTML file (inline SVG charts, no
script, no fetch), as Markdown with PNG charts beside it, or as one CSV per
table in a directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..outputs import write_files, write_text
from .data import DEFAULT_SHARES, REFERENCE_PRICES, REPORT_BUDGETS, ReportData, ReportError, collect, report_factors, step_count

FORMATS = ("html", "md", "csv")


def build_report(
    instance,
    path: str | os.PathLike,
    format: str = "html",
    scenario: str | None = None,
    progress=None,
    shares=None,
    data: ReportData | None = None,
    budgets=None,
) -> Path:
    """Solve what the report needs and write it to `path`: a file for html
    and md (the md's PNG charts beside it, named `<stem>-<chart>.png`), a
    directory for csv. `progress(n)` is called as solves finish (see
    `step_count`). Pass `data` to render an already collected ReportData.
    `budgets` (USD million) are the budget curve's, for instances whose
    facilities offer expansions (default data.REPORT_BUDGETS).
    Returns the path written."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    inputs = [instance] if isinstance(instance, (str, os.PathLike)) else []
    target = Path(path)
    if data is None:
        data = collect(instance, scenario=scenario, shares=shares, progress=progress, budgets=budgets)
    if format == "html":
        from .render_html import render

        return write_text(target, render(data), inputs)
    if format == "md":
        from .render_markdown import render

        text, images = render(data, target.stem)
        files = [(target.parent / name, payload) for name, payload in images.items()]
        return write_files(files + [(target, text.encode("utf-8"))], inputs)[-1]
    from .render_csv import render

    write_files([(target / name, text.encode("utf-8")) for name, text in render(data).items()], inputs)
    return target


report = build_report

__all__ = [
    "DEFAULT_SHARES", "FORMATS", "REFERENCE_PRICES", "REPORT_BUDGETS", "ReportData", "ReportError",
    "build_report", "collect", "report", "report_factors", "step_count",
]
