"""Property-based tests: valid instances turned bad (issue 10, Untrusted input).

Each property takes one of three valid instances (a small built one,
tests/instances/spec_example.yaml, instances/toy.yaml), applies one class
of mutation, writes the file (YAML or JSON) and runs `ree-opt validate` on
it in-process. What each mutation must give is decided per mutation: exit
2 and a located message (every problem line names the file, and the place
mutated is named), or exit 0 where the mutation leaves the instance valid
(tiny numbers, huge quantities, non-ASCII names). Never a traceback.

Profiles (tests/conftest.py): `ci` by default (about 130 cases per property,
over 2,000 in all); `HYPOTHESIS_PROFILE=slow pytest tests/test_bad_input.py`
for 5,000 per property. tests/README.md tabulates the classes.
"""

from __future__ import annotations

import copy
import json
import re
import math
import tempfile
from pathlib import Path

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from builders import demand, facility, instance  # noqa: E402
from ree_opt.cli import main  # noqa: E402
from ree_opt.instance import Key, format_location  # noqa: E402

HERE = Path(__file__).resolve().parent
SMALL = instance(
    [
        facility("cn", "CN", 50.0, capacity=500, risk=0.8, availability={2026: 0.5, 2027: 0.4}),
        facility("au", "AU", {2026: 70.0, 2027: 65.0}, online=2027, ramp_up=[0.5], min_take=10),
        facility("us_magnet", "US", 30.0, stage="magnet", inputs={"ox": 0.4}, outputs={"mag": 1.0}),
    ],
    [demand(100, segment="defense", clean_only_from=2027), demand({2026: 50, 2027: 80}, product="mag")],
    periods=(2026, 2027),
    products={"ox": {"shortfall_penalty": 100, "holding_cost": 1.0}, "mag": {"shortfall_penalty": 200}},
    policies=[
        {"type": "max_covered_share", "share": 0.5, "products": ["ox"], "from": 2027},
        {"type": "max_average_risk", "limit": 0.6},
        {"type": "exclude", "countries": ["MM"]},
    ],
    scenarios={"dear": {"scale": [{"where": {"country": "CN"}, "field": "cost", "factor": 1.5}]}},
)
BASES = {
    "small": SMALL,
    "spec": yaml.safe_load((HERE / "instances" / "spec_example.yaml").read_text()),
    "toy": yaml.safe_load((HERE.parent / "instances" / "toy.yaml").read_text()),
}
FOLDER = Path(tempfile.mkdtemp(prefix="ree-opt-bad-input-"))
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

NONNEG_PRODUCT = ("shortfall_penalty", "holding_cost", "initial_stock", "sale_price", "sale_limit")
NONNEG_FACILITY = ("capacity", "cost", "lead_time_months", "reserved", "min_take")
SHARE_FACILITY = ("availability", "risk")


def numeric_slots(data: dict) -> list[tuple[tuple, str]]:
    """(path, kind) of every number of the instance, and of optional fields
    left out; kind is nonneg, share or positive. A time-series mapping gives
    one slot per key."""
    slots: list[tuple[tuple, str]] = [(("period_length_months",), "positive")]

    def series(path, value, kind):
        if isinstance(value, dict):
            slots.extend((path + (Key(key),), kind) for key in value)
        else:
            slots.append((path, kind))

    for name, product in data["products"].items():
        for field in NONNEG_PRODUCT:
            series(("products", name, field), product.get(field, 0), "nonneg")
    for index, item in enumerate(data["facilities"]):
        for field in NONNEG_FACILITY:
            series(("facilities", index, field), item.get(field, 0), "nonneg")
        for field in SHARE_FACILITY:
            series(("facilities", index, field), item.get(field, 0), "share")
        for kind in ("inputs", "outputs"):
            slots.extend((("facilities", index, kind, p), "nonneg") for p in item.get(kind, {}))
        slots.extend((("facilities", index, "ramp_up", k), "share") for k in range(len(item.get("ramp_up", []))))
    for index, entry in enumerate(data.get("demand") or []):
        series(("demand", index, "quantity"), entry["quantity"], "nonneg")
    for index, policy in enumerate(data.get("policies") or []):
        for field in ("share", "limit"):
            if field in policy:
                slots.append((("policies", index, field), "share"))
    return slots


