"""Measures the cpu variant's ground truth: the validation loss of train.py at the target budget for a grid of
widths n_embd (max_iters chosen so the run uses the budget), as the original task's table was measured at 5e17 FLOPs.

    /usr/bin/python3 tasks/ai_rd_small_scaling_law/variants/cpu/measure_ground_truth.py [PARALLEL]

Prints one JSON line per run and, at the end, the table to paste into scoring/ground_truth.json. Takes about
12 minutes on the 2-core development VM (the runs are single-threaded and deterministic).
"""
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "agent", "solution", "train.py")
TARGET_FLOPS = 4e10
N_LAYER, BLOCK, BATCH = 2, 32, 16
# Widths (even: n_head = 2); each run's max_iters spends the budget exactly, so the table is over max_iters.
N_EMBD = [46, 34, 26, 20, 16, 12, 10, 8]


def iters_for(d):
    return round(TARGET_FLOPS / (N_LAYER * 12 * 6 * BLOCK * BATCH * d * d))


def run(d):
    iters = iters_for(d)
    out = subprocess.run([sys.executable, TRAIN, f"n_embd={d}", f"max_iters={iters}", "max_flops_per_experiment=1e20"],
                         cwd=os.path.dirname(TRAIN), capture_output=True, text=True, check=True)
    line = out.stdout.strip().splitlines()[-1]
    print(line, flush=True)
    return json.loads(line)


with ThreadPoolExecutor(int(sys.argv[1]) if len(sys.argv) > 1 else 2) as pool:
    results = list(pool.map(run, N_EMBD))
print(json.dumps({"target_flops": TARGET_FLOPS, "iters": [r["max_iters"] for r in results],
                  "n_embd": [r["n_embd"] for r in results], "losses": [round(r["val_loss"], 4) for r in results]}))
