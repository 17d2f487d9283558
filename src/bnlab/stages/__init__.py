"""One module per dvc.yaml stage, each run as ``python -m bnlab STAGE``: parse the
command line, read, call the study's code, write. No stage imports another."""
