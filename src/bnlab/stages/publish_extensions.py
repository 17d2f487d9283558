"""Stage publish_extensions (extensions/dvc.yaml): the extensions' numbers -> MLflow.

Each extension's statistics, its numbers against the study variant it is set
against and its verdict go into its training's MLflow run; the extensions'
report into a run named ``extensions``.

Extensions get no logged model and no registry version: the registered model
is the study's. Its one output, written last, is the record of what it
published (``publishing.write_record``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.files import read_json, variant_file
from bnlab.params import EXTENSIONS_PIPELINE, load_params, training_stage
from bnlab.report import EXTENSIONS
from bnlab.tracking.lineage import file_md5
from bnlab.tracking.publishing import publish_report, publish_variant, write_record
from bnlab.tracking.store import DESCRIPTION_TAG, Tracker, flatten

# An extension's numbers against the variant it is set against
# (reports/extensions.json), as metrics of its run: what the compare page sets
# side by side.
VS_REFERENCE = (
    "test_accuracy_diff.mean",
    "test_accuracy_diff.ci95_low",
    "test_accuracy_diff.ci95_high",
    "welch_p",
    "reference_epochs_to_80_median",
    "mann_whitney_p",
    "late_spread",
    "reference_late_spread",
    "late_spread_mann_whitney_p",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab publish_extensions", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for extensions and mlflow.*")
    parser.add_argument("--scores-dir", required=True, help="folder of <extension>.csv scores")
    parser.add_argument("--stats-dir", required=True, help="folder of <extension>.json stats")
    parser.add_argument("--report-dir", required=True, help="compare's extensions.md and figures")
    parser.add_argument("--record", required=True, help="JSON of what was published, written last")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    tracker = Tracker(params.mlflow.experiment)
    report = Path(args.report_dir)
    compared = read_json(report / f"{EXTENSIONS}.json")["extensions"]
    published = {}
    for name in params.extensions:
        scores = variant_file(args.scores_dir, name)
        run_id = tracker.find_training_run(training_stage(name, extension=True), scores)
        if run_id is None:
            print(f"publish {name}: no run of its training in {tracker.where}; not logging")
            continue
        numbers = compared[name]
        flat = flatten(numbers)  # a median is absent when it is "never"
        against = {f"vs_reference.{key}": flat[key] for key in VS_REFERENCE if key in flat}
        stats = variant_file(args.stats_dir, name, ".json")
        said = publish_variant(tracker, run_id, stats, [], against)
        tracker.client.set_tag(run_id, DESCRIPTION_TAG, numbers["verdict"])
        published[name] = file_md5(scores)
        print(f"publish {name}: {said}", flush=True)
    files = [
        report / f"{EXTENSIONS}.md",
        report / f"{EXTENSIONS}.json",
        *sorted((report / EXTENSIONS).glob("*.png")),
    ]
    verdicts = "\n".join(f"- {numbers['verdict']}" for numbers in compared.values())
    stage = f"{EXTENSIONS_PIPELINE}:publish"
    run_id = publish_report(tracker, EXTENSIONS, stage, files, verdicts)
    print(f"publish: {EXTENSIONS} run {run_id}", flush=True)
    write_record(args.record, params.mlflow.experiment, published)
