"""The published JSON Schema of the instance format (SPEC section 2).

Generated from the pydantic models of instance.py, so it cannot drift from
what the loader accepts: every field with its description and unit, `from`
under its own name (not the Python name `from_`). Two things of the file
format the models do not see are added here:

- `facilities` and `demand` may name a CSV table beside the instance
  (`facilities: facilities.csv`), read by `read_instance_data`;
- an empty top-level key (`policies:` with nothing after it) means "none":
  the loader drops it, so the schema accepts null there.

`ree-opt schema` prints it; docs/instance.schema.json is that output (a
test keeps it up to date), for editors to check instances as they are
typed (README, "Checking instances as you type").
"""

from __future__ import annotations

import json

from .instance import Instance

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
CSV_TABLE = {
    "pattern": r"\.[cC][sS][vV]$",
    "description": "a file in the instance's folder (or below it), one row per entry, columns named as the fields",
}
REQUIRED_KEYS = ("periods", "products", "facilities")


def _or_null(entry: dict) -> dict:
    """`entry`, or null."""
    entry = dict(entry)
    if isinstance(entry.get("type"), str):
        entry["type"] = [entry["type"], "null"]
    elif isinstance(entry.get("type"), list):
        entry["type"] = list(dict.fromkeys(entry["type"] + ["null"]))
    elif "anyOf" in entry:
        if {"type": "null"} not in entry["anyOf"]:
            entry["anyOf"] = entry["anyOf"] + [{"type": "null"}]
    else:
        keep = {k: entry.pop(k) for k in ("description", "title", "default") if k in entry}
        entry = {"anyOf": [entry, {"type": "null"}], **keep}
    return entry


def instance_schema() -> dict:
    """The JSON Schema of an instance file (draft 2020-12).

    A table that may be a list or a CSV file name is one entry of types
    [array, string] (`items` checks only arrays, `pattern` only strings),
    not an anyOf, so a validator still points at `facilities.3.capacity`."""
    schema = Instance.model_json_schema(by_alias=True, mode="validation")
    properties = schema["properties"]
    for key in ("facilities", "demand"):
        entry = properties[key]
        if entry.get("type") != "array":  # a list of entities in the models
            raise RuntimeError(f"instance.{key} is no longer a list in the models: update schema.py")
        entry["type"] = ["array", "string"]
        entry["pattern"] = CSV_TABLE["pattern"]
        entry["description"] = f"{entry.get('description', '')}; or the name of a CSV table of them: {CSV_TABLE['description']}"
    for key in list(properties):
        if key not in REQUIRED_KEYS:
            properties[key] = _or_null(properties[key])
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "ree_opt instance",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_text() -> str:
    """The schema as the file docs/instance.schema.json holds it."""
    return json.dumps(instance_schema(), indent=2, ensure_ascii=False) + "\n"
