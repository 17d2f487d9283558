"""Measurements of bnlab against the tutorial: run each as ``python -m bench.NAME``."""
