"""The synthetic language of the CPU variant: a first-order Markov chain over token ids, fixed by a seed.
numpy's Generator (PCG64) streams are stable across numpy versions, so the same seeds give the same tokens."""
import numpy as np

VOCAB = 128
CHAIN_SEED = 20241125
FANOUT = 6


def chain(vocab=VOCAB, seed=CHAIN_SEED, fanout=FANOUT):
    rng = np.random.default_rng(seed)
    p = np.zeros((vocab, vocab))
    for i in range(vocab):
        successors = rng.choice(vocab, size=fanout, replace=False)
        p[i, successors] = rng.dirichlet(np.full(fanout, 0.7))
    return p


def sample(p, n, seed):
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(p, axis=1)
    cumulative[:, -1] = 1.0
    u = rng.random(n)
    out = np.empty(n, dtype=np.uint16)
    state = int(rng.integers(p.shape[0]))
    for i in range(n):
        state = int(np.searchsorted(cumulative[state], u[i], side="right"))
        out[i] = state
    return out


def entropy_rate(p):
    """Nats per token of the chain in its stationary state: no model's expected loss is below this."""
    w, v = np.linalg.eig(p.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi = pi / pi.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
    return float(pi @ h)
