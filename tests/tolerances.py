"""Monte Carlo tolerances derived from the number of replications."""

import math


def binom_tol(p: float, n: int, k: float = 3.0) -> float:
    """k binomial standard deviations of an empirical proportion over n trials."""
    return k * math.sqrt(p * (1 - p) / n)
