"""Protects what a user sees of the shared study in the real MLflow UI."""

from __future__ import annotations

import json
import re

import pytest
from mlflow import MlflowClient

from bnlab.tracking.location import UI_ADDRESS
from tests.e2e import EPOCHS, VARIANTS, mlflow_runs
from tests.ui import mlflow_ui

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ui(study):
    with mlflow_ui(study.repo) as (page, base):
        yield page, base, study.store, study.repo


def _parents(store: str) -> tuple[str, dict[str, str]]:
    client, runs = mlflow_runs(store)
    experiment_id = client.get_experiment_by_name("bn-circles").experiment_id
    parents = {
        r.info.run_name: r.info.run_id for r in runs if "mlflow.parentRunId" not in r.data.tags
    }
    return experiment_id, parents


def test_the_page_publish_names_opens_on_the_training_runs(ui, study, tmp_path):
    page, base, store, _ = ui
    experiment_id, _ = _parents(store)
    experiment = MlflowClient(tracking_uri=store).get_experiment(experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    # The address publish printed, on this test's port instead of `make ui`'s.
    printed = re.findall(r"the runs: (http://\S+)", study.output)
    assert printed == [
        f"{UI_ADDRESS}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
    ]
    page.goto(printed[0].replace(UI_ADDRESS, base))
    page.get_by_role("link", name="bn_after", exact=True).first.wait_for(timeout=60_000)
    assert "/runs" in page.url and "workflowType=machine_learning" in page.url, page.url
    assert page.get_by_role("heading", name="Overview").count() == 0, "not the GenAI overview"
    page.screenshot(path=tmp_path / "landing.png")


def test_runs_table_lists_the_three_variant_runs(ui, tmp_path):
    page, base, store, _ = ui
    experiment_id, parents = _parents(store)
    page.goto(f"{base}/#/experiments/{experiment_id}/runs")
    for variant in VARIANTS:
        link = page.get_by_role("link", name=variant, exact=True).first
        link.wait_for(timeout=60_000)
        assert parents[variant] in link.get_attribute("href"), f"{variant} links to its run"
    page.screenshot(path=tmp_path / "runs.png")


def test_chart_view_draws_each_variants_val_accuracy_curve(ui, tmp_path):
    page, base, store, _ = ui
    experiment_id, _ = _parents(store)
    page.goto(f"{base}/#/experiments/{experiment_id}/runs?compareRunsMode=CHART")
    page.get_by_placeholder("Search metric charts").fill("val_accuracy")
    # Each chart is a Plotly graph; its element holds the series it drew.
    drawn = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot =>
        (plot.data || []).map(trace => ({name: trace.name, x: Array.from(trace.x || [])})))"""
    ready = f"({drawn})().some(traces => traces.length >= {len(VARIANTS)})"
    page.wait_for_function(ready, timeout=60_000)
    charts = page.evaluate(drawn)
    page.screenshot(path=tmp_path / "chart.png")
    drawn_curves = [t for t in next(c for c in charts if len(c) >= len(VARIANTS)) if t["x"]]
    # Each run that has the metric is drawn (a line and its points); the report run has none.
    assert {trace["name"] for trace in drawn_curves} == set(VARIANTS)
    epochs = list(range(1, EPOCHS + 1))
    assert all(trace["x"] == epochs for trace in drawn_curves), "step = epoch, every epoch"


def test_compare_page_shows_names_and_a_bn_param(ui, tmp_path):
    page, base, store, _ = ui
    experiment_id, parents = _parents(store)
    ids = json.dumps([parents[v] for v in VARIANTS]).replace(" ", "")
    page.goto(f'{base}/#/compare-runs?runs={ids}&experiments=["{experiment_id}"]')
    page.get_by_text("Comparing 3 Runs").wait_for(timeout=60_000)
    for variant in VARIANTS:
        page.get_by_role("cell", name=variant, exact=True).first.wait_for(timeout=30_000)
    momentum = page.get_by_role("row").filter(has_text="bn.momentum").first
    momentum.wait_for(timeout=30_000)
    assert momentum.inner_text().count("0.99") == 2, "the two BN variants' momentum"
    page.screenshot(path=tmp_path / "compare.png", full_page=True)


def _version(store: str, alias: str):
    return MlflowClient(store).get_model_version_by_alias("bn-circles", alias)


def test_the_registered_model_shows_an_alias_per_variant_and_best(ui, tmp_path):
    page, base, store, _ = ui
    page.goto(f"{base}/#/models/bn-circles")
    for alias in (*VARIANTS, "best"):
        version = _version(store, alias).version
        row = page.get_by_role("row").filter(has_text=f"Version {version}").first
        row.wait_for(timeout=60_000)
        shown = row.inner_text().replace("\xa0", " ")
        assert f"@ {alias}" in shown, f"{alias} is on version {version}"
    page.screenshot(path=tmp_path / "registered.png", full_page=True)


def test_the_best_version_shows_its_signature(ui, tmp_path):
    page, base, store, _ = ui
    best = _version(store, "best")
    page.goto(f"{base}/#/models/bn-circles/versions/{best.version}")
    page.get_by_text("@ best", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("Inputs (1)").click()
    page.get_by_text("Tensor (dtype: float32, shape: [-1,2])").wait_for(timeout=30_000)
    page.get_by_text("Outputs (1)").click()
    page.get_by_text("Tensor (dtype: float32, shape: [-1,1])").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "version.png", full_page=True)


def test_a_logged_model_shows_its_linked_metrics_version_and_mlmodel(ui, tmp_path):
    page, base, store, _ = ui
    version = _version(store, "bn_after")
    model = MlflowClient(store).get_logged_model(version.source.removeprefix("models:/"))
    page.goto(f"{base}/#/experiments/{model.experiment_id}/models/{model.model_id}")
    page.get_by_text(f"Metrics ({len(model.metrics)})").wait_for(timeout=60_000)
    assert {m.key for m in model.metrics} >= {"test_accuracy", "train_accuracy"}
    for metric in model.metrics:
        row = page.get_by_role("row").filter(has_text=metric.key).first
        row.wait_for(timeout=30_000)
        assert repr(metric.value) in row.inner_text()
    page.get_by_text(f"v{version.version}", exact=True).first.wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "logged-model.png", full_page=True)
    page.get_by_text("Artifacts", exact=True).first.click()
    page.get_by_text("MLmodel", exact=True).first.click()
    page.get_by_text("signature:").wait_for(timeout=30_000)
    shown = page.inner_text("body")
    assert "keras:" in shown and "float32" in shown
