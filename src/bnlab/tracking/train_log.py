"""The train stage's MLflow logging: a worker process, and the stage's end of it.

The stage starts the worker (``python -m bnlab.tracking.train_log``) before
TensorFlow loads, so that MLflow's import and store start-up run on the
second core while the stage loads TensorFlow and trains. They speak in the
messages below, one JSON line each on the worker's stdin:

1. ``Open``: experiment, variant, DVC stage, params (nested, as in
   params.yaml), seeds, the train and test files. The worker creates the
   variant's run and one child run per seed, all RUNNING, with the params
   flattened, the context tags and the files as dataset inputs.
2. ``Epochs``, any number: a block of epochs (per metric, per epoch, one
   value per seed), at least EPOCH_BLOCK of them and BLOCK_SECONDS of
   training. Each seed's values go into its child run, step = epoch, while
   training goes on; a training shorter than that sends none.
3. ``Trained``: the history and scores files, with the epochs not sent yet.
   Each child gets its last epochs and final scores; the variant's run gets
   the mean curves, both files as artifacts, and the scores' md5 tag
   (``store.SCORES_TAG``) by which publish finds it.
4. How training ended: ``Finished`` (the models folder, logged as
   artifacts), ``Failed`` (the error, kept as a tag) or ``Killed``; the runs
   end so.

The worker never outlives its stage. End of input, or a last line cut short,
means the stage died: the runs end KILLED. So do SIGINT and SIGTERM, and the
death of the stage while the worker is busy (it watches its parent). A stage
that stops early gives the worker STOP_GRACE seconds to end its runs, then
terminates it.

This module must not import MLflow at its top: the stage imports it too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bnlab.errors import BnlabError, Terminated, describe
from bnlab.runtime import interrupt
from bnlab.runtime.imports import skipping
from bnlab.tracking.location import (
    StoreError,
    disk_full,
    repo_root,
    store_remedy,
    tracking_uri,
)

WORKER_TIMEOUT = 600  # s to finish logging once training is over
STOP_GRACE = 10  # s for a worker told to stop to end its runs, before SIGTERM, then SIGKILL
PARENT_POLL = 0.5  # s between the worker's checks that its stage is alive
# A block of epochs goes out once it has both: few MLflow calls, still live
# curves, and no worker busy logging beside a training that is over in a second.
EPOCH_BLOCK = 20
BLOCK_SECONDS = 1.0
Curves = dict[str, list[list[float]]]  # metric -> per epoch -> per seed


@dataclass(frozen=True)
class Open:
    experiment: str
    name: str  # the runs': the variant's, or the extension's
    variant: str
    stage: str
    params: dict
    seeds: list[int]
    datasets: dict[str, str]  # context (train, test) -> DVC path
    tags: dict[str, str]  # besides where the runs came from: an extension's name and reference
    # Each seed's epochs to it go into its run; None where the threshold is a
    # param training does not depend on (a digits network's).
    threshold: float | None = None


@dataclass(frozen=True)
class Epochs:
    first_epoch: int
    curves: Curves


@dataclass(frozen=True)
class Trained:
    history: str
    scores: str
    rest: Epochs | None = None  # the epochs not sent yet


@dataclass(frozen=True)
class Finished:
    models_dir: str


@dataclass(frozen=True)
class Failed:
    error: str


@dataclass(frozen=True)
class Killed:
    pass


Message = Open | Epochs | Trained | Finished | Failed | Killed
KINDS = {kind.__name__: kind for kind in (Open, Epochs, Trained, Finished, Failed, Killed)}


def encode(message: Message) -> str:
    return json.dumps({"kind": type(message).__name__, **asdict(message)}) + "\n"


def decode(line: str) -> Message:
    """A message from its JSON line; end of input, or a line cut short by the
    stage's death, is Killed."""
    if not line.endswith("\n"):
        return Killed()
    fields = json.loads(line)
    kind = KINDS[fields.pop("kind")]
    if kind is Trained and fields["rest"] is not None:
        fields["rest"] = Epochs(**fields["rest"])
    return kind(**fields)


# --- the stage's end ---------------------------------------------------------


