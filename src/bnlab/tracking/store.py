"""The runs bnlab keeps in the MLflow store (``location`` says which store).

Runs: one per variant per execution of its training, named after the
variant, with a child run per seed. The train stage creates them and tags the
variant's run with the md5 of the scores file it wrote (SCORES_TAG); the
publish stage finds the run by that tag to add the aggregates, figures and
report, so no run id is part of an output DVC hashes. A run never stays
RUNNING: an exception ends it FAILED (the error in the ``error`` tag), an
interrupt (SIGINT, or SIGTERM turned into :class:`Terminated` by the CLI)
KILLED. A run whose process died without ending it (the store went away
mid-run, a SIGKILL) is ended KILLED by the next process that opens the store.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import mlflow
import sqlalchemy.exc
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from bnlab.errors import Terminated, describe
from bnlab.runtime import interrupt
from bnlab.tracking.lineage import file_md5
from bnlab.tracking.location import (
    ARTIFACTS_DIR,
    EXPERIMENT_KIND,
    STORE_FILE,
    STORE_NOTICE,
    StoreError,
    check_store,
    give_up_early,
    repo_root,
    store_remedy,
    tracking_uri,
    without_credentials,
)

MAX_BATCH = 1000  # MLflow's limit on metrics per log_batch call
SEARCH_PAGE = 5000  # runs per search_runs page (MLflow allows up to 50,000)
BUSY_WAIT = 300  # s a store call waits for another process's lock on the store
BUSY_POLL = 1  # s between its tries (SQLite itself waits 20 s in each)
# On a variant's run: the md5 of the scores file its training wrote. Same
# params and code give the same file, so it names what the run produced.
SCORES_TAG = "bnlab.scores_md5"
# On a variant's run: the logged model of its representative seed.
MODEL_TAG = "bnlab.model_id"
DESCRIPTION_TAG = "mlflow.note.content"  # the run's description in the UI
# On every run: host:pid of the process that ends it, so that a later process
# can tell a run that is still going from one whose process died.
OWNER_TAG = "bnlab.owner"


@contextmanager
def _store_lock(root: Path, uri: str) -> Iterator[None]:
    """Exclusive while held, across processes, for the embedded SQLite store."""
    if not uri.startswith("sqlite:"):
        yield
        return
    with open(root / f".{STORE_FILE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def flatten(nested: Mapping, prefix: str = "") -> dict[str, object]:
    """{'bn': {'momentum': 0.99}} -> {'bn.momentum': 0.99}; None values are left out."""
    flat: dict[str, object] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif value is not None:
            flat[name] = value
    return flat


@contextmanager
def ending(end: Callable[[str, str | None], None]) -> Iterator[None]:
    """Call ``end(status, error)`` as the block ends: FINISHED, KILLED on an
    interrupt, FAILED (with the error) on any other exception."""
    try:
        yield
    except (KeyboardInterrupt, Terminated):
        end("KILLED", None)
        raise
    except BaseException as exc:
        end("FAILED", describe(exc))
        raise
    else:
        end("FINISHED", None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class _Patient:
    """An MlflowClient whose calls wait for a store another process holds locked.

    MLflow has SQLite wait 20 s for another process's write lock (a long
    transaction, a backup, a second study logging); then the call fails, and
    a stage would lose its training to a moment's contention. Here a call
    that met a lock is retried for up to BUSY_WAIT seconds, saying once what
    it waits for. A call that failed so wrote nothing (its transaction rolled
    back), so repeating it is safe.
    """

    def __init__(self, client: MlflowClient, where: str):
        self._client, self._where = client, where

    def __getattr__(self, name: str):
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def patiently(*args, **kwargs):
            waited_until = None
            while True:
                try:
                    return method(*args, **kwargs)
                except (MlflowException, sqlalchemy.exc.OperationalError) as exc:
                    if "database is locked" not in str(exc):
                        raise
                    now = time.monotonic()
                    if waited_until is None:
                        waited_until = now + BUSY_WAIT
                        # On stdout: the train stage's worker shares the stage's.
                        print(
                            f"{STORE_NOTICE}{self._where}: locked by another process; "
                            f"waiting up to {BUSY_WAIT} s",
                            flush=True,
                        )
                    elif now > waited_until:
                        raise StoreError(
                            self._where,
                            f"stayed locked by another process for {BUSY_WAIT} s",
                            store_remedy("locked"),
                        ) from None
                    time.sleep(BUSY_POLL)

        return patiently


def _open(uri: str) -> MlflowClient:
    """A client of the store at ``uri``, which MLflow creates if it is new.

    An SQLite store whose creation stopped partway (a full disk, a kill while
    MLflow made its tables) fails to open for good ("table ... already
    exists"). Holding no run, it is moved aside and made anew; holding runs, it
    is left alone, and the one line says what to do.
    """
    try:
        return _Patient(MlflowClient(tracking_uri=uri), without_credentials(uri))
    except sqlalchemy.exc.OperationalError as exc:
        cause = str(exc.orig)
        if not uri.startswith("sqlite:") or "already exists" not in cause:
            raise StoreError(uri, f"cannot be opened ({cause})", store_remedy(cause)) from None
        path = Path(uri.removeprefix("sqlite:///"))
    aside = _set_aside(uri, path, cause)
    _forget_engines(uri)
    print(
        f"{STORE_NOTICE}{path}: left half-made by an earlier failure ({cause}); "
        f"moved to {aside.name}, a new one is made",
        flush=True,
    )
    return _Patient(MlflowClient(tracking_uri=uri), without_credentials(uri))


def _forget_engines(uri: str) -> None:
    """Close the connections MLflow keeps, per URI and process, to the store
    just moved aside, so that the next client makes the new one."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking

    for store in (Tracking, Registry):
        engine = store._engine_map.pop(uri, None)
        if engine is not None:
            engine.dispose()


def _set_aside(uri: str, path: Path, cause: str) -> Path:
    """Rename the half-made store at ``path`` (and its journal), unless it holds runs."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            runs = db.execute("select count(*) from runs").fetchone()[0]
        except sqlite3.Error:  # no runs table yet
            runs = 0
    if runs:
        raise StoreError(
            uri,
            f"does not open ({cause}) and holds {runs} runs",
            f"back it up; if an older MLflow made it, run `mlflow db upgrade {uri}`, "
            f"else move it aside (mv {path} {path}.broken) and rerun to start a new one",
        )
    aside = path.with_name(f"{path.name}.half-made-{int(time.time())}")
    for old, new in (
        (path, aside),
        *((Path(f"{path}{end}"), Path(f"{aside}{end}")) for end in ("-journal", "-wal", "-shm")),
    ):
        if old.exists():
            old.rename(new)
    return aside


class Tracker:
    """An MLflow client bound to this repository's store and one experiment."""

    def __init__(self, experiment: str, root: Path | None = None):
        self.root = root or repo_root()
        self.uri = tracking_uri(self.root)
        self.where = without_credentials(self.uri)  # the URI as messages show it
        give_up_early()
        check_store(self.uri, experiment)
        # MLflow resolves some things through its global URI, not the client's:
        # Model.log's store, and the logged model behind a new model version.
        mlflow.set_tracking_uri(self.uri)
        # Several stages may open a store that does not exist yet (parallel
        # queued experiments). MlflowClient creates the tables when it is
        # made, so one process at a time makes it and the experiment.
        with _store_lock(self.root, self.uri):
            self.client = _open(self.uri)
            self.experiment_id = self._experiment_id(experiment)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    def find_training_run(self, stage: str, scores: Path) -> str | None:
        """The FINISHED run of DVC stage ``stage`` (a variant's or an extension's
        training) that wrote ``scores``, or None.

        A run of this DVC experiment (DVC_EXP_NAME) comes first, then a run of
        the workspace, then any other, newest first within each: a queued
        experiment adds to its own runs, and to another's only if DVC took that
        training from its cache. None when the runs live in another store
        (outputs pulled from a DVC remote, say).
        """
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=(
                f"tags.`{SCORES_TAG}` = '{file_md5(scores)}' "
                f"and tags.`dvc.stage` = '{stage}' and attributes.status = 'FINISHED'"
            ),
            order_by=["attributes.start_time DESC"],
        )
        if not found:
            return None
        ours = os.environ.get("DVC_EXP_NAME")

        def rank(run) -> int:
            theirs = run.data.tags.get("dvc.exp_name")
            return 0 if theirs == ours else 1 if theirs is None else 2

        return min(found, key=rank).info.run_id

    def seed_run(self, run_id: str, seed: int):
        """The child run of variant run ``run_id`` for ``seed``."""
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`mlflow.parentRunId` = '{run_id}' and tags.seed = '{seed}'",
        )
        if len(found) != 1:
            raise LookupError(f"{len(found)} runs of seed {seed} under run {run_id}")
        return found[0]

    def _experiment_id(self, name: str) -> str:
        parent = os.environ.get("MLFLOW_RUN_ID")
        if parent:  # under `mlflow run`: the experiment of its run, for ours to nest under
            return self.client.get_run(parent).info.experiment_id
        key, kind = EXPERIMENT_KIND
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.tags.get(key) != kind:  # made by an older bnlab, or by hand
                self.client.set_experiment_tag(experiment.experiment_id, key, kind)
            return experiment.experiment_id
        artifacts = None
        if self.uri.startswith("sqlite:"):
            artifacts = (self.root / ARTIFACTS_DIR).as_uri()
        try:
            return self.client.create_experiment(name, artifacts, tags={key: kind})
        except MlflowException:  # created meanwhile by a process not using the lock
            return self.client.get_experiment_by_name(name).experiment_id

    def start_run(self, name: str, tags: Mapping[str, str]) -> str:
        tags = {**tags, OWNER_TAG: self.owner}
        run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
        return run.info.run_id

    def _running(self, owner_like: str) -> list:
        """Every RUNNING run whose owner tag is LIKE ``owner_like``, over all pages:
        a killed huge run can leave thousands."""
        query = f"attributes.status = 'RUNNING' and tags.`{OWNER_TAG}` LIKE '{owner_like}'"
        running, token = [], None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], query, max_results=SEARCH_PAGE, page_token=token
            )
            running += page
            token = page.token
            if not token:
                return running

    def end_orphans(self) -> list[str]:
        """End KILLED every RUNNING run of this host whose process has died; their ids."""
        ended = []
        for run in self._running(f"{self.owner.split(':')[0]}:%"):
            pid = int(run.data.tags[OWNER_TAG].rsplit(":", 1)[1])
            if not _alive(pid):
                self.end_run(run.info.run_id, "KILLED", "its process ended without ending it")
                ended.append(run.info.run_id)
        return ended

    def end_own_runs(self, status: str, error: str | None = None) -> None:
        """End every run this process started and has not ended, as found in the
        store: a signal can land between a run's creation and its id's return."""
        for run in self._running(self.owner):
            self.end_run(run.info.run_id, status, error)

    def end_run(self, run_id: str, status: str, error: str | None = None) -> None:
        """End a run with an MLflow status; a FAILED run keeps its error as a tag."""
        if error is not None:
            self.client.set_tag(run_id, "error", error)
        self.client.set_terminated(run_id, status=status)

    def running(self, run_id: str):
        """A block at whose end the run ends (see ``ending``)."""
        return ending(lambda status, error: self.end_run(run_id, status, error))

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        self.client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def log_run(
        self,
        run_id: str,
        curves: Mapping[str, list[float]],
        final: Mapping[str, float],
        first_epoch: int = 1,
    ) -> None:
        """Per-epoch metrics (step = epoch, the curves starting at ``first_epoch``)
        and final ones (step 0), in as few calls as MLflow allows."""
        now = int(time.time() * 1000)
        metrics = [
            Metric(name, float(value), now, epoch)
            for name, values in curves.items()
            for epoch, value in enumerate(values, start=first_epoch)
        ]
        metrics += [Metric(name, float(value), now, 0) for name, value in final.items()]
        for start in range(0, len(metrics), MAX_BATCH):
            self.client.log_batch(run_id, metrics=metrics[start : start + MAX_BATCH])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
        self.client.log_batch(run_id, metrics=batch)

    def log_artifacts(self, run_id: str, paths: list[Path], folder: str) -> None:
        for path in paths:
            self.client.log_artifact(run_id, str(path), artifact_path=folder)

    def log_folder(self, run_id: str, folder: Path, artifact_path: str) -> None:
        """Every file in ``folder``, in one call."""
        self.client.log_artifacts(run_id, str(folder), artifact_path=artifact_path)


