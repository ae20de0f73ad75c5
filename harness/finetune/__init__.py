"""Fine-tuning on the source language: hyper-parameters (:mod:`.params`), training data and augmentation
(:mod:`.data`), features per task type (:mod:`.features`), the training loop and chains (:mod:`.train`) and
the model card (:mod:`.card`)."""
