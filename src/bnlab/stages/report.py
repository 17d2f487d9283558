"""Stage report: every variant's scores and history -> the study's answer.

Writes ``summary.md`` (per variant: test and train accuracy with 95%
intervals, epochs to 80% test accuracy, final loss; each BN variant against
the baseline with Welch's t-test and a Mann-Whitney U test; the tutorial's
single-run figures beside ours; its claims judged) and ``summary.json`` (the
same numbers). The two figures it shows are the plot stage's, in the
report's folder of figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import against_baseline, report_numbers, summarize
from bnlab.files import variant_file, write_json, write_text
from bnlab.files.history import read_history
from bnlab.files.scores import read_scores
from bnlab.params import load_params
from bnlab.report import NUMBERS, SUMMARY
from bnlab.report.claims import judge
from bnlab.report.text import markdown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab report", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--scores-dir", required=True, help="folder of <variant>.csv scores")
    parser.add_argument("--history-dir", required=True, help="folder of <variant>.csv histories")
    parser.add_argument("--out-dir", required=True, help="folder for summary.md and summary.json")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    summaries = {
        v: summarize(
            v,
            read_scores(variant_file(args.scores_dir, v)),
            read_history(variant_file(args.history_dir, v)),
        )
        for v in params.variants
    }
    compared = against_baseline(summaries)
    out_dir = Path(args.out_dir)
    verdicts = judge(summaries, compared)
    text = markdown(summaries, compared, verdicts)
    numbers = report_numbers(summaries, compared)
    numbers["claims"] = {v.claim.key: v.supported for v in verdicts}
    write_text(out_dir / SUMMARY, text)
    write_json(out_dir / NUMBERS, numbers)
    print(f"report: {out_dir / SUMMARY}", flush=True)
