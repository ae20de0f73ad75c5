"""Model-guided adversarial search: greedy search and its same-budget random baseline (:mod:`.search`), an
attack unit (:mod:`.unit`), replaying another submission's adversarial inputs (:mod:`.transfer`) and attack
statistics (:mod:`.stats`)."""
