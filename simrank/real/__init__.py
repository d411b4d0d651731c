"""Real-data path: BEIR-layout data (:mod:`.beir`), BM25 (:mod:`.bm25`), teacher scores
(:mod:`.teacher`), evaluation and TREC files (:mod:`.evaluate`), the optional encoder (:mod:`.encode`, extra
``encode``), and ``simrank real confirm``: its design and config loader (:mod:`.design`), the run
(:mod:`.confirm`), its report (:mod:`.report`) and the memorisation split and document prior
(:mod:`.memorisation`); the grouped query split (:mod:`.splits`) and the semi-synthetic arm ``simrank real semi``
(:mod:`.semisynthetic`, :mod:`.semi_cli`). :mod:`.bm25` and :mod:`.evaluate` need the extra ``real``.
The dataset folder defaults to ``$SIMRANK_DATA`` (see :func:`simrank.paths.default_data_dir`)."""

__all__: list[
    str
] = []  # the submodules are the API: simrank.real.beir, .bm25, .teacher, .queryset, .evaluate, .confirm, .advise
