"""Old name of :mod:`simrank.real.data.beir` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.data import beir as _moved
from simrank.real.data.beir import *  # noqa: F403

sys.modules[__name__] = _moved
