"""Protects the tutorial's behaviour: with its configuration every variant learns."""

from __future__ import annotations

import numpy as np
import pytest

from bnlab.params import parse_params, variant_config
from bnlab.seed_axis.trainer import fit_variant
from bnlab.stages.generate import generate
from bnlab.stages.split import split

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("variant", ["baseline", "bn_after", "bn_before"])
def test_default_configuration_beats_80_percent_on_average(default_params_dict, variant):
    params = parse_params(default_params_dict)
    train, test = split(generate(params.data), params.split.n_train)
    fitted = fit_variant(variant_config(params, variant), train, test)
    assert np.mean([s["test_accuracy"] for s in fitted.scores.values()]) > 0.80
    # the loss falls: last epoch below the first, for every seed
    assert all(h["loss"][-1] < h["loss"][0] for h in fitted.histories.values())
