"""The inputs of ``simrank real confirm``, loaded and checked before anything is written (:func:`prepare`).

* the train-qrels queries are split once (seeded) into *fit* and *validation* queries; validation keeps
  its gold qrels and is used only to choose learning rates and steps and to measure movement;
* primary arms train on the teacher-labelled pool: the fit queries (judgments ignored), the unlabelled
  claims and title pseudo-queries (``queries.sources``); the supervised arm ``lce_gold`` on the fit
  queries with their gold positives;
* the test qrels are used for measurement only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simrank.groups import QuerySet
from simrank.real.confirm.design import RealConfig
from simrank.real.data.beir import EMBEDDINGS_FILE, Collection, DataError, load_collection, load_embeddings
from simrank.real.data.bm25 import BM25Index
from simrank.real.data.queryset import judged_queries, real_query_set, teacher_query_set
from simrank.real.evalsets import EvalSet, eval_set, load_zero_shot, positive_queries
from simrank.real.splits import grouped_query_split

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """Everything a confirm run reads: training pools, validation, test and zero-shot sets."""

    collection: Collection
    pools: dict[str, QuerySet]  # "teacher" (primary arms) and "gold" (supervised arm)
    pool_sizes: dict[str, int]  # training queries per source
    test: EvalSet
    val: EvalSet
    zero_shot: list[EvalSet]

    @property
    def eval_sets(self) -> list[EvalSet]:
        return [self.test, self.val, *self.zero_shot]


def prepare(
    data_dir: Path, cfg: RealConfig, eval_dirs: tuple[Path, ...] = (), embeddings_file: str = EMBEDDINGS_FILE
) -> Prepared:
    """Load and check every input (nothing is written): training pools, validation, test and zero-shot sets.
    ``embeddings_file``: the vectors' file in each data folder (any encoder's, in :func:`load_embeddings`' format)."""
    data_dir = Path(data_dir)
    if not (data_dir / "qrels" / "train.tsv").is_file() and (data_dir / "corpus.jsonl").is_file():
        raise DataError(
            f"--data {data_dir}: no qrels/train.tsv; confirm needs a collection with a training split "
            "(use this one with --eval-data for zero-shot evaluation)"
        )
    collection = load_collection(data_dir, splits=("train", "test"))
    embeddings = load_embeddings(data_dir / embeddings_file, collection)
    bm25 = BM25Index.build(collection)
    train_qrels, test_qrels = collection.qrels["train"], collection.qrels["test"]
    if cfg.split == "grouped":
        fit_ids, val_ids, decide_ids, train_qrels = _grouped(train_qrels, test_qrels, cfg, data_dir)
        test_qrels = train_qrels[train_qrels.query_id.isin(set(decide_ids))]
    else:
        fit_ids, val_ids = _beir_split(train_qrels, cfg, data_dir)
        decide_ids = judged_queries(test_qrels)
    options: dict[str, Any] = {"teacher": cfg.teacher, "teacher_weights": cfg.teacher_weights}
    gold = real_query_set(collection, embeddings, bm25, fit_ids, train_qrels, **options)
    vectors, texts, sizes = [], [], {}
    if "train" in cfg.query_sources:
        vectors.append(gold.queries)
        texts += collection.query_texts_for(fit_ids)
        sizes["train"] = len(fit_ids)
    if "unlabeled" in cfg.query_sources:
        ids = list(collection.unlabeled_query_ids)
        vectors.append(embeddings.query_emb[[embeddings.query_row[q] for q in ids]].reshape(len(ids), -1))
        texts += collection.query_texts_for(ids)
        sizes["unlabeled"] = len(ids)
    if "titles" in cfg.query_sources:
        titled = [j for j, t in enumerate(collection.doc_titles) if t.strip()]
        rows = sorted(np.random.default_rng(7).permutation(titled)[: cfg.n_titles].tolist())
        vectors.append(embeddings.doc_emb[rows])
        texts += [collection.doc_titles[j] for j in rows]
        sizes["titles"] = len(rows)
    if not texts:
        raise DataError(f"queries.sources = {list(cfg.query_sources)} gives no training query on {data_dir}")
    teacher_pool = teacher_query_set(
        embeddings, bm25, np.concatenate(vectors), texts, label=cfg.label_source, tau=cfg.tau, **options
    )
    test = eval_set("test", collection, embeddings, bm25, decide_ids, test_qrels, cfg, True)
    val_qrels = train_qrels[train_qrels.query_id.isin(set(val_ids))]
    val = eval_set("val", collection, embeddings, bm25, val_ids, val_qrels, cfg, False)
    zero_shot = [load_zero_shot(d, cfg, embeddings.doc_emb.shape[1], embeddings_file) for d in eval_dirs]
    names = [z.name for z in zero_shot]
    if len(set(names)) < len(names):
        raise DataError(f"--eval-data folders must have distinct names, got {names}")
    for k in (*cfg.group_sizes, cfg.tune_group_size):
        if k > gold.n_docs:
            raise DataError(f"group size {k} is not allowed; it must be <= the corpus size {gold.n_docs}")
    return Prepared(
        collection, {"teacher": teacher_pool, "gold": gold}, sizes | {"validation": len(val_ids)}, test, val, zero_shot
    )


