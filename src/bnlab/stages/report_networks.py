"""Stage report_networks (networks/dvc.yaml): each CNN and LSTM variant's scores and
history -> the networks' answer.

Writes ``networks.md`` (per network: each variant's layers, test and train
accuracy with 95% intervals, epochs to the network's threshold; each BN
variant against the baseline; the tutorial's claims judged for it, as
``report.networks`` words them), ``networks.json`` (the same numbers), a
figure of each network's test-accuracy curves in ``networks/`` beside them,
and, for ``dvc plots``, each network's mean test-accuracy curves as a CSV.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import against_baseline, summarize
from bnlab.files import variant_file, write_json, write_lines
from bnlab.files.curves import write_curves
from bnlab.files.history import read_history
from bnlab.files.scores import read_scores
from bnlab.model.network_plans import describe_plan
from bnlab.params import VARIANT_PLACEMENTS, DigitsNetwork, Params, load_params, network_variant
from bnlab.report import NETWORKS, curves_file, figures, network_figure, networks


def network_section(
    params: Params, network: DigitsNetwork, scores_dir: str, history_dir: str
) -> networks.Section:
    """A network's trained variants, summarized with epochs to its threshold."""
    settings = params.networks.network(network)
    summaries = {}
    for variant in params.networks.variants_of(network):
        name = network_variant(network, variant)
        scores = read_scores(variant_file(scores_dir, name))
        history = read_history(variant_file(history_dir, name))
        summaries[variant] = summarize(variant, scores, history, settings.threshold)
    plans = {v: describe_plan(network, VARIANT_PLACEMENTS[v], settings.units) for v in summaries}
    return networks.Section(network, plans, summaries, against_baseline(summaries))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab report_networks", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--scores-dir", required=True, help="folder of <name>.csv scores")
    parser.add_argument("--history-dir", required=True, help="folder of <name>.csv histories")
    parser.add_argument("--out-dir", required=True, help="folder for networks.md and .json")
    parser.add_argument("--curves-dir", required=True, help="folder for the dvc plots CSVs")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    out_dir = Path(args.out_dir)
    drawn = out_dir / NETWORKS
    drawn.mkdir(parents=True, exist_ok=True)
    text, numbers = networks.introduction(params.train.seeds), {}
    for network in params.networks.trained():
        section = network_section(params, network, args.scores_dir, args.history_dir)
        histories = {variant: s.history for variant, s in section.summaries.items()}
        figures.save(
            figures.overlay_figure(histories, network=network), drawn / network_figure(network)
        )
        write_curves(Path(args.curves_dir) / curves_file(network), histories, "val_accuracy")
        text += networks.markdown(section, NETWORKS)
        numbers[network] = networks.numbers(section)
    write_lines(out_dir / f"{NETWORKS}.md", text)
    write_json(out_dir / f"{NETWORKS}.json", numbers)
    print(f"report_networks: {out_dir / NETWORKS}.md, {len(numbers)} figures", flush=True)
