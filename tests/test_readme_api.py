"""The README's Python API list is SPEC section 4's: every attribute and
keyword the contract lists is there, each one it shows exists, and those
marked (*) (they come with investment decisions, section 7) are marked only
while they do not exist."""

import inspect
import re
from pathlib import Path

import pytest

import ree_opt

README = Path(__file__).resolve().parent.parent / "README.md"
TOY = Path(__file__).resolve().parent.parent / "instances" / "toy.yaml"

#: SPEC section 4's `sol.` lines and `solve(...)` keywords, in its order.
SPEC_ATTRIBUTES = [
    "status", "objective", "cost_breakdown", "activity", "deliveries", "shortfall", "marginal_prices",
    "binding", "covered_share", "ranging", "warnings", "investments", "mip_gap",
]
SPEC_KEYWORDS = ["scenario", "policies", "solver", "time_limit", "mip_gap"]


def python_block() -> str:
    text = README.read_text()
    start = text.index("## Using it from Python")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


@pytest.fixture(scope="module")
def solution():
    return ree_opt.solve(TOY)


def listed() -> dict[str, bool]:
    """attribute -> marked (*), from the README's `sol.x  # ...` lines."""
    out = {}
    for line in python_block().splitlines():
        match = re.match(r"sol\.(\w+)\s*(#.*)?$", line)
        if match:
            out[match.group(1)] = "(*)" in (match.group(2) or "")
    return out


def test_every_attribute_of_the_contract_is_listed():
    assert [name for name in SPEC_ATTRIBUTES if name not in listed()] == []


def test_what_is_listed_exists_or_is_marked_as_to_come(solution):
    for name, marked in listed().items():
        assert hasattr(solution, name) != marked, (
            f"sol.{name}: " + ("marked (*) but it exists now: drop the mark" if marked else "listed but missing")
        )


def test_solves_keywords_are_listed_and_exist_or_are_marked():
    block = python_block()
    parameters = inspect.signature(ree_opt.solve).parameters
    for keyword in SPEC_KEYWORDS:
        lines = [line for line in block.splitlines() if re.search(rf"ree_opt\.solve\(.*\b{keyword}=", line)]
        assert lines, f"solve's {keyword}= is not shown"
        marked = any("(*)" in line for line in lines)
        assert (keyword in parameters) != marked, keyword
