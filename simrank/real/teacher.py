"""Old name of :mod:`simrank.real.data.teacher` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.data import teacher as _moved
from simrank.real.data.teacher import *  # noqa: F403

sys.modules[__name__] = _moved
