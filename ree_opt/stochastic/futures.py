"""Futures (SPEC section 6): each picks one outcome of every event.

Without `sample` every combination is a future, its probability the product
of its outcomes', except those of probability 0 (an outcome given
probability 0): nothing weighs them, so they are dropped, not solved nor
reported; with `sample`, n futures are drawn (each event's outcome by
its probabilities, from a generator seeded with `seed`), each of probability
1/n, equal draws merged (their probabilities summed). A future's instance is
the base instance patched by its outcomes' scenarios in event order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..instance import Instance, InstanceError, Problem, Sample, Uncertainty
from ..scenarios import scenario_names

#: Every combination is a future up to this many; beyond, `sample` is needed.
MAX_COMBINATIONS = 10_000


@dataclass(frozen=True)
class Future:
    """One future: its outcome of each event, its scenarios and probability."""

    index: int
    outcomes: tuple[int, ...]  # outcome index per event
    scenarios: tuple[str, ...]  # scenario names applied, in event order
    probability: float

    @property
    def scenario(self) -> str:
        return ",".join(self.scenarios)


def reveal_index(instance: Instance, uncertainty: Uncertainty | None = None) -> int:
    """Index of the first period that differs between futures (default: the
    second period; the first in a one-period horizon)."""
    uncertainty = uncertainty or instance.uncertainty
    labels = [str(p) for p in instance.periods]
    if uncertainty is not None and uncertainty.reveal is not None:
        return labels.index(str(uncertainty.reveal))
    return 1 if len(labels) > 1 else 0


def _outcome_scenarios(uncertainty: Uncertainty, choice: tuple[int, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for event, o in zip(uncertainty.events, choice):
        names += scenario_names(event.outcomes[o].scenario)
    return tuple(names)


def enumerate_futures(uncertainty: Uncertainty, sample: Sample | Mapping | None = None) -> list[Future]:
    """Every combination of outcomes of probability > 0 (refused past
    MAX_COMBINATIONS), or n sampled futures when `sample` is given.
    `Uncertainty.dropped_futures()` counts the combinations left out."""
    events = uncertainty.events
    if sample is not None:
        sample = sample if isinstance(sample, Sample) else Sample.model_validate(dict(sample))
        return _sampled(uncertainty, sample)
    count = uncertainty.positive_combinations()
    if count > MAX_COMBINATIONS:
        raise InstanceError([Problem(
            "uncertainty.events",
            f"the events combine into {count:,} futures, more than {MAX_COMBINATIONS:,}: "
            "draw some of them with `sample: {n: 1000, seed: 7}` (or --sample N --seed S)",
        )])
    futures = []
    possible = [[o for o, outcome in enumerate(event.outcomes) if outcome.probability > 0] for event in events]
    for choice in itertools.product(*possible):
        probability = float(math.prod(event.outcomes[o].probability for event, o in zip(events, choice)))
        futures.append(Future(len(futures), choice, _outcome_scenarios(uncertainty, choice), probability))
    return futures


def _sampled(uncertainty: Uncertainty, sample: Sample) -> list[Future]:
    rng = np.random.default_rng(sample.seed)
    events = uncertainty.events
    draws = np.zeros((sample.n, len(events)), dtype=np.int64)
    for e, event in enumerate(events):
        p = np.array([o.probability for o in event.outcomes], dtype=float)
        draws[:, e] = rng.choice(len(p), size=sample.n, p=p / p.sum())
    counts: dict[tuple[int, ...], int] = {}
    for row in map(tuple, draws.tolist()):
        counts[row] = counts.get(row, 0) + 1  # equal draws merged, in order of first draw
    return [
        Future(i, choice, _outcome_scenarios(uncertainty, choice), count / sample.n)
        for i, (choice, count) in enumerate(counts.items())
    ]
