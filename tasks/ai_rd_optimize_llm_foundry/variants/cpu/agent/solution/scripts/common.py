"""Helpers shared by the fine-tuning stages: the flat YAML config, the word-level tokenizer, sequence packing."""
import json
import os

SOLUTION = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_config(path):
    config = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, value = (part.strip() for part in line.split(":", 1))
            for convert in (int, float):
                try:
                    value = convert(value)
                    break
                except ValueError:
                    pass
            config[key] = value
    return config


def read_vocabulary():
    with open(os.path.join(SOLUTION, "tokenizer.json")) as f:
        words = json.load(f)["words"]
    return {w: i for i, w in enumerate(words)}


def pack(token_rows, seq_len):
    """Concatenates the rows (each ends with <eos>) and cuts the stream into windows of seq_len + 1 tokens
    (inputs and next-token targets); the incomplete tail is dropped."""
    stream = [t for row in token_rows for t in row]
    n = len(stream) // (seq_len + 1)
    return [stream[i * (seq_len + 1):(i + 1) * (seq_len + 1)] for i in range(n)]
