"""What a run directory holds and how it is trusted: units, atomic writes verified by sha256 (:mod:`.rundir`),
signatures and fingerprints (:mod:`.signature`), score records from stored predictions (:mod:`.scoring`)."""
