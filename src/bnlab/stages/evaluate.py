"""Stage evaluate: the study's per-seed scores and histories -> statistics, DVC metrics.

Per variant (``bnlab.evaluation``), with epochs to 80% test accuracy.
"""

from __future__ import annotations

from bnlab.analysis import THRESHOLD
from bnlab.evaluation import evaluate, parser
from bnlab.params import load_params


def main(argv: list[str] | None = None) -> None:
    args = parser("bnlab evaluate", __doc__).parse_args(argv)
    params = load_params(args.params)
    thresholds = {v: THRESHOLD for v in params.variants}
    evaluate(thresholds, args.scores_dir, args.history_dir, args.stats_dir, args.headline)
