"""Stage train: a variant's config + prepared data -> every seed's model, history and scores.

Reads ``configs/<variant>.json`` (written by configure) and the train/test
CSVs. Writes, for every seed, ``<models-dir>/seed_NNN.keras`` (the tutorial's
``Sequential`` model); one history CSV with every seed's per-epoch accuracy
and loss; one scores CSV with every seed's final train/test loss and accuracy
(the tutorial's ``model.evaluate``); and the decision boundary of the seed
with the median test accuracy. ``seed_axis`` trains; ``tracking.train_log``
logs to MLflow from a process of its own, started first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bnlab.analysis import THRESHOLD
from bnlab.files.boundary import write_boundary
from bnlab.files.dataset import read_csv
from bnlab.files.history import write_history
from bnlab.files.scores import write_scores
from bnlab.params import load_params, load_variant_config
from bnlab.runtime.imports import KERAS_EXTRAS, skipping
from bnlab.tracking.location import check_store, repo_root, tracking_uri
from bnlab.tracking.train_log import Open, TrainLog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab train", description=__doc__)
    parser.add_argument("--config", required=True, help="configs/<variant>.json, or an extension's")
    parser.add_argument("--train", required=True, help="train CSV")
    parser.add_argument("--test", required=True, help="test CSV")
    parser.add_argument("--models-dir", required=True, help="folder for seed_NNN.keras")
    parser.add_argument("--history", required=True, help="history CSV to write")
    parser.add_argument("--scores", required=True, help="per-seed scores CSV to write")
    parser.add_argument("--boundary", required=True, help="decision-boundary CSV to write")
    parser.add_argument("--params", default="params.yaml", help="for data.*, split.*, mlflow.*")
    args = parser.parse_args(argv)
    config = load_variant_config(args.config)
    params = load_params(args.params)
    train, test = read_csv(args.train), read_csv(args.test)
    seeds = config.train.seed_list()
    check_store(tracking_uri(repo_root()), params.mlflow.experiment)
    opening = Open(
        experiment=params.mlflow.experiment,
        name=config.name,
        variant=config.variant,
        stage=config.stage,
        # Everything that shaped this training: the data's params and the variant's config.
        params={
            **params.model_dump(include={"data", "split"}),
            **config.model_dump(exclude={"variant"}),
        },
        seeds=seeds,
        datasets={"train": args.train, "test": args.test},
        tags={
            "network": "mlp",
            **config.model_dump(include={"extension", "against"}, exclude_none=True),
        },
        threshold=THRESHOLD,
    )
    with TrainLog(opening) as log:
        # TensorFlow loads here, while the worker loads MLflow; the optional
        # extras Keras and TensorFlow would load do not load at all.
        with skipping(*KERAS_EXTRAS):
            from bnlab.seed_axis.fitted import decision_boundary, save_models
            from bnlab.seed_axis.trainer import fit_variant, use_one_thread

        use_one_thread()
        print(
            f"train {config.name}: {len(seeds)} seeds x {config.train.epochs} epochs, all at once",
            flush=True,
        )
        started = time.perf_counter()
        fitted = fit_variant(config, train, test, on_epoch=log.epoch)
        write_history(args.history, fitted.histories)
        write_scores(args.scores, fitted.scores)
        log.trained(Path(args.history), Path(args.scores))
        save_models(fitted, args.models_dir)
        write_boundary(args.boundary, decision_boundary(fitted, train, test))
        trained = time.perf_counter() - started
        log.finish(Path(args.models_dir))
    accuracy = [s["test_accuracy"] for s in fitted.scores.values()]
    print(
        f"train {config.name}: trained in {trained:.1f} s, mean test accuracy "
        f"{sum(accuracy) / len(accuracy):.3f}",
        flush=True,
    )
