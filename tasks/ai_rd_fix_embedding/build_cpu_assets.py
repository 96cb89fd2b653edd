"""Builds the binary files of variant cpu, deterministically (fixed seeds, one thread):
  variants/cpu/agent/solution/data/train.bin   training tokens of the synthetic language (uint16)
  variants/cpu/agent/small_correct_model.pth   a smaller GPT trained on it (correct)
  variants/cpu/agent/large_model.pth           the larger GPT trained on it, then its (tied) token embedding
                                               rows permuted: what the agent must repair
  variants/cpu/reference/fixed_model.pth       the reference solution: large_model.pth with only the embedding
                                               retrained on train.bin (reference/solution/fix_embedding.py)
Run: /usr/bin/python3 tasks/ai_rd_fix_embedding/build_cpu_assets.py   (about a minute on 2 cores)
The files are committed; rebuilding on another machine may differ in the last bits (float summation order),
which is why the scoring constants are measured on the committed files."""
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CPU = os.path.join(HERE, "variants", "cpu")
sys.path.insert(0, os.path.join(CPU, "agent", "solution"))
sys.path.insert(0, os.path.join(CPU, "scoring"))
import model as gpt  # noqa: E402
import textgen  # noqa: E402

TRAIN_TOKENS = 120_000
TRAIN_SEED = 1
PERMUTATION_SEED = 7


def train(args):
    subprocess.run([sys.executable, os.path.join(CPU, "agent", "solution", "train.py"), *args], check=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})


def main():
    torch.set_num_threads(1)
    data_dir = os.path.join(CPU, "agent", "solution", "data")
    os.makedirs(data_dir, exist_ok=True)
    train_bin = os.path.join(data_dir, "train.bin")
    textgen.sample(textgen.chain(), TRAIN_TOKENS, TRAIN_SEED).tofile(train_bin)

    agent = os.path.join(CPU, "agent")
    original = os.path.join(HERE, ".original_model.pth")
    train(["--data", train_bin, "--out", original, "--n_layer", "2", "--n_embd", "64", "--max_iters", "400", "--seed", "1"])
    train(["--data", train_bin, "--out", os.path.join(agent, "small_correct_model.pth"), "--n_layer", "1",
           "--n_embd", "32", "--max_iters", "400", "--seed", "2"])

    model = gpt.load(original)
    permutation = torch.from_numpy(np.random.default_rng(PERMUTATION_SEED).permutation(model.config["vocab_size"]))
    with torch.no_grad():
        model.wte.weight.copy_(model.wte.weight[permutation])
    gpt.save(model, os.path.join(agent, "large_model.pth"))
    os.remove(original)

    reference = os.path.join(CPU, "reference")
    subprocess.run([sys.executable, os.path.join(reference, "solution", "fix_embedding.py")], check=True, cwd=agent,
                   env={**os.environ, "OMP_NUM_THREADS": "1", "HOME": agent})
    os.replace(os.path.join(agent, "fixed_model.pth"), os.path.join(reference, "fixed_model.pth"))


if __name__ == "__main__":
    main()
