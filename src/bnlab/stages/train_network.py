"""Stage train_network: a CNN or LSTM variant's config + the digits -> every seed's
model, history and scores.

Reads ``networks/configs/<network>_<variant>.json`` (written by configure_networks)
and the digits' train/test CSVs. Writes, for every seed,
``<models-dir>/seed_NNN.keras`` (the ``Sequential`` ``model.networks``
builds, which takes raw images); one history CSV with every seed's per-epoch
accuracy and loss; one scores CSV with every seed's final train/test loss
and accuracy. MLflow gets the same run tree as the MLP's variants, with the
network in the run's name and as a tag.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bnlab.files.digits import read_images
from bnlab.files.history import write_history
from bnlab.files.scores import write_scores
from bnlab.params import load_network_config, load_params
from bnlab.runtime.imports import KERAS_EXTRAS, skipping
from bnlab.tracking.location import check_store, repo_root, tracking_uri
from bnlab.tracking.train_log import Open, TrainLog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab train_network", description=__doc__)
    parser.add_argument("--config", required=True, help="networks/configs/<name>.json")
    parser.add_argument("--train", required=True, help="digits train CSV")
    parser.add_argument("--test", required=True, help="digits test CSV")
    parser.add_argument("--models-dir", required=True, help="folder for seed_NNN.keras")
    parser.add_argument("--history", required=True, help="history CSV to write")
    parser.add_argument("--scores", required=True, help="per-seed scores CSV to write")
    parser.add_argument("--params", default="params.yaml", help="for networks.*, mlflow.*")
    fit_and_track(parser.parse_args(argv))


def fit_and_track(args: argparse.Namespace) -> None:
    """Every seed of the variant, trained and tracked."""
    config = load_network_config(args.config)
    params = load_params(args.params)
    train, test = read_images(args.train), read_images(args.test)
    seeds = config.train.seed_list()
    check_store(tracking_uri(repo_root()), params.mlflow.experiment)
    opening = Open(
        experiment=params.mlflow.experiment,
        name=config.name,
        variant=config.variant,
        stage=config.stage,
        params={
            "networks.n_train": params.networks.n_train,
            **config.model_dump(exclude={"variant"}),
        },
        seeds=seeds,
        datasets={"train": args.train, "test": args.test},
        tags={"network": config.network},
    )
    with TrainLog(opening) as log:
        with skipping(*KERAS_EXTRAS):
            from bnlab.seed_axis.copies import (
                fit_copies,
                save_copies,
                use_every_core_for_the_copies,
            )

        use_every_core_for_the_copies()
        print(
            f"train_network {config.name}: {len(seeds)} seeds x {config.train.epochs} epochs, "
            "all at once",
            flush=True,
        )
        started = time.perf_counter()
        fitted = fit_copies(config, train, test, on_epoch=log.epoch)
        write_history(args.history, fitted.histories)
        write_scores(args.scores, fitted.scores)
        log.trained(Path(args.history), Path(args.scores))
        save_copies(fitted, args.models_dir)
        trained = time.perf_counter() - started
        log.finish(Path(args.models_dir))
    accuracy = [s["test_accuracy"] for s in fitted.scores.values()]
    print(
        f"train_network {config.name}: trained in {trained:.1f} s, mean test accuracy "
        f"{sum(accuracy) / len(accuracy):.3f}",
        flush=True,
    )
