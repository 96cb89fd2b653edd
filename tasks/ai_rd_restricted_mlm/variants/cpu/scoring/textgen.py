"""The synthetic language of the CPU variant: a first-order Markov chain over token ids, fixed by a seed.
numpy's Generator (PCG64) streams are stable across numpy versions, so the same seeds give the same tokens."""
import numpy as np

VOCAB = 127  # token 127 is the mask token; the text never contains it
CHAIN_SEED = 31337
FANOUT = 32
CONCENTRATION = 1.0


def chain(vocab=VOCAB, seed=CHAIN_SEED, fanout=FANOUT, concentration=CONCENTRATION):
    rng = np.random.default_rng(seed)
    p = np.zeros((vocab, vocab))
    for i in range(vocab):
        successors = rng.choice(vocab, size=fanout, replace=False)
        p[i, successors] = rng.dirichlet(np.full(fanout, concentration))
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


def masked_entropy_bound(p):
    """H(x_t | x_{t-1}, x_{t+1}) in nats: the loss of a model that sees both neighbours of every masked token.
    Masked neighbours only make prediction harder, so no model's expected masked loss is below this."""
    w, v = np.linalg.eig(p.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi = np.clip(pi / pi.sum(), 0, None)
    joint = pi[:, None, None] * p[:, :, None] * p[None, :, :]  # P(a, b, c) = pi_a p_ab p_bc
    pac = joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / pac), 0.0)
    return float(-terms.sum())
