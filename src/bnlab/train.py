"""Stage train: a variant's config + prepared data -> every seed's model, history and scores.

Reads ``configs/<variant>.json`` (written by configure) and the train/test
CSVs. Writes, for every seed, ``<models-dir>/seed_NNN.keras`` (the tutorial's
``Sequential`` model); one history CSV with every seed's per-epoch accuracy
and loss; one scores CSV with every seed's final train/test loss and accuracy
(the tutorial's ``model.evaluate``); and the decision boundary of the seed
with the median test accuracy. The training itself is in ``training``.

The MLflow runs are kept by a worker process (``run_worker``) that starts
first, so MLflow loads on one core while TensorFlow loads on the other.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bnlab.boundary import write_boundary
from bnlab.dataset import read_csv
from bnlab.errors import BnlabError, Terminated
from bnlab.history import write_history
from bnlab.imports import skipping
from bnlab.params import load_params, load_variant_config
from bnlab.scores import write_scores

WORKER_TIMEOUT = 600  # s to finish logging once training is over
EPOCH_BLOCK = 20  # epochs per message to the worker: few MLflow calls, still live curves


class TrainingRuns:
    """The variant's MLflow runs, opened and ended by a ``run_worker`` process.

    Entering starts the worker and asks it to open the runs. ``trained`` and
    ``finish`` hand it the stage's outputs to log; leaving on an exception
    ends the runs KILLED (Ctrl-C, SIGTERM) or FAILED, as
    ``tracking.Tracker.running`` does.
    """

    def __init__(self, request: dict):
        self.request = request
        self.block: list[dict] = []
        self.first_epoch = 1
        # Messages go out from a thread: training never waits on a slow worker.
        self.outbox: queue.Queue[str | None] = queue.Queue()
        self.writer = threading.Thread(target=self._write_all, daemon=True)
        self.waited = False

    def __enter__(self) -> TrainingRuns:
        self.errors = tempfile.TemporaryFile("w+")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "bnlab.run_worker"],
            stdin=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            start_new_session=True,  # a Ctrl-C at the terminal is the stage's to handle
        )
        self.writer.start()
        self._send({"open": True, **self.request})
        return self

    def _write_all(self) -> None:
        pipe = self.worker.stdin
        while (line := self.outbox.get()) is not None:
            # A worker that stopped early gets nothing more; _wait reports why.
            with contextlib.suppress(BrokenPipeError, ValueError):
                pipe.write(line)
                pipe.flush()
        with contextlib.suppress(BrokenPipeError):
            pipe.close()

    def _send(self, message: dict) -> None:
        self.outbox.put(json.dumps(message) + "\n")

    def _wait(self) -> None:
        if self.waited:
            return
        self.waited = True
        self.outbox.put(None)
        self.writer.join(timeout=WORKER_TIMEOUT)
        status = self.worker.wait(timeout=WORKER_TIMEOUT)
        self.errors.seek(0)
        error = self.errors.read().strip().splitlines()
        self.errors.close()
        if status != 0:
            reason = error[-1] if error else f"exit status {status}"
            raise BnlabError(f"MLflow logging failed: {reason}")

    def epoch(self, epoch: int, values: dict) -> None:
        """Buffer an epoch's per-seed values; send them in blocks of EPOCH_BLOCK."""
        if not self.block:
            self.first_epoch = epoch
        self.block.append({name: v.tolist() for name, v in values.items()})
        if len(self.block) == EPOCH_BLOCK:
            self._send({"status": "EPOCHS", **self._take_block()})

    def _take_block(self) -> dict:
        curves = {name: [epoch[name] for epoch in self.block] for name in self.block[0]}
        self.block = []
        return {"first_epoch": self.first_epoch, "curves": curves}

    def trained(self, history: Path, scores: Path) -> None:
        """Have the history and scores logged while the stage goes on. The epochs
        not sent yet go with them: one MLflow call per seed for both."""
        message = {"status": "TRAINED", "history": str(history), "scores": str(scores)}
        self._send({**message, **(self._take_block() if self.block else {})})

    def finish(self, models_dir: Path) -> None:
        """Log the models, end the runs FINISHED."""
        self._send({"status": "FINISHED", "models_dir": str(models_dir)})
        self._wait()

    def __exit__(self, kind, exc, traceback) -> None:
        if exc is None:
            return
        if isinstance(exc, KeyboardInterrupt | Terminated):
            self._send({"status": "KILLED"})
        else:
            self._send({"status": "FAILED", "error": f"{kind.__name__}: {exc}"[:5000]})
        with contextlib.suppress(BnlabError):  # the training's own error is the one to report
            self._wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab train", description=__doc__)
    parser.add_argument("--config", required=True, help="configs/<variant>.json")
    parser.add_argument("--train", required=True, help="train CSV")
    parser.add_argument("--test", required=True, help="test CSV")
    parser.add_argument("--models-dir", required=True, help="folder for seed_NNN.keras")
    parser.add_argument("--history", required=True, help="history CSV to write")
    parser.add_argument("--scores", required=True, help="per-seed scores CSV to write")
    parser.add_argument("--boundary", required=True, help="decision-boundary CSV to write")
    parser.add_argument("--params", default="params.yaml", help="for data.*, split.*, mlflow.*")
    args = parser.parse_args(argv)
    config = load_variant_config(args.config)
    params_file = load_params(args.params)
    train, test = read_csv(args.train), read_csv(args.test)
    seeds = config.train.seed_list()
    # Everything that shaped this training: the data's params and the variant's config.
    data_params = params_file.model_dump(include={"data", "split"})
    request = {
        "experiment": params_file.mlflow.experiment,
        "variant": config.variant,
        "stage": f"train@{config.variant}",
        "params": {**data_params, **config.model_dump(exclude={"variant"})},
        "seeds": seeds,
    }
    with TrainingRuns(request) as runs:
        # TensorFlow loads here, while the worker loads MLflow; Keras' optional
        # scikit-learn, matplotlib and pandas extras do not load at all.
        with skipping("sklearn", "matplotlib", "pandas"):
            from bnlab.training import decision_boundary, fit_variant, save_models, use_one_thread

        use_one_thread()

        print(
            f"train {config.variant}: {len(seeds)} seeds x {config.train.epochs} epochs, "
            "all at once",
            flush=True,
        )
        started = time.perf_counter()
        fitted = fit_variant(config, train, test, on_epoch=runs.epoch)
        write_history(args.history, fitted.histories)
        write_scores(args.scores, fitted.scores)
        runs.trained(Path(args.history), Path(args.scores))
        save_models(fitted, args.models_dir)
        boundary = decision_boundary(fitted, train, test)
        write_boundary(args.boundary, boundary)
        trained = time.perf_counter() - started
        runs.finish(Path(args.models_dir))
    accuracy = [s["test_accuracy"] for s in fitted.scores.values()]
    print(
        f"train {config.variant}: trained in {trained:.1f} s, mean test accuracy "
        f"{sum(accuracy) / len(accuracy):.3f}",
        flush=True,
    )
