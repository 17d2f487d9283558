"""Stage publish: evaluate's statistics, plot's figures and report's summary -> MLflow,
and each variant's model -> the Model Registry.

The train stage opens each variant's MLflow run and its seeds' child runs and
logs what training produced (params, datasets, per-epoch curves, final
per-seed scores, history, models, the median seed's logged model). This
stage adds what the later stages made:

- to each variant's run, found by the md5 of the scores file it wrote
  (``Tracker.find_variant_run``): the headline statistics over seeds (mean
  test accuracy and its 95% interval, mean train accuracy, median epochs to
  80%) as metrics, all of them in ``<stats-dir>/<variant>.json`` as an
  artifact, its learning-curve figure and the shared figures. A run that
  already has them is left as it was: it belongs to a training DVC kept
  cached (the baseline in a ``bn.*`` experiment, say), whose numbers did not
  change;
- to the child run of its median seed by test accuracy (the one whose
  decision boundary the report draws), that seed's ``.keras`` file as an
  MLflow logged model (``tracking.models``), and the variant's description.
  Here rather than in train: Keras loads once for every variant, not once
  more per train stage (the README's speed section has the figures);
- its logged model as a version of the registered model named after the
  experiment, and the aliases (``tracking.registry``);
- one run named ``report`` with the report's tables and figures as artifacts.

It writes no file: the runs are in MLflow, and no output DVC hashes holds a
run id. Only train and this stage talk to MLflow, so the store's import and
start-up cost is paid by as few processes as possible.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import representative_seed
from bnlab.files import read_json, variant_file
from bnlab.files.dataset import read_csv
from bnlab.files.scores import read_scores
from bnlab.params import load_params, load_variant_config
from bnlab.report import DATASET, FIGURES_DIR, NUMBERS, OVERLAY, SUMMARY, learning_curves
from bnlab.runtime.imports import skipping
from bnlab.tracking import registry
from bnlab.tracking.lineage import context_tags, file_md5
from bnlab.tracking.store import DESCRIPTION_TAG, MODEL_TAG, SCORES_TAG, Tracker, flatten

# The statistics a variant's run shows as metrics (the rest are in its
# evaluation/<variant>.json): what the runs page compares first.
HEADLINE = (
    "test_accuracy.mean",
    "test_accuracy.ci95_low",
    "test_accuracy.ci95_high",
    "train_accuracy.mean",
    "epochs_to_80.median",
)


def publish_variant(
    tracker: Tracker, variant: str, run_id: str, stats: Path, figures: list[Path]
) -> str:
    """Log a variant's statistics and figures into its run; say what happened."""
    if tracker.has_artifacts(run_id, "figures"):
        return f"already in its run {run_id}"
    numbers = flatten(read_json(stats))  # epochs_to_80.median is absent if no seed got there
    tracker.log_metrics(run_id, {key: numbers[key] for key in HEADLINE if key in numbers})
    tracker.log_artifacts(run_id, [stats], "evaluation")
    tracker.log_artifacts(run_id, figures, "figures")
    return f"logged into its run {run_id}"


def log_model(
    tracker: Tracker,
    variant: str,
    run_id: str,
    scores: Path,
    models: Path,
    config: Path,
    test: Path,
) -> str:
    """The logged model of the variant's median seed (logged now, unless its run
    has it from an earlier publish); its id."""
    run = tracker.client.get_run(run_id)
    if MODEL_TAG in run.data.tags:
        return run.data.tags[MODEL_TAG]
    # Keras loads only when a model is to be logged, without the scikit-learn and
    # matplotlib extras it would load for nothing (as in train).
    with skipping("sklearn", "matplotlib"):
        from bnlab.tracking import models as keras_models

    seed = representative_seed(read_scores(scores))
    child = tracker.seed_run(run_id, seed)
    description = keras_models.describe(load_variant_config(config).model_dump())
    model_id = keras_models.log_keras_model(
        tracker.experiment_id,
        child.info.run_id,
        keras_models.model_path(models, seed),
        name=child.info.run_name,
        example=read_csv(test).features,
        tags={
            **{k: v for k, v in child.data.tags.items() if k.startswith("mlflow.source.")},
            "variant": variant,
            "seed": str(seed),
            DESCRIPTION_TAG: f"{variant}, seed {seed}: {description}",
        },
    )
    tracker.client.set_tag(run_id, MODEL_TAG, model_id)
    tracker.client.set_tag(run_id, DESCRIPTION_TAG, description)
    return model_id


def register_variant(
    tracker: Tracker, name: str, variant: str, run_id: str, model_id: str, scores: Path, mean: float
) -> tuple[str, str]:
    """Its model's version of the registered model, and what happened."""
    run = tracker.client.get_run(run_id)
    params = {k: v for k, v in run.data.params.items() if not k.startswith(("data.", "split."))}
    tags = {
        SCORES_TAG: file_md5(scores),
        registry.MEAN_TAG: str(mean),
        **params,
    }
    version, new = registry.register(tracker.client, name, variant, model_id, tags)
    return version, f"{'registered' if new else 'already'} {name} version {version}"


def publish_report(tracker: Tracker, files: list[Path]) -> str:
    """A run named ``report`` with the report's files as artifacts; returns its id."""
    run_id = tracker.start_run("report", context_tags("report", "all"))
    with tracker.running(run_id):
        tracker.log_artifacts(run_id, files, "report")
    return run_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab publish", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants and mlflow.*")
    parser.add_argument("--configs-dir", required=True, help="folder of <variant>.json configs")
    parser.add_argument("--models-dir", required=True, help="folder of <variant>/seed_NNN.keras")
    parser.add_argument("--test", required=True, help="test CSV (the logged models' example)")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--stats-dir", required=True, help="folder of <variant>.json statistics")
    parser.add_argument("--figures-dir", required=True, help="plot's figures")
    parser.add_argument("--report-dir", required=True, help="report's summary.md and figures")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    name = params.mlflow.experiment
    tracker = Tracker(name)
    registry.ensure_registered_model(tracker.client, name)
    figures, report = Path(args.figures_dir), Path(args.report_dir)
    shared = [figures / DATASET, figures / OVERLAY]
    versions, means = {}, {}
    for variant in params.variants:
        scores = variant_file(args.scores_dir, variant)
        stats = variant_file(args.stats_dir, variant, ".json")
        run_id = tracker.find_variant_run(variant, scores)
        if run_id is None:
            print(f"publish {variant}: no run of its training in {tracker.uri}; not logging")
            continue
        figures_of = [figures / learning_curves(variant), *shared]
        said = publish_variant(tracker, variant, run_id, stats, figures_of)
        model_id = log_model(
            tracker,
            variant,
            run_id,
            scores,
            Path(args.models_dir) / variant,
            variant_file(args.configs_dir, variant, ".json"),
            Path(args.test),
        )
        means[variant] = read_json(stats)["test_accuracy"]["mean"]
        versions[variant], registered = register_variant(
            tracker, name, variant, run_id, model_id, scores, means[variant]
        )
        print(f"publish {variant}: {said}; {registered}", flush=True)
    if versions and registry.owns_aliases():
        best = max(means, key=means.get)
        registry.set_aliases(tracker.client, name, versions, best)
        print(f"publish: aliases {', '.join(versions)} and {registry.BEST} ({best})")
    elif versions:
        print("publish: a DVC experiment; the aliases stay with the workspace's study")
    files = [report / SUMMARY, report / NUMBERS, *sorted((report / FIGURES_DIR).glob("*.png"))]
    run_id = publish_report(tracker, files)
    print(f"publish: report run {run_id}", flush=True)
