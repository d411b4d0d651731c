"""Old name of :mod:`simrank.real.data.bm25` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.data import bm25 as _moved
from simrank.real.data.bm25 import *  # noqa: F403

sys.modules[__name__] = _moved
