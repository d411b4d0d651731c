"""Old name of the confirm report, now :mod:`simrank.real.confirm.report` with its tests and verdicts in
:mod:`simrank.real.confirm.stats` and figures in :mod:`simrank.real.confirm.figures`; this module re-exports all
three while other branches move over."""

from simrank.real.confirm.figures import *  # noqa: F403
from simrank.real.confirm.report import *  # noqa: F403
from simrank.real.confirm.stats import *  # noqa: F403
