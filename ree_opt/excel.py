"""An instance as one Excel workbook, read and written (SPEC section 2 in sheets).

Sheets: ``instance`` (one row per field: ``field``, ``value``), ``products``
(one row per product, keyed by a ``product`` column), ``facilities``,
``demand``, ``policies`` (one row per entity), ``scenarios`` (keyed by a
``scenario`` column), ``sources`` (one row per item), and a sheet of
``field``/``value`` rows for each mapping-valued top-level field such as
``uncertainty``, whose events go on a sheet ``events`` (one row per outcome,
its event named in an ``event`` column); the facilities' expansions (SPEC
section 7) go on a sheet ``expansions`` (one row per expansion, its facility
named in a ``facility`` column). Sheets whose name starts with
``_`` are the reader's own (notes, pivots) and are skipped.

Cells:
- An empty cell is the field's default.
- A time series is either one column per period (``capacity[2027]``; an
  empty period holds the value of the one before, as in YAML), or a number,
  or a mapping in the cell (``{2026: 100, 2028: 250}``). This module writes
  columns per period, and reads all three.
- Nested values (recipes, scenario patches, ``offtake``, ``uncertainty``'s
  events) are YAML (or JSON) in the cell, in flow style: ``{ndpr_oxide: 1.0}``.
  A list of names may also be written ``CN, RU``.

Reading goes through :func:`ree_opt.instance.parse_instance`, as YAML does;
each problem names its sheet and cell (``facilities!D7``).
"""

from __future__ import annotations

import io
import math
import os
import re
import typing
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from .bounded_zip import Refused, check_workbook
from .instance import (
    POLICY_MODELS,
    Demand,
    Expansion,
    Facility,
    Instance,
    InstanceError,
    Problem,
    Product,
    Scenario,
    _Locator,
    format_location,
    with_entities,
)

#: Table sheets: sheet -> (model, key column for mapping-valued fields or None)
TABLES = {
    "products": (Product, "product"),
    "facilities": (Facility, None),
    "demand": (Demand, None),
    "policies": (None, None),  # the model follows each row's `type`
    "scenarios": (Scenario, "scenario"),
}
PROVENANCE = ("source", "assumption", "notes")
MAX_ROWS = 100_000
_SERIES_COLUMN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[(.+)\]\s*$")


class WorkbookError(ValueError):
    pass


# --------------------------------------------------------------------------
# What a field accepts (to know whether a text cell is text or YAML)


def _field(model: type[BaseModel] | None, name: str):
    if model is None:
        return None
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info
    return None


def _kinds(annotation) -> set[str]:
    """The kinds of value an annotation accepts: str, list, dict, model, number."""
    origin = typing.get_origin(annotation)
    if annotation is str:
        return {"str"}
    if annotation is Any:
        return {"str", "list", "dict"}
    if origin is typing.Literal:
        return {"str"} if any(isinstance(a, str) for a in typing.get_args(annotation)) else {"number"}
    if origin in (list, tuple, set) or annotation in (list, tuple, set):
        return {"list"}
    if origin in (dict, Mapping) or annotation is dict:
        return {"dict"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"dict"}
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if args:  # a Union (typing.Union or X | Y)
        kinds: set[str] = set()
        for arg in args:
            kinds |= _kinds(arg)
        return kinds
    return {"number"}


def _model_of(annotation) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (Optional[Uncertainty] -> Uncertainty)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------
# Cells -> values


class _NoAliases(yaml.SafeLoader):
    """YAML in a cell: no anchors or aliases (a cell is too small to need them,
    and they are how a tiny text expands to a huge one)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("anchors and aliases (&, *) are not allowed in a cell")
        return super().compose_node(parent, index)


def _yaml(text: str):
    loader = _NoAliases(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _scalar(text: str):
    """A list item written as plain text: a number if it reads as one, else the text."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
        return value if math.isfinite(value) else text
    except ValueError:
        return text


