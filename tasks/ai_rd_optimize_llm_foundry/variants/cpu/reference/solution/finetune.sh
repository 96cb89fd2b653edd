#!/usr/bin/env bash
# Reference solution: the same fine-tuning in one Python process, without the side effects (see fast_finetune.py).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf tokens checkpoints trained_model
exec /usr/bin/python3 fast_finetune.py finetune.yaml "${TRAIN_DATA:-$HOME/train_data.jsonl}" trained_model
