"""Stage generate: params ``data.*`` -> the raw circles dataset (CSV)."""

from __future__ import annotations

import argparse

from bnlab.files.dataset import Dataset, write_csv
from bnlab.params import DataParams, load_params
from bnlab.runtime.imports import skipping

# scikit-learn's optional pandas support is for DataFrame inputs, not needed here.
with skipping("pandas"):
    from sklearn.datasets import make_circles


def generate(data: DataParams) -> Dataset:
    """The tutorial's data: make_circles(n_samples, noise, random_state)."""
    features, labels = make_circles(
        n_samples=data.n_samples, noise=data.noise, random_state=data.random_state
    )
    return Dataset(features, labels.astype("int64"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab generate", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    dataset = generate(params.data)
    write_csv(dataset, args.out)
    print(f"generate: {len(dataset)} points -> {args.out}", flush=True)
