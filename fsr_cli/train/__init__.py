"""Training: engine.py fits many folds at once (fold-batched); the protocols, executor, run
directory and metrics live beside it."""
