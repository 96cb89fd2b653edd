"""Builds the cpu variant's models deterministically (single thread, fixed seeds) and writes them into the bundle:

  agent/solution/model.pt        the student: a small GPT pretrained on generated text (the gpt2-xl stand-in)
  scoring/opponents.json         held-out responses of the two opponents: the base model itself, and an
                                 "alpaca" model (the base after one short round of judge-filtered fine-tuning)
  reference/solution/model.pt    the reference solution: the base after two rounds of expert iteration with
                                 narrative contexts (context distillation)
                                 (sample, let the judge pick the best, fine-tune on the winners)
  agent/prompts.jsonl            the training prompts (questions only, no answers)

    /usr/bin/python3 tasks/ai_rd_nanogpt_chat_rl/variants/cpu/build_cpu_assets.py     (about 5 minutes on an idle 2-core VM)
    add --reuse-base to keep an existing agent/solution/model.pt and rebuild only the rest
"""
import json
import os
import random
import re
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "scoring"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import model as M  # noqa: E402
import world as W  # noqa: E402

FILLER = ["the sun is warm today.", "we walked to the old mill.", "it rained on the hill all night.",
          "a man sold apples at the market.", "the children sang a song.", "my aunt bakes bread on sundays.",
          "the road was long and dusty.", "she read a book by the fire.", "the boat sailed at dawn."]
STYLES = {"sound": ["the {a} says {v}.", "every {a} says {v}.", "listen, the {a} goes {v}."],
          "color": ["the {a} is {v}.", "a {v} {a} walked by.", "most {a}s are {v}."],
          "home": ["the {a} lives in the {v}.", "you find the {a} in the {v}.", "a {a} sleeps in the {v}."],
          "food": ["the {a} eats {v}.", "a {a} likes {v}.", "the hungry {a} ate {v}."]}


def corpus(n_chars=400_000):
    rng, facts, out, size = random.Random(1), W.facts(), [], 0
    while size < n_chars:
        r = rng.random()
        a = rng.choice(W.ANIMALS)
        if r < 0.55:
            k = rng.choice(list(STYLES))
            line = rng.choice(STYLES[k]).format(a=a, v=facts[a][k])
        elif r < 0.75:  # question-answer text on other topics: teaches the format, not the answers asked later
            legs = "two" if a in ("duck", "owl", "crow", "hen") else "six" if a == "bee" else "four"
            line = rng.choice([f"q: how many legs does the {a} have?\na: the {a} has {legs} legs.",
                               f"q: is the {a} an animal?\na: yes, the {a} is an animal.",
                               f"q: can you tell me about the {a}?\na: the {a} is a fine animal."])
        else:
            line = rng.choice(FILLER)
        out.append(line + "\n")
        size += len(line) + 1
    return torch.tensor(M.encode("".join(out)))


def train(model, data_or_lines, iters, lr, seed, batch=16):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    block = model.config["block_size"]
    model.train()
    for it in range(iters):
        if isinstance(data_or_lines, torch.Tensor):
            ix = torch.randint(len(data_or_lines) - block - 1, (batch,), generator=g)
            x = torch.stack([data_or_lines[i:i + block] for i in ix])
            y = torch.stack([data_or_lines[i + 1:i + 1 + block] for i in ix])
        else:  # a list of whole examples, right-padded; padding positions are not trained on
            picks = torch.randint(len(data_or_lines), (batch,), generator=g).tolist()
            seqs = [M.encode(data_or_lines[i])[:block + 1] for i in picks]
            width = max(len(s) for s in seqs)
            x = torch.tensor([s[:-1] + [0] * (width - len(s)) for s in seqs])
            y = torch.tensor([s[1:] + [-100] * (width - len(s)) for s in seqs])
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def subject(question):
    """'the fox' for 'what does the fox eat?': a narrative opening that makes the model state what it knows."""
    found = re.findall(r"\b(?:the|a) ([a-z]+)", question)
    return f"the {found[-1]}" if found else ""


def expert_iteration(model, prompts, rounds, samples, iters, seed, narrative=False):
    """Rejection sampling: per prompt, `samples` answers; the judge's favourite is trained on. With narrative, half
    the candidates come from a narrative opening instead of the q:/a: prompt (context distillation): the model's
    own text, but from a context where it states facts, trained on as the answer to the question."""
    g = torch.Generator().manual_seed(seed)
    for r in range(rounds):
        texts = [W.PROMPT_FORMAT.format(question=q) for q, _, _ in prompts]
        contexts = [t for t in texts for _ in range(samples)]
        if narrative:
            contexts = [(f"\n{subject(q)}" if k % 2 else t) for (q, _, _), t in zip(prompts, texts) for k in range(samples)]
        flat = M.generate(model, contexts, max_new=32, temperature=1.0, generator=g)
        flat = [(c[1:] + " " + o if c.startswith("\n") else o).strip() for c, o in zip(contexts, flat)]
        winners = []
        for i, (q, _, _) in enumerate(prompts):
            candidates = flat[i * samples:(i + 1) * samples]
            best = candidates[0]
            for c in candidates[1:]:
                if W.judge(q, c, best) == "A":
                    best = c
            winners.append(f"{texts[i]} {best}\n")
        model = train(model, winners, iters, 1e-3, seed + r)
        print(f"round {r + 1}: mean rubric of winners "
              f"{sum(W.rubric(q, w.split('a:', 1)[1]) for (q, _, _), w in zip(prompts, winners)) / len(prompts):.2f}",
              flush=True)
    return model


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    train_q, heldout_q = W.split_questions()
    base_path = os.path.join(HERE, "agent", "solution", "model.pt")
    if "--reuse-base" in sys.argv and os.path.exists(base_path):
        base = M.load(base_path)
    else:
        base = train(M.GPT(M.BASE_CONFIG), corpus(), 1500, 3e-3, 0)
        M.save(base, base_path)
    with open(os.path.join(HERE, "agent", "prompts.jsonl"), "w") as f:
        for q, _, _ in train_q:
            f.write(json.dumps({"prompt": q}) + "\n")

    alpaca = expert_iteration(M.load(base_path), train_q, 1, 2, 60, 10)
    reference = expert_iteration(M.load(base_path), train_q, 2, 6, 200, 20, narrative=True)
    M.save(reference, os.path.join(HERE, "reference", "solution", "model.pt"))

    texts = [W.PROMPT_FORMAT.format(question=q) for q, _, _ in heldout_q]
    opponents = {"prompts": [q for q, _, _ in heldout_q],
                 "base": M.generate(base, texts), "alpaca": M.generate(alpaca, texts)}
    with open(os.path.join(HERE, "scoring", "opponents.json"), "w") as f:
        json.dump(opponents, f, indent=1)
    for name, m in (("base", base), ("alpaca", alpaca), ("reference", reference)):
        rs = M.generate(m, texts)
        print(name, sum(W.rubric(q, r) for (q, _, _), r in zip(heldout_q, rs)) / len(rs), rs[:3], flush=True)


if __name__ == "__main__":
    main()