def _beir_split(train_qrels: pd.DataFrame, cfg: RealConfig, data_dir: Path) -> tuple[list[str], list[str]]:
    """``split.kind = "beir"``: the train-qrels queries split at random into fit and validation queries."""
    labelled = judged_queries(train_qrels)
    if missing := sorted(set(labelled) - set(positive_queries(train_qrels))):
        raise DataError(
            f"--data {data_dir}: train queries {missing[:5]}{' ...' if len(missing) > 5 else ''} have no positive "
            "(relevance > 0) in qrels/train.tsv; the gold LCE arm and validation need one per training query"
        )
    rng = np.random.default_rng(20240601)
    n_val = max(1, round(cfg.validation_fraction * len(labelled)))
    order = rng.permutation(len(labelled))
    val_ids = [labelled[i] for i in sorted(order[:n_val])]
    fit_ids = [labelled[i] for i in sorted(order[n_val:])]
    if not fit_ids or not positive_queries(train_qrels[train_qrels.query_id.isin(set(val_ids))]):
        raise DataError(f"--data {data_dir}: too few training queries ({len(labelled)}) to split off a validation set")
    return fit_ids, val_ids


def _grouped(
    train_qrels: pd.DataFrame, test_qrels: pd.DataFrame, cfg: RealConfig, data_dir: Path
) -> tuple[list[str], list[str], list[str], pd.DataFrame]:
    """``split.kind = "grouped"``: the queries of both qrels files with a relevant document, split into train /
    tune / decide by :func:`~simrank.real.splits.grouped_query_split` (fractions normalised to sum to 1); also the
    pooled judgments."""
    if shared := sorted(set(train_qrels.query_id) & set(test_qrels.query_id)):
        raise DataError(
            f"--data {data_dir}: queries {shared[:5]} are judged in both qrels/train.tsv and qrels/test.tsv; "
            "split.kind = grouped needs each query in one file"
        )
    qrels = pd.concat([train_qrels, test_qrels], ignore_index=True)
    positive = qrels[qrels.relevance > 0]
    relevant = {q: set(docs) for q, docs in positive.groupby("query_id", sort=False).doc_id}
    total = sum(cfg.split_fractions)
    fractions = {name: f / total for name, f in zip(("train", "tune", "decide"), cfg.split_fractions)}
    parts = grouped_query_split(qrels, fractions, cfg.split_seed)
    fit_ids, val_ids, decide_ids = parts["train"], parts["tune"], parts["decide"]
    if not fit_ids or not val_ids or not decide_ids:
        raise DataError(
            f"--data {data_dir}: {len(relevant)} queries with a relevant document give an empty split under "
            f"split.fractions = {list(cfg.split_fractions)}"
        )
    return fit_ids, val_ids, decide_ids, qrels[qrels.query_id.isin(set(relevant))]
