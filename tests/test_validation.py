"""Bad input is refused before any model is built: every problem, located."""

import json
import textwrap

import pytest
from builders import demand, facility, instance

import ree_opt
from ree_opt.cli import main


def problems_of(data):
    with pytest.raises(ree_opt.InstanceError) as caught:
        ree_opt.load_instance(data)
    return {p.location: p.message for p in caught.value.problems}


def base(**changes):
    data = instance([facility("a", "AU", 10)], [demand(10)], periods=[2026, 2027])
    data.update(changes)
    return data


def with_facility(**fields):
    data = base()
    data["facilities"][0].update(fields)
    return data


@pytest.mark.parametrize(
    "fields, location, expected",
    [
        ({"capcity": 5}, "facilities[0].capcity", "unknown key"),
        ({"capacity": -5}, "facilities[0].capacity", "expected a number >= 0"),
        ({"capacity": float("nan")}, "facilities[0].capacity", "finite"),
        ({"availability": 1.5}, "facilities[0].availability", "<= 1"),
        ({"risk": -0.1}, "facilities[0].risk", ">= 0"),
        ({"ramp_up": [0.5, 2]}, "facilities[0].ramp_up[1]", "<= 1"),
        ({"stage": "refinery"}, "facilities[0].stage", "'mine', 'separation'"),
        ({"country": "XX"}, "facilities[0].country", "ISO 3166-1 alpha-2"),
        ({"outputs": {"oxide": 1}}, "facilities[0].outputs.oxide", "unknown product 'oxide'"),
        ({"inputs": {"conc": 1}}, "facilities[0].inputs.conc", "unknown product 'conc'"),
        ({"capacity": {2030: 5}}, "facilities[0].capacity.2030", "period label as key"),
        ({"cost": {2027: 10}}, "facilities[0].cost", "key at the first period 2026"),
        ({"online": 2026.5}, "facilities[0].online", "expected an integer or a string"),
        ({"online": "2026Q1"}, "facilities[0].online", "on the grid of step 1"),
    ],
)
def test_facility_problems_are_located(fields, location, expected):
    found = problems_of(with_facility(**fields))
    assert location in found, found
    assert expected in found[location]


def test_online_before_the_horizon_on_the_grid_is_accepted():
    ree_opt.load_instance(with_facility(online=2020))


def test_online_off_the_grid_is_refused():
    data = base(periods=[2026, 2028, 2030])
    data["facilities"][0]["online"] = 2025
    assert "on the grid of step 2" in problems_of(data)["facilities[0].online"]


def test_missing_required_fields():
    data = base()
    del data["facilities"][0]["cost"]
    del data["products"]["ox"]["shortfall_penalty"]
    found = problems_of(data)
    assert found["facilities[0].cost"] == "required field is missing"
    assert found["products.ox.shortfall_penalty"] == "required field is missing"


def test_duplicate_ids_and_periods():
    data = base(periods=[2026, "2026"])
    data["facilities"].append(facility("a", "CA", 5))
    found = problems_of(data)
    assert "used more than once" in found["facilities[1].id"]
    assert "repeated: 2026" in found["periods"]


def test_policy_problems():
    data = base(
        policies=[
            {"type": "exclude"},
            {"type": "max_covered_share", "share": 0.5, "countries": ["CN"]},
            {"type": "max_country_share", "share": 0.5, "products": []},
            {"type": "max_average_risk", "limit": 0.5, "from": 2027, "to": 2026},
            {"type": "max_covered_share", "share": 0.5, "segments": ["navy"]},
            {"type": "cap_everything"},
        ]
    )
    found = problems_of(data)
    assert "at least one of countries, facilities, stage" in found["policies[0]"]
    assert "unknown key" in found["policies[1].countries"]
    assert "non-empty list" in found["policies[2].products"]
    assert "comes before" in found["policies[3].to"]
    assert "no demand entry has segment 'navy'" in found["policies[4].segments[0]"]
    assert "max_covered_share" in found["policies[5]"]


