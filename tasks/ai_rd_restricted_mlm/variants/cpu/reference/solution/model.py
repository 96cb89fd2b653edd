"""Reference solution: a context-window MLP. Each position sees the embeddings of its neighbours (up to WINDOW on
each side, brought in by shifting with slicing and concatenation), so a masked token is predicted from its context;
two ReLU layers with a residual connection mix them. Only Embedding, Linear, ReLU, addition, slicing, cat and zeros
are used in forward. Weights: reference_model.pt (train_reference.py made them)."""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_SIZE = 128
SEQUENCE_LENGTH = 64
WINDOW = 2
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_model.pt")


def shift(x, k):
    """x moved k positions along the sequence (positive: x[t - k] at t), zero-filled at the edge."""
    if k == 0:
        return x
    pad = torch.zeros(x.shape[0], abs(k), x.shape[2])
    return torch.cat([pad, x[:, :-k]], dim=1) if k > 0 else torch.cat([x[:, -k:], pad], dim=1)


class WindowModel(nn.Module):
    def __init__(self, d_model=64, d_hidden=384):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB_SIZE, d_model)
        self.hidden = nn.Linear((2 * WINDOW + 1) * d_model, d_hidden)
        self.hidden2 = nn.Linear(d_hidden, d_hidden)
        self.out = nn.Linear(d_hidden, VOCAB_SIZE)

    def forward(self, token_indices):                     # [batch, seq] -> [batch, seq, vocab]
        x = self.embedding(token_indices)
        x = torch.cat([shift(x, k) for k in range(-WINDOW, WINDOW + 1)], dim=2)
        h = F.relu(self.hidden(x))
        h = h + F.relu(self.hidden2(h))
        return self.out(h)


def get_trained_model():
    model = WindowModel()
    model.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
    return model
