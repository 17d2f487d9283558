"""Stage publish: evaluate's statistics, plot's figures and report's summary -> MLflow.

The train stage opens each variant's MLflow run and its seeds' child runs and
logs what training produced (params, per-epoch curves, final per-seed
scores, history, models). This stage adds what the later stages made:

- to each variant's run, found by the md5 of the scores file it wrote
  (``Tracker.find_variant_run``): the statistics over seeds (mean, s.d.,
  95% interval, epochs to 80%) from ``<stats-dir>/<variant>.json`` and that
  file, its learning-curve figure and the shared figures. A run that already
  has them is left as it was: it belongs to a training DVC kept cached (the
  baseline in a ``bn.*`` experiment, say), whose numbers did not change;
- one run named ``report`` with the summary's numbers, ``summary.md`` and
  the report's figures.

It writes no file: the runs are in MLflow, and no output DVC hashes holds a
run id. Only train and this stage talk to MLflow, so the store's import and
start-up cost is paid by as few processes as possible.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.files import read_json, variant_file
from bnlab.params import load_params
from bnlab.report import DATASET, FIGURES_DIR, NUMBERS, OVERLAY, SUMMARY, learning_curves
from bnlab.tracking.store import Tracker, context_tags, flatten


def publish_variant(
    tracker: Tracker, variant: str, scores: Path, stats: Path, figures: list[Path]
) -> str:
    """Log a variant's statistics and figures into its run; say what happened."""
    run_id = tracker.find_variant_run(variant, scores)
    if run_id is None:
        return f"no run of its training in {tracker.uri}; not logging"
    if tracker.has_artifacts(run_id, "figures"):
        return f"already in its run {run_id}"
    tracker.log_metrics(run_id, flatten(read_json(stats)))
    tracker.log_artifacts(run_id, [stats], "evaluation")
    tracker.log_artifacts(run_id, figures, "figures")
    return f"logged into its run {run_id}"


def publish_report(tracker: Tracker, summary: Path, files: list[Path]) -> str:
    """A run named ``report`` with the summary's numbers and files; returns its id."""
    run_id = tracker.start_run("report", context_tags("report", "all"))
    with tracker.running(run_id):
        metrics = read_json(summary)
        numbers = {k: v for k, v in flatten(metrics).items() if isinstance(v, int | float)}
        tracker.log_metrics(run_id, numbers)
        tracker.log_artifacts(run_id, files, "report")
    return run_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab publish", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants and mlflow.*")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--stats-dir", required=True, help="folder of <variant>.json statistics")
    parser.add_argument("--figures-dir", required=True, help="plot's figures")
    parser.add_argument("--report-dir", required=True, help="report's summary.md and figures")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    tracker = Tracker(params.mlflow.experiment)
    figures, report = Path(args.figures_dir), Path(args.report_dir)
    shared = [figures / DATASET, figures / OVERLAY]
    for variant in params.variants:
        said = publish_variant(
            tracker,
            variant,
            variant_file(args.scores_dir, variant),
            variant_file(args.stats_dir, variant, ".json"),
            [figures / learning_curves(variant), *shared],
        )
        print(f"publish {variant}: {said}", flush=True)
    files = [report / SUMMARY, *sorted((report / FIGURES_DIR).glob("*.png"))]
    run_id = publish_report(tracker, report / NUMBERS, files)
    print(f"publish: report run {run_id}", flush=True)
