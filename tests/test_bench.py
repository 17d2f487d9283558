"""Protects the benchmark's arithmetic and tables on made-up figures: estimates, targets."""

from __future__ import annotations

import argparse
import re

import pytest

from bench import speed
from bench.speed import Sample, checkout, report
from tests.e2e import ROOT, run

COUNTS = (1, 10, 100)
# The tutorial's path: 3 scripts of one seed take 48 s, 4 s of them imports.
REFERENCE = {
    "1": [Sample(48.0, 800.0)],
    "import": [Sample(4.0, 300.0)],
    "momentum": [Sample(32.0, 800.0)],
    "networks-1": [Sample(50.0, 900.0)],
    "networks-import": [Sample(3.0, 300.0)],
}


def ours(noop: float = 1.0, peak_mb: float = 900.0) -> dict[str, list[Sample]]:
    return {
        "cold-1": [Sample(10.0, 600.0)],
        "cold-10": [Sample(20.0, 700.0), Sample(22.0, 700.0), Sample(21.0, 700.0)],
        "cold-100": [Sample(30.0, peak_mb)],
        "noop": [Sample(noop, 200.0)],
        "momentum": [Sample(12.0, 600.0)],
        "extended": [Sample(40.0, 800.0)],
    }


def printed(capsys, mine, before=None, revision=None) -> dict[str, str]:
    """The report's lines, by their label (the text before two spaces)."""
    report(REFERENCE, mine, 3, False, COUNTS, before or {}, revision)
    lines = capsys.readouterr().out.splitlines()
    return {re.split(r"\s{2,}", line.strip())[0]: line for line in lines if line.strip()}


def numbers(line: str) -> list[float]:
    """The figures of a line, in order: seconds, GB, ranges' ends, ratios."""
    return [float(n) for n in re.findall(r"\d+\.\d+", line)]


def test_the_reference_is_estimated_per_seed_and_each_ratio_is_ours_over_it(capsys):
    rows = printed(capsys, ours())
    # 10 seeds: 3 imports (12 s) + 10 x the 36 s of one seed's work = 372 s;
    # ours is the median of 20, 22 and 21 s, with its range.
    default = rows["cold, 3 variants x 10 seeds (default)"]
    assert numbers(default) == pytest.approx([372.0, 0.78, 21.0, 20.0, 22.0, 0.68, 0.06], abs=0.01)
    assert default.split("GB")[1].split()[0] == "*", "an estimate says so"
    assert numbers(rows["cold, 3 variants x 1 seed(s)"])[-1] == pytest.approx(10 / 48, abs=0.01)
    # The extended study: the MLP's 372 s and the networks' 15 + 10 x 35 s.
    assert numbers(rows["cold, extended: + CNN, LSTM, 10 seeds"])[0] == 737.0


def test_each_target_is_met_or_not_by_its_own_figure(capsys):
    rows = printed(capsys, ours())
    expected = {
        "default cold repro / tutorial's 3 scripts": 21 / 48,
        "100 seeds / 10 seeds, cold repro": 30 / 21,
        "no-op dvc repro, s": 1.0,
        "momentum experiment / cold repro": 12 / 21,
        "peak memory of any process, GB": 900 / 1024,
        "extended study / tutorial's code path": 40 / 737,
    }
    for label, value in expected.items():
        assert numbers(rows[label])[0] == pytest.approx(value, abs=0.006), rows[label]
        assert rows[label].endswith(" met"), rows[label]

    rows = printed(capsys, ours(noop=1.3, peak_mb=1500.0))
    assert rows["no-op dvc repro, s"].endswith("NOT met")
    assert rows["peak memory of any process, GB"].endswith("NOT met")
    assert rows["momentum experiment / cold repro"].endswith(" met")


def test_a_revision_measured_beside_this_code_gets_a_column_of_its_own(capsys):
    slower = {
        key: [Sample(s.seconds * 2, s.peak_mb) for s in samples] for key, samples in ours().items()
    }
    del slower["extended"]  # that revision had no extended study
    rows = printed(capsys, ours(), slower, "abc1234def")
    assert "bnlab abc1234def" in rows["scenario"]
    # tutorial 48 s 0.78 GB, then that revision's 2 s 0.2 GB, then ours.
    assert numbers(rows["nothing changed (tutorial: rerun all 3)"])[:5] == [
        48.0,
        0.78,
        2.0,
        0.2,
        1.0,
    ]
    assert " - " in rows["cold, extended: + CNN, LSTM, 10 seeds"], "no such scenario then"
    assert rows["no-op dvc repro, s"].split()[-5:] == ["2.00", "1.00", "<=", "1.2", "met"]
    assert numbers(rows["extended study / tutorial's code path"])[:1] == [0.05], "nan, then ours"


def test_a_revision_is_checked_out_beside_and_removed_even_after_a_failure(tmp_path):
    folder = tmp_path / "before"
    with pytest.raises(RuntimeError), checkout("HEAD", folder) as code:
        assert (code / "bench" / "speed.py").exists()
        raise RuntimeError("the benchmark failed")
    assert not folder.exists()
    assert str(folder) not in run(ROOT, "git", "worktree", "list"), "no worktree left registered"
    with checkout(None, folder) as code:
        assert code is None


def test_with_a_revision_the_two_codes_take_turns_at_going_first(tmp_path, monkeypatch):
    """Whichever code runs right after the tutorial's scripts is not always the same one."""
    went = []

    def bnlab_round(folder, counts, epochs, network_epochs, code, networks):
        went.append(code)
        return {"cold-1": Sample(float(len(went)), 1.0)}

    monkeypatch.setattr(speed, "tutorial", lambda *args: Sample(1.0, 1.0))
    monkeypatch.setattr(speed, "measure", lambda *args, **env: Sample(1.0, 1.0))
    monkeypatch.setattr(speed, "bnlab_round", bnlab_round)
    args = argparse.Namespace(
        repeats=3, epochs=1, network_epochs=1, no_networks=True, full_reference=False
    )
    old = tmp_path / "old"
    mine, before = {}, {}
    speed.rounds(args, COUNTS, tmp_path, old, {}, mine, before)
    assert went == [ROOT, old, old, ROOT, ROOT, old]
    assert [s.seconds for s in mine["cold-1"]] == [1.0, 4.0, 5.0]
    assert [s.seconds for s in before["cold-1"]] == [2.0, 3.0, 6.0]
    went.clear()
    (tmp_path / "alone").mkdir()
    speed.rounds(args, COUNTS, tmp_path / "alone", None, {}, {}, {})
    assert went == [ROOT] * 3, "without a revision, this code alone"
