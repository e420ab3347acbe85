"""The strategies live in ``tests/strategies/`` (``from strategies import ...``); this name
stays for imports written before they moved."""

from strategies import *  # noqa: F403
from strategies import distinct_grid as distinct  # noqa: F401 (the grid, as this module had it)