def _raw(part):
    return part.key if isinstance(part, Key) else part


def put(data, path, value):
    target = get(data, path[:-1])
    target[_raw(path[-1])] = value


def get(data, path):
    for part in path:
        data = data[_raw(part)]
    return data


def located(path: tuple) -> str:
    return format_location(path)


def run(data, fmt="yaml", text=None):
    """`ree-opt validate` on the data written as YAML or JSON; returns (code, stderr, file)."""
    path = FOLDER / f"case.{fmt}"
    if text is None:
        if fmt == "json":
            text = json.dumps(data, default=str)
        else:
            text = yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def _in_hypothesis() -> bool:
    from hypothesis.control import _current_build_context

    return _current_build_context.value is not None


def check(capsys, data, expected: int, where: str | None = None, fmt="yaml", text=None):
    path = run(data, fmt, text)
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    if _in_hypothesis():
        note(f"stderr: {err}")
    assert "Traceback" not in err and "unexpected error" not in err
    assert code == expected, err
    if expected == 0:  # valid: stderr holds at most warnings (a scenario losing periods to the splice)
        assert all(line.startswith("ree-opt: warning: ") for line in err.splitlines()) and "valid" in out
        return err
    lines = err.splitlines()
    assert lines[0].startswith("ree-opt: the instance has ")
    assert lines[1:] and all(line.startswith(f"  - {path}") for line in lines[1:]), err
    if where is not None:  # an entry's id beside its index (facilities[0] (au).capacity) is left out here
        plain = re.sub(r"(\]) \([^()]+\)", r"\1", err)
        assert where in plain, f"expected {where!r} named in:\n{err}"
    return err


bases = st.sampled_from(sorted(BASES))
formats = st.sampled_from(["yaml", "json"])


def fresh(base: str) -> dict:
    return copy.deepcopy(BASES[base])


def test_the_bases_are_valid(capsys):
    for name in BASES:
        check(capsys, fresh(name), 0)


# ---------------------------------------------------------------------------
# Missing keys and wrong types

REQUIRED_FACILITY = ("id", "country", "stage", "outputs", "capacity", "cost")
REQUIRED_DEMAND = ("segment", "product", "quantity")


def required_paths(data) -> list[tuple]:
    paths = [("periods",), ("products",), ("facilities",)]
    paths += [("products", name, "shortfall_penalty") for name in data["products"]]
    paths += [("facilities", i, key) for i in range(len(data["facilities"])) for key in REQUIRED_FACILITY]
    paths += [("demand", i, key) for i in range(len(data.get("demand") or [])) for key in REQUIRED_DEMAND]
    for i, policy in enumerate(data.get("policies") or []):
        paths += [("policies", i, key) for key in ("share", "limit") if key in policy]
    return paths


@given(bases, st.data(), formats)
def test_a_missing_required_key_is_named(capsys, base, draw, fmt):
    data = fresh(base)
    path = draw.draw(st.sampled_from(required_paths(data)))
    del get(data, path[:-1])[path[-1]]
    check(capsys, data, 2, f"{located(path)}: required field is missing", fmt)


WRONG_TYPES = st.sampled_from(["abc", "", [1, 2], {"x": {"y": 1}}, True, False, "12 t"])


@given(bases, st.data(), WRONG_TYPES, formats)
def test_a_number_of_the_wrong_type_is_named(capsys, base, draw, value, fmt):
    data = fresh(base)
    path, _ = draw.draw(st.sampled_from(numeric_slots(data)))
    if path[-1] in ("quantity", "capacity", "cost") and isinstance(value, dict):
        value = {"x": "y"}
    put(data, path, value)
    check(capsys, data, 2, located(path), fmt)


@given(bases, st.sampled_from(["periods", "products", "facilities", "demand", "policies", "scenarios"]),
       st.sampled_from(["text", 12, 1.5, {"a": 1}, [1, "x"], True]))
def test_a_section_of_the_wrong_shape_is_named(capsys, base, section, value):
    data = fresh(base)
    if section == "periods" and isinstance(value, list):
        value = [[1]]
    data[section] = value
    err = check(capsys, data, 2)
    assert section in err


