"""Reference solution of the CPU variant (how reference/fixed_model.pth was made): keep every weight of
large_model.pth except the token embedding, and retrain that one tensor (tied with the output head) on train.bin.
Run in $HOME: python3 solution/fix_embedding.py  ->  $HOME/fixed_model.pth (about 20 s on 2 cores)."""
import os
import subprocess
import sys

home = os.environ.get("HOME", ".")
solution = os.path.join(home, "solution")
subprocess.run([sys.executable, os.path.join(solution, "train.py"), "--init_from", os.path.join(home, "large_model.pth"),
                "--out", os.path.join(home, "fixed_model.pth"), "--only", "wte", "--max_iters", "600", "--lr", "1e-2",
                "--batch_size", "32", "--seed", "3"], check=True)
