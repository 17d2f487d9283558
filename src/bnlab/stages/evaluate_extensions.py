"""Stage evaluate_extensions (extensions/dvc.yaml): per-seed scores -> statistics, DVC metrics.

As evaluate (``bnlab.evaluation``), for each extension.
"""

from __future__ import annotations

from bnlab.analysis import THRESHOLD
from bnlab.evaluation import evaluate, parser
from bnlab.params import load_params


def main(argv: list[str] | None = None) -> None:
    args = parser("bnlab evaluate_extensions", __doc__).parse_args(argv)
    params = load_params(args.params)
    thresholds = {name: THRESHOLD for name in params.extensions}
    evaluate(thresholds, args.scores_dir, args.history_dir, args.stats_dir, args.headline)