def _cell_value(raw, kinds: set[str] | None):
    """The value of a cell for a field accepting `kinds` (None: unknown field).
    Raises yaml.YAMLError on bad YAML where YAML is expected."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if kinds is None:
        return raw
    bracketed = text[:1] in ("{", "[")
    if "str" in kinds and not (bracketed and kinds & {"dict", "list"}):
        return raw
    if "list" in kinds and not bracketed and "dict" not in kinds:
        return [_scalar(item) for item in text.split(",") if item.strip()]
    return _yaml(text)


def _period_key(text: str, periods: list):
    """A period label from a column header `capacity[2027]`: the instance's own
    label where one matches by its string form."""
    text = text.strip()
    for label in periods:
        if str(label) == text:
            return label
    return _scalar(text)


# --------------------------------------------------------------------------
# Reading


class _CellLocator(_Locator):
    """Problems located by sheet and cell: `baseline.xlsx facilities!D7`."""

    def __init__(self, file: str, cells: dict[tuple, str]):
        super().__init__(file, {})
        self.cells = cells

    def problem(self, path: tuple, message: str) -> Problem:
        probe = tuple(getattr(p, "key", p) for p in path)
        while probe and probe not in self.cells:
            probe = probe[:-1]
        where = self.cells.get(probe)
        file = f"{self.file} {where}" if where else self.file
        return Problem(format_location(path), message, file, None)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


class _Sheet:
    """A sheet's header and non-empty rows, with cell references."""

    def __init__(self, worksheet, problems: list[Problem], display: str):
        self.title = worksheet.title
        self.header: list[str | None] = []
        self.rows: list[tuple[int, list]] = []  # (Excel row number, values)
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                problems.append(Problem("", f"sheet {self.title} has more than {MAX_ROWS:,} rows", display))
                break
            values = [None if (isinstance(v, str) and not v.strip()) else v for v in values]
            if not self.header:
                if any(v is not None for v in values):
                    self.header = [str(v).strip() if v is not None else None for v in values]
                continue
            if any(v is not None for v in values):
                self.rows.append((number, values))

    def ref(self, row: int, column: int | None = None) -> str:
        if column is None:
            return f"{self.title}!{row}:{row}"
        return f"{self.title}!{_column_letter(column)}{row}"


def _open(path: Path, display: str):
    try:
        check_workbook(path)  # its size unpacked and its sheets' cells, before openpyxl is even loaded
    except Refused as error:
        raise InstanceError([Problem("", error.message, display)]) from None
    except (OSError, zipfile.BadZipFile) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not an .xlsx workbook"
        raise InstanceError([Problem("", f"cannot read the workbook: {reason}", display)]) from None
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency
        raise InstanceError([Problem("", "reading a workbook needs openpyxl (pip install openpyxl)", display)])
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise InstanceError([Problem("", f"cannot read the workbook: {error}", display)]) from None


def read_workbook(path: str | os.PathLike) -> tuple[dict, _CellLocator]:
    """The instance data of a workbook, and a locator naming sheet and cell."""
    path = Path(path)
    display = str(path)
    workbook = _open(path, display)
    problems: list[Problem] = []
    cells: dict[tuple, str] = {}
    try:
        sheets = {}
        for worksheet in workbook.worksheets:
            name = worksheet.title.strip().lower()
            if name.startswith("_"):
                continue
            sheets[name] = _Sheet(worksheet, problems, display)
    finally:
        workbook.close()

    known = {"instance", "sources", "events", "expansions"} | set(TABLES)
    if not known & set(sheets):  # one hint, not a line per sheet
        what = (
            "an answer workbook written by ree-opt (it opens on a `summary` sheet), not an instance"
            if "summary" in sheets else "a workbook with none of the instance's sheets"
        )
        raise InstanceError([Problem("", (
            f"this is {what}: give the instance itself (YAML, JSON, or a workbook made by "
            "`ree-opt convert INSTANCE.yaml INSTANCE.xlsx`, with sheets instance, products, facilities, ...)"
        ), display)])
    for name, sheet in sheets.items():
        if name not in known and name not in Instance.model_fields:
            problems.append(
                Problem("", f"unknown sheet {sheet.title!r}; sheets are {', '.join(sorted(known))} "
                        "(and a sheet per mapping field such as uncertainty; name your own sheets _like_this)", display)
            )
    for name in ("instance", "products", "facilities"):
        if name not in sheets:
            problems.append(Problem("", f"the workbook has no sheet {name!r}", display))

    data: dict[str, Any] = {}
    if "instance" in sheets:
        data.update(_read_fields(sheets["instance"], Instance, (), cells, problems, display))
    periods = data.get("periods") if isinstance(data.get("periods"), list) else []
    for name, sheet in sheets.items():
        if name in TABLES:
            model, key = TABLES[name]
            rows = _read_table(sheet, name, model, key, periods, cells, problems, display)
            data[name] = {k: v for k, v in rows} if key else [v for _, v in rows]
        elif name == "sources":
            data["sources"] = _read_sources(sheet, cells)
        elif name not in ("instance", "events") and name in Instance.model_fields:
            model = _model_of(Instance.model_fields[name].annotation)
            data[name] = _read_fields(sheet, model, (name,), cells, problems, display)
            cells.setdefault((name,), f"{sheet.title}!A1")
    if "events" in sheets:
        _read_events(sheets["events"], data, periods, cells, problems, display)
    if "expansions" in sheets:
        _read_expansions(sheets["expansions"], data, periods, cells, problems, display)
    locator = _CellLocator(display, cells)
    if problems:
        structural = [p for p in problems if not p.location]
        if not structural:  # bad cells: validate the rest too, so every problem shows at once
            from .instance import parse_instance

            try:
                parse_instance(data, locator)
            except InstanceError as error:
                seen = {p.location for p in problems}
                problems += [p for p in error.problems if p.location not in seen]
        raise InstanceError(with_entities(problems, data))
    return data, locator