@dataclass
class TrainLog:
    """The stage's handle on the worker and its runs.

    Entering starts the worker and opens the runs; ``epoch``, ``trained`` and
    ``finish`` hand it what training produced; leaving on an exception ends
    the runs KILLED (Ctrl-C, SIGTERM) or FAILED. Messages go out from a
    thread, so training never waits on a slow worker.
    """

    opening: Open
    block: list[dict[str, list[float]]] = field(default_factory=list)
    first_epoch: int = 1
    block_started: float = 0.0  # time.monotonic() at the block's first epoch
    waited: bool = False

    def __enter__(self) -> TrainLog:
        self.errors = tempfile.TemporaryFile("w+")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "bnlab.tracking.train_log"],
            stdin=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            start_new_session=True,  # a Ctrl-C at the terminal is the stage's to handle
        )
        self.outbox: queue.Queue[str | None] = queue.Queue()
        self.writer = threading.Thread(target=self._write_all, daemon=True)
        self.writer.start()
        self._send(self.opening)
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

    def _send(self, message: Message) -> None:
        self.outbox.put(encode(message))

    def _wait(self, timeout: float = WORKER_TIMEOUT) -> None:
        if self.waited:
            return
        self.waited = True
        self.outbox.put(None)
        self.writer.join(timeout=timeout)
        try:
            status = self.worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop()
            raise BnlabError(
                f"MLflow logging did not finish within {timeout:.0f} s; its runs end KILLED"
            ) from None
        self.errors.seek(0)
        error = self.errors.read().strip().splitlines()
        self.errors.close()
        if status != 0:
            reason = error[-1] if error else f"exit status {status}"
            raise BnlabError(f"MLflow logging failed: {reason}")

    def epoch(self, epoch: int, values: dict) -> None:
        """Buffer an epoch's per-seed values; send them in blocks of at least
        EPOCH_BLOCK epochs and BLOCK_SECONDS.

        A worker that has stopped (its store went away) stops training here,
        with the worker's reason, rather than after the last epoch."""
        if self.worker.poll() is not None:
            self._wait()
        if not self.block:
            self.first_epoch = epoch
            self.block_started = time.monotonic()
        self.block.append({name: v.tolist() for name, v in values.items()})
        waited = time.monotonic() - self.block_started
        if len(self.block) >= EPOCH_BLOCK and waited >= BLOCK_SECONDS:
            self._send(self._take_block())

    def _take_block(self) -> Epochs:
        curves = {name: [epoch[name] for epoch in self.block] for name in self.block[0]}
        self.block = []
        return Epochs(self.first_epoch, curves)

    def trained(self, history: Path, scores: Path) -> None:
        """Have the history and scores logged while the stage goes on; the epochs
        not sent yet go with them, one MLflow call per seed for both."""
        rest = self._take_block() if self.block else None
        self._send(Trained(str(history), str(scores), rest))

    def finish(self, models_dir: Path) -> None:
        """Log the models, end the runs FINISHED."""
        self._send(Finished(str(models_dir)))
        self._wait()

    def _stop(self) -> None:
        """SIGTERM the worker (it ends its runs KILLED), then SIGKILL if it hangs."""
        for send in (self.worker.terminate, self.worker.kill):
            if self.worker.poll() is not None:
                return
            send()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.worker.wait(timeout=STOP_GRACE)

    def __exit__(self, kind, exc, traceback) -> None:
        if exc is None:
            return
        if isinstance(exc, KeyboardInterrupt | Terminated):
            self._send(Killed())
        else:
            self._send(Failed(describe(exc)))
        # The training's own error is the one to report. A worker still busy
        # (thousands of runs to create, a slow store) is not waited for.
        with contextlib.suppress(BnlabError):
            self._wait(timeout=STOP_GRACE)
        self._stop()


# --- the worker's end --------------------------------------------------------


def _seed_curves(block: Epochs | None, index: int) -> dict[str, list[float]]:
    """The seed at ``index``'s share of a block of epochs (none: empty)."""
    if block is None:
        return {}
    return {metric: [epoch[index] for epoch in values] for metric, values in block.curves.items()}


def serve(stdin) -> None:
    """Read the stage's messages from ``stdin`` and log them (module docstring)."""
    # Here: the stage must not load MLflow. Its dataset tracking's pandas, which
    # the runs' file datasets do not use, does not load at all.
    with skipping("pandas"):
        from bnlab.tracking.store import Tracker

    opening = decode(stdin.readline())
    if not isinstance(opening, Open):  # the stage died before it said what to open
        return
    # A signal waits for the store call under way (interrupt.deferred): one that
    # broke into SQLite's write would keep its lock, and no run could end.
    with interrupt.deferred():
        tracker = Tracker(opening.experiment)
    try:
        _log(tracker, opening, stdin)
    except BaseException as exc:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # nothing cuts the ending short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Every run this worker started and has not ended, found in the store: a
        # signal can land before a new run's id is known. One try, the store may
        # be what failed.
        with contextlib.suppress(Exception):
            tracker.end_own_runs(*_ending(exc))
        raise


