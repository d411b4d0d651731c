"""Statistics for comparing experiments run over several random seeds.

Every experiment in ``simrank`` is repeated over a handful of seeds; this
package is the single place where the numbers from those seeds are turned into
intervals, tests and effect sizes.  Only numpy, scipy and pandas are used.

Conventions
-----------
* The *seed* is the unit of replication.  Where a function takes a data frame
  with a ``seed_col`` it first averages any repeated rows within one
  (level, seed) cell, so that every seed contributes exactly one number per
  level.
* Missing values are an error, never silently dropped: a NaN in the data is
  almost always a bug upstream, and dropping it would change ``n``.
* "Below alpha" means strictly below (``p < alpha``).

Modules (every public name is re-exported here, ``simrank.stats.X``)
-------------------------------------------------------------------
* :mod:`~simrank.stats.intervals`: ``mean_ci``, ``summarise``.
* :mod:`~simrank.stats.equivalence`: ``tost``, ``equivalence_groups``.
* :mod:`~simrank.stats.power`: ``power_paired_t``, ``n_paired_t``, ``power_tost_paired``, ``n_tost_paired``,
  ``power_correlation``, ``n_correlation``, ``cohen_f``, ``power_anova_interaction``, ``n_anova_interaction``.
* :mod:`~simrank.stats.anova`: ``two_way_anova``, ``variance_components``.
* :mod:`~simrank.stats.ranks`: ``rank_stability``, ``pairwise_rank_significance``.
* :mod:`~simrank.stats.correlation`: ``pearson_ci``, ``spearman``.
* :mod:`~simrank.stats.paired`: ``paired_bootstrap``, ``paired_randomization_test``, ``randomization_tests``.
* :mod:`~simrank.stats.multiplicity`: ``holm``, ``benjamini_hochberg``.
"""

from simrank.stats.anova import VarianceComponents, two_way_anova, variance_components
from simrank.stats.correlation import CorrResult, pearson_ci, spearman
from simrank.stats.equivalence import TOSTResult, equivalence_groups, tost
from simrank.stats.intervals import MeanCI, mean_ci, summarise
from simrank.stats.multiplicity import benjamini_hochberg, holm
from simrank.stats.paired import PairedQueryResult, paired_bootstrap, paired_randomization_test, randomization_tests
from simrank.stats.power import (
    cohen_f,
    n_anova_interaction,
    n_correlation,
    n_paired_t,
    n_tost_paired,
    power_anova_interaction,
    power_correlation,
    power_paired_t,
    power_tost_paired,
)
from simrank.stats.ranks import pairwise_rank_significance, rank_stability

__all__ = [
    "MeanCI",
    "TOSTResult",
    "CorrResult",
    "mean_ci",
    "summarise",
    "tost",
    "equivalence_groups",
    "two_way_anova",
    "rank_stability",
    "pairwise_rank_significance",
    "pearson_ci",
    "spearman",
    "power_paired_t",
    "n_paired_t",
    "power_tost_paired",
    "n_tost_paired",
    "power_correlation",
    "n_correlation",
    "cohen_f",
    "power_anova_interaction",
    "n_anova_interaction",
    "VarianceComponents",
    "variance_components",
    "PairedQueryResult",
    "paired_bootstrap",
    "paired_randomization_test",
    "randomization_tests",
    "holm",
    "benjamini_hochberg",
]
