"""Stage publish: evaluate's statistics, plot's figures and report's summary -> MLflow,
and each variant's model -> the Model Registry.

The train stage opens each variant's MLflow run and its seeds' child runs and
logs what training produced (params, datasets, per-epoch curves, final
per-seed scores, history, models, the median seed's logged model). This
stage adds what the later stages made:

- to each variant's run, found by the md5 of the scores file it wrote
  (``Tracker.find_training_run``): the headline statistics over seeds (mean
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
- one run named ``report`` with the report's tables and figures as artifacts;
- to each CNN and LSTM variant's run (the networks in ``networks``), its
  statistics (epochs to its network's threshold), its network's figure and
  its layers as the description. Their models are in their runs' artifacts
  (train logs them); the registered model stays the MLP's.

With ``--extensions`` (extensions/dvc.yaml), each extension's statistics and
its numbers against the variant it is set against go into its training's run,
its verdict becomes the run's description, and the extensions' report goes
into a run named ``extensions``. Extensions get no logged model and no
registry version: the registered model is the study's.

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
from bnlab.model.network_plans import describe_plan
from bnlab.params import (
    EXTENSIONS_PIPELINE,
    VARIANT_PLACEMENTS,
    load_params,
    load_variant_config,
    network_stage,
    network_variant,
    training_stage,
)
from bnlab.report import (
    DATASET,
    EXTENSIONS,
    FIGURES_DIR,
    NUMBERS,
    OVERLAY,
    SUMMARY,
    learning_curves,
    network_figure,
)
from bnlab.runtime.imports import skipping
from bnlab.tracking import registry
from bnlab.tracking.lineage import context_tags, file_md5
from bnlab.tracking.store import DESCRIPTION_TAG, MODEL_TAG, SCORES_TAG, Tracker, flatten

# The statistics a variant's run shows as metrics (the rest are in its
# evaluation/<variant>.json): what the runs page compares first, and the
# median epochs to its threshold (epochs_to_80.median for the MLP's).
HEADLINE = (
    "test_accuracy.mean",
    "test_accuracy.ci95_low",
    "test_accuracy.ci95_high",
    "train_accuracy.mean",
)

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


def publish_variant(
    tracker: Tracker,
    run_id: str,
    stats: Path,
    figures: list[Path],
    metrics: dict[str, float] | None = None,
) -> str:
    """Log a variant's (or an extension's) statistics, figures and further
    metrics into its run, unless it has them; say what happened."""
    if HEADLINE[0] in tracker.client.get_run(run_id).data.metrics:
        return f"already in its run {run_id}"
    numbers = flatten(read_json(stats))  # epochs_to_80.median is absent if no seed got there
    headline = {
        key: value
        for key, value in numbers.items()
        if key in HEADLINE or (key.startswith("epochs_to_") and key.endswith(".median"))
    }
    tracker.log_metrics(run_id, {**headline, **(metrics or {})})
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


def publish_report(
    tracker: Tracker, name: str, stage: str, files: list[Path], description: str = ""
) -> str:
    """A run named ``name`` with the report's files as artifacts; returns its id."""
    tags = context_tags(stage, "all")
    if description:
        tags[DESCRIPTION_TAG] = description
    run_id = tracker.start_run(name, tags)
    with tracker.running(run_id):
        tracker.log_artifacts(run_id, files, "report")
    return run_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab publish", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants and mlflow.*")
    parser.add_argument("--configs-dir", help="folder of <variant>.json configs")
    parser.add_argument("--models-dir", help="folder of <variant>/seed_NNN.keras")
    parser.add_argument("--test", help="test CSV (the logged models' example)")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--network-scores-dir", help="folder of <network>_<variant>.csv scores")
    parser.add_argument("--stats-dir", required=True, help="folder of <variant>.json statistics")
    parser.add_argument("--figures-dir", help="plot's figures")
    parser.add_argument("--report-dir", required=True, help="report's summary.md and figures")
    parser.add_argument(
        "--extensions",
        action="store_true",
        help="the extensions' runs and report (extensions/dvc.yaml) instead of the study's",
    )
    args = parser.parse_args(argv)
    if args.extensions:
        publish_extensions(args)
        return
    study_only = ("configs_dir", "models_dir", "test", "figures_dir")
    if missing := [f"--{a.replace('_', '-')}" for a in study_only if getattr(args, a) is None]:
        parser.error(f"the study's publish needs {', '.join(missing)}")
    publish_study(args)


def publish_study(args: argparse.Namespace) -> None:
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
        run_id = tracker.find_training_run(training_stage(variant), scores)
        if run_id is None:
            print(f"publish {variant}: no run of its training in {tracker.uri}; not logging")
            continue
        figures_of = [figures / learning_curves(variant), *shared]
        said = publish_variant(tracker, run_id, stats, figures_of)
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
    for network, variant in params.network_variants():
        print(publish_network(tracker, args, network, variant), flush=True)
    files = [report / SUMMARY, report / NUMBERS, *sorted((report / FIGURES_DIR).glob("*.png"))]
    run_id = publish_report(tracker, "report", "report", files)
    print(f"publish: report run {run_id}", flush=True)


def publish_network(tracker: Tracker, args: argparse.Namespace, network: str, variant: str) -> str:
    """A CNN or LSTM variant's statistics, figure and layers into its training's run."""
    name = network_variant(network, variant)
    scores = variant_file(args.network_scores_dir, name)
    run_id = tracker.find_training_run(network_stage(name), scores)
    if run_id is None:
        return f"publish {name}: no run of its training in {tracker.uri}; not logging"
    figure = Path(args.report_dir) / FIGURES_DIR / network_figure(network)
    said = publish_variant(tracker, run_id, variant_file(args.stats_dir, name, ".json"), [figure])
    units = load_params(args.params).network(network).units
    plan = describe_plan(network, VARIANT_PLACEMENTS[variant], units)
    tracker.client.set_tag(run_id, DESCRIPTION_TAG, f"{network} {variant}: {plan}")
    return f"publish {name}: {said}"


def publish_extensions(args: argparse.Namespace) -> None:
    """Each extension's statistics, its numbers against the study and its verdict
    into its training's run; the extensions' report into a run of its own."""
    params = load_params(args.params)
    tracker = Tracker(params.mlflow.experiment)
    report = Path(args.report_dir)
    compared = read_json(report / f"{EXTENSIONS}.json")["extensions"]
    for name in params.extensions:
        scores = variant_file(args.scores_dir, name)
        run_id = tracker.find_training_run(training_stage(name, extension=True), scores)
        if run_id is None:
            print(f"publish {name}: no run of its training in {tracker.uri}; not logging")
            continue
        numbers = compared[name]
        flat = flatten(numbers)  # a median is absent when it is "never"
        against = {f"vs_reference.{key}": flat[key] for key in VS_REFERENCE if key in flat}
        stats = variant_file(args.stats_dir, name, ".json")
        said = publish_variant(tracker, run_id, stats, [], against)
        tracker.client.set_tag(run_id, DESCRIPTION_TAG, numbers["verdict"])
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
