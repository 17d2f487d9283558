"""The model behaves as the tutorial says: with its configuration every variant learns."""

from __future__ import annotations

import numpy as np
import pytest
from bnlab.generate import generate
from bnlab.split import split
from bnlab.training import train_variant

from bnlab.params import parse_params, variant_config

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("variant", ["baseline", "bn_after", "bn_before"])
def test_default_configuration_beats_80_percent_on_average(default_params_dict, variant, tmp_path):
    params = parse_params(default_params_dict)
    train, test = split(generate(params.data), params.split.n_train)
    fitted = train_variant(variant_config(params, variant), train, test, tmp_path)
    assert np.mean([s["test_accuracy"] for s in fitted.scores.values()]) > 0.80
    # the loss falls: last epoch below the first, for every seed
    assert all(h["loss"][-1] < h["loss"][0] for h in fitted.histories.values())
