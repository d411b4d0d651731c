"""Old name of :mod:`simrank.real.confirm.design` (the module moved there; this alias stays while other branches move over)."""

import sys

from simrank.real.confirm import design as _moved
from simrank.real.confirm.design import *  # noqa: F403

sys.modules[__name__] = _moved
