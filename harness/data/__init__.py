"""Examples: where a task's rows come from (:mod:`.sources`: the hub call of a language, its override or its
refusal; :mod:`.catalog`: the table of them), loading them as canonical examples with stable ids
(:mod:`.examples`), candidate pools for candidate retrieval (:mod:`.candidates`), what each load read
(:mod:`.provenance`), a run's examples with their digests for unit fingerprints (:mod:`.cache`), and hub data
written in the local layout (:mod:`.pull`)."""
