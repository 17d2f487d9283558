"""Stage evaluate: every variant's per-seed scores + history -> statistics and DVC metrics.

Writes, per variant, every statistic over its seeds (``analysis.statistics``:
mean, sample s.d., range and 95% interval of each score, median epochs to
80%) as ``<stats-dir>/<variant>.json`` (publish adds them to the variant's
MLflow run), and the study's headline as the one DVC metrics file: per
variant one short line (``analysis.headline``) that ``dvc exp show`` fits in
a terminal. It needs neither TensorFlow nor the models. With ``--extensions``
(extensions/dvc.yaml) it does the same for every extension of params.yaml.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import headline, statistics, summarize
from bnlab.files import variant_file, write_json
from bnlab.files.history import read_history
from bnlab.files.scores import read_scores
from bnlab.params import load_params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab evaluate", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants or extensions")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument("--stats-dir", required=True, help="folder for <variant>.json statistics")
    parser.add_argument("--headline", required=True, help="the DVC metrics file to write")
    parser.add_argument(
        "--extensions", action="store_true", help="the extensions' files instead of the variants'"
    )
    args = parser.parse_args(argv)
    params = load_params(args.params)
    names = list(params.extensions) if args.extensions else params.variants
    stats_dir = Path(args.stats_dir)
    stats_dir.mkdir(parents=True, exist_ok=True)
    for stale in stats_dir.glob("*.json"):
        stale.unlink()
    headlines = {}
    for variant in names:
        scores = read_scores(variant_file(args.scores_dir, variant))
        history = read_history(variant_file(args.history_dir, variant))
        record = statistics(summarize(variant, scores, history))
        write_json(variant_file(stats_dir, variant, ".json"), record)
        headlines[variant] = headline(record)
        print(f"evaluate {variant}: {headlines[variant]} over {len(scores)} seeds", flush=True)
    write_json(args.headline, headlines)
