"""Protects the README's `make extensions` on the shared study, end to end.

README's `make extensions`, run on the shared study:
it trains the extensions only, its report's numbers are those of the per-seed
files it was written from (computed here again, with scipy and the csv module),
a second run trains nothing, and the extensions' runs are in MLflow.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from tests import readme
from tests.e2e import (
    EPOCHS,
    SEEDS,
    VARIANTS,
    check_declared_imports,
    import_log,
    locked,
    mlflow_runs,
    run,
    stages_run,
    training_runs,
)
from tests.ui import mlflow_ui

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(extensions_study) -> Path:
    return extensions_study.repo


@pytest.fixture(scope="module")
def extensions(repo) -> dict:
    return yaml.safe_load((repo / "params.yaml").read_text())["extensions"]


@pytest.fixture(scope="module")
def made(extensions_study) -> str:
    return extensions_study.output


def test_it_trains_each_extension_and_nothing_the_study_trained(repo, extensions, made):
    ran = stages_run(made)
    prefix = "extensions/dvc.yaml:"
    trained = {f"{prefix}train@{name}" for name in extensions}
    rest = {f"{prefix}{stage}" for stage in ("configure", "evaluate", "compare", "publish")}
    assert ran == trained | rest, "no stage of the study runs again"


def test_every_extension_stage_declares_what_it_imports(repo, made):
    log = import_log(repo, "extensions")
    check_declared_imports(repo, locked(repo, "extensions/dvc.yaml"), log)


def test_a_second_run_trains_nothing(repo, made):
    again = run(repo, "bash", "-c", readme.command("make extensions"))
    assert stages_run(again) == set()


def test_the_readmes_two_headline_tables_fit_120_columns_and_show_every_extension(
    repo, extensions, made
):
    headline = json.loads((repo / "metrics" / "extensions.json").read_text())
    shown_names = []
    for command in (
        readme.command("dvc exp show --drop '.*' --keep 'Experiment|bn_.+momentum'"),
        readme.command("dvc exp show --drop '.*' --keep 'Experiment|bn_.+_(beta"),
    ):
        table = run(repo, "bash", "-c", command, COLUMNS="120")
        lines = table.splitlines()
        assert max(len(line) for line in lines) <= 120 and "…" not in table, table
        names = next(line for line in lines if "Experiment" in line).split()[1:]
        row = next(line for line in lines if "workspace" in line)
        assert all(headline[name] in row for name in names), table
        shown_names += names
    assert sorted(shown_names) == sorted(extensions)
    # The study's table leaves them out.
    study = readme.command("dvc exp show --only-changed")
    table = run(repo, "bash", "-c", study, COLUMNS="120")
    header = next(line for line in table.splitlines() if "Experiment" in line).split()
    assert header == ["Experiment", *VARIANTS], table


def per_seed(path: Path, column: str) -> np.ndarray:
    with path.open() as table:
        return np.array([float(row[column]) for row in csv.DictReader(table)])


def curves(path: Path) -> dict[str, list[float]]:
    """Per seed, test accuracy per epoch, from a history CSV."""
    found: dict[str, list[float]] = {}
    with path.open() as table:
        for row in csv.DictReader(table):
            found.setdefault(row["seed"], []).append(float(row["val_accuracy"]))
    return found


def epochs_to_80(path: Path) -> np.ndarray:
    """Per seed, the first epoch with test accuracy >= 0.8; inf if none."""
    reached = [[e for e, a in enumerate(c, start=1) if a >= 0.8] for c in curves(path).values()]
    return np.array([r[0] if r else np.inf for r in reached], dtype=float)


def late_sd(path: Path) -> np.ndarray:
    """Per seed, the sample s.d. of test accuracy over the second half of the epochs."""
    return np.array([np.std(c[EPOCHS // 2 :], ddof=1) for c in curves(path).values()])


def mann_whitney(a: np.ndarray, b: np.ndarray) -> float:
    if np.array_equal(np.sort(a), np.sort(b)):
        return 1.0
    ceiling = np.nanmax(np.where(np.isinf(np.r_[a, b]), np.nan, np.r_[a, b]), initial=0) + 1
    a, b = (np.where(np.isinf(x), ceiling, x) for x in (a, b))
    return stats.mannwhitneyu(a, b, alternative="two-sided").pvalue


def test_the_reports_numbers_are_those_of_the_per_seed_files(repo, extensions, made):
    numbers = json.loads((repo / "reports" / "extensions.json").read_text())["extensions"]
    text = (repo / "reports" / "extensions.md").read_text()
    assert list(numbers) == list(extensions)
    for name, extension in extensions.items():
        reference = extension.get("against", extension["variant"])
        ours = repo / "extensions" / "results"
        theirs = repo / "results"
        a = per_seed(ours / "scores" / f"{name}.csv", "test_accuracy")
        b = per_seed(theirs / "scores" / f"{reference}.csv", "test_accuracy")
        assert len(a) == len(b) == SEEDS
        got = numbers[name]
        assert got["against"] == reference
        difference = got["test_accuracy_diff"]
        assert difference["mean"] == pytest.approx(a.mean() - b.mean(), abs=1e-6)
        if not np.array_equal(np.sort(a), np.sort(b)):
            welch = stats.ttest_ind(a, b, equal_var=False)
            low, high = welch.confidence_interval(0.95)
            assert (difference["ci95_low"], difference["ci95_high"]) == pytest.approx(
                (low, high), abs=1e-6
            )
            assert got["welch_p"] == pytest.approx(welch.pvalue, abs=1e-6)
        # The verdict follows the interval: zero inside it is "no higher or lower".
        covers = difference["ci95_low"] <= 0 <= difference["ci95_high"]
        assert ("no higher or lower" in got["verdict"]) == covers
        assert got["verdict"] in text
        assert f"| {name} | {reference} |" in text
        ea = epochs_to_80(ours / "history" / f"{name}.csv")
        eb = epochs_to_80(theirs / "history" / f"{reference}.csv")
        median = float(np.median(ea))
        assert got["epochs_to_80_median"] == (median if np.isfinite(median) else None)
        assert got["mann_whitney_p"] == pytest.approx(mann_whitney(ea, eb), abs=1e-6)
        late = (
            late_sd(ours / "history" / f"{name}.csv"),
            late_sd(theirs / "history" / f"{reference}.csv"),
        )
        assert got["late_spread"] == pytest.approx(late[0].mean(), abs=1e-6)
        assert got["reference_late_spread"] == pytest.approx(late[1].mean(), abs=1e-6)


def test_the_report_has_its_sections_and_the_momentum_sweep(repo, made):
    text = (repo / "reports" / "extensions.md").read_text()
    for heading in (
        "## Verdicts",
        "## Against the study",
        "## Momentum sweep: bn_after",
        "## Batch order: what bnlab reproduces",
    ):
        assert heading in text
    sweep = json.loads((repo / "reports" / "extensions.json").read_text())["sweeps"]["bn_after"]
    assert [point["momentum"] for point in sweep] == [0.0, 0.5, 0.9, 0.99]
    figure = repo / "reports" / "extensions" / "momentum_sweep_bn_after.png"
    assert figure.stat().st_size > 10_000
    assert "](extensions/momentum_sweep_bn_after.png)" in text


def test_each_extensions_runs_say_what_makes_it_distinct(repo, extensions, made):
    client, runs = mlflow_runs(f"sqlite:///{repo / 'mlflow.db'}")
    extension_runs = {
        r.data.tags["extension"]: r
        for r in training_runs(runs)
        if "extension" in r.data.tags and "seed" not in r.data.tags
    }
    assert set(extension_runs) == set(extensions)
    numbers = json.loads((repo / "reports" / "extensions.json").read_text())["extensions"]
    for name, extension in extensions.items():
        run_ = extension_runs[name]
        tags, params = run_.data.tags, run_.data.params
        assert run_.info.run_name == name
        assert tags["variant"] == extension["variant"]
        assert tags["against"] == extension.get("against", extension["variant"])
        assert tags["dvc.stage"] == f"extensions/dvc.yaml:train@{name}"
        assert (params["extension"], params["against"]) == (name, tags["against"])
        for key, value in extension.get("bn", {}).items():
            assert params[f"bn.{key}"] == str(value)
        assert run_.data.metrics["vs_reference.welch_p"] == pytest.approx(numbers[name]["welch_p"])
        assert "test_accuracy.mean" in run_.data.metrics
        assert tags["mlflow.note.content"] == numbers[name]["verdict"]
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == run_.info.run_id]
        assert len(children) == SEEDS
    (report,) = [r for r in runs if r.info.run_name == "extensions"]
    files = {f.path for f in client.list_artifacts(report.info.run_id, "report")}
    assert {"report/extensions.md", "report/extensions.json"} <= files


def test_the_compare_page_sets_the_momentum_sweep_side_by_side(repo, made, tmp_path):
    """The study's bn_after run and its momentum extensions, in the real UI."""
    _, runs = mlflow_runs(f"sqlite:///{repo / 'mlflow.db'}")
    parents = [r for r in training_runs(runs) if "seed" not in r.data.tags]
    sweep = {"bn_after": None, "bn_after_no_momentum": None, "bn_after_momentum_0_5": None}
    for r in parents:
        if r.info.run_name in sweep:
            sweep[r.info.run_name] = r.info.run_id
    experiment = runs[0].info.experiment_id
    ids = json.dumps(list(sweep.values())).replace(" ", "")
    with mlflow_ui(repo) as (page, base):
        page.goto(f'{base}/#/compare-runs?runs={ids}&experiments=["{experiment}"]')
        page.get_by_text(f"Comparing {len(sweep)} Runs").wait_for(timeout=60_000)
        for name in sweep:
            page.get_by_role("cell", name=name, exact=True).first.wait_for(timeout=30_000)
        momentum = page.get_by_role("row").filter(has_text="bn.momentum").first
        momentum.wait_for(timeout=30_000)
        assert all(value in momentum.inner_text() for value in ("0.99", "0.0", "0.5"))
        page.get_by_text("vs_reference.welch_p").first.wait_for(timeout=30_000)
        page.screenshot(path=tmp_path / "compare.png", full_page=True)
