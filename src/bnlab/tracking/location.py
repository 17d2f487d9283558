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

import base64
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bnlab.errors import BnlabError

STORE_FILE = "mlflow.db"
STORE_NOTICE = "MLflow store "  # how a line about the store starts
ARTIFACTS_DIR = "mlartifacts"
# The tag in which MLflow keeps an experiment's kind (model training, not
# GenAI). Its UI still lands by its own switch: see runs_page.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
UI_ADDRESS = "http://127.0.0.1:5000"  # `make ui`'s, for a store that is a file
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


def runs_page(uri: str, experiment_id: str) -> str:
    """The MLflow UI's page of an experiment's runs. The UI picks its GenAI or
    model-training pages by a switch of its own, GenAI unless the address says
    otherwise, whatever the experiment's kind tag (EXPERIMENT_KIND) says."""
    base = without_credentials(uri).rstrip("/") if uri.startswith("http") else UI_ADDRESS
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


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
    """Whether the server knows us, lets us write ``experiment`` and can store
    artifacts: each found in seconds, not after training."""
    query = urllib.parse.urlencode({"experiment_name": experiment})
    found = _ask(uri, f"/api/2.0/mlflow/experiments/get-by-name?{query}")
    if found is None:
        return  # a new experiment: the worker creates it, as anyone may
    experiment_id = found["experiment"]["experiment_id"]
    # An idempotent write, and the one the UI needs to open on the runs.
    key, value = EXPERIMENT_KIND
    tag = {"experiment_id": experiment_id, "key": key, "value": value}
    _ask(uri, "/api/2.0/mlflow/experiments/set-experiment-tag", tag, experiment)
    # A path nobody writes: listing it makes the server use its object store's keys.
    _ask(uri, f"/api/2.0/mlflow-artifacts/artifacts?path={experiment_id}/bnlab-store-check")


def _ask(uri: str, path: str, body: dict | None = None, experiment: str = "") -> dict | None:
    """The server's JSON answer to one request (None for a missing resource),
    or StoreError saying what it refused."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{uri.rstrip('/')}{path}", data=data)
    request.add_header("Content-Type", "application/json")
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if user and os.environ.get("MLFLOW_TRACKING_PASSWORD") is not None:
        pair = f"{user}:{os.environ['MLFLOW_TRACKING_PASSWORD']}".encode()
        request.add_header("Authorization", f"Basic {base64.b64encode(pair).decode()}")
    elif os.environ.get("MLFLOW_TRACKING_TOKEN"):
        request.add_header("Authorization", f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}")
    try:
        with urllib.request.urlopen(request, timeout=CHECK_TIMEOUT, context=_tls()) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        said = _said(exc)
        if exc.code == 404 and said.get("error_code") == "RESOURCE_DOES_NOT_EXIST":
            return None
        if "mlflow-artifacts" in path and (exc.code >= 500 or "error_code" in said):
            raise StoreError(
                uri,
                f"cannot store artifacts ({said.get('message', exc.reason)})",
                "its object store refuses the server's keys or is down: tell the server's admin",
            ) from None
        if exc.code == 401:
            raise StoreError(uri, *_who(user)) from None
        if exc.code == 403 and body is not None:
            raise StoreError(
                uri,
                f"user {user} may read but not write experiment {experiment} (HTTP 403)",
                "ask the server's admin for write access (scripts/tracking-server.sh add-user)",
            ) from None
        raise StoreError(
            uri,
            f"answered HTTP {exc.code} {exc.reason} to an MLflow request",
            "check the URI and the server's access rules",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreError(
            uri,
            f"cannot be reached ({reason})",
            "start the tracking server, or unset MLFLOW_TRACKING_URI to use mlflow.db",
        ) from None


def _who(user: str | None) -> tuple[str, str]:
    """What a 401 means for ``user``, and what to do."""
    if not user:
        return (
            "asks who you are (HTTP 401) and MLFLOW_TRACKING_USERNAME is not set",
            "load the credentials the server's admin gave you: set -a; . team.env; set +a",
        )
    return (
        f"refused the password of user {user} (HTTP 401)",
        "check MLFLOW_TRACKING_PASSWORD against the credentials the server's admin gave you",
    )


def _tls() -> ssl.SSLContext | None:
    """The TLS settings MLflow's client would use for an https server."""
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        return ssl._create_unverified_context()
    return ssl.create_default_context(cafile=os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"))


def _said(exc: urllib.error.HTTPError) -> dict:
    """The JSON body of an MLflow error answer, or {}."""
    try:
        said = json.loads(exc.read())
    except (ValueError, OSError, AttributeError):
        return {}
    return said if isinstance(said, dict) else {}
