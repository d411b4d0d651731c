"""Old name of :mod:`simrank.real.data.encode` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.data import encode as _moved
from simrank.real.data.encode import *  # noqa: F403

sys.modules[__name__] = _moved
