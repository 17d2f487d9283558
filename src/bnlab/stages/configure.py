"""Stage configure: ``params.yaml`` -> one JSON config per variant.

DVC cannot give the items of one ``foreach`` different params lists, yet the
baseline must not depend on ``bn.*``. So this stage validates params.yaml and
writes each variant's effective settings (the baseline's without ``bn``); each
train stage depends on its own file only, and a file whose bytes did not
change keeps that variant's training cached.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.params import load_params, variant_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab configure", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out-dir", required=True, help="folder for <variant>.json")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for variant in params.variants:
        config = variant_config(params, variant)
        (out_dir / f"{variant}.json").write_text(config.model_dump_json(indent=2) + "\n")
    print(f"configure: {', '.join(params.variants)} -> {out_dir}/", flush=True)
