"""Stage configure_extensions (extensions/dvc.yaml): params.yaml -> a config per extension.

Each is its variant's settings with its changes to ``bn``, its name and the
study variant it is set against, as configure writes the study's.
"""

from __future__ import annotations

import argparse

from bnlab.params import extension_config, load_params, write_configs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bnlab configure_extensions", description=__doc__)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out-dir", required=True, help="folder for <extension>.json")
    args = parser.parse_args(argv)
    params = load_params(args.params)
    configs = [extension_config(params, name) for name in params.extensions]
    write_configs(configs, args.out_dir)
    print(
        f"configure_extensions: {', '.join(c.name for c in configs)} -> {args.out_dir}/", flush=True
    )