def _bad_yaml(error: yaml.YAMLError) -> str:
    reason = getattr(error, "problem", None) or str(error)
    return f"not valid YAML in the cell: {reason}"


def _read_fields(sheet: _Sheet, model, base: tuple, cells: dict, problems: list, display: str) -> dict:
    """A sheet of `field`, `value` rows (a third column, `meaning`, is for people)."""
    header = [h.lower() if h else h for h in sheet.header]
    if header[:2] != ["field", "value"]:
        problems.append(Problem("", f"sheet {sheet.title}: the first row must read `field`, `value` (got {sheet.header[:2]})", display))
        return {}
    out: dict = {}
    for number, values in sheet.rows:
        values = values + [None] * (2 - len(values))
        field, raw = values[0], values[1]
        if field is None:
            problems.append(Problem("", f"{sheet.ref(number, 1)} has a value but no field name in column A", display))
            continue
        field = str(field).strip()
        path = base + (field,)
        cells[path] = sheet.ref(number, 1)
        if field in out:
            problems.append(Problem(format_location(path), f"given twice (again in {sheet.ref(number, 0)})", display))
            continue
        if raw is None:
            continue
        info = _field(model, field)
        try:
            out[field] = _cell_value(raw, _kinds(info.annotation) if info else None)
        except yaml.YAMLError as error:
            problems.append(Problem(format_location(path), _bad_yaml(error), f"{display} {sheet.ref(number, 1)}"))
            out[field] = raw
    return out


