"""Stage 3: converts the last training checkpoint (JSON) into the output format, trained_model/model.pt
({"config": ..., "model": state_dict}, torch.save)."""
import argparse
import json
import os

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(a.ckpt) as f:
        checkpoint = json.load(f)
    state = {k: torch.tensor(v, dtype=torch.float32) for k, v in checkpoint["model"].items()}
    state["lm_head.weight"] = state["wte.weight"]  # tied: one tensor, saved once
    os.makedirs(a.out, exist_ok=True)
    torch.save({"config": checkpoint["config"], "model": state}, os.path.join(a.out, "model.pt"))


if __name__ == "__main__":
    main()
