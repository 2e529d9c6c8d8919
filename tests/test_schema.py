"""The published JSON Schema (ree_opt/schema.py, docs/instance.schema.json):
up to date, complete, and it accepts what the loader accepts and refuses a
bad instance the loader refuses too."""

import copy
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

import ree_opt
from ree_opt.cli import main
from ree_opt.instance import InstanceError
from ree_opt.schema import instance_schema, schema_text

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "instances").glob("*.yaml")) + sorted((ROOT / "tests" / "instances").glob("*.yaml"))


def as_json(data):
    """What an editor checks: the YAML as JSON (mapping keys become strings)."""
    return json.loads(json.dumps(data, default=str))


@pytest.fixture(scope="module")
def validator():
    schema = instance_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(validator, data):
    return sorted((".".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(as_json(data)))


def test_the_published_file_is_what_the_command_prints(capsys):
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == schema_text()
    assert (ROOT / "docs" / "instance.schema.json").read_text(encoding="utf-8") == printed, (
        "docs/instance.schema.json is out of date: run `ree-opt schema -o docs/instance.schema.json`"
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_instance_is_valid_under_the_schema(validator, path):
    assert len(SHIPPED) >= 4
    assert problems(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_a_bad_instance_is_refused_by_the_schema_and_the_loader(validator):
    data = yaml.safe_load((ROOT / "tests" / "instances" / "spec_example.yaml").read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["facilities"][1]["capcity"] = 3000  # misspelt
    bad["facilities"][2]["capacity"] = -5
    bad["policies"][0]["share"] = 1.5
    found = problems(validator, bad)
    assert [path for path, _ in found] == ["facilities.1", "facilities.2.capacity", "policies.0"]
    assert "'capcity' was unexpected" in found[0][1]
    with pytest.raises(InstanceError) as error:
        ree_opt.load_instance(bad)
    assert {p.location for p in error.value.problems} >= {
        "facilities[1].capcity", "facilities[2].capacity", "policies[0].share",
    }


def test_tables_may_be_csv_files_and_empty_keys_mean_none(validator):
    data = {"periods": [2026], "products": {"ox": {"shortfall_penalty": 1}},
            "facilities": "facilities.csv", "demand": "demand.CSV", "policies": None}
    assert problems(validator, data) == []
    assert problems(validator, dict(data, facilities="facilities.xlsx"))[0][0] == "facilities"
    assert problems(validator, dict(data, periods=None))[0][0] == "periods"


def test_every_field_has_a_description_and_from_keeps_its_name():
    schema = instance_schema()
    models = {"Instance": schema, **schema["$defs"]}
    missing = [
        f"{name}.{field}"
        for name, model in models.items()
        for field, spec in model.get("properties", {}).items()
        if not spec.get("description")
    ]
    assert missing == []
    for policy in ("MaxCoveredShare", "MaxCountryShare", "MaxAverageRisk", "Exclude"):
        assert "from" in models[policy]["properties"] and "from_" not in models[policy]["properties"]
    assert "USD/kg" in models["Facility"]["properties"]["cost"]["description"]
