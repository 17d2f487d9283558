"""A trained seed's ``.keras`` file as an MLflow logged model of the Keras flavour.

The logged model has a signature (float32 inputs and outputs shaped as the
model's: (n, 2) features -> (n, 1) probability of class 1 for the MLP, raw
digits -> 10 class probabilities for the CNN and the LSTM), an input example,
and pip requirements pinned to the versions installed from
``requirements.lock`` (MLflow would otherwise infer them in a subprocess).
Logged with its run's final metrics at step 0, which MLflow links to the
model, so the models pages show them beside it.

This module loads Keras: only the MLflow worker imports it, while the stage
trains.
"""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

import keras
import mlflow
import mlflow.keras
import numpy as np
from mlflow.models import Model, ModelSignature
from mlflow.types import Schema, TensorSpec

from bnlab.model.saved import model_path

__all__ = ["log_keras_model", "model_path"]

REQUIREMENTS = ("keras", "tensorflow-cpu", "numpy")
EXAMPLE_ROWS = 5
# MLflow checks the input example by predicting it: no progress bar on the terminal.
keras.config.disable_interactive_logging()


def signature(model: keras.Model) -> ModelSignature:
    """float32 tensors of the model's own input and output shapes, any batch size."""
    shaped = lambda shape: TensorSpec(np.dtype(np.float32), (-1, *shape[1:]))  # noqa: E731
    return ModelSignature(
        inputs=Schema([shaped(model.input_shape)]), outputs=Schema([shaped(model.output_shape)])
    )


class _KerasFlavor:
    """``mlflow.keras`` that makes the model's folder before saving into it:
    its ``save_model`` writes the input example first and fails on a folder
    that does not exist yet, as ``log_model``'s is (mlflow/mlflow#16183)."""

    __name__ = "mlflow.keras"

    @staticmethod
    def save_model(path: str, **kwargs) -> None:
        os.makedirs(path)
        mlflow.keras.save_model(path=path, **kwargs)


def pinned_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in REQUIREMENTS]


def log_keras_model(
    experiment_id: str,
    run_id: str,
    path: Path,
    name: str,
    example: np.ndarray,
    tags: dict[str, str],
) -> str:
    """Log the model saved at ``path`` into run ``run_id`` of the store a
    Tracker opened; its model id."""
    # Model.log takes the experiment (and the store: see Tracker) from MLflow's globals.
    mlflow.set_experiment(experiment_id=experiment_id)
    model = keras.models.load_model(path, safe_mode=True)
    info = Model.log(
        artifact_path=None,
        name=name,
        flavor=_KerasFlavor,
        model=model,
        run_id=run_id,
        signature=signature(model),
        input_example=example[:EXAMPLE_ROWS].astype(np.float32),
        pip_requirements=pinned_requirements(),
        tags=tags,
    )
    return info.model_id