def test_scenario_problems():
    data = base(
        scenarios={
            "typo": {"scale": [{"where": {"country": "ZZ"}, "field": "cost", "factor": 2}]},
            "too_much": {"scale": [{"where": {}, "field": "availability", "factor": 2}]},
            "ghost": {"set": {"nobody": {"capacity": 1}}},
            "bad_field": {"scale": [{"where": {"colour": "red"}, "field": "cost", "factor": 2}]},
        }
    )
    found = problems_of(data)
    assert "matches no facility" in found["scenarios.typo.scale[0].where"]
    assert "unknown facility id 'nobody'" in found["scenarios.ghost.set.nobody"]
    assert "cannot match on 'colour'" in found["scenarios.bad_field.scale[0].where"]
    too_much = [m for loc, m in found.items() if loc.startswith("scenarios.too_much")]
    assert too_much and "<= 1" in too_much[0]


def test_unknown_scenario_is_refused_by_name():
    with pytest.raises(ree_opt.InstanceError, match="unknown scenario 'nope'"):
        ree_opt.solve(base(), scenario="nope")


def write(tmp_path, text, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


BAD_YAML = """\
    name: bad
    periods: [2026, 2027]
    products:
      ox: {shortfall_penalty: 100}
    facilities:
      - id: a
        country: AU
        stage: separation
        outputs: {ox: 1}
        capcity: 100
        cost: 10
      - id: b
        country: CN
        stage: separation
        outputs: {ox: 1}
        capacity: -5
        cost: 10
    demand:
      - {segment: x, product: oxide, quantity: 10}
    """


def test_yaml_problems_carry_file_and_line(tmp_path):
    path = write(tmp_path, BAD_YAML)
    with pytest.raises(ree_opt.InstanceError) as caught:
        ree_opt.load_instance(path)
    lines = {p.location: p.line for p in caught.value.problems}
    assert lines["facilities[0].capcity"] == 10
    assert lines["facilities[1].capacity"] == 16
    assert lines["demand[0].product"] == 19
    assert all(p.file == str(path) for p in caught.value.problems)
    assert f"{path}:10: facilities[0] (a).capcity" in str(caught.value)


def test_cli_bad_input_exits_2_with_every_problem_and_no_traceback(tmp_path, capsys):
    path = write(tmp_path, BAD_YAML)
    for command in ("validate", "solve", "premium"):
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err
        assert "4 problems" in err
        assert "Traceback" not in err
        assert ":10: facilities[0] (a).capcity" in err


def test_cli_unreadable_and_malformed_files(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the instance" in capsys.readouterr().err
    broken = write(tmp_path, "periods: [2026\nproducts: {}\n", "broken.yaml")
    assert main(["validate", str(broken)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_json_instance(tmp_path, spec_example):
    data = ree_opt.load_instance(spec_example).model_dump(by_alias=True, exclude_none=True)
    path = tmp_path / "example.json"
    path.write_text(json.dumps(data))
    assert ree_opt.solve(path).objective == pytest.approx(427.14375)


def test_large_tables_may_be_csv(tmp_path):
    """`facilities: facilities.csv` reads one facility per row; mappings are
    written inline ({ox: 1.0}); an error points at the CSV row."""
    (tmp_path / "facilities.csv").write_text(
        "id,country,stage,outputs,capacity,cost\n"
        "cn,CN,separation,{ox: 1.0},100,50\n"
        "au,AU,separation,{ox: 1.0},1000,70\n"
    )
    path = write(
        tmp_path,
        """\
        periods: [2026]
        products: {ox: {shortfall_penalty: 100}}
        facilities: facilities.csv
        demand: [{segment: s, product: ox, quantity: 150}]
        """,
        "tabled.yaml",
    )
    assert ree_opt.solve(path).objective == pytest.approx(100 * 50 / 1000 + 50 * 70 / 1000)
    (tmp_path / "facilities.csv").write_text("id,country,stage,outputs,capacity,cost\ncn,CN,separation,{ox: 1.0},-1,50\n")
    with pytest.raises(ree_opt.InstanceError) as caught:
        ree_opt.load_instance(path)
    problem = caught.value.problems[0]
    assert (problem.location, problem.file, problem.line) == (
        "facilities[0].capacity", str(tmp_path / "facilities.csv"), 2
    )
    assert problem.message.startswith("expected a number >= 0")