def _ending(exc: BaseException) -> tuple[str, str | None]:
    """The status (and error) that runs stopped by ``exc`` end with."""
    if isinstance(exc, KeyboardInterrupt | Terminated):
        return "KILLED", None
    return "FAILED", describe(exc)


def _log(tracker, opening: Open, stdin) -> None:
    # Here, not at the top: the stage imports this module and must not load MLflow.
    from bnlab.analysis import epochs_key, epochs_to_threshold
    from bnlab.files.history import METRICS, read_history
    from bnlab.files.scores import read_scores
    from bnlab.tracking.lineage import context_tags, dataset_inputs, file_md5
    from bnlab.tracking.store import SCORES_TAG, VariantRun, flatten

    with interrupt.deferred():
        tracker.end_orphans()
        tags = {**context_tags(opening.stage, opening.variant), **opening.tags}
        datasets = dataset_inputs(opening.datasets)
        params = flatten(opening.params)
        run = VariantRun(tracker, opening.name, tags, params, opening.seeds, datasets)
    seed_runs = list(run.seed_runs.values())

    def log_results(message: Trained) -> None:
        history, scores = read_history(message.history), read_scores(message.scores)
        first = message.rest.first_epoch if message.rest else 1
        reached = zip(history.seeds, history.curves["val_accuracy"], strict=True)
        for index, (seed, curve) in enumerate(reached):
            final = dict(scores[seed])
            epochs = opening.threshold and epochs_to_threshold(curve, opening.threshold)
            if epochs:
                final[epochs_key(opening.threshold)] = epochs
            tracker.log_run(seed_runs[index], _seed_curves(message.rest, index), final, first)
            interrupt.check()
        # The variant's run carries the mean over seeds of every per-epoch curve.
        tracker.log_run(run.run_id, {m: history.mean(m).tolist() for m in METRICS}, {})
        tracker.log_artifacts(run.run_id, [Path(message.history)], "history")
        tracker.log_artifacts(run.run_id, [Path(message.scores)], "evaluation")
        tracker.client.set_tag(run.run_id, SCORES_TAG, file_md5(message.scores))

    # Outside deferred: a signal while the worker waits for the stage stops it at once.
    while isinstance(message := decode(stdin.readline()), Epochs | Trained):
        with interrupt.deferred():
            if isinstance(message, Epochs):
                for index, run_id in enumerate(seed_runs):
                    curves = _seed_curves(message, index)
                    tracker.log_run(run_id, curves, {}, message.first_epoch)
                    interrupt.check()
            else:
                log_results(message)
    with interrupt.deferred():
        if isinstance(message, Finished):
            tracker.log_folder(run.run_id, Path(message.models_dir), "models")
        if isinstance(message, Failed):
            run.end("FAILED", message.error)
        else:
            run.end("FINISHED" if isinstance(message, Finished) else "KILLED")


def _watch_parent(parent: int) -> None:
    """SIGTERM this worker once the stage that started it is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    interrupt.install()  # SIGINT and SIGTERM: the runs end KILLED
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        serve(sys.stdin)
    except BnlabError as exc:  # the process boundary: the stage reports this line
        print(exc, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated):
        print("MLflow logging stopped by a signal; its runs ended KILLED", file=sys.stderr)
        return 143
    except Exception as exc:
        print(_one_line(exc), file=sys.stderr)
        return 1
    return 0


def _one_line(exc: Exception) -> str:
    """The worker's failure in one line; a store that is full, or a request it
    did not answer, says which store and what to do."""
    said = describe(exc).splitlines()[0]
    if disk_full(said):
        return str(
            StoreError(tracking_uri(repo_root()), f"cannot be written ({said})", store_remedy(said))
        )
    if "API request to" not in said:
        return said[:500]
    # A refused or timed-out request buries its cause in urllib3's retry message.
    cause = re.findall(r"\[Errno -?\d+\] [^'\")]+|Read timed out", said)
    return str(
        StoreError(
            tracking_uri(repo_root()),
            f"stopped answering ({cause[-1] if cause else said[:300]})",
            "once it answers again, rerun the stage",
        )
    )


if __name__ == "__main__":
    from bnlab.runtime.collector import collect_seldom, exit_now

    collect_seldom()
    exit_now(main())
