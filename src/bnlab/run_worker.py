"""The MLflow side of a train stage, in a process of its own.

``python -m bnlab.run_worker`` is started by ``bnlab train`` (see
``train.TrainingRuns``) before TensorFlow loads, so that MLflow's import and
store start-up (about 2 s) run on the second core while the train stage
loads TensorFlow and trains. It reads JSON lines on stdin:

1. ``open``: experiment, variant, DVC stage, params (nested, as in
   params.yaml), seeds. It creates the variant's run and one child run per
   seed, all RUNNING, with the params flattened and the context tags.
2. ``EPOCHS``, any number: a block of epochs (``first_epoch``, then per
   metric, per epoch, one value per seed). Each seed's values go into its
   child run with step = epoch while training goes on.
3. ``TRAINED``: the history and scores files, and the epochs not sent yet.
   Each child gets its last epochs and final scores; the variant's run gets
   the mean curves and both files as artifacts, and the tag with the scores
   file's md5 (``tracking.SCORES_TAG``) by which publish finds it.
4. How training ended: ``FINISHED`` names the models folder (logged as
   artifacts), and the runs end FINISHED. ``FAILED`` (with the error, kept
   as a tag) and ``KILLED`` end them so. End of input means the stage died:
   the runs end KILLED.

It ignores SIGINT and SIGTERM: the stage decides how the runs end. On its own
failure it prints one line on stderr and exits 1.
"""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
from pathlib import Path

from bnlab.evaluate import epochs_to_80
from bnlab.history import METRICS, read_history
from bnlab.scores import read_scores
from bnlab.tracking import SCORES_TAG, Tracker, VariantRun, context_tags, file_md5, flatten


class TrainingFailed(Exception):
    """The train stage failed; its error becomes the runs' ``error`` tag."""


def _next_message(stdin) -> dict:
    line = stdin.readline()
    return json.loads(line) if line else {"status": "KILLED"}  # the stage died


def _seed_curves(message: dict, index: int) -> dict[str, list[float]]:
    """The seed at ``index``'s share of a message's block of epochs (none: empty)."""
    block = message.get("curves", {})
    return {metric: [epoch[index] for epoch in values] for metric, values in block.items()}


def log_epochs(run: VariantRun, message: dict) -> None:
    """A block of epochs: each seed's per-epoch values into its child run."""
    for index, run_id in enumerate(run.ids.seed_runs.values()):
        run.tracker.log_run(run_id, _seed_curves(message, index), {}, message["first_epoch"])


def log_results(run: VariantRun, message: dict) -> None:
    """Every seed's last epochs and final numbers, the mean curves, the two CSVs."""
    history = read_history(message["history"])
    scores = read_scores(message["scores"])
    reached = epochs_to_80(history)
    tracker = run.tracker
    for index, (seed, run_id) in enumerate(run.ids.seed_runs.items()):
        final = dict(scores[seed])
        if reached[seed] is not None:
            final["epochs_to_80"] = reached[seed]
        tracker.log_run(run_id, _seed_curves(message, index), final, message.get("first_epoch", 1))
    # The variant's run carries the mean over seeds of every per-epoch curve.
    tracker.log_run(run.ids.run_id, {m: history.mean(m).tolist() for m in METRICS}, {})
    tracker.log_artifacts(run.ids.run_id, [Path(message["history"])], "history")
    tracker.log_artifacts(run.ids.run_id, [Path(message["scores"])], "evaluation")
    tracker.client.set_tag(run.ids.run_id, SCORES_TAG, file_md5(message["scores"]))


def serve(stdin) -> None:
    opened = json.loads(stdin.readline())
    tracker = Tracker(opened["experiment"])
    tags = context_tags(opened["stage"], opened["variant"])
    run = VariantRun(tracker, opened["variant"], tags, flatten(opened["params"]))
    try:
        with run.active(), run.seeds(opened["seeds"]):
            while (message := _next_message(stdin))["status"] in ("EPOCHS", "TRAINED"):
                if message["status"] == "EPOCHS":
                    log_epochs(run, message)
                else:
                    log_results(run, message)
            if message["status"] == "KILLED":
                raise KeyboardInterrupt
            if message["status"] == "FAILED":
                raise TrainingFailed(message["error"])
            run.tracker.log_folder(run.ids.run_id, Path(message["models_dir"]), "models")
    except (KeyboardInterrupt, TrainingFailed):
        return


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        serve(sys.stdin)
    except Exception as exc:  # the process boundary: the stage reports this line
        print(f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    finally:
        gc.freeze()  # as bnlab.__main__: no collector pass over MLflow's objects at exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
