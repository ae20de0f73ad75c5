"""Examples: a task's rows from the hub or local files as canonical examples with stable ids
(:mod:`.examples`), and candidate pools for candidate retrieval (:mod:`.candidates`)."""