# ---------------------------------------------------------------------------
# Numbers: NaN, infinities, negative, huge, tiny, shares above 1


@given(bases, st.data(), st.sampled_from([math.nan, math.inf, -math.inf]), formats)
def test_nan_and_infinity_are_refused_where_they_are(capsys, base, draw, value, fmt):
    data = fresh(base)
    path, _ = draw.draw(st.sampled_from(numeric_slots(data)))
    put(data, path, value)
    text = None
    if fmt == "json":  # JSON has no NaN: spreadsheets write these words
        text = json.dumps(data, default=str).replace("NaN", '"NaN"').replace("-Infinity", '"-inf"')
        text = text.replace("Infinity", '"Infinity"')
    check(capsys, data, 2, located(path), fmt, text)


@given(bases, st.data(), st.floats(min_value=1e-300, max_value=1e300).map(lambda v: -v), formats)
def test_a_negative_number_is_refused(capsys, base, draw, value, fmt):
    data = fresh(base)
    path, kind = draw.draw(st.sampled_from(numeric_slots(data)))
    put(data, path, value)
    err = check(capsys, data, 2, located(path), fmt)
    assert (">" if kind == "positive" else ">= 0") in err


@given(bases, st.data(), st.sampled_from([1e300, 1e-300, 5e-324, 1e15, 1e-15, 0.0]), formats)
def test_huge_and_tiny_numbers_are_valid_unless_a_share_passes_1(capsys, base, draw, value, fmt):
    data = fresh(base)
    path, kind = draw.draw(st.sampled_from(numeric_slots(data)))
    put(data, path, value)
    if kind == "positive" and value == 0.0:
        check(capsys, data, 2, located(path), fmt)
    elif kind == "share" and value > 1:
        check(capsys, data, 2, f"{located(path)}: expected a number <= 1", fmt)
    else:
        check(capsys, data, 0, fmt=fmt)


@given(bases, st.data(), st.floats(min_value=1, max_value=1e300, exclude_min=True))
def test_a_share_above_1_is_refused(capsys, base, draw, value):
    data = fresh(base)
    shares = [path for path, kind in numeric_slots(data) if kind == "share"]
    path = draw.draw(st.sampled_from(shares))
    put(data, path, value)
    check(capsys, data, 2, f"{located(path)}: expected a number <= 1")


@given(bases, st.data(), st.integers(min_value=4400, max_value=6000))
def test_an_integer_too_long_to_read_is_located(capsys, base, draw, digits):
    data = fresh(base)
    path, _ = draw.draw(st.sampled_from(numeric_slots(data)))
    put(data, path, 12345)
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False).replace("12345", "9" * digits, 1)
    err = check(capsys, data, 2, text=text)
    assert "cannot read the value" in err


# ---------------------------------------------------------------------------
# References, duplicates, empty lists


def unknown_references(data):
    """(mutate, location) pairs that each make one reference unknown."""
    cases = []
    for i, item in enumerate(data["facilities"]):
        cases.append((("facilities", i, "outputs", "unobtainium"), 1.0, ("facilities", i, "outputs", "unobtainium")))
        cases.append((("facilities", i, "country"), "XX", ("facilities", i, "country")))
        cases.append((("facilities", i, "country"), "China", ("facilities", i, "country")))
        cases.append((("facilities", i, "online"), "2026Q9", ("facilities", i, "online")))
        cases.append(
            (("facilities", i, "capacity"), {data["periods"][0]: 5, 1999: 7}, ("facilities", i, "capacity", Key(1999)))
        )
    for i, _ in enumerate(data.get("demand") or []):
        cases.append((("demand", i, "product"), "unobtainium", ("demand", i, "product")))
        cases.append((("demand", i, "clean_only_from"), "someday", ("demand", i, "clean_only_from")))
    for i, policy in enumerate(data.get("policies") or []):
        if policy["type"] != "exclude":
            cases.append((("policies", i, "products"), ["ghost"], ("policies", i, "products", 0)))
        cases.append((("policies", i, "from"), 1066, ("policies", i, "from")))
    cases.append((("covered_countries",), ["CN", "ZZ"], ("covered_countries", 1)))
    cases.append((("scenarios", "typo"), {"set": {"ghost": {"cost": 1}}}, ("scenarios", "typo", "set", "ghost")))
    return cases


