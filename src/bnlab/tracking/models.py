"""A trained seed's ``.keras`` file as an MLflow logged model of the Keras flavour,
logged without loading Keras.

``mlflow.keras.log_model`` takes a model in memory, so publish would import
Keras (seconds) to load files that train saved already, in the format the
flavour stores. ``_SavedKeras`` lays the flavour out around the file as
``mlflow.keras.save_model`` does: ``data/model.keras``, the ``keras`` and
``python_function`` flavours in ``MLmodel``, the environment files, a
signature (float32 tensors: (n, 2) features -> (n, 1) probability of class 1
for the MLP, raw digits -> 10 class probabilities for the CNN and the LSTM)
and an input example. Its pip requirements are pinned to the versions
installed from ``requirements.lock`` (MLflow would otherwise infer them in a
subprocess). MLflow's check of the example, a prediction that loads Keras, is
left out: the tests load and serve the logged models.

Logged with its run's final metrics at step 0, which MLflow links to the
model, so the models pages show them beside it.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

import mlflow
import numpy as np
from mlflow.models import Model, ModelSignature
from mlflow.models.utils import _save_example
from mlflow.types import Schema, TensorSpec
from mlflow.utils.environment import (
    _CONDA_ENV_FILE_NAME,
    _PYTHON_ENV_FILE_NAME,
    _REQUIREMENTS_FILE_NAME,
    _mlflow_conda_env,
    _PythonEnv,
)
from mlflow.utils.file_utils import get_total_file_size

from bnlab.model.saved import model_path

__all__ = ["log_keras_model", "model_path"]

REQUIREMENTS = ("mlflow", "keras", "tensorflow-cpu", "numpy")
EXAMPLE_ROWS = 5
BACKEND = "tensorflow"  # Keras' default, and the one backend requirements.lock installs


def signature(example: np.ndarray, outputs: int) -> ModelSignature:
    """float32 tensors of the example's row shape in, ``outputs`` values out, any batch size."""
    spec = lambda shape: TensorSpec(np.dtype(np.float32), (-1, *shape))  # noqa: E731
    return ModelSignature(
        inputs=Schema([spec(example.shape[1:])]), outputs=Schema([spec((outputs,))])
    )


class _SavedKeras:
    """A flavour module for ``Model.log``: ``mlflow.keras``'s files around a saved ``.keras``."""

    __name__ = "mlflow.keras"

    @staticmethod
    def save_model(
        path: str,
        mlflow_model: Model,
        keras_file: Path,
        signature: ModelSignature,
        input_example: np.ndarray,
        pip_requirements: list[str],
        **_: object,
    ) -> None:
        root = Path(path)
        (root / "data").mkdir(parents=True)
        shutil.copyfile(keras_file, root / "data" / "model.keras")
        (root / "data" / "keras_module.txt").write_text("keras")
        mlflow_model.signature = signature
        _save_example(mlflow_model, input_example, path)
        mlflow_model.add_flavor(
            "keras",
            data="data",
            keras_version=version("keras"),
            keras_backend=BACKEND,
            save_exported_model=False,
        )
        mlflow.pyfunc.add_to_model(
            mlflow_model,
            loader_module="mlflow.keras",
            conda_env=_CONDA_ENV_FILE_NAME,
            python_env=_PYTHON_ENV_FILE_NAME,
        )
        mlflow_model.model_size_bytes = get_total_file_size(path)
        mlflow_model.save(root / "MLmodel")
        # As given: mlflow's own check that they match what is installed costs
        # more than the rest of the logging, and they are what is installed.
        _mlflow_conda_env(root / _CONDA_ENV_FILE_NAME, additional_pip_deps=pip_requirements)
        (root / _REQUIREMENTS_FILE_NAME).write_text("\n".join(pip_requirements))
        _PythonEnv.current().to_yaml(root / _PYTHON_ENV_FILE_NAME)


def pinned_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in REQUIREMENTS]


def log_keras_model(
    experiment_id: str,
    run_id: str,
    path: Path,
    name: str,
    example: np.ndarray,
    outputs: int,
    tags: dict[str, str],
) -> str:
    """Log the model saved at ``path``, which maps rows shaped as ``example``'s
    to ``outputs`` values, into run ``run_id`` of the store a Tracker opened;
    its model id."""
    # Model.log takes the experiment (and the store: see Tracker) from MLflow's globals.
    mlflow.set_experiment(experiment_id=experiment_id)
    example = example[:EXAMPLE_ROWS].astype(np.float32)
    info = Model.log(
        artifact_path=None,
        name=name,
        flavor=_SavedKeras,
        keras_file=path,
        run_id=run_id,
        signature=signature(example, outputs),
        input_example=example,
        pip_requirements=pinned_requirements(),
        validate_serving_input=False,
        tags=tags,
    )
    return info.model_id
