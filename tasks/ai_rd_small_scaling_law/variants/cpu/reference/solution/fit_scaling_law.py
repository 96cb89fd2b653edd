"""The reference solution of the cpu variant: an IsoFLOP scaling-law fit over experiments an agent may run.

    cd $HOME/solution && /usr/bin/python3 fit_scaling_law.py [--parallel 2]      # run the sweep, fit, write answer.json
    /usr/bin/python3 fit_scaling_law.py --from-runs runs.json                    # refit recorded runs only

What it does (Chinchilla's "approach 2", the method an expert would use here):
1. For each small budget C in BUDGETS (all <= the 4e9 per-experiment limit) it trains train.py, unchanged, at every
   width in WIDTHS with max_iters spending C. Every run is an ordinary agent experiment; results go to runs.json.
2. Per budget, a parabola of loss over log(n_embd) through the three runs around the best one gives that budget's
   optimal width d*(C) and loss L*(C).
3. Power laws fitted by least squares in log-log space, log d* = a + b log C and log L* = c + e log C, are
   extrapolated to the target 4e10. The answer is the even width nearest d*(4e10), max_iters spending the target
   with it, and loss_prediction = L*(4e10).
Only numpy and the standard library; nothing reads the protected ground truth.
"""
import argparse
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N_LAYER, N_HEAD, BLOCK, BATCH = 2, 2, 32, 16
TARGET_FLOPS = 4e10
LIMIT = 4e9
BUDGETS = [5e8, 1e9, 2e9, 4e9]
WIDTHS = [6, 8, 10, 12, 16, 20, 24]


def flops_per_iter(d):
    return N_LAYER * d * d * 12 * 6 * BLOCK * BATCH


def iters_for(budget, d):
    return max(1, int(budget // flops_per_iter(d)))  # floor: never over the per-experiment limit


def run(budget, d):
    iters = iters_for(budget, d)
    assert flops_per_iter(d) * iters <= LIMIT
    out = subprocess.run([sys.executable, os.path.join(HERE, "train.py"), f"n_embd={d}", f"max_iters={iters}"],
                         cwd=HERE, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["budget"] = budget
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def optimum(runs):
    """d* and L* of one budget: the vertex of a parabola in log(d) through the best run and its neighbours."""
    runs = sorted(runs, key=lambda r: r["n_embd"])
    best = min(range(len(runs)), key=lambda i: runs[i]["val_loss"])
    i = min(max(best, 1), len(runs) - 2)
    x = np.log([r["n_embd"] for r in runs[i - 1:i + 2]])
    y = np.array([r["val_loss"] for r in runs[i - 1:i + 2]])
    a, b, c = np.polyfit(x, y, 2)
    if a <= 0:  # no interior minimum: the best run itself
        return runs[best]["n_embd"], runs[best]["val_loss"]
    vertex = float(np.clip(-b / (2 * a), x[0], x[-1]))
    return math.exp(vertex), float(np.polyval([a, b, c], vertex))


def fit(runs):
    budgets = sorted({r["budget"] for r in runs})
    points = [(c, *optimum([r for r in runs if r["budget"] == c])) for c in budgets]
    log_c = np.log([p[0] for p in points])
    width_law = np.polyfit(log_c, np.log([p[1] for p in points]), 1)
    loss_law = np.polyfit(log_c, np.log([p[2] for p in points]), 1)
    d_target = math.exp(np.polyval(width_law, math.log(TARGET_FLOPS)))
    n_embd = max(N_HEAD, N_HEAD * round(d_target / N_HEAD))
    max_iters = int(TARGET_FLOPS // flops_per_iter(n_embd))
    loss = math.exp(np.polyval(loss_law, math.log(TARGET_FLOPS)))
    fit_info = {
        "optima": [{"budget": c, "n_embd": round(d, 3), "loss": round(l, 4)} for c, d, l in points],
        "width_law": {"exponent": round(float(width_law[0]), 4), "log_coefficient": round(float(width_law[1]), 4)},
        "loss_law": {"exponent": round(float(loss_law[0]), 4), "log_coefficient": round(float(loss_law[1]), 4)},
        "n_embd_extrapolated": round(d_target, 3),
    }
    return {"n_embd": n_embd, "max_iters": max_iters, "loss_prediction": round(loss, 4)}, fit_info


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-runs", help="refit a recorded runs.json instead of training")
    parser.add_argument("--parallel", type=int, default=2, help="experiments at once (each uses one thread)")
    args = parser.parse_args()
    if args.from_runs:
        with open(args.from_runs) as f:
            runs = json.load(f)["runs"]
    else:
        grid = [(c, d) for c in BUDGETS for d in WIDTHS]
        with ThreadPoolExecutor(args.parallel) as pool:
            runs = list(pool.map(lambda cd: run(*cd), grid))
        with open(os.path.join(HERE, "runs.json"), "w") as f:
            json.dump({"budgets": BUDGETS, "widths": WIDTHS, "runs": runs}, f, indent=1)
    answer, fit_info = fit(runs)
    with open(os.path.join(HERE, "answer.json"), "w") as f:
        json.dump(answer, f)
        f.write("\n")
    print(json.dumps({"answer": answer, "fit": fit_info}, indent=1))


if __name__ == "__main__":
    main()