def _read_table(sheet, name, model, key, periods, cells, problems, display) -> list[tuple[Any, dict]]:
    columns: list[tuple[int, str, Any]] = []  # (index, field, period key or None)
    seen: dict = {}
    for index, head in enumerate(sheet.header):
        if head is None:
            continue
        match = _SERIES_COLUMN.match(head)
        field, sub = (match.group(1), _period_key(match.group(2), periods)) if match else (head, None)
        if (field, str(sub)) in seen:
            problems.append(Problem("", f"{sheet.title}: column {head!r} appears twice", display))
            continue
        seen[(field, str(sub))] = index
        columns.append((index, field, sub))
    if key and not any(field == key and sub is None for _, field, sub in columns):
        problems.append(Problem("", f"sheet {sheet.title} needs a column {key!r} naming each row", display))
        return []

    rows = []
    for position, (number, values) in enumerate(sheet.rows):
        row_model = model
        if name == "policies":
            kind = next((values[i] for i, f, s in columns if f == "type" and s is None and i < len(values)), None)
            row_model = POLICY_MODELS.get(kind)
        entity: dict = {}
        where: dict = {}
        label = position
        for index, field, sub in columns:
            raw = values[index] if index < len(values) else None
            if field == key and sub is None:
                if raw is None:
                    problems.append(Problem("", f"{sheet.ref(number, index)}: every row needs a {key}", display))
                label = raw if raw is None else str(raw).strip()
                continue
            if raw is None:
                continue
            where[(field, sub)] = sheet.ref(number, index)
            info = _field(row_model, field)
            kinds = _kinds(info.annotation) if info else None
            if sub is not None:
                kinds = {"number"} if kinds is not None else None
            try:
                value = _cell_value(raw, kinds)
            except yaml.YAMLError as error:
                path = (name, label if key else position, field)
                problems.append(Problem(format_location(path), _bad_yaml(error), f"{display} {sheet.ref(number, index)}"))
                value = raw
            both = Problem(  # a cell's problem, not the workbook's: the rest is still validated
                format_location((name, label if key else position, field)),
                f"give {field} either in one column or per period ({field}[...]), not both",
                f"{display} {sheet.ref(number, index)}",
            )
            if sub is None:
                if isinstance(entity.get(field), dict) and field in entity:
                    problems.append(both)
                    continue
                entity[field] = value
            else:
                target = entity.setdefault(field, {})
                if not isinstance(target, dict):
                    problems.append(both)
                    continue
                target[sub] = value
        if key and label is None:
            continue
        if key and label in {k for k, _ in rows}:
            problems.append(Problem("", f"{sheet.ref(number, 0)}: {key} {label!r} appears twice", display))
            continue
        base = (name, label)
        cells[base] = sheet.ref(number)
        for (field, sub), ref in where.items():
            cells.setdefault(base + (field,), ref)
            if sub is not None:
                cells[base + (field, sub)] = ref
        rows.append((label, entity))
    return rows


def _outcome_model():
    event = _model_of(_model_of(Instance.model_fields["uncertainty"].annotation).model_fields["events"].annotation)
    return event, _model_of(event.model_fields["outcomes"].annotation)


def _read_events(sheet: _Sheet, data: dict, periods, cells: dict, problems: list, display: str) -> None:
    """The `events` sheet: one row per outcome, its event named in an `event` column."""
    if "uncertainty" not in Instance.model_fields:
        problems.append(Problem("", "unknown sheet 'events'", display))
        return
    uncertainty = data.setdefault("uncertainty", {})
    if not isinstance(uncertainty, dict):
        return
    if "events" in uncertainty:
        problems.append(Problem("", "events are given twice: on the uncertainty sheet and on the events sheet", display))
        return
    if "event" not in sheet.header:
        problems.append(Problem("", "sheet events needs a column 'event' naming each outcome's event", display))
        return
    _, outcome = _outcome_model()
    own: dict = {}
    rows = _read_table(sheet, "events", outcome, None, periods, own, problems, display)
    events: list[dict] = []
    for position, entity in rows:
        name = entity.pop("event", None)
        if name is None:
            problems.append(Problem("", f"{sheet.ref(sheet.rows[position][0])}: every outcome needs its event's name in the column 'event'", display))
            continue
        name = str(name).strip()
        index = next((i for i, e in enumerate(events) if e["name"] == name), None)
        if index is None:
            index = len(events)
            events.append({"name": name, "outcomes": []})
            cells[("uncertainty", "events", index)] = own[("events", position)]
            cells[("uncertainty", "events", index, "name")] = own.get(("events", position, "event"), own[("events", position)])
        base = ("uncertainty", "events", index, "outcomes", len(events[index]["outcomes"]))
        for path, ref in own.items():
            if path[:2] == ("events", position):
                cells[base + path[2:]] = ref
        events[index]["outcomes"].append(entity)
    uncertainty["events"] = events
    cells.setdefault(("uncertainty", "events"), f"{sheet.title}!A1")


