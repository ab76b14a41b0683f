"""Network internals (torch and skorch), used by the estimators only:
``modules`` (the torch modules), ``data`` (frame tensors, length-bucketed
batches), ``losses`` (soft cross entropy, class and existence weights) and
``net`` (the skorch net, its callbacks and the training history)."""
