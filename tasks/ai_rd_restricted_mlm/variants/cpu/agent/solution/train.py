"""Trains the model of model.py as a masked language model on ../data/train.bin and saves its weights.
Usage: python3 train.py [--steps N] [--out basic_model.pt]. Training may use any operation; only the trained
model's forward pass is restricted (see the instructions)."""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

import model as m

HERE = os.path.dirname(os.path.abspath(__file__))
MASK_PROB = 0.15
MASK_TOKEN = m.VOCAB_SIZE - 1


def batches(data, batch_size, generator):
    t = m.SEQUENCE_LENGTH
    while True:
        ix = torch.randint(len(data) - t, (batch_size,), generator=generator)
        targets = torch.stack([data[i:i + t] for i in ix])
        mask = torch.rand(targets.shape, generator=generator) < MASK_PROB
        yield targets.masked_fill(mask, MASK_TOKEN), targets, mask


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default=os.path.join(HERE, "..", "data", "train.bin"))
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--out", default=m.WEIGHTS)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    generator = torch.Generator().manual_seed(a.seed)
    data = torch.from_numpy(np.fromfile(a.data, dtype=np.uint16).astype(np.int64))
    model = m.BasicModel()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    for step, (inputs, targets, mask) in zip(range(a.steps), batches(data, a.batch_size, generator)):
        loss = F.cross_entropy(model(inputs)[mask], targets[mask])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == a.steps - 1:
            print(f"step {step} masked loss {loss.item():.4f}")
    torch.save(model.state_dict(), a.out)


if __name__ == "__main__":
    main()
