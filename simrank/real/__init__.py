"""Real-data path, by concern:

* data and encoders (:mod:`simrank.real.data`): BEIR-layout folders, BM25, teacher scores, query sets and the
  optional encoder (extra ``encode``);
* ``simrank real confirm`` (:mod:`simrank.real.confirm`): design, inputs, training, the run, the memorisation
  split and the report (stats, figures, Markdown);
* evaluation, also zero-shot on other collections: evaluation sets (:mod:`.evalsets`), ``ir_measures`` and TREC
  files (:mod:`.evaluate`);
* the grouped query split (:mod:`.splits`) and the semi-synthetic arm ``simrank real semi`` (:mod:`.semisynthetic`,
  :mod:`.semi_cli`);
* the ``simrank real`` command line (:mod:`.cli`); ``simrank advise`` lives in :mod:`simrank.advise`.

BM25 and :mod:`.evaluate` need the extra ``real``. The dataset folder defaults to ``$SIMRANK_DATA`` (see
:func:`simrank.paths.default_data_dir`)."""

__all__: list[str] = []  # the submodules are the API
