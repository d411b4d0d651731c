"""``simrank advise``: which negatives (sampler, pool, mixing weight η) to train with, by concern.

* :mod:`~simrank.advise.worlds`: ``--world CONFIG.toml``: every grid point of an experiment config ranked by the
  training-aware prediction :func:`simrank.theory.predict_excess`; ``--validate`` trains the same grid as a sweep.
* :mod:`~simrank.advise.validation`: the registry of synthetic validation worlds and the generated table of
  ``paper/advise.md``.
* :mod:`~simrank.advise.empirical`: ``--empirical --budget MINUTES --data DIR``: successive halving with the
  real-data trainer over grouped query folds, the chosen set within 0.01 nDCG@10 of the best, checked on held-out
  queries.
* :mod:`~simrank.advise.analysis`: ``--data DIR --negatives RUN…``: a practitioner's own TREC runs, measured
  (locality, κ, entropies, false negatives) with the T3/T4 certificate on the μ-risk.
* :mod:`~simrank.advise.prediction`: the data mode's ranking: each (source, η) by the predicted excess of
  :func:`simrank.theory.predict_excess` in the collection's empirical laws, the certificate beside it.
* :mod:`~simrank.advise.report`: ``advice.json``, ``report.md`` and figures of the data mode.
* :mod:`~simrank.advise.cli`: the ``simrank advise`` command.

The submodules are the API (``simrank.advise.worlds.advise_world`` …); importing the package loads nothing else.
"""

__all__: list[str] = []
