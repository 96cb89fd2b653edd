"""Stage 2: fine-tunes the base model on the packed sequences. Per optimizer step it takes the next
global_train_batch_size sequences of a seeded shuffle, runs them in micro-batches (gradient accumulation), and
steps AdamW. Every eval_interval steps it evaluates the loss on the training set; every save_interval steps it
writes a checkpoint."""
import argparse
import json
import os
import shutil
import time

import torch
import torch.nn.functional as F

import model as gpt
from common import SOLUTION, read_config


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    c = read_config(a.config)
    torch.set_num_threads(1)
    torch.manual_seed(c["seed"])
    with open(os.path.join(a.tokens, "train.json")) as f:
        data = torch.tensor(json.load(f)["sequences"], dtype=torch.long)
    model = gpt.load(os.path.join(SOLUTION, c["base_model"]))
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"],
                            weight_decay=c["weight_decay"])
    batch, micro = c["global_train_batch_size"], c["device_train_microbatch_size"]
    steps_per_epoch = len(data) // batch
    generator = torch.Generator().manual_seed(c["seed"])
    os.makedirs(a.out, exist_ok=True)
    step, started = 0, time.time()
    for epoch in range(c["max_epochs"]):
        order = torch.randperm(len(data), generator=generator)
        for s in range(steps_per_epoch):
            rows = data[order[s * batch:(s + 1) * batch]]
            opt.zero_grad(set_to_none=True)
            for m in range(0, batch, micro):
                chunk = rows[m:m + micro]
                logits, _ = model(chunk[:, :-1])
                loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), chunk[:, 1:].reshape(-1))
                (loss * (len(chunk) / batch)).backward()
            opt.step()
            step += 1
            if step % c["eval_interval"] == 0:
                print(f"epoch {epoch} step {step} train loss {evaluate(model, data, c['eval_microbatch_size']):.4f} "
                      f"({time.time() - started:.1f} s)")
            if step % c["save_interval"] == 0:
                save_checkpoint(model, os.path.join(a.out, f"step_{step}.json"))
                shutil.copy(os.path.join(a.out, f"step_{step}.json"), os.path.join(a.out, "latest.json"))
    save_checkpoint(model, os.path.join(a.out, "latest.json"))


def evaluate(model, data, micro):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for m in range(0, len(data), micro):
            chunk = data[m:m + micro]
            logits, _ = model(chunk[:, :-1])
            total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), chunk[:, 1:].reshape(-1), reduction="sum").item()
    model.train()
    return total / (len(data) * (data.size(1) - 1))


def save_checkpoint(model, path):
    with open(path, "w") as f:
        json.dump({"config": model.config, "model": {k: v.tolist() for k, v in model.state_dict().items()}}, f)


if __name__ == "__main__":
    main()
