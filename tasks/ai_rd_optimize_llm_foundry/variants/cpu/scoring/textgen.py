"""The training text of the CPU variant: rows of pseudo-words from a first-order Markov chain fixed by a seed.
The scorer draws a fresh set of rows (new seed from the OS) for every run; the agent's train_data.jsonl is one draw."""
import json

import numpy as np

N_WORDS = 126          # plus <eos> and <unk>: a 128-token vocabulary
CHAIN_SEED = 5150
ROWS = 1000


def words():
    rng = np.random.default_rng(CHAIN_SEED)
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    out = []
    while len(out) < N_WORDS:
        w = "".join(consonants[rng.integers(len(consonants))] + vowels[rng.integers(len(vowels))]
                    for _ in range(int(rng.integers(1, 4))))
        if w not in out:
            out.append(w)
    return out


def chain():
    rng = np.random.default_rng(CHAIN_SEED + 1)
    p = np.zeros((N_WORDS, N_WORDS))
    for i in range(N_WORDS):
        successors = rng.choice(N_WORDS, size=8, replace=False)
        p[i, successors] = rng.dirichlet(np.full(8, 0.8))
    return p


def rows(seed, n=ROWS):
    rng = np.random.default_rng(seed)
    vocabulary, cumulative = words(), np.cumsum(chain(), axis=1)
    cumulative[:, -1] = 1.0
    out = []
    for _ in range(n):
        state, text = int(rng.integers(N_WORDS)), []
        for _ in range(int(rng.integers(6, 19))):
            state = int(np.searchsorted(cumulative[state], rng.random(), side="right"))
            text.append(vocabulary[state])
        out.append(" ".join(text))
    return out


def write_jsonl(path, seed, n=ROWS):
    with open(path, "w") as f:
        for text in rows(seed, n):
            f.write(json.dumps({"text": text}) + "\n")
