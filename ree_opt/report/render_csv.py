"""The report's tables as CSV, one file per table.

Text cells that a spreadsheet would read as a formula (starting with =, +,
-, @, a tab or a carriage return) get a leading apostrophe, so an instance's
names cannot run anything when the files are opened in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd

from .data import ReportData

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render(data: ReportData) -> dict[str, str]:
    """File name -> CSV text."""
    files = {}
    for name, frame in data.tables().items():
        frame = frame.copy()
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = frame[column].map(defuse)
        files[f"{name}.csv"] = frame.to_csv(index=False)
    return files
