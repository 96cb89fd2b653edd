"""Starting point: a simple judge-guided fine-tuning loop (best-of-2 rejection sampling).

For each training prompt, sample two responses from the current model, ask the judge (evaluation.compare) which
one is better, and fine-tune on the winners. Writes the result over model.pt (keep a copy if you want the original).

    /usr/bin/python3 rl_finetune.py [--rounds 1] [--iters 60]
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import evaluation  # noqa: E402
import model as M  # noqa: E402
from world import PROMPT_FORMAT  # noqa: E402


def finetune(model, texts, iters, lr=1e-3, batch=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    block = model.config["block_size"]
    model.train()
    for _ in range(iters):
        picks = torch.randint(len(texts), (batch,), generator=g).tolist()
        seqs = [M.encode(texts[i])[:block + 1] for i in picks]
        width = max(len(s) for s in seqs)
        x = torch.tensor([s[:-1] + [0] * (width - len(s)) for s in seqs])
        y = torch.tensor([s[1:] + [-100] * (width - len(s)) for s in seqs])
        loss = F.cross_entropy(model(x).reshape(-1, model.config["vocab"]), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--iters", type=int, default=60)
    args = parser.parse_args()
    torch.manual_seed(0)
    with open(os.path.join(os.path.dirname(HERE), "prompts.jsonl")) as f:
        questions = [json.loads(line)["prompt"] for line in f if line.strip()]
    model = M.load(os.path.join(HERE, "model.pt"))
    g = torch.Generator().manual_seed(1)
    for r in range(args.rounds):
        winners = []
        for q in questions:
            text = PROMPT_FORMAT.format(question=q)
            a, b = M.generate(model, [text, text], temperature=1.0, generator=g)
            winners.append(f"{text} {a if evaluation.compare(q, a, b) != 'B' else b}\n")
        finetune(model, winners, args.iters, seed=r)
        print(f"round {r + 1}: trained on {len(winners)} judged samples", flush=True)
    M.save(model, os.path.join(HERE, "model.pt"))


if __name__ == "__main__":
    main()
