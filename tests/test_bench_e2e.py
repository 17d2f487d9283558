"""Protects the README's benchmark command: one smallest real run, a well-formed table.

README's benchmark command from crashing or printing a malformed table: one
real run at its smallest (one repeat, one epoch, a few seeds), every scenario
and target with figures, however slow the machine. The arithmetic, and a
revision's column beside this code's, are tests/test_bench.py's.
"""

from __future__ import annotations

import re

import pytest

from tests import readme
from tests.e2e import ROOT, run

pytestmark = pytest.mark.slow

# --no-networks: the extended study is make networks end to end (test_networks_e2e);
# its row and target are tests/test_bench.py's.
SMOKE = " --repeats 1 --epochs 1 --seeds 1,2,3 --no-networks"
SCENARIOS = (
    "cold, 3 variants x 1 seed(s)",
    "cold, 3 variants x 2 seeds (default)",
    "cold, 3 variants x 3 seeds",
    "nothing changed (tutorial: rerun all 3)",
    "bn.momentum=0.0 (tutorial: rerun 2 BN)",
)
TARGETS = (
    "default cold repro / tutorial's 3 scripts",
    "3 seeds / 2 seeds, cold repro",
    "no-op dvc repro, s",
    "momentum experiment / cold repro",
    "peak memory of any process, GB",
)
FIGURE = r"\d+\.\d+"
# Time and memory; bnlab's with the range of its repeats between them.
MEASURED = rf"{FIGURE} s +(\[{FIGURE}-{FIGURE}\] )?{FIGURE} GB"


def test_the_benchmark_runs_and_prints_every_scenario_and_target():
    printed = run(ROOT, "bash", "-c", readme.command("python -m bench.speed") + SMOKE)
    lines = {line[:44].strip(): line[44:] for line in printed.splitlines()}
    for scenario in SCENARIOS:
        # The tutorial's path and bnlab's, then the ratio of the two.
        assert re.fullmatch(rf" *{MEASURED}( +\*)? +{MEASURED} +{FIGURE}", lines[scenario]), (
            f"{scenario}: {lines.get(scenario)}"
        )
    for target in TARGETS:
        # This code's figure, the goal, and met or not.
        assert re.fullmatch(rf" *{FIGURE}  <= [\d.]+ +(met|NOT met)", lines[target]), (
            f"{target}: {lines.get(target)}"
        )
