"""Statistics over per-example sufficient statistics: the resampling engine (:mod:`.engine`), paired bootstrap
and ranks (:mod:`.bootstrap`), significance tests (:mod:`.significance`) and the leaderboard analysis
(:mod:`.analysis`). The common names are re-exported here."""

from harness.stats.bootstrap import *  # noqa: F403
from harness.stats.bootstrap import __all__  # noqa: F401
