"""The torch part of simrank bench (full mode), run on its own after the full bench was interrupted."""

import json
import os
import sys

from simrank import bench

exp = bench.experiment({"quick": False})
out = {"load_average_start": os.getloadavg()}
tp = bench.trainer_throughput(exp)
out["trainer"] = tp
lay = bench.mlp_layouts(exp, bench.COST_WIDTH["full"])
out["mlp_layouts"] = lay
out["mlp_ms_per_model"] = lay["manual_ms"]
out["mlp_speedup"] = lay["speedup"]
for student, key in (("bilinear", "speedup_vs_torch"), ("mlp", "speedup_vs_torch_mlp")):
    jax_ms = tp["cpu_ms_per_model"] if student == "bilinear" else lay["manual_ms"]
    t = bench.torch_loop(exp, bench.TORCH_MODELS["full"], student)
    out["torch" if student == "bilinear" else "torch_mlp"] = t
    out[key] = t["cpu_ms_per_model"] / jax_ms
    print(key, out[key], t, flush=True)
out["load_average_end"] = os.getloadavg()
json.dump(out, open(sys.argv[1], "w"), indent=2)
print(json.dumps(out, indent=2))
