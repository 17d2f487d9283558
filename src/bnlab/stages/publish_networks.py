"""Stage publish_networks (networks/dvc.yaml): the networks' results -> MLflow, registry.

Each CNN and LSTM variant's statistics, its network's figure, its layers and
its median seed's logged model go into its training's MLflow run; that model
becomes a version of its network's registered model
(``<networks.registered_model>-cnn``, ``-lstm``), with an alias per placement
and ``best``; the networks' report goes into a run named ``networks``.

The logged models take raw digits, pixel values 0-16, shaped as the network
reads them (``model.network_plans.INPUT_SHAPES``). Its one output, written
last, is the record of what it published (``publishing.write_record``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.files import variant_file
from bnlab.files.digits import CLASSES, read_images
from bnlab.model.network_plans import INPUT_SHAPES, describe_plan
from bnlab.params import (
    NETWORKS_PIPELINE,
    NetworkConfig,
    load_network_config,
    load_params,
    network_stage,
    network_variant,
)
from bnlab.report import NETWORKS, network_figure
from bnlab.tracking.publishing import Trained, publish_models, publish_report, write_record
from bnlab.tracking.store import Tracker


def describe(config: NetworkConfig) -> str:
    """A variant's run description, from its config."""
    train = config.train
    return (
        f"{config.network} {config.variant}: "
        f"{describe_plan(config.network, config.placement, config.units)}; "
        f"{train.seeds} seeds x {train.epochs} epochs of SGD. "
        "The median seed by test accuracy has the logged model."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab publish_networks", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for networks.* and mlflow.*")
    parser.add_argument("--configs-dir", required=True, help="folder of <name>.json configs")
    parser.add_argument("--models-dir", required=True, help="folder of <name>/seed_NNN.keras")
    parser.add_argument("--test", required=True, help="digits test CSV (the models' example)")
    parser.add_argument("--scores-dir", required=True, help="folder of <name>.csv scores")
    parser.add_argument("--stats-dir", required=True, help="folder of <name>.json statistics")
    parser.add_argument("--report-dir", required=True, help="networks.md and its figures")
    parser.add_argument("--record", required=True, help="JSON of what was published, written last")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    tracker = Tracker(params.mlflow.experiment)
    report = Path(args.report_dir)
    pixels = read_images(args.test).pixels
    published, names = {}, []
    for network in params.networks.trained():
        trained = []
        for variant in params.networks.variants_of(network):
            label = network_variant(network, variant)
            config = load_network_config(variant_file(args.configs_dir, label, ".json"))
            trained.append(
                Trained(
                    variant=variant,
                    label=label,
                    stage=network_stage(label),
                    scores=variant_file(args.scores_dir, label),
                    stats=variant_file(args.stats_dir, label, ".json"),
                    models=Path(args.models_dir) / label,
                    figures=[report / NETWORKS / network_figure(network)],
                    description=describe(config),
                )
            )
        description = (
            f"The tutorial's {network.upper()} on scikit-learn's digits (raw pixels 0-16), "
            "one version per trained placement (its median seed by test accuracy). "
            "Aliases: one per placement, and 'best' for the highest mean test accuracy."
        )
        example = pixels.reshape(-1, *INPUT_SHAPES[network])
        names.append(params.networks.registered(network))
        published |= publish_models(tracker, names[-1], description, trained, example, CLASSES)
    files = [
        report / f"{NETWORKS}.md",
        report / f"{NETWORKS}.json",
        *sorted((report / NETWORKS).glob("*.png")),
    ]
    run_id = publish_report(tracker, NETWORKS, f"{NETWORKS_PIPELINE}:publish", files)
    print(f"publish: {NETWORKS} run {run_id}", flush=True)
    write_record(args.record, params.mlflow.experiment, published, registered_models=names)
