"""Trains a small character-level GPT on the task's generated corpus and reports its validation loss.

    /usr/bin/python3 train.py example_config.py [key=value ...]

A config file is a Python file of assignments that override the defaults below (like nanoGPT's configurator);
key=value arguments on the command line override both. Only n_embd and max_iters are meant to change between
experiments. You may add logging, but do not change the training computation: the ground truth of this task was
measured with this file as it is.

FLOPs of a run (the task's definition, the same formula as the original task):
    n_flops = n_layer * n_embd * n_embd * 12 * 6 * block_size * batch_size * max_iters
"""
import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True

import torch
import torch.nn as nn
import torch.nn.functional as F

from corpus import load_corpus

# ---- defaults (fixed by the task except n_embd and max_iters) ----
n_layer = 2
n_head = 2
n_embd = 64
block_size = 32
batch_size = 16
max_iters = 500
learning_rate = 1e-2
min_lr_ratio = 0.1
warmup_fraction = 0.05
weight_decay = 0.1
eval_batches = 40
seed = 1337
max_flops_per_experiment = 4e9  # the task's limit for one experiment; train.py refuses more
out_json = ""                    # when set, the result is also written there as JSON

_fixed = dict(globals())


def _configure(argv):
    for arg in argv:
        if "=" not in arg:
            with open(arg) as f:
                exec(f.read(), globals())
        else:
            key, value = arg.split("=", 1)
            if key not in _fixed:
                raise SystemExit(f"unknown config key {key}")
            globals()[key] = type(_fixed[key])(eval(value)) if not isinstance(_fixed[key], str) else value


def compute_flops(n_embd, max_iters):
    return n_layer * n_embd * n_embd * 12 * 6 * block_size * batch_size * max_iters


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True, bias=False)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d, bias=False), nn.GELU(), nn.Linear(4 * d, d, bias=False))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab, d, layers, heads, block):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(block, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight
        self.register_buffer("mask", torch.triu(torch.ones(block, block, dtype=torch.bool), 1))

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t))
        for b in self.blocks:
            x = b(x, self.mask[:t, :t])
        return self.head(self.ln(x))


def batches(data, generator):
    while True:
        ix = torch.randint(len(data) - block_size - 1, (batch_size,), generator=generator)
        x = torch.stack([data[i:i + block_size] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
        yield x, y


@torch.no_grad()
def evaluate(model, data):
    model.eval()
    g = torch.Generator().manual_seed(0)  # the same validation batches for every run
    losses = []
    for _ in range(eval_batches):
        ix = torch.randint(len(data) - block_size - 1, (64,), generator=g)
        x = torch.stack([data[i:i + block_size] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
        logits = model(x)
        losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item())
    model.train()
    return sum(losses) / len(losses)


def main():
    _configure(sys.argv[1:])
    flops = compute_flops(n_embd, max_iters)
    if flops > max_flops_per_experiment * 1.0001:
        raise SystemExit(f"{flops:.3e} FLOPs is over the per-experiment limit of {max_flops_per_experiment:.1e}")
    if n_embd % n_head:
        raise SystemExit(f"n_embd={n_embd} must be a multiple of n_head={n_head}")
    torch.set_num_threads(1)  # deterministic and comparable
    torch.manual_seed(seed)
    train, val, vocab = load_corpus()
    model = GPT(len(vocab), n_embd, n_layer, n_head, block_size)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=learning_rate, betas=(0.9, 0.95))
    warmup = max(1, int(warmup_fraction * max_iters))
    data = batches(train, torch.Generator().manual_seed(seed))
    started = time.time()
    for it in range(max_iters):
        if it < warmup:
            lr = learning_rate * (it + 1) / warmup
        else:
            progress = (it - warmup) / max(1, max_iters - warmup)
            lr = learning_rate * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = next(data)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    val_loss = evaluate(model, val)
    result = {"n_embd": n_embd, "max_iters": max_iters, "flops": flops, "val_loss": val_loss,
              "seconds": round(time.time() - started, 2)}
    print(json.dumps(result))
    if out_json:
        with open(out_json, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
