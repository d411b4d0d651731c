import sys, time
import pandas as pd
from pathlib import Path
from simrank.predictions.families import family_experiment, cell_convergence
from simrank.sweep import run_experiment
fam, name, steps, lr, seeds, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
out = Path(f"results/pilots/{fam}-{name}-s{steps}-lr{lr:g}-b{batch}")
t = time.perf_counter()
exp = family_experiment(name, fam, seeds, {"steps": steps, "learning_rate": lr, "batch_size": batch})
run_experiment(exp, out, resume=True, progress=False)
dt = time.perf_counter() - t
df = pd.read_parquet(out / "results.parquet")
c = cell_convergence(df).join(df.groupby("config_hash")[["loss", "pool_size", "ndcg10"]].first())
print(f"{out} {dt:.1f}s cells converged {c.converged.sum()}/{len(c)}")
print(c.round(4).to_string())
