"""The rich-futures instance (issue 9): instances/make_futures.py writes it
from the baseline; its sample draws about a thousand distinct futures."""

import importlib.util
from pathlib import Path

import yaml

import ree_opt
from ree_opt.stochastic import enumerate_futures

ROOT = Path(__file__).resolve().parent.parent
FUTURES = ROOT / "instances" / "sampled" / "baseline_futures.yaml"


def generator():
    spec = importlib.util.spec_from_file_location("make_futures", ROOT / "instances" / "make_futures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_instance_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "baseline_futures.yaml"
    generator().main(out)
    assert out.read_text() == FUTURES.read_text(), "rerun python instances/make_futures.py"


def test_a_sample_of_a_thousand_draws_a_thousand_distinct_futures():
    instance = ree_opt.load_instance(FUTURES)  # every scenario an event names passes section 6's checks
    uncertainty = instance.uncertainty
    projects = generator().projects(yaml.safe_load((ROOT / "instances" / "baseline.yaml").read_text()))
    assert len(projects) >= 10
    slips = {e.name: e for e in uncertainty.events if e.name.startswith("slip_")}
    assert set(slips) == {f"slip_{p}" for p in projects}
    assert [o.probability for o in slips[f"slip_{projects[0]}"].outcomes] == [0.5, 0.25, 0.25]
    assert sum(e.name.startswith("licence_") for e in uncertainty.events) == 3
    futures = enumerate_futures(uncertainty, uncertainty.sample)
    assert uncertainty.sample.n == 1000 and len(futures) >= 990
    assert abs(sum(f.probability for f in futures) - 1) < 1e-9
