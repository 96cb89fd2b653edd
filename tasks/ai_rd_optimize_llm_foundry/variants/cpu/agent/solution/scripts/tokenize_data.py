"""Stage 1: tokenizes the JSONL training file ({"text": ...} per line) into packed sequences (JSON)."""
import argparse
import json
import os

from common import pack, read_config, read_vocabulary


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    config = read_config(a.config)
    vocabulary = read_vocabulary()
    rows = []
    with open(a.data) as f:
        for line in f:
            if line.strip():
                text = json.loads(line)["text"]
                ids, word = [], ""
                for ch in text + " ":  # character by character, as a byte-level tokenizer would walk the text
                    if ch.isspace():
                        if word:
                            ids.append(vocabulary.get(word, vocabulary["<unk>"]))
                        word = ""
                    else:
                        word += ch
                rows.append(ids + [vocabulary["<eos>"]])
    os.makedirs(a.out, exist_ok=True)
    sequences = pack(rows, config["max_seq_len"])
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump({"sequences": sequences, "vocab_size": len(vocabulary)}, f)
    print(f"tokenized {len(rows)} rows into {len(sequences)} sequences")


if __name__ == "__main__":
    main()
