"""The real MLflow UI, in Debian's chromium driven by Playwright, over a tiny run's store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import readme
from tests.e2e import VARIANTS, dvc, free_port, make_repo, mlflow_runs, start_server, stop

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    repo = make_repo(tmp_path_factory.mktemp("bnlab-ui"))
    dvc(repo, "repro")
    store = f"sqlite:///{repo / 'mlflow.db'}"
    port = free_port()
    # The README's command, on a free port.
    server = start_server(
        f"UI_PORT={port} {readme.command('make ui')}", repo, port, repo / "ui.log"
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            yield page, f"http://127.0.0.1:{port}", store, repo
            browser.close()
    finally:
        stop(server)


def _parents(store: str) -> tuple[str, dict[str, str]]:
    client, runs = mlflow_runs(store)
    experiment_id = client.get_experiment_by_name("bn-circles").experiment_id
    parents = {
        r.info.run_name: r.info.run_id for r in runs if "mlflow.parentRunId" not in r.data.tags
    }
    return experiment_id, parents


def test_runs_table_lists_the_three_variant_runs(ui, tmp_path):
    page, base, store, _ = ui
    experiment_id, _ = _parents(store)
    page.goto(f"{base}/#/experiments/{experiment_id}/runs")
    for variant in VARIANTS:
        page.get_by_role("link", name=variant, exact=True).first.wait_for(timeout=60_000)
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
    assert all(trace["x"] == [1, 2, 3] for trace in drawn_curves), "step = epoch, 3 epochs"


def test_compare_page_shows_names_and_a_bn_param(ui, tmp_path):
    page, base, store, _ = ui
    experiment_id, parents = _parents(store)
    ids = json.dumps([parents[v] for v in VARIANTS]).replace(" ", "")
    page.goto(f'{base}/#/compare-runs?runs={ids}&experiments=["{experiment_id}"]')
    page.get_by_text("Comparing 3 Runs").wait_for(timeout=60_000)
    for variant in VARIANTS:
        page.get_by_role("cell", name=variant, exact=True).first.wait_for(timeout=30_000)
    page.get_by_text("bn.momentum").first.wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "compare.png", full_page=True)
