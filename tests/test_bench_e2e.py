"""The README's benchmark command runs and prints its tables (a smoke run: two
epochs and few seeds; the figures that count come from full runs)."""

from __future__ import annotations

import pytest

from tests import readme
from tests.e2e import ROOT, run

pytestmark = pytest.mark.slow


SMOKE = " --repeats 1 --epochs 2 --seeds 1,2,3 --network-epochs 1"


def _rows(printed: str) -> dict[str, str]:
    return {line[:44].strip(): line[44:] for line in printed.splitlines()}


def test_benchmark_prints_both_sides_and_every_target():
    command = readme.command("python -m bench.speed --repeats 3") + SMOKE
    printed = run(ROOT, "bash", "-c", command)
    rows = _rows(printed)
    for scenario in (
        "cold, 3 variants x 1 seed(s)",
        "cold, 3 variants x 2 seeds (default)",
        "cold, 3 variants x 3 seeds",
        "nothing changed (tutorial: rerun all 3)",
        "bn.momentum=0.0 (tutorial: rerun 2 BN)",
        "cold, extended: + CNN, LSTM, 2 seeds",
    ):
        assert scenario in rows, printed
        assert rows[scenario].count(" s ") == 2 and rows[scenario].count("GB") == 2, printed
    targets = [line for line in printed.splitlines() if line.endswith(("met", "NOT met"))]
    assert len(targets) == 6, printed


def test_benchmark_before_a_revision_prints_its_figures_beside_this_codes():
    # HEAD: a clone may not hold the README's older commit.
    command = readme.command("python -m bench.speed --repeats 1 --before", {"7980c27": "HEAD"})
    # --no-networks: the first test measures the extended study; here it would
    # only add minutes (this revision and HEAD both have it).
    printed = run(ROOT, "bash", "-c", command + SMOKE + " --no-networks")
    rows = _rows(printed)
    assert rows["cold, 3 variants x 2 seeds (default)"].count(" s ") == 3, printed
    assert "cold, extended: + CNN, LSTM, 2 seeds" not in rows, printed
    targets = [line.split() for line in printed.splitlines() if line.endswith("met")]
    assert len(targets) == 5, printed
    assert "HEAD" in printed
    worktrees = run(ROOT, "git", "worktree", "list").splitlines()
    assert len(worktrees) == 1, "the revision's worktree is removed"