def _read_expansions(sheet: _Sheet, data: dict, periods, cells: dict, problems: list, display: str) -> None:
    """The `expansions` sheet: one row per expansion, its facility's id in a `facility` column."""
    if "facility" not in sheet.header:
        problems.append(Problem("", "sheet expansions needs a column 'facility' naming each expansion's facility", display))
        return
    facilities = data.get("facilities") if isinstance(data.get("facilities"), list) else []
    index_of = {str(f.get("id")): i for i, f in enumerate(facilities) if isinstance(f, dict)}
    own: dict = {}
    for position, entity in _read_table(sheet, "expansions", Expansion, None, periods, own, problems, display):
        facility = entity.pop("facility", None)
        ref = own.get(("expansions", position, "facility"), own[("expansions", position)])
        if facility is None or str(facility).strip() not in index_of:
            known = ", ".join(sorted(index_of)[:12]) or "(none)"
            problems.append(Problem(format_location(("expansions", position, "facility")),
                                    f"expected the id of a facility of the facilities sheet, got {facility!r}; "
                                    f"facilities are: {known}", f"{display} {ref}"))
            continue
        index = index_of[str(facility).strip()]
        expansions = facilities[index].setdefault("expansions", [])
        if not isinstance(expansions, list) or ("facilities", index, "expansions") in cells and not expansions:
            problems.append(Problem("", f"{ref}: the expansions of {facility!r} are given twice: on the facilities "
                                        "sheet and on the expansions sheet", display))
            continue
        base = ("facilities", index, "expansions", len(expansions))
        for path, where in own.items():
            if path[:2] == ("expansions", position):
                cells[base + path[2:]] = where
        cells.setdefault(("facilities", index, "expansions"), f"{sheet.title}!A1")
        expansions.append(entity)


def _read_sources(sheet: _Sheet, cells: dict) -> list:
    header = [h for h in sheet.header]
    items = []
    for position, (number, values) in enumerate(sheet.rows):
        if header == ["item"]:
            try:
                items.append(_yaml(values[0]) if isinstance(values[0], str) else values[0])
            except yaml.YAMLError:
                items.append(values[0])
        else:
            items.append({h: v for h, v in zip(header, values) if h is not None and v is not None})
        cells[("sources", position)] = sheet.ref(number)
    return items


def _old_workbook(path: str | os.PathLike):
    raise InstanceError([Problem("", "an Excel 97-2003 workbook (.xls) cannot be read: save it as .xlsx", str(path))])


#: How loading.py reads a workbook, by suffix.
WORKBOOK_READERS = {".xlsx": read_workbook, ".xlsm": read_workbook, ".xls": _old_workbook}


# --------------------------------------------------------------------------
# Writing an instance


def _flow(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=math.inf, allow_unicode=True).strip()


def _is_series(value, labels: set[str]) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k) in labels for k in value) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
    )


