"""The fast trainer: every seed of a variant as one Keras model with a seed axis
(model), trained as each seed's own ``Sequential.fit`` would (trainer), and
what that leaves (fitted)."""
