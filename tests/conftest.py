from pathlib import Path

import pytest

SPEC_EXAMPLE = Path(__file__).resolve().parent / "instances" / "spec_example.yaml"


@pytest.fixture
def spec_example():
    return SPEC_EXAMPLE
