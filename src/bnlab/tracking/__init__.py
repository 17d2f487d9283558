"""Everything MLflow: the store and its runs (store), the train stage's logging
process (train_log)."""
