"""Old name of :mod:`simrank.real.data.queryset` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.data import queryset as _moved
from simrank.real.data.queryset import *  # noqa: F403

sys.modules[__name__] = _moved
