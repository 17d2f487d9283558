"""Stage configure_networks (networks/dvc.yaml): params.yaml -> a config per network variant.

One JSON per CNN or LSTM variant that ``networks.variants`` lists: its
network's width and epochs, train.* and, for a BN placement only, bn.*; each
train_network stage depends on its own file, as each train stage does on
configure's.
"""

from __future__ import annotations

import argparse

from bnlab.params import load_params, network_config, write_configs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab configure_networks", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out-dir", required=True, help="folder for <network>_<variant>.json")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    configs = [network_config(params, name) for name in params.networks.variants]
    write_configs(configs, args.out_dir)
    print(
        f"configure_networks: {', '.join(c.name for c in configs)} -> {args.out_dir}/", flush=True
    )
