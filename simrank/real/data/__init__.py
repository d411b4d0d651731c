"""Data and encoders of the real-data path: BEIR-layout folders and embeddings (:mod:`.beir`), BM25
(:mod:`.bm25`, extra ``real``), the optional encoder (:mod:`.encode`, extra ``encode``), teacher scores
(:mod:`.teacher`) and the query sets the synthetic pipeline trains on (:mod:`.queryset`)."""

__all__: list[str] = []  # the submodules are the API
