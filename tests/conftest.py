from pathlib import Path

import pytest

SPEC_EXAMPLE = Path(__file__).resolve().parent / "instances" / "spec_example.yaml"


@pytest.fixture
def spec_example():
    return SPEC_EXAMPLE


# Hypothesis profiles (tests/test_bad_input.py): `ci` is the default, a few
# hundred cases per property (over 2,000 in all, in a few tens of seconds);
# `slow` is run by hand: HYPOTHESIS_PROFILE=slow pytest tests/test_bad_input.py
try:
    import os

    from hypothesis import HealthCheck, settings

    # capsys is read out after every case, so a function-scoped fixture is safe here
    _common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    settings.register_profile("ci", max_examples=130, derandomize=True, print_blob=True, **_common)
    settings.register_profile("slow", max_examples=5000, **_common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is in the `test` extra
    pass
