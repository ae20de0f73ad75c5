"""Models: what inference runs with per model and device (:mod:`.inference`), loading checkpoints in that dtype
and attention implementation with the task type's head (:mod:`.loading`), token-budget batches
(:mod:`.batching`), padding-free packing (:mod:`.packing`), the inference loop every predictor uses
(:mod:`.engine`), per-sequence reductions and sentence embeddings (:mod:`.reduce`, :mod:`.pooling`), the
offline multilingual-e5-small (:mod:`.offline_e5`) and the predictors that turn examples into prediction
records (:mod:`.predictors`)."""