class VariantRun:
    """A variant's run (named after the variant) and one child run per seed, all
    RUNNING, with their params and dataset inputs, until ``end``."""

    def __init__(
        self,
        tracker: Tracker,
        variant: str,
        tags: Mapping[str, str],
        params: Mapping[str, object],
        seeds: list[int],
        datasets: Sequence = (),
    ):
        self.tracker = tracker
        self.run_id = tracker.start_run(variant, tags)
        self.seed_runs: dict[int, str] = {}
        with ending(self._end_if_failed):
            tracker.log_params(self.run_id, params)
            tracker.client.log_inputs(self.run_id, datasets=list(datasets))
            for seed in seeds:
                child_tags = {**tags, "seed": str(seed), "mlflow.parentRunId": self.run_id}
                child = tracker.start_run(f"{variant}-seed-{seed}", child_tags)
                self.seed_runs[seed] = child
                tracker.log_params(child, {**params, "seed": seed})
                tracker.client.log_inputs(child, datasets=list(datasets))
                interrupt.check()  # a deferred signal stops here, between seeds

    def _end_if_failed(self, status: str, error: str | None) -> None:
        if status != "FINISHED":
            self.end(status, error)

    def end(self, status: str, error: str | None = None) -> None:
        """End the variant's run and every seed's with this status."""
        for run_id in (*self.seed_runs.values(), self.run_id):
            self.tracker.end_run(run_id, status, error)

    def ending(self):
        """A block at whose end the runs end (see ``ending``)."""
        return ending(self.end)
