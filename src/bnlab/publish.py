"""Stage publish: evaluate's metrics, plot's figures and report's summary -> MLflow.

The train stage opens each variant's MLflow run and its seeds' child runs and
logs what training produced (params, per-epoch curves, final per-seed
scores, history, models). This stage adds what the later stages made:

- to each variant's run: the aggregated metrics (mean, s.d., 95% interval,
  epochs to 80%) from ``metrics/variants/<variant>.json`` and that file,
  its learning-curve figure and the shared figures. A run that already has them
  is left as it was: it belongs to a training DVC kept cached (the baseline
  in a ``bn.*`` experiment, say), whose numbers did not change;
- one run named ``report`` with the summary's numbers, ``summary.md`` and
  the report's figures.

It writes the report run's id. Only train and this stage talk to MLflow, so
the store's import and start-up cost is paid by as few processes as possible.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bnlab.params import load_params
from bnlab.tracking import RunIds, Tracker, context_tags, flatten


def publish_variant(ids: RunIds, metrics_path: Path, figures: list[Path]) -> bool:
    """Log a variant's evaluation and figures into its runs; False if they had them."""
    tracker = Tracker.for_runs(ids)
    if tracker is None or tracker.has_artifacts(ids.run_id, "figures"):
        return False
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    tracker.log_metrics(ids.run_id, flatten(metrics))
    tracker.log_artifacts(ids.run_id, [metrics_path], "evaluation")
    tracker.log_artifacts(ids.run_id, figures, "figures")
    return True


def publish_report(experiment: str, metrics_path: Path, files: list[Path]) -> str:
    """A run named ``report`` with the summary's numbers and files; returns its id."""
    tracker = Tracker(experiment)
    run_id = tracker.start_run("report", context_tags("report", "all"))
    with tracker.running(run_id):
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        numbers = {k: v for k, v in flatten(metrics).items() if isinstance(v, int | float)}
        tracker.log_metrics(run_id, numbers)
        tracker.log_artifacts(run_id, files, "report")
    return run_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab publish", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants and mlflow.*")
    parser.add_argument("--runs-dir", required=True, help="folder of <variant>.json run ids")
    parser.add_argument("--metrics-dir", required=True, help="folder of <variant>.json metrics")
    parser.add_argument("--figures-dir", required=True, help="plot's figures")
    parser.add_argument("--report-dir", required=True, help="report's summary.md and figures")
    parser.add_argument("--summary", required=True, help="report's summary metrics JSON")
    parser.add_argument("--out", required=True, help="JSON to write the report run's id to")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    figures, report = Path(args.figures_dir), Path(args.report_dir)
    shared = [figures / "dataset.png", figures / "test_accuracy_by_variant.png"]
    for variant in params.variants:
        published = publish_variant(
            RunIds.read(Path(args.runs_dir) / f"{variant}.json"),
            Path(args.metrics_dir) / f"{variant}.json",
            [figures / f"accuracy_{variant}.png", *shared],
        )
        print(f"publish {variant}: {'logged' if published else 'already in its run'}", flush=True)
    files = [report / "summary.md", *sorted((report / "figures").glob("*.png"))]
    run_id = publish_report(params.mlflow.experiment, Path(args.summary), files)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"report_run_id": run_id}, indent=2) + "\n", encoding="utf-8")
    print(f"publish: report run {run_id}", flush=True)