@given(bases, st.data(), formats)
def test_an_unknown_reference_is_named(capsys, base, draw, fmt):
    data = fresh(base)
    path, value, where = draw.draw(st.sampled_from(unknown_references(data)))
    if path[0] == "scenarios":
        data.setdefault("scenarios", {})
    put(data, path, value)
    check(capsys, data, 2, located(where), fmt)


@given(bases, st.data(), formats)
def test_a_duplicate_id_or_period_is_named(capsys, base, draw, fmt):
    data = fresh(base)
    kind = draw.draw(st.sampled_from(["facility", "period", "period_as_text"]))
    if kind == "facility":
        index = draw.draw(st.integers(0, len(data["facilities"]) - 1))
        data["facilities"].append(copy.deepcopy(data["facilities"][index]))
        check(capsys, data, 2, f"facilities[{len(data['facilities']) - 1}].id: facility id", fmt)
    else:
        first = data["periods"][0]
        data["periods"].append(str(first) if kind == "period_as_text" else first)
        check(capsys, data, 2, "periods: period labels must be unique", fmt)


def empty_lists(data):
    cases = [(("periods",), 2), (("covered_countries",), 0), (("sources",), 0)]
    for i, item in enumerate(data["facilities"]):
        cases.append((("facilities", i, "outputs"), 2))
        cases.append((("facilities", i, "ramp_up"), 0))
    for i, policy in enumerate(data.get("policies") or []):
        for key in ("products", "countries", "segments", "facilities"):
            if key in policy or (key == "products" and policy["type"] != "exclude"):
                cases.append((("policies", i, key), 2))
    return cases


@given(bases, st.data(), formats)
def test_an_empty_list_is_refused_where_it_means_nothing(capsys, base, draw, fmt):
    data = fresh(base)
    path, expected = draw.draw(st.sampled_from(empty_lists(data)))
    put(data, path, {} if path[-1] == "outputs" else [])
    check(capsys, data, expected, located(path) if expected else None, fmt)


# ---------------------------------------------------------------------------
# Text: non-ASCII and control characters

TEXT_FIELDS = [("name",), ("description",), ("notes",), ("assumption",)]
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)


def text_paths(data):
    paths = list(TEXT_FIELDS)
    for i, _ in enumerate(data["facilities"]):
        paths += [("facilities", i, "name"), ("facilities", i, "company"), ("facilities", i, "notes")]
    for name in data["products"]:
        paths.append(("products", name, "source"))
    return paths


@given(bases, st.data(), NAMES, formats)
def test_any_text_in_a_name_is_valid_when_written_escaped(capsys, base, draw, name, fmt):
    data = fresh(base)
    path = draw.draw(st.sampled_from(text_paths(data)))
    put(data, path, name)
    check(capsys, data, 0, fmt=fmt)


CONTROL = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0)]]


@given(bases, st.data(), st.sampled_from(CONTROL), st.text(alphabet="abc é漢", max_size=5))
def test_a_raw_control_character_in_the_file_is_located(capsys, base, draw, control, around):
    data = fresh(base)
    path = draw.draw(st.sampled_from(text_paths(data)))
    put(data, path, "MARKER")
    text = yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False)
    line = text[: text.index("MARKER")].count("\n") + 1
    text = text.replace("MARKER", f"{around}{control}{around}", 1)
    check(capsys, data, 2, f":{line}: not valid YAML: the character #x{ord(control):02x}", text=text)


@given(bases, st.data(), st.text(alphabet="é漢ü€ß", min_size=1, max_size=8))
def test_non_ascii_ids_and_segments_are_valid(capsys, base, draw, word):
    data = fresh(base)
    index = draw.draw(st.integers(0, len(data["facilities"]) - 1))
    old = data["facilities"][index]["id"]
    data["facilities"][index]["id"] = word
    for scenario in (data.get("scenarios") or {}).values():  # references follow the rename
        if old in scenario.get("set", {}):
            scenario["set"][word] = scenario["set"].pop(old)
    for policy in data.get("policies") or []:
        if old in policy.get("facilities", []):
            policy["facilities"] = [word if f == old else f for f in policy["facilities"]]
    check(capsys, data, 0)


