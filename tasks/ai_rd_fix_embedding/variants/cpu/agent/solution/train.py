"""Trains a GPT (model.py) on data/train.bin (uint16 token ids). Every option is a --flag; see --help.
Example: python3 train.py --init_from=../large_model.pth --out=../fixed_model.pth --max_iters=200"""
import argparse
import os
import time

import numpy as np
import torch

import model as gpt


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "train.bin"))
    p.add_argument("--init_from", default=None, help="a checkpoint to start from; a fresh model when absent")
    p.add_argument("--out", default="out.pth")
    p.add_argument("--vocab_size", type=int, default=128)
    p.add_argument("--block_size", type=int, default=32)
    p.add_argument("--n_layer", type=int, default=2)
    p.add_argument("--n_head", type=int, default=2)
    p.add_argument("--n_embd", type=int, default=64)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--max_iters", type=int, default=300)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--only", default=None, help="train only parameters whose name starts with this (e.g. wte)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    data = torch.from_numpy(np.fromfile(a.data, dtype=np.uint16).astype(np.int64))
    if a.init_from:
        model = gpt.load(a.init_from)
    else:
        model = gpt.GPT({k: getattr(a, k) for k in gpt.CONFIG_KEYS})
    params = [p for n, p in model.named_parameters() if a.only is None or n.startswith(a.only)]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)
    t = model.config["block_size"]
    started = time.time()
    for it in range(a.max_iters):
        ix = torch.randint(len(data) - t - 1, (a.batch_size,))
        x = torch.stack([data[i:i + t] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + t] for i in ix])
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 50 == 0 or it == a.max_iters - 1:
            print(f"iter {it} loss {loss.item():.4f} ({time.time() - started:.1f} s)")
    gpt.save(model, a.out)


if __name__ == "__main__":
    main()
