"""Stage evaluate: every variant's per-seed scores + history -> statistics and DVC metrics.

Writes, per variant, every statistic over its seeds (``analysis.statistics``:
mean, sample s.d., range and 95% interval of each score, median epochs to
80%) as ``<stats-dir>/<variant>.json`` (publish adds them to the variant's
MLflow run), and the study's headline as the one DVC metrics file: per
variant one short line (``analysis.headline``) that ``dvc exp show`` fits in
a terminal. The CNN and LSTM variants of ``networks`` (their files in the
``--network-*`` folders) are evaluated alike, as ``<network>_<variant>``, with
epochs to their network's threshold. It needs neither TensorFlow nor the
models. With ``--extensions`` (extensions/dvc.yaml) it does the same for
every extension of params.yaml.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import THRESHOLD, headline, statistics, summarize
from bnlab.files import variant_file, write_json
from bnlab.files.history import read_history
from bnlab.files.scores import read_scores
from bnlab.params import load_params, network_variant


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab evaluate", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for variants or extensions")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument("--stats-dir", required=True, help="folder for <variant>.json statistics")
    parser.add_argument("--headline", required=True, help="the DVC metrics file to write")
    parser.add_argument("--network-scores-dir", help="folder of <network>_<variant>.csv scores")
    parser.add_argument("--network-history-dir", help="folder of <network>_<variant>.csv histories")
    parser.add_argument(
        "--extensions", action="store_true", help="the extensions' files instead of the variants'"
    )
    args = parser.parse_args(argv)
    params = load_params(args.params)
    names = list(params.extensions) if args.extensions else params.variants
    # (name, scores folder, history folder, threshold)
    evaluated = [(name, args.scores_dir, args.history_dir, THRESHOLD) for name in names]
    if args.network_scores_dir:
        evaluated += [
            (
                network_variant(network, variant),
                args.network_scores_dir,
                args.network_history_dir,
                params.network(network).threshold,
            )
            for network, variant in params.network_variants()
        ]
    stats_dir = Path(args.stats_dir)
    stats_dir.mkdir(parents=True, exist_ok=True)
    for stale in stats_dir.glob("*.json"):
        stale.unlink()
    headlines = {}
    for name, scores_dir, history_dir, threshold in evaluated:
        scores = read_scores(variant_file(scores_dir, name))
        history = read_history(variant_file(history_dir, name))
        record = statistics(summarize(name, scores, history, threshold))
        write_json(variant_file(stats_dir, name, ".json"), record)
        headlines[name] = headline(record)
        print(f"evaluate {name}: {headlines[name]} over {len(scores)} seeds", flush=True)
    write_json(args.headline, headlines)
