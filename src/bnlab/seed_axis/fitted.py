"""What fitting a variant's seeds leaves: every seed's state and measurements,
its models saved as the tutorial's ``Sequential``, its decision boundary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from bnlab.analysis import representative_seed
from bnlab.files.boundary import Boundary, grid, points
from bnlab.files.dataset import Dataset
from bnlab.model.saved import model_path, save_all
from bnlab.seed_axis.model import set_state


@dataclass(frozen=True)
class Fitted:
    """Every seed's trained state and what training measured (lists: in the order of seeds)."""

    seeds: list[int]
    weights: list[list[np.ndarray]]  # per seed, as the tutorial's model's get_weights()
    momentums: list[list[np.ndarray]]  # per seed, SGD's momentum slots
    iterations: int  # SGD steps taken, the same for every seed
    histories: dict[int, dict[str, list[float]]]  # seed -> metric -> per-epoch values
    scores: dict[int, dict[str, float]]  # seed -> final train/test loss and accuracy
    shared: keras.Sequential  # the tutorial's compiled model; ``load_seed`` fills it

    def load_seed(self, seed: int) -> keras.Sequential:
        """Load ``seed``'s weights and SGD state into the one shared model and return
        it: the tutorial's compiled ``Sequential`` as that seed's ``fit`` left it.
        Building a model per seed costs more than training them, so the next call
        loads another seed into the same model."""
        index = self.seeds.index(seed)
        set_state(self.shared, self.weights[index], self.momentums[index], self.iterations)
        return self.shared


def save_models(fitted: Fitted, models_dir: str | Path) -> None:
    """Every seed's model as ``seed_NNN.keras``; nothing else stays in the folder."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    for stale in models_dir.glob("seed_*.keras"):
        stale.unlink()
    # One shared model, loaded with each seed's state in turn, as it is saved.
    save_all((fitted.load_seed(seed), model_path(models_dir, seed)) for seed in fitted.seeds)


def decision_boundary(fitted: Fitted, train: Dataset, test: Dataset) -> Boundary:
    """P(class 1) over the data's plane for the seed with the median test accuracy,
    in inference mode (one call: no ``predict`` loop to compile)."""
    seed = representative_seed(fitted.scores)
    xs, ys = grid(np.concatenate([train.features, test.features]))
    model = fitted.load_seed(seed)
    probability = np.asarray(model(points(xs, ys), training=False))
    return Boundary(seed, xs, ys, probability.reshape(xs.shape))
