"""Where the MLflow store is, and whether it answers, without importing MLflow.

Store: ``MLFLOW_TRACKING_URI`` when set (e.g. a tracking server backed by
PostgreSQL), else the SQLite file ``mlflow.db`` at the repository root with
artifacts in ``mlartifacts/`` beside it. The root is ``DVC_ROOT`` when DVC
runs the stage, so experiments that DVC runs in temporary copies of the
repository (``dvc exp run --queue``) log into the repository's own store.

``check_store`` is the train stage's first step: a store that cannot be
reached, refuses, or is not a database is reported in one line before any
training, instead of after MLflow's retries (minutes) with the training lost.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bnlab.errors import BnlabError

STORE_FILE = "mlflow.db"
STORE_NOTICE = "MLflow store "  # how a line about the store starts
ARTIFACTS_DIR = "mlartifacts"
CHECK_TIMEOUT = 5  # s for the tracking server to answer the check
SQLITE_HEADER = b"SQLite format 3\x00"
# MLflow's own settings for its HTTP requests, where the user has not set them:
# a server that stops answering is given up on in seconds, not after the
# default seven retries with doubling back-off (about four minutes).
HTTP_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


class StoreError(BnlabError):
    """The MLflow store cannot be used."""

    def __init__(self, uri: str, problem: str, remedy: str):
        super().__init__(f"{STORE_NOTICE}{without_credentials(uri)}: {problem}; {remedy}")


def disk_full(cause: str) -> bool:
    """Whether a store failed with ``cause`` (SQLite's or the OS's words) for want of space."""
    return "disk is full" in cause or "No space left" in cause


def store_remedy(cause: str) -> str:
    """What to do about a store that failed with ``cause`` (SQLite's words)."""
    if disk_full(cause):
        return "free some space, then rerun the stage"
    if "locked" in cause:
        return "another process holds it: wait for it, then rerun the stage"
    return "fix that, then rerun the stage"


def without_credentials(url: str) -> str:
    """``url`` without the user and password (or token) it may carry:
    ``https://alice:TOKEN@host/org/repo.git`` -> ``https://host/org/repo.git``.
    Whatever bnlab writes to MLflow, to a file or to the terminal goes through
    this, as a tracking server shows tags and dataset sources to every reader.
    A scp-like git address (``git@host:org/repo``) names a user, not a secret."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def repo_root() -> Path:
    if os.environ.get("DVC_ROOT"):
        return Path(os.environ["DVC_ROOT"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / ".dvc").is_dir():
            return folder
    return here


def tracking_uri(root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / STORE_FILE}"


def give_up_early() -> None:
    """Have MLflow's client give up on an unreachable server within seconds."""
    for name, value in HTTP_RETRIES.items():
        os.environ.setdefault(name, value)


def check_store(uri: str, experiment: str) -> None:
    """Raise StoreError, in one line naming the URI and what to do, if the store
    at ``uri`` cannot hold ``experiment``'s runs."""
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme == "sqlite":
        _check_sqlite(uri)
    elif scheme in ("http", "https"):
        _check_server(uri, experiment)


def _check_sqlite(uri: str) -> None:
    path = Path(uri.removeprefix("sqlite:///"))  # sqlite:////abs or sqlite:///relative
    if not path.exists():
        if not path.parent.is_dir():
            raise StoreError(uri, f"no folder {path.parent}", "create it or fix the URI")
        return  # MLflow creates it
    with open(path, "rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise StoreError(
            uri,
            "not an SQLite database",
            f"move {path} aside (a new store is made in its place) or restore it",
        )


def _check_server(uri: str, experiment: str) -> None:
    query = urllib.parse.urlencode({"experiment_name": experiment})
    url = f"{uri.rstrip('/')}/api/2.0/mlflow/experiments/get-by-name?{query}"
    remedy = "start the tracking server, or unset MLFLOW_TRACKING_URI to use mlflow.db"
    try:
        with urllib.request.urlopen(url, timeout=CHECK_TIMEOUT):
            return
    except urllib.error.HTTPError as exc:
        if exc.code == 404 and _error_code(exc) == "RESOURCE_DOES_NOT_EXIST":
            return  # a new experiment: the worker creates it
        raise StoreError(
            uri,
            f"answered HTTP {exc.code} {exc.reason} to an MLflow request",
            "check the URI and the server's access rules",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreError(uri, f"cannot be reached ({reason})", remedy) from None


def _error_code(exc: urllib.error.HTTPError) -> str | None:
    try:
        return json.loads(exc.read()).get("error_code")
    except (ValueError, OSError, AttributeError):
        return None
