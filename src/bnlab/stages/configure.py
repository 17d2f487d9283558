"""Stage configure: ``params.yaml`` -> one JSON config per variant, or per extension.

DVC cannot give the items of one ``foreach`` different params lists, yet the
baseline must not depend on ``bn.*``. So this stage validates params.yaml and
writes each variant's effective settings (the baseline's without ``bn``); each
train stage depends on its own file only, and a file whose bytes did not
change keeps that variant's training cached.

It also writes ``networks/<network>_<variant>.json`` for every CNN and LSTM
variant (``params.DIGITS_VARIANTS``): its settings when its network is in
``networks``, else a short file that says it is not selected. The file is
what keeps train_network@<name> cached, as for the MLP's variants.

With ``--extensions`` (extensions/dvc.yaml) it writes one per extension of
``params.yaml``: its variant's settings with its changes to ``bn``, its name
and the study variant it is set against.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bnlab.params import (
    DIGITS_VARIANTS,
    extension_config,
    load_params,
    network_config,
    network_variant,
    variant_config,
    write_config,
)

NETWORKS_DIR = "networks"  # in the study's configs folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab configure", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out-dir", required=True, help="folder for <variant>.json")
    parser.add_argument(
        "--extensions", action="store_true", help="one <extension>.json per extension instead"
    )
    args = parser.parse_args(argv)
    params = load_params(args.params)
    if args.extensions:
        configs = [extension_config(params, name) for name in params.extensions]
    else:
        configs = [variant_config(params, variant) for variant in params.variants]
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for config in configs:
        write_config(config, out_dir / f"{config.name}.json")
    print(f"configure: {', '.join(c.name for c in configs)} -> {out_dir}/", flush=True)
    if not args.extensions:
        (out_dir / NETWORKS_DIR).mkdir(exist_ok=True)
        for network, variants in DIGITS_VARIANTS.items():
            for variant in variants:
                name = network_variant(network, variant)
                write_config(
                    network_config(params, network, variant),
                    out_dir / NETWORKS_DIR / f"{name}.json",
                )
        chosen = ", ".join(params.digits_networks()) or "neither"
        print(f"configure: of the CNN and the LSTM, {chosen}", flush=True)
