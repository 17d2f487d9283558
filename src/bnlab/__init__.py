"""bnlab: a reproducible, multi-seed study of batch normalization."""
