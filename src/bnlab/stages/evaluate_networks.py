"""Stage evaluate_networks (networks/dvc.yaml): per-seed scores -> statistics, DVC metrics.

As evaluate (``bnlab.evaluation``), for each CNN and LSTM variant, with
epochs to its network's threshold.
"""

from __future__ import annotations

from bnlab.evaluation import evaluate, parser
from bnlab.params import load_params, split_name


def main(argv: list[str] | None = None) -> None:
    args = parser("bnlab evaluate_networks", __doc__).parse_args(argv)
    params = load_params(args.params)
    thresholds = {
        name: params.networks.network(split_name(name)[0]).threshold
        for name in params.networks.variants
    }
    evaluate(thresholds, args.scores_dir, args.history_dir, args.stats_dir, args.headline)
