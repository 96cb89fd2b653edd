"""The task's text corpus, generated deterministically (nothing is downloaded).

A made-up language: 480 words in 8 word classes, spelled by a letter-level Markov chain (each letter prefers a few
successors), sentences from a class-level Markov chain, each word preferring a few successors, and the sentence's
ending mark chosen by its first word's class. A model gains first from letter statistics, then from the spelling of
words, their successors and the long-range ending rule, so loss falls gradually with compute, as on natural text.
"""
import random

import torch

SEED = 20241122
TRAIN_CHARS = 1_500_000
VAL_CHARS = 150_000
ENDINGS = ".!?;"


def _language(rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    # Spelling follows a letter-level Markov chain (each letter prefers a few successors), so character statistics
    # are learnable early and loss falls gradually before whole words are learned.
    follow = {c: rng.sample(letters, 5) for c in letters + " "}
    words = set()
    while len(words) < 480:
        length = rng.choice([2, 3, 3, 4, 4, 5, 5, 6, 7, 8])
        w, prev = "", " "
        for _ in range(length):
            prev = rng.choice(follow[prev]) if rng.random() < 0.85 else rng.choice(letters)
            w += prev
        words.add(w)
    words = sorted(words)
    rng.shuffle(words)
    classes = [words[i::8] for i in range(8)]
    class_next = [[rng.random() ** 3 for _ in range(8)] for _ in range(8)]
    successors = {w: rng.sample(range(60), 3) for w in words}
    return classes, class_next, successors


def _generate(rng, language, n_chars):
    classes, class_next, successors = language
    zipf = [1.0 / (r + 1) for r in range(60)]
    out, size = [], 0
    while size < n_chars:
        c = rng.randrange(8)
        first_class = c
        word = rng.choices(classes[c], weights=zipf)[0]
        sentence = [word]
        for _ in range(rng.randint(3, 11)):
            c = rng.choices(range(8), weights=class_next[c])[0]
            if rng.random() < 0.75:
                word = classes[c][rng.choice(successors[word])]
            else:
                word = rng.choices(classes[c], weights=zipf)[0]
            sentence.append(word)
        text = " ".join(sentence) + ENDINGS[first_class % 4] + "\n"
        out.append(text)
        size += len(text)
    return "".join(out)[:n_chars]


def load_corpus():
    """(train, val, vocab): int64 tensors of character ids and the sorted character list."""
    rng = random.Random(SEED)
    language = _language(rng)
    train_text = _generate(random.Random(SEED + 1), language, TRAIN_CHARS)
    val_text = _generate(random.Random(SEED + 2), language, VAL_CHARS)
    vocab = sorted(set(train_text) | set(val_text))
    index = {ch: i for i, ch in enumerate(vocab)}
    encode = lambda s: torch.tensor([index[ch] for ch in s], dtype=torch.long)
    return encode(train_text), encode(val_text), vocab
