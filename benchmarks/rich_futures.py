"""The baseline with many independent events, for benchmarks of the
extensive form: each project not yet operating slips 0, 1 or 2 years on its
own, each Chinese licensed exporter has its own approval level, demand takes
one of three paths, and a Chinese halt may come. Probabilities follow the
baseline's stated assumptions (ree_facts "Evidence for probabilities");
`sample: {n: N}` then draws about N distinct futures.

    from benchmarks.rich_futures import rich_baseline
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

BASELINE = Path(__file__).resolve().parent.parent / "instances" / "baseline.yaml"
LICENSED = ("cn_dy_oxide_export", "cn_tb_oxide_export", "cn_ndfeb_magnet_export")


def rich_baseline(n: int | None = None, seed: int = 7) -> dict:
    data = yaml.safe_load(BASELINE.read_text())
    scenarios = data["scenarios"]
    projects = [step["where"]["id"] for step in scenarios["projects_slip_2y"]["shift"]]
    events = []
    for project in projects:
        for years in (1, 2):
            scenarios[f"slip_{project}_{years}y"] = {"shift": [{"where": {"id": project}, "field": "online", "by": years}]}
        events.append({"name": f"slip_{project}", "outcomes": [
            {"probability": 0.4}, {"scenario": f"slip_{project}_1y", "probability": 0.35},
            {"scenario": f"slip_{project}_2y", "probability": 0.25},
        ]})
    for exporter in LICENSED:
        for level in (0.25, 0.0):
            scenarios[f"licence_{exporter}_{level:g}"] = {"set": {exporter: {"availability": level}}}
        events.append({"name": f"licence_{exporter}", "outcomes": [
            {"probability": 0.5}, {"scenario": f"licence_{exporter}_0.25", "probability": 0.3},
            {"scenario": f"licence_{exporter}_0", "probability": 0.2},
        ]})
    scenarios["demand_low"] = {"scale": [{"where": {"segment": s}, "field": "quantity", "factor": 0.8}
                                         for s in ("ev", "wind", "industrial")]}
    events.append({"name": "demand", "outcomes": [
        {"probability": 0.6}, {"scenario": "demand_high", "probability": 0.3},
        {"scenario": "demand_low", "probability": 0.1},
    ]})
    events.append({"name": "embargo", "outcomes": [{"probability": 0.85}, {"scenario": "cn_embargo_2y", "probability": 0.15}]})
    uncertainty = copy.deepcopy(data["uncertainty"])
    uncertainty["events"] = events
    if n is not None:
        uncertainty["sample"] = {"n": n, "seed": seed}
    data["uncertainty"] = uncertainty
    data["name"] = "baseline_rich_futures"
    return data