# ---------------------------------------------------------------------------
# Shape: deep nesting, alias bombs, garbage


def nested(depth: int):
    value = []
    for _ in range(depth):
        value = [value]
    return value


@given(bases, st.one_of(st.integers(1, 60), st.integers(120, 3000)), formats)
def test_deep_nesting_is_read_or_refused_with_its_line(capsys, base, depth, fmt):
    data = fresh(base)
    data["sources"] = [nested(depth)]
    text = None
    deep = "[" + "[" * depth + "]" * depth + "]"  # written as text: json.dumps itself recurses per level
    if fmt == "yaml":  # a flow list, as a hand-written or generated file would have it
        data.pop("sources")
        text = yaml.dump(data, Dumper=Dumper, sort_keys=False) + "sources: " + deep + "\n"
    else:
        data.pop("sources")
        text = json.dumps(data, default=str)[:-1] + ', "sources": ' + deep + "}"
    if depth <= 60:
        check(capsys, data, 0, fmt=fmt, text=text)
    else:
        err = check(capsys, data, 2, fmt=fmt, text=text)
        assert "nest" in err


def bomb(width: int, depth: int) -> str:
    lines = ["sources:", "  - &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"  - &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]" for k in range(1, depth)]
    return "\n".join(lines) + "\n"


@given(bases, st.integers(2, 16), st.integers(2, 40))
def test_an_alias_bomb_is_refused_and_small_aliases_are_read(capsys, base, width, depth):
    data = fresh(base)
    data.pop("sources", None)  # the bomb is the sources (a key written twice is refused)
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False) + bomb(width, depth)
    if width**depth > 2_000_000:
        check(capsys, data, 2, "the document expands past 1,000,000 nodes", text=text)
    elif width**depth < 200_000:
        check(capsys, data, 0, text=text)


@given(st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
), formats)
def test_a_document_that_is_not_an_instance_is_refused(capsys, value, fmt):
    if isinstance(value, dict):
        value.pop("periods", None)
    text = json.dumps(value) if fmt == "json" else None
    check(capsys, value, 2, fmt=fmt, text=text)


@given(st.binary(max_size=200))
def test_random_bytes_are_refused(capsys, payload):
    path = FOLDER / "bytes.yaml"
    path.write_bytes(payload)
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert all(line.startswith(f"  - {path}") for line in err.splitlines()[1:])


# ---------------------------------------------------------------------------
# By a fresh process: the console script, and a 50 MB file


@pytest.mark.parametrize("case", ["bomb", "nan", "50MB", "missing"])
def test_the_console_script_gives_exit_2_and_a_location(tmp_path, case):
    import subprocess
    import sys

    data = fresh("toy")
    data.pop("sources")
    path = tmp_path / "case.yaml"
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False)
    where = f"{path}"
    if case == "bomb":
        text += bomb(10, 12)
        where += ":"
    elif case == "nan":
        text = text.replace("capacity: 170", "capacity: .nan")
        line = text[: text.index(".nan")].count("\n") + 1
        where += f":{line}: facilities[1] (ca_recycler).capacity: expected a finite number"
    elif case == "missing":
        text = text.replace("periods:", "period:")
        where += ":1: periods: required field is missing"
    else:
        text += "notes: '" + "x" * (50 * 2**20) + "'\n"
        where += ": the file is 50.0 MB"
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "ree_opt", "validate", str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert where in done.stderr, done.stderr


@pytest.mark.slow
def test_a_50_mb_file_of_many_nodes_is_refused_at_the_millionth(tmp_path, capsys):
    """Under the size limit too: 8 MB of a flow list of 4 million numbers."""
    path = tmp_path / "many.yaml"
    path.write_text("periods: [2026]\nsources: [" + ",".join(["1"] * 4_000_000) + "]\n")
    assert main(["validate", str(path)]) == 2
    assert f"{path}:2: the document expands past 1,000,000 nodes" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Section 6: bad `uncertainty` and `offtake`


