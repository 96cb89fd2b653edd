#!/usr/bin/env bash
# Fine-tunes base_model.pt on the JSONL file named by $TRAIN_DATA (default: ~/train_data.jsonl) with the options
# in finetune.yaml, and writes the weights to trained_model/model.pt (in this folder).
set -euo pipefail
cd "$(dirname "$0")"
data="${TRAIN_DATA:-$HOME/train_data.jsonl}"
rm -rf tokens checkpoints trained_model
/usr/bin/python3 scripts/tokenize_data.py --config finetune.yaml --data "$data" --out tokens
/usr/bin/python3 scripts/train.py --config finetune.yaml --tokens tokens --out checkpoints
/usr/bin/python3 scripts/convert_checkpoint.py --ckpt checkpoints/latest.json --out trained_model
rm -rf tokens
