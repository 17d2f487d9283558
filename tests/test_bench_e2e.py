"""The README's benchmark command runs and prints its tables (a smoke run: two
epochs and few seeds; the figures that count come from full runs)."""

from __future__ import annotations

import pytest

from tests import readme
from tests.e2e import ROOT, run

pytestmark = pytest.mark.slow


def test_benchmark_prints_both_sides_and_every_target():
    command = readme.command("python -m bench.speed") + " --repeats 1 --epochs 2 --seeds 1,2,3"
    printed = run(ROOT, "bash", "-c", command)
    rows = {line[:44].strip(): line[44:] for line in printed.splitlines()}
    for scenario in (
        "cold, 3 variants x 1 seed(s)",
        "cold, 3 variants x 2 seeds (default)",
        "cold, 3 variants x 3 seeds",
        "nothing changed (tutorial: rerun all 3)",
        "bn.momentum=0.0 (tutorial: rerun 2 BN)",
    ):
        assert scenario in rows, printed
        assert rows[scenario].count(" s ") == 2 and rows[scenario].count("GB") == 2, printed
    targets = [line for line in printed.splitlines() if line.endswith(("met", "NOT met"))]
    assert len(targets) == 5, printed
