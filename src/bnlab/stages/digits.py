"""Stage digits (networks/dvc.yaml): scikit-learn's digits + ``networks.n_train`` ->
train and test CSVs.

``load_digits`` ships with scikit-learn (nothing is downloaded): 1,797 images
of 8x8 pixels, 0-16, in a fixed order. The first n_train rows train, the rest
test, as the circles' split.
"""

from __future__ import annotations

import argparse

import numpy as np

from bnlab.files.digits import Images, write_images
from bnlab.params import load_params


def load_digits() -> Images:
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    return Images(digits.data.astype(np.float32), digits.target.astype(np.int64))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab digits", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--train", required=True, help="train CSV to write")
    parser.add_argument("--test", required=True, help="test CSV to write")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    images, n_train = load_digits(), params.networks.n_train
    train, test = images.rows(0, n_train), images.rows(n_train)
    write_images(train, args.train)
    write_images(test, args.test)
    print(
        f"digits: {len(train)} train -> {args.train}, {len(test)} test -> {args.test}", flush=True
    )
