"""The offline demo (:mod:`.run`) and its embedded data (``data/``)."""