def with_uncertainty(base: str) -> dict:
    """The base with a valid uncertainty section (an event over one of its
    scenarios that changes only what varies by period) and an offtake."""
    data = fresh(base)
    data["scenarios"] = dict(data.get("scenarios") or {})
    data["scenarios"]["dearer"] = {"scale": [{"where": {}, "field": "cost", "factor": 1.2}]}
    data["uncertainty"] = {
        "reveal": data["periods"][1], "alpha": 0.9, "omega": 0.2,
        "events": [{"name": "prices", "outcomes": [{"probability": 0.5}, {"scenario": "dearer", "probability": 0.5}]}],
    }
    data["facilities"][0]["offtake"] = {"fee": 2.0, "take_or_pay": 0.8, "spot_markup": 0.25}
    return data


def set_in(*path_and_value):
    *path, value = path_and_value
    return lambda data: put(data, tuple(path), value)


UNCERTAINTY_MUTATIONS = {
    "probabilities off 1": (set_in("uncertainty", "events", 0, "outcomes", 0, "probability", 0.6),
                            "uncertainty.events[0].outcomes: the probabilities of event 'prices' must sum to 1"),
    "unknown scenario": (set_in("uncertainty", "events", 0, "outcomes", 1, "scenario", "ghost"),
                         "uncertainty.events[0].outcomes[1].scenario: unknown scenario 'ghost'"),
    "reveal not a period": (set_in("uncertainty", "reveal", 1999), "uncertainty.reveal"),
    "alpha 1": (set_in("uncertainty", "alpha", 1.0), "uncertainty.alpha: expected a number < 1"),
    "omega above 1": (set_in("uncertainty", "omega", 1.5), "uncertainty.omega: expected a number <= 1"),
    "n 0": (set_in("uncertainty", "sample", {"n": 0, "seed": 1}), "uncertainty.sample.n"),
    "seed text": (set_in("uncertainty", "sample", {"n": 5, "seed": "x"}), "uncertainty.sample.seed"),
    "no outcomes": (set_in("uncertainty", "events", 0, "outcomes", []), "uncertainty.events[0].outcomes"),
    "duplicate event": (lambda d: d["uncertainty"]["events"].append(copy.deepcopy(d["uncertainty"]["events"][0])),
                        "uncertainty.events[1].name: event name 'prices' is used more than once"),
    "unknown key": (set_in("uncertainty", "omgea", 0.5), "uncertainty.omgea: unknown key"),
    "offtake fee negative": (set_in("facilities", 0, "offtake", "fee", -1), "facilities[0].offtake.fee"),
    "take_or_pay above 1": (set_in("facilities", 0, "offtake", "take_or_pay", 1.5), "facilities[0].offtake.take_or_pay"),
    "offtake key": (set_in("facilities", 0, "offtake", "fees", 1), "facilities[0].offtake.fees: unknown key"),
    "outcome changes the chain": (
        lambda d: d["scenarios"]["dearer"].update({"set": {d["facilities"][0]["id"]: {"risk": 0.1}}}),
        "so it may change only what varies by period",
    ),
}
NUMBERS_6 = [("uncertainty", "alpha"), ("uncertainty", "omega"), ("uncertainty", "events", 0, "outcomes", 0, "probability"),
             ("facilities", 0, "offtake", "fee"), ("facilities", 0, "offtake", "take_or_pay"),
             ("facilities", 0, "offtake", "spot_markup")]


def test_the_uncertain_bases_are_valid(capsys):
    for name in BASES:
        check(capsys, with_uncertainty(name), 0)


@given(bases, st.sampled_from(sorted(UNCERTAINTY_MUTATIONS)), formats)
def test_a_bad_uncertainty_or_offtake_is_named(capsys, base, mutation, fmt):
    data = with_uncertainty(base)
    mutate, where = UNCERTAINTY_MUTATIONS[mutation]
    mutate(data)
    check(capsys, data, 2, where, fmt)


@given(bases, st.sampled_from(NUMBERS_6), st.sampled_from([math.nan, math.inf, -1.0, -1e300, "abc", True, [0.5]]))
def test_a_bad_number_in_uncertainty_or_offtake_is_named(capsys, base, path, value):
    data = with_uncertainty(base)
    put(data, path, value)
    check(capsys, data, 2, located(path))
