"""The Model Registry as the study's hand-off: one registered model for the MLP,
named after the MLflow experiment (``bn-circles``), and one per digits network.

Each variant's representative model (the logged model of its median seed) is
a version of its registered model, tagged with its variant, the scores md5 of the training
that made it and the params of that training. The workspace's study owns the
aliases: one per variant (``models:/bn-circles@bn_after``) and ``best``, the
variant with the highest mean test accuracy. A DVC experiment registers its
versions (tagged with its name) but moves no alias: a user who wants its
model applies the experiment, or loads the version by number.

A training registered before (same variant, same scores md5) is not
registered again, so a rerun that changes nothing adds no version.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Mapping

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

from bnlab.tracking.store import SCORES_TAG

BEST = "best"
MEAN_TAG = "test_accuracy.mean"


def ensure_registered_model(client: MlflowClient, name: str, description: str) -> None:
    try:
        client.create_registered_model(name, description=description)
    except MlflowException as exc:
        if exc.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise


def register(
    client: MlflowClient,
    name: str,
    variant: str,
    model_id: str,
    tags: Mapping[str, str],
) -> tuple[str, bool]:
    """The version of ``name`` holding this training's model, and whether it is new.

    ``tags`` must hold the training's SCORES_TAG; a version with the same
    variant and scores md5 is the same training, and is returned as it is.
    """
    found = client.search_model_versions(
        f"name = '{name}' and tags.variant = '{variant}' "
        f"and tags.`{SCORES_TAG}` = '{tags[SCORES_TAG]}'"
    )
    if found:
        return min(found, key=lambda v: int(v.version)).version, False
    model = client.get_logged_model(model_id)
    experiment = os.environ.get("DVC_EXP_NAME")
    description = f"{variant}, the median seed ({model.tags.get('seed')}) of its training"
    if experiment:
        description += f", in DVC experiment {experiment}"
    # mlflow.register_model, not the client's create_model_version: it also
    # tags the logged model with its versions, which its page shows. Its two
    # printed lines ("... already exists", since ensure_registered_model made
    # it; "Created version ...") are kept off the terminal: the stage's own
    # line says which version it registered.
    with contextlib.redirect_stderr(io.StringIO()):
        version = mlflow.register_model(
            f"models:/{model_id}",
            name,
            tags={
                "variant": variant,
                "seed": model.tags.get("seed", ""),
                **({"dvc.exp_name": experiment} if experiment else {}),
                **tags,
            },
        )
    client.update_model_version(name, version.version, description=description)
    return version.version, True


def owns_aliases() -> bool:
    """Only the workspace's study moves the aliases, not a DVC experiment."""
    return not os.environ.get("DVC_EXP_NAME")


def set_aliases(client: MlflowClient, name: str, versions: Mapping[str, str], best: str) -> None:
    """An alias per variant, and BEST on ``best``'s version."""
    for variant, version in versions.items():
        client.set_registered_model_alias(name, variant, version)
    client.set_registered_model_alias(name, BEST, versions[best])
