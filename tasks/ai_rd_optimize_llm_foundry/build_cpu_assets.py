"""Builds the generated files of variant cpu, deterministically (fixed seeds, one thread):
  variants/cpu/agent/solution/tokenizer.json            the word-level vocabulary (126 words, <eos>, <unk>)
  variants/cpu/agent/solution/base_model.pt             the base model to fine-tune (a small GPT, seeded init)
  variants/cpu/agent/train_data.jsonl                   1000 rows of training text (one draw; the scorer draws anew)
  variants/cpu/agent/trained_model_reference/model.pt   the reference fine-tuning of base_model.pt on that file
  (the scorer's scoring/reference_train/ is laid out by the manifest's layers from the files above: no copies)
  variants/cpu/scoring/base_model.sha256                the base model's digest (the scorer refuses a changed one)
Run: /usr/bin/python3 tasks/ai_rd_optimize_llm_foundry/build_cpu_assets.py"""
import hashlib
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CPU = os.path.join(HERE, "variants", "cpu")
SOLUTION = os.path.join(CPU, "agent", "solution")
sys.path.insert(0, os.path.join(CPU, "scoring"))
sys.path.insert(0, os.path.join(CPU, "reference", "solution"))
sys.path.insert(0, os.path.join(SOLUTION, "scripts"))
sys.path.insert(0, os.path.join(HERE, "..", "_shared", "cpu_gpt"))  # model.py, layered into solution/scripts/ (manifest layers)
import textgen  # noqa: E402


def main():
    torch.set_num_threads(1)
    with open(os.path.join(SOLUTION, "tokenizer.json"), "w") as f:
        json.dump({"words": textgen.words() + ["<eos>", "<unk>"]}, f)
    import model as gpt
    torch.manual_seed(0)
    gpt.save(gpt.GPT({"vocab_size": 128, "block_size": 32, "n_layer": 2, "n_head": 2, "n_embd": 32}),
             os.path.join(SOLUTION, "base_model.pt"))
    data = os.path.join(CPU, "agent", "train_data.jsonl")
    textgen.write_jsonl(data, seed=1)

    with open(os.path.join(SOLUTION, "base_model.pt"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(CPU, "scoring", "base_model.sha256"), "w") as f:
        f.write(digest + "\n")

    import fast_finetune
    trained = fast_finetune.finetune(os.path.join(SOLUTION, "finetune.yaml"), data, os.path.join(SOLUTION, "base_model.pt"))
    os.makedirs(os.path.join(CPU, "agent", "trained_model_reference"), exist_ok=True)
    gpt.save(trained, os.path.join(CPU, "agent", "trained_model_reference", "model.pt"))


if __name__ == "__main__":
    main()
