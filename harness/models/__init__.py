"""Models: loading checkpoints in the requested dtype and head (:mod:`.loading`), length-sorted batching
(:mod:`.batching`), hidden-state pooling (:mod:`.pooling`), the offline multilingual-e5-small (:mod:`.offline_e5`) and
the predictors that turn examples into prediction records (:mod:`.predictors`)."""
