"""The three stages of finetune.sh in one process, without the side effects: the same tokens, data order, loss
and AdamW steps, but whole batches at once (no micro-batches), no training-set evaluation, no intermediate JSON
checkpoints. Usage: fast_finetune.py CONFIG DATA OUT_DIR"""
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "scripts"))
import model as gpt  # noqa: E402
from common import pack, read_config, read_vocabulary  # noqa: E402


def finetune(config_path, data_path, base_model_path=None):
    c = read_config(config_path)
    torch.set_num_threads(1)
    vocabulary = read_vocabulary()
    unk, eos = vocabulary["<unk>"], vocabulary["<eos>"]
    with open(data_path) as f:
        rows = [[vocabulary.get(w, unk) for w in json.loads(line)["text"].split()] + [eos] for line in f if line.strip()]
    data = torch.tensor(pack(rows, c["max_seq_len"]), dtype=torch.long)
    model = gpt.load(base_model_path or os.path.join(HERE, c["base_model"]))
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"],
                            weight_decay=c["weight_decay"])
    batch = c["global_train_batch_size"]
    generator = torch.Generator().manual_seed(c["seed"])
    for _ in range(c["max_epochs"]):
        order = torch.randperm(len(data), generator=generator)
        for s in range(len(data) // batch):
            rows = data[order[s * batch:(s + 1) * batch]]
            logits, _ = model(rows[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), rows[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model


if __name__ == "__main__":
    config, data, out = sys.argv[1:4]
    trained = finetune(config, data)
    os.makedirs(out, exist_ok=True)
    gpt.save(trained, os.path.join(out, "model.pt"))
