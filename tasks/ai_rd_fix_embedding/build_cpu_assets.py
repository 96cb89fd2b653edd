"""Builds the binary files of variant cpu, deterministically (fixed seeds, one thread):
  variants/cpu/agent/solution/data/train.bin   20,000 training tokens of the synthetic language (uint16): enough to
                                               recover 128 embedding rows, far too few to learn the language anew
  variants/cpu/agent/small_correct_model.pth   a smaller GPT (1 layer, width 32) trained on the language (correct)
  variants/cpu/agent/large_model.pth           the larger GPT (2 layers, width 64) trained on 3 M fresh tokens of the
                                               language, then its (tied) token embedding rows permuted
  variants/cpu/reference/fixed_model.pth       the reference solution: large_model.pth with its embedding rows put
                                               back in place (reference/solution/fix_embedding.py: no training)
Run: /usr/bin/python3 tasks/ai_rd_fix_embedding/build_cpu_assets.py   (about 10 minutes on 2 idle cores)
An end-to-end run of this file on the development VM (2026-12-07, about 12 minutes under load) reproduced all four
committed files byte for byte (the digests in variants/cpu/assets.yaml).
The files are committed; rebuilding on another machine may differ in the last bits (float summation order),
which is why the scoring constants are measured on the committed files."""
import math
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CPU = os.path.join(HERE, "variants", "cpu")
sys.path.insert(0, os.path.join(CPU, "agent", "solution"))
sys.path.insert(0, os.path.join(CPU, "scoring"))
sys.path.insert(0, os.path.join(HERE, "..", "_shared", "cpu_gpt"))  # model.py, layered into agent/solution/ (manifest layers)
import model as gpt  # noqa: E402
import textgen  # noqa: E402

LANGUAGE_TOKENS = 3_000_000  # what the original models learn from (never shipped)
LANGUAGE_SEED = 1
TRAIN_TOKENS = 20_000        # what the agent gets
TRAIN_SEED = 2
PERMUTATION_SEED = 7


def pretrain(model, data, iters, lr, batch=32):
    """AdamW, warm-up then cosine decay to a tenth, random windows of data (the global torch generator)."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    t = model.config["block_size"]
    for it in range(iters):
        for group in opt.param_groups:
            group["lr"] = lr * min(1.0, (it + 1) / 100) * (0.1 + 0.45 * (1 + math.cos(math.pi * it / iters)))
        ix = torch.randint(len(data) - t - 1, (batch,))
        x = torch.stack([data[i:i + t] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + t] for i in ix])
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 100 == 0 or it == iters - 1:
            print(f"iter {it} loss {loss.item():.4f}", flush=True)


def main():
    torch.set_num_threads(1)
    language = textgen.chain()
    data_dir = os.path.join(CPU, "agent", "solution", "data")
    os.makedirs(data_dir, exist_ok=True)
    textgen.sample(language, TRAIN_TOKENS, TRAIN_SEED).tofile(os.path.join(data_dir, "train.bin"))
    big = torch.from_numpy(textgen.sample(language, LANGUAGE_TOKENS, LANGUAGE_SEED, chains=256).astype(np.int64))

    agent = os.path.join(CPU, "agent")
    torch.manual_seed(1)
    model = gpt.GPT(dict(vocab_size=128, block_size=32, n_layer=2, n_head=2, n_embd=64))
    pretrain(model, big, 800, 6e-3)
    permutation = torch.from_numpy(np.random.default_rng(PERMUTATION_SEED).permutation(model.config["vocab_size"]))
    with torch.no_grad():
        model.wte.weight.copy_(model.wte.weight[permutation])
    gpt.save(model, os.path.join(agent, "large_model.pth"))

    torch.manual_seed(2)
    small = gpt.GPT(dict(vocab_size=128, block_size=32, n_layer=1, n_head=2, n_embd=32))
    pretrain(small, big, 400, 6e-3)
    gpt.save(small, os.path.join(agent, "small_correct_model.pth"))

    reference = os.path.join(CPU, "reference")
    subprocess.run([sys.executable, os.path.join(reference, "solution", "fix_embedding.py")], check=True, cwd=agent,
                   env={**os.environ, "OMP_NUM_THREADS": "1", "HOME": agent})
    os.replace(os.path.join(agent, "fixed_model.pth"), os.path.join(reference, "fixed_model.pth"))


if __name__ == "__main__":
    main()
