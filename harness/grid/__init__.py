"""Grids of experiments (``xrobust grid``): the grid file (:mod:`.spec`), its jobs with fingerprints and states
(:mod:`.jobs`), and how they run, locally or on Ray (:mod:`.schedule`)."""
