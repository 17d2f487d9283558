"""Stage publish: the study's statistics, figures and report -> MLflow, models -> registry.

The train stage opens each variant's MLflow run and its seeds' child runs and
logs what training produced (params, datasets, per-epoch curves, final
per-seed scores, history, models). This stage adds what the later stages
made (``tracking.publishing``):

- to each variant's run, found by the md5 of the scores file it wrote: the
  headline statistics over seeds as metrics, all of them as an artifact, its
  learning-curve figure and the shared figures;
- to the child run of its median seed by test accuracy, that seed's
  ``.keras`` file as an MLflow logged model, and the variant's description;
- its logged model as a version of the registered model named after the
  experiment, an alias per variant and ``best`` (``tracking.registry``);
- one run named ``report`` with the report's tables and figures as artifacts.

Its one output, written last, is the record of what it published
(``publishing.write_record``): no run id, which lives in MLflow only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.files import variant_file
from bnlab.files.dataset import read_csv
from bnlab.model.plan import N_OUTPUTS, describe_plan
from bnlab.params import VariantConfig, load_params, load_variant_config, training_stage
from bnlab.report import DATASET, FIGURES_DIR, NUMBERS, OVERLAY, SUMMARY, learning_curves
from bnlab.tracking.location import runs_page
from bnlab.tracking.publishing import Trained, publish_models, publish_report, write_record
from bnlab.tracking.store import Tracker

REGISTERED = (
    "The tutorial's MLP on make_circles, one version per trained variant (its median "
    "seed by test accuracy). Aliases: one per variant, and 'best' for the highest mean "
    "test accuracy over seeds."
)


def describe(config: VariantConfig) -> str:
    """A variant's run description, from its config."""
    train, bn = config.train, config.bn
    text = (
        f"{describe_plan(config.placement, config.model.hidden_units)}, "
        f"{train.seeds} seeds x {train.epochs} epochs of SGD (learning rate "
        f"{train.learning_rate}, momentum {train.momentum}, batch {train.batch_size})"
    )
    if bn:
        text += f"; BatchNormalization momentum {bn.momentum}, epsilon {bn.epsilon}"
    return text + ". The median seed by test accuracy has the logged model."


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
    parser.add_argument("--record", required=True, help="JSON of what was published, written last")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    tracker = Tracker(params.mlflow.experiment)
    figures, report = Path(args.figures_dir), Path(args.report_dir)
    trained = [
        Trained(
            variant=variant,
            label=variant,
            stage=training_stage(variant),
            scores=variant_file(args.scores_dir, variant),
            stats=variant_file(args.stats_dir, variant, ".json"),
            models=Path(args.models_dir) / variant,
            figures=[figures / learning_curves(variant), figures / DATASET, figures / OVERLAY],
            description=describe(
                load_variant_config(variant_file(args.configs_dir, variant, ".json"))
            ),
        )
        for variant in params.variants
    ]
    example = read_csv(args.test).features
    name = params.mlflow.experiment
    published = publish_models(tracker, name, REGISTERED, trained, example, N_OUTPUTS)
    files = [report / SUMMARY, report / NUMBERS, *sorted((report / FIGURES_DIR).glob("*.png"))]
    run_id = publish_report(tracker, "report", "report", files)
    page = runs_page(tracker.uri, tracker.experiment_id)
    print(f"publish: report run {run_id}; the runs: {page}", flush=True)
    write_record(args.record, name, published, registered_models=[name])
