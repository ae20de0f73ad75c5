"""Running a submission: units of work planned, fingerprinted and run one call each (:mod:`.runner`) under
conditions (:mod:`.conditions`, :mod:`.crosspairs`, :mod:`.adversarial`), worst-case variants (:mod:`.variants`)
and imported XTREME submissions (:mod:`.importer`)."""
