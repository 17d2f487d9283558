"""Stage compare (extensions/dvc.yaml): every extension against the study -> the extensions' report.

Reads each extension's per-seed scores and history, and those of the study
variant it is set against (the study's own files: what `dvc repro` trained
is not trained again). Writes ``<out-dir>/extensions.md`` (per extension the
difference in mean test accuracy with Welch's test, the shift in epochs to
80% with a Mann-Whitney test, the late-epoch spread of test accuracy, and a
verdict the numbers decide; the momentum sweeps), ``extensions.json`` (the
same numbers) and each sweep's figure in ``<out-dir>/extensions/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.analysis import summarize
from bnlab.files import variant_file, write_json, write_text
from bnlab.files.history import read_history
from bnlab.files.scores import read_scores
from bnlab.params import load_params
from bnlab.report import EXTENSIONS, figures, sweep
from bnlab.report import extensions as report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab compare", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="for extensions and bn.momentum")
    parser.add_argument("--scores-dir", required=True, help="the study's <variant>.csv scores")
    parser.add_argument("--history-dir", required=True, help="the study's <variant>.csv histories")
    parser.add_argument(
        "--extension-scores-dir", required=True, help="folder of <extension>.csv scores"
    )
    parser.add_argument(
        "--extension-history-dir", required=True, help="folder of <extension>.csv histories"
    )
    parser.add_argument("--out-dir", required=True, help="folder for extensions.md, .json, figures")
    args = parser.parse_args(argv)
    params = load_params(args.params)

    def summary(name: str, scores_dir: str, history_dir: str):
        return summarize(
            name,
            read_scores(variant_file(scores_dir, name)),
            read_history(variant_file(history_dir, name)),
        )

    extensions = params.extensions
    references = sorted({e.reference for e in extensions.values()})
    study = {v: summary(v, args.scores_dir, args.history_dir) for v in references}
    results = [
        report.result(
            name,
            extension,
            summary(name, args.extension_scores_dir, args.extension_history_dir),
            study[extension.reference],
        )
        for name, extension in extensions.items()
    ]
    found = report.sweeps(results, params.bn.momentum, study)
    out_dir = Path(args.out_dir)
    drawn = out_dir / EXTENSIONS
    drawn.mkdir(parents=True, exist_ok=True)
    for stale in drawn.glob("*.png"):
        stale.unlink()
    paths = {}
    for s in found:
        figures.save(figures.sweep_figure(s.variant, s.points), drawn / sweep(s.variant))
        paths[s.variant] = f"{EXTENSIONS}/{sweep(s.variant)}"
    write_text(out_dir / f"{EXTENSIONS}.md", report.markdown(results, found, paths))
    write_json(out_dir / f"{EXTENSIONS}.json", report.numbers(results, found))
    for r in results:
        print(f"compare {r.name}: {report.sentence(r)}", flush=True)