def _cell(value):
    """A value as a cell: numbers and text as they are, the rest as flow YAML."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return _flow(value)


def _describe(model, field: str) -> str | None:
    info = _field(model, field)
    if info is None:
        return None
    text = info.description or ""
    default = info.get_default(call_default_factory=True) if not info.is_required() else None
    if info.is_required():
        text += (" " if text else "") + "(required)"
    elif default not in (None, [], {}):
        text += (" " if text else "") + f"(default {_cell(default)})"
    return text or None


def _table_columns(models: list, dumps: list[dict], labels: set[str], periods: list, key: str | None):
    """Columns of a table sheet: every field of the model (so every knob shows),
    provenance last; a time series given per period spreads over `field[period]`."""
    fields: list[str] = []
    for model in models:
        for name, info in model.model_fields.items():
            alias = info.alias or name
            if alias not in fields:
                fields.append(alias)
    for dump in dumps:
        for name in dump:
            if name not in fields:
                fields.append(name)
    if "type" in fields:
        fields.remove("type")
        fields.insert(0, "type")
    fields = [f for f in fields if f not in PROVENANCE] + [f for f in PROVENANCE if f in fields]
    order = {str(p): i for i, p in enumerate(periods)}
    columns: list[tuple[str, Any]] = [(key, None)] if key else []
    for name in fields:
        values = [d[name] for d in dumps if name in d]
        spread = [v for v in values if _is_series(v, labels)]
        if not spread or len(spread) < len(values):
            columns.append((name, None))
        keys: list = []
        for value in spread:
            keys += [k for k in value if k not in keys]
        columns += [(name, k) for k in sorted(keys, key=lambda k: order[str(k)])]
    return columns


def _style_header(worksheet, widths: list[int], comments: list[str | None]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="DDE5F0")
    for index, cell in enumerate(worksheet[1]):
        cell.font = Font(bold=True)
        cell.fill = fill
        if index < len(comments) and comments[index]:
            cell.comment = Comment(comments[index], "ree-opt")
    for index, width in enumerate(widths):
        worksheet.column_dimensions[_column_letter(index)].width = max(8, min(width + 2, 60))
    for row in worksheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and len(cell.value) > 60:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    worksheet.freeze_panes = "A2"


def instance_workbook(instance: Instance) -> bytes:
    """The instance as an .xlsx workbook (read back by :func:`read_workbook`)."""
    from openpyxl import Workbook

    workbook = Workbook()
    labels = {str(p) for p in instance.periods}
    periods = list(instance.periods)
    everything = instance.model_dump(by_alias=True, exclude_defaults=True)

    def fields_sheet(worksheet, model, full: dict, omit: tuple = ()) -> None:
        worksheet.append(["field", "value", "meaning"])
        names = [info.alias or name for name, info in model.model_fields.items()]
        for alias in [n for n in names if n not in PROVENANCE] + [n for n in names if n in PROVENANCE]:
            if alias in TABLES or alias == "sources" or alias in omit or (model is Instance and _is_mapping_field(alias)):
                continue
            value = full.get(alias)
            worksheet.append([alias, _cell(value), _describe(model, alias)])
        for name, value in full.items():  # fields the model does not list (never, once validated)
            if _field(model, name) is None:
                worksheet.append([name, _cell(value), None])
        widths = [max(len(str(c.value or "")) for c in col) for col in worksheet.columns]
        _style_header(worksheet, [widths[0], min(widths[1], 50), 60], [])

    sheet = workbook.active
    sheet.title = "instance"
    fields_sheet(sheet, Instance, instance.model_dump(by_alias=True, exclude_none=True))

    def table_sheet(title: str, models: list, dumps: list[dict], keys: list | None = None, key: str | None = None,
                    first: str | None = None, omit: tuple = ()):
        worksheet = workbook.create_sheet(title)
        columns = [c for c in _table_columns(models, dumps, labels, periods, key) if c[0] not in omit]
        if first:
            columns.remove((first, None))
            columns.insert(0, (first, None))
        heads = [name if sub is None else f"{name}[{sub}]" for name, sub in columns]
        worksheet.append(heads)
        for position, dump in enumerate(dumps):
            row = []
            for name, sub in columns:
                if name == key and sub is None:
                    row.append(keys[position])
                    continue
                value = dump.get(name)
                if sub is None:
                    row.append(None if _is_series(value, labels) and len([c for c in columns if c[0] == name]) > 1 else _cell(value))
                else:
                    row.append(_cell(value.get(sub)) if _is_series(value, labels) else None)
            worksheet.append(row)
        comments = [None if name == key else _describe_any(models, name) for name, _ in columns]
        widths = [max([len(h)] + [min(len(str(r[i] or "")), 40) for r in worksheet.iter_rows(min_row=2, values_only=True)])
                  for i, h in enumerate(heads)]
        _style_header(worksheet, widths, comments)

    products = everything.get("products", {})
    table_sheet("products", [Product], list(products.values()), list(products), "product")
    facilities = [dict(f) for f in everything.get("facilities", [])]
    expansions = [{"facility": f["id"], **e} for f in facilities for e in f.pop("expansions", None) or []]
    table_sheet("facilities", [Facility], facilities, omit=("expansions",))
    if expansions:
        table_sheet("expansions", [Expansion], expansions, first="facility")
    table_sheet("demand", [Demand], everything.get("demand", []))
    table_sheet("policies", list(POLICY_MODELS.values()), everything.get("policies", []))
    scenarios = everything.get("scenarios", {})
    table_sheet("scenarios", [Scenario], list(scenarios.values()), list(scenarios), "scenario")

    sources = workbook.create_sheet("sources")
    items = instance.sources
    if all(isinstance(i, dict) and all(v is None or isinstance(v, (str, int, float, bool)) for v in i.values()) for i in items):
        header: list[str] = []
        for item in items:
            header += [str(k) for k in item if str(k) not in header]
        header = header or ["id", "title", "url"]
        sources.append(header)
        for item in items:
            sources.append([item.get(h) for h in header])
    else:
        sources.append(["item"])
        for item in items:
            sources.append([_flow(item)])
    widths = [max(len(str(c.value or "")) for c in col) for col in sources.columns]
    _style_header(sources, [min(w, 60) for w in widths], [])

    for name in Instance.model_fields:
        value = getattr(instance, name)
        if _is_mapping_field(name) and value is not None:
            model = _model_of(Instance.model_fields[name].annotation)
            full = value.model_dump(by_alias=True, exclude_none=True) if isinstance(value, BaseModel) else dict(value)
            events = _events_rows(full) if name == "uncertainty" else None
            if events is not None:
                full = {k: v for k, v in full.items() if k != "events"}
            fields_sheet(workbook.create_sheet(name), model or BaseModel, full, ("events",) if events is not None else ())
            if events is not None:
                _, outcome = _outcome_model()
                dumps = [{"event": event, **o} for event, o in events]
                table_sheet("events", [outcome], dumps, None, None, first="event")

    readme = workbook.create_sheet("_readme")
    for line in README_LINES:
        readme.append([line])
    readme.column_dimensions["A"].width = 110

    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _events_rows(uncertainty: dict) -> list[tuple[str, dict]] | None:
    """Uncertainty's events as (event, outcome) rows, for a sheet of their own;
    None where an event carries more than its name and outcomes (then they stay
    YAML on the uncertainty sheet)."""
    events = uncertainty.get("events") or []
    if not events or any(set(e) - {"name", "outcomes"} for e in events):
        return None
    rows = []
    for event in events:
        for outcome in event["outcomes"]:
            rows.append((event["name"], {k: v for k, v in outcome.items() if v is not None}))
    return rows


def _describe_any(models: list, name: str) -> str | None:
    for model in models:
        text = _describe(model, name)
        if text:
            return text
    return None


def _is_mapping_field(name: str) -> bool:
    """A top-level field that is a nested model (uncertainty): its own sheet of field/value rows."""
    info = Instance.model_fields.get(name)
    return info is not None and name not in TABLES and _model_of(info.annotation) is not None


README_LINES = [
    "An ree-opt instance (SPEC section 2). Edit it here; `ree-opt solve THIS.xlsx` reads it, `ree-opt convert THIS.xlsx x.yaml` turns it into YAML.",
    "",
    "Sheets: instance (field/value rows), products, facilities, demand, policies, scenarios, sources; a sheet per nested setting (uncertainty),",
    "  and events: one row per outcome (event, scenario, probability); an event's probabilities sum to 1;",
    "  and expansions: one row per expansion a facility offers (facility id, name, capacity, capex, ...: SPEC section 7).",
    "Sheets whose name starts with _ (like this one) are yours: the reader skips them.",
    "An empty cell takes the field's default (the comment on each header gives the unit and the default).",
    "Time series: one column per period, capacity[2027]; an empty period holds the value of the one before (before the first: 0).",
    "  A single number in the plain column (capacity) holds for every period; a mapping in a cell ({2026: 100, 2028: 250}) also works.",
    "Nested values are YAML in the cell: outputs {ndpr_oxide: 1.0}; scenario patches; policy lists [CN, RU] (or CN, RU).",
    "Problems are reported with their sheet and cell, e.g. facilities!D7.",
]


# --------------------------------------------------------------------------
# Converting


def instance_yaml(instance: Instance, origin: str | None = None) -> str:
    head = f"# converted from {origin} by ree-opt convert\n" if origin else ""
    data = instance.model_dump(by_alias=True, exclude_defaults=True)
    return head + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)


FORMATS = {".xlsx": "workbook", ".yaml": "YAML", ".yml": "YAML"}


def convert(instance: Instance, source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Write a validated instance, read from `source`, as a workbook or YAML
    by `target`'s suffix. Never over `source`; written whole."""
    suffix = Path(target).suffix.lower()
    if suffix not in FORMATS:
        raise WorkbookError(f"cannot write {target}: the suffix must be one of {', '.join(FORMATS)}")
    if suffix == ".xlsx":
        payload = instance_workbook(instance)
    else:
        payload = instance_yaml(instance, Path(source).name).encode("utf-8")
    from .outputs import write_bytes  # pandas: only to write, not to read a workbook

    return write_bytes(target, payload, inputs=[source])
