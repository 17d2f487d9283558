"""Stage configure: ``params.yaml`` -> one JSON config per variant of the study.

DVC cannot give the items of one ``foreach`` different params lists, yet the
baseline must not depend on ``bn.*``. So this stage validates params.yaml and
writes each variant's effective settings (the baseline's without ``bn``); each
train stage depends on its own file only, and a file whose bytes did not
change keeps that variant's training cached.
"""

from __future__ import annotations

import argparse

from bnlab.params import load_params, variant_config, write_configs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab configure", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out-dir", required=True, help="folder for <variant>.json")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    configs = [variant_config(params, v) for v in params.variants]
    write_configs(configs, args.out_dir)
    print(f"configure: {', '.join(c.name for c in configs)} -> {args.out_dir}/", flush=True)
