"""Stage split: the raw dataset + ``split.n_train`` -> train and test CSVs.

As in the tutorial: the first n_train rows train, the rest test, no
reshuffle (make_circles has already shuffled them).
"""

from __future__ import annotations

import argparse

from bnlab.errors import DataError
from bnlab.files.dataset import Dataset, read_csv, write_csv
from bnlab.params import load_params


def split(dataset: Dataset, n_train: int) -> tuple[Dataset, Dataset]:
    if not 0 < n_train < len(dataset):
        raise DataError(
            f"split.n_train = {n_train}: must be between 0 and the {len(dataset)} rows, exclusive"
        )
    return dataset.rows(0, n_train), dataset.rows(n_train)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab split", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--raw", required=True, help="CSV written by generate")
    parser.add_argument("--train", required=True, help="train CSV to write")
    parser.add_argument("--test", required=True, help="test CSV to write")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    train, test = split(read_csv(args.raw), params.split.n_train)
    write_csv(train, args.train)
    write_csv(test, args.test)
    print(f"split: {len(train)} train -> {args.train}, {len(test)} test -> {args.test}", flush=True)
