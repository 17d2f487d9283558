"""Protects the data: the tutorial's make_circles, byte-stable files, the split, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_circles

from bnlab.errors import DataError
from bnlab.files.dataset import read_csv, write_csv
from bnlab.params import DataParams
from bnlab.stages.generate import generate
from bnlab.stages.split import split

DATA = DataParams(n_samples=1000, noise=0.1, random_state=1)


def test_generation_is_the_tutorials_make_circles():
    features, labels = make_circles(n_samples=1000, noise=0.1, random_state=1)
    dataset = generate(DATA)
    np.testing.assert_array_equal(dataset.features, features)
    np.testing.assert_array_equal(dataset.labels, labels)


def test_generation_is_deterministic_to_the_byte(tmp_path):
    write_csv(generate(DATA), tmp_path / "a.csv")
    write_csv(generate(DATA), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_csv_round_trip_is_exact(tmp_path):
    dataset = generate(DATA)
    write_csv(dataset, tmp_path / "d.csv")
    again = read_csv(tmp_path / "d.csv")
    np.testing.assert_array_equal(again.features, dataset.features)
    np.testing.assert_array_equal(again.labels, dataset.labels)


def test_split_is_first_500_then_last_500():
    dataset = generate(DATA)
    train, test = split(dataset, 500)
    np.testing.assert_array_equal(train.features, dataset.features[:500])
    np.testing.assert_array_equal(test.features, dataset.features[500:])
    np.testing.assert_array_equal(test.labels, dataset.labels[500:])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "header must be x1,x2,label"),
        ("x1,x2,label\n0.1,0.2\n", "line 2 is not x1,x2,label"),
        ("x1,x2,label\nnan,0.2,1\n", "line 2 has a non-finite value"),
        ("x1,x2,label\n", "holds no rows"),
    ],
)
def test_corrupt_csv_names_the_file(tmp_path, content, message):
    path = tmp_path / "train.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=f"{path}: {message}"):
        read_csv(path)
