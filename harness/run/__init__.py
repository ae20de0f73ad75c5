"""Running a submission: units of work planned, fingerprinted and run one call each (:mod:`.runner`) by an
executor, in this process or on a Ray actor pool (:mod:`.executors`, :mod:`.raypool`), with live progress
lines (:mod:`.progress`), under conditions (:mod:`.conditions`, :mod:`.crosspairs`, :mod:`.adversarial`),
worst-case variants (:mod:`.variants`) and imported XTREME submissions (:mod:`.importer`)."""
