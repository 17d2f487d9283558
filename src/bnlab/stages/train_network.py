"""Stage train_network: a CNN or LSTM variant's config + the digits -> every seed's
model, history and scores.

Reads ``configs/networks/<network>_<variant>.json`` (written by configure)
and the digits' train/test CSVs. Writes, for every seed,
``<models-dir>/seed_NNN.keras`` (the ``Sequential`` ``model.networks``
builds, which takes raw images); one history CSV with every seed's per-epoch
accuracy and loss; one scores CSV with every seed's final train/test loss
and accuracy. MLflow gets the same run tree as the MLP's variants, with the
network in the run's name and as a tag.

When the network is not in ``networks`` the config says so: the stage writes
history and scores files of no seed and a models folder with a note, and
opens no run. That is every train_network stage of the MLP's study, so it
decides before it loads pydantic, TensorFlow or MLflow (see the README's
Speed section for what it saves).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bnlab.files.history import write_history
from bnlab.files.scores import write_scores

NOT_SELECTED = "not_selected.txt"  # what the models folder of a variant not trained holds


def write_unselected(network: str, models_dir: Path, history: Path, scores: Path) -> None:
    """What a variant of a network not in ``networks`` leaves: history and scores
    files of no seed, and a models folder that says why it holds no model."""
    models_dir.mkdir(parents=True, exist_ok=True)
    for stale in models_dir.iterdir():
        stale.unlink()
    (models_dir / NOT_SELECTED).write_text(f"{network} is not in params.yaml's networks\n")
    write_history(history, {})
    write_scores(scores, {})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab train_network", description=__doc__)
    parser.add_argument("--config", required=True, help="configs/networks/<name>.json")
    parser.add_argument("--train", required=True, help="digits train CSV")
    parser.add_argument("--test", required=True, help="digits test CSV")
    parser.add_argument("--models-dir", required=True, help="folder for seed_NNN.keras")
    parser.add_argument("--history", required=True, help="history CSV to write")
    parser.add_argument("--scores", required=True, help="per-seed scores CSV to write")
    parser.add_argument("--params", default="params.yaml", help="for digits.*, mlflow.*")
    args = parser.parse_args(argv)
    network = not_selected(Path(args.config))
    if network:
        write_unselected(network, Path(args.models_dir), Path(args.history), Path(args.scores))
        print(f"train_network: {network} is not in networks, nothing to train", flush=True)
        return
    fit_and_track(args)


def not_selected(config: Path) -> str | None:
    """The network, if configure wrote this variant's config as not selected."""
    try:
        found = json.loads(config.read_text(encoding="utf-8"))
        return found["network"] if found.get("selected") is False else None
    except (OSError, ValueError, AttributeError, KeyError):
        return None  # fit_and_track's load_network_config says what is wrong, in one line


def fit_and_track(args: argparse.Namespace) -> None:
    """Every seed of a selected variant, trained and tracked."""
    from bnlab.files.digits import read_images
    from bnlab.params import load_network_config, load_params
    from bnlab.runtime.imports import skipping
    from bnlab.tracking.location import check_store, repo_root, tracking_uri
    from bnlab.tracking.train_log import Open, TrainLog

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
        params={**params.model_dump(include={"digits"}), **config.model_dump(exclude={"variant"})},
        seeds=seeds,
        datasets={"train": args.train, "test": args.test},
        tags={"network": config.network},
    )
    with TrainLog(opening) as log:
        with skipping("sklearn", "matplotlib", "pandas"):
            from bnlab.seed_axis.copies import fit_copies, save_copies
            from bnlab.seed_axis.trainer import use_one_thread

        use_one_thread()
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
