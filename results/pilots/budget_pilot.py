"""Budget pilot of a world family: one registered design on the family's world under a candidate ``[train]`` budget.

    python results/pilots/budget_pilot.py FAMILY EXPERIMENT STEPS LR SEEDS BATCH [WEIGHT_DECAY ...] [--sgd]

runs ``EXPERIMENT`` moved to ``FAMILY`` (:func:`simrank.predictions.families.family_experiment`) with ``SEEDS`` seeds,
``STEPS`` AdamW steps (``--sgd``: gradient descent, its weight decay an L2 penalty) at learning rate ``LR``, minibatches of ``BATCH`` groups (at least the training set: full
batch) and each weight decay given (default 0), into
``results/pilots/FAMILY-EXPERIMENT-sSTEPS-lrLR-bBATCH[-wdWD][-sgd]``
(resumable), and prints each cell's convergence (:func:`simrank.predictions.families.cell_convergence`).
"""

import sys
import time
from pathlib import Path

import pandas as pd

from simrank.predictions.families import cell_convergence, family_experiment
from simrank.sweep import run_experiment

sgd = "--sgd" in sys.argv
args = [a for a in sys.argv[1:] if a != "--sgd"]
fam, name, steps, lr, seeds, batch = args[0], args[1], int(args[2]), float(args[3]), int(args[4]), int(args[5])
for wd in [float(w) for w in args[6:]] or [0.0]:
    out = Path(
        f"results/pilots/{fam}-{name}-s{steps}-lr{lr:g}-b{batch}"
        + (f"-wd{wd:g}" if wd else "")
        + ("-sgd" if sgd else "")
    )
    t = time.perf_counter()
    train = {
        "steps": steps,
        "learning_rate": lr,
        "batch_size": batch,
        "weight_decay": wd,
        "optimizer": "sgd" if sgd else "adam",
    }
    exp = family_experiment(name, fam, seeds, train)
    run_experiment(exp, out, resume=True, progress=False)
    dt = time.perf_counter() - t
    df = pd.read_parquet(out / "results.parquet")
    keys = [c for c in ("loss", "pool_size", "group_size", "eta", "sampler") if df[c].nunique() > 1]
    c = cell_convergence(df).join(df.groupby("config_hash")[[*keys, "ndcg10"]].mean(numeric_only=True))
    c = c.join(df.groupby("config_hash")[[k for k in keys if df[k].dtype == object]].first())
    print(f"{out} {dt:.1f}s cells converged {c.converged.sum()}/{len(c)}", flush=True)
    print(c.round(4).to_string(), flush=True)
