"""What each variant's seeds amount to, as the evaluate stages write it: every
statistic over its seeds (``analysis.statistics``) in ``<stats-dir>/<name>.json``,
and one DVC metrics file with a short headline per variant (``analysis.headline``)
that ``dvc exp show`` fits in a terminal. Needs neither TensorFlow nor the models."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from bnlab.analysis import headline, statistics, summarize
from bnlab.files import variant_file, write_json
from bnlab.files.history import read_history
from bnlab.files.scores import read_scores


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The command line every evaluate stage takes from its dvc.yaml."""
    found = argparse.ArgumentParser(prog=prog, description=description)
    found.add_argument("--params", default="params.yaml")
    found.add_argument("--scores-dir", required=True, help="folder of <name>.csv scores")
    found.add_argument("--history-dir", required=True, help="folder of <name>.csv histories")
    found.add_argument("--stats-dir", required=True, help="folder for <name>.json statistics")
    found.add_argument("--headline", required=True, help="the DVC metrics file to write")
    return found


def evaluate(
    thresholds: Mapping[str, float],
    scores_dir: str | Path,
    history_dir: str | Path,
    stats_dir: str | Path,
    headline_file: str | Path,
) -> None:
    """Each named variant's statistics, with epochs to its threshold, and the headline."""
    stats_dir = Path(stats_dir)
    stats_dir.mkdir(parents=True, exist_ok=True)
    for stale in stats_dir.glob("*.json"):
        stale.unlink()
    headlines = {}
    for name, threshold in thresholds.items():
        scores = read_scores(variant_file(scores_dir, name))
        history = read_history(variant_file(history_dir, name))
        record = statistics(summarize(name, scores, history, threshold))
        write_json(variant_file(stats_dir, name, ".json"), record)
        headlines[name] = headline(record)
        print(f"evaluate {name}: {headlines[name]} over {len(scores)} seeds", flush=True)
    write_json(headline_file, headlines)
