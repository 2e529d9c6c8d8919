"""One path from what a user gives to a validated Instance.

    load_instance(path | mapping | Instance) -> Instance

A file is read by its format (YAML, JSON and the CSV tables it names in
instance.py; Excel workbooks in excel.py, loaded only for a workbook), its
fields and references are checked (`instance.parse_instance`), and then every
scenario is applied once to check that it gives a valid instance
(`scenarios.check_scenarios`): a scenario is only known good once applied.
A scenario that an uncertainty event names and that changes periods before
`reveal` loses those changes to the splice (SPEC section 6): loading warns
(`splice.SpliceWarning`, a Python warning, not an error).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

from .instance import Instance, InstanceError, _Locator, parse_instance, read_instance_data
from .scenarios import applied_scenarios
from .splice import SpliceWarning, splice_warnings

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def _read_workbook(path: Path):
    from . import excel  # pandas and openpyxl: loaded for workbooks only

    return excel.WORKBOOK_READERS[path.suffix.lower()](path)


def read_data(path: str | os.PathLike) -> tuple[dict, _Locator]:
    """The instance data of a file, and where each part of it came from."""
    return read_instance_data(path, {suffix: _read_workbook for suffix in WORKBOOK_SUFFIXES})


def load_instance(source: str | os.PathLike | Mapping | Instance) -> Instance:
    """Load an instance from a file (YAML, JSON, .xlsx), a dict, or return an Instance as is."""
    if isinstance(source, Instance):
        return source
    data, locator = (source, _Locator()) if isinstance(source, Mapping) else read_data(source)
    instance = parse_instance(data, locator)
    applied, problems = applied_scenarios(instance, locator)
    if problems:
        raise InstanceError(problems)
    if instance.uncertainty is not None:
        for warning in splice_warnings(instance, applied, locator):
            warnings.warn(str(warning), SpliceWarning, stacklevel=2)
    return instance
