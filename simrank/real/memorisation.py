"""Old name of :mod:`simrank.real.confirm.memorisation` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.confirm import memorisation as _moved
from simrank.real.confirm.memorisation import *  # noqa: F403

sys.modules[__name__] = _moved
