"""Starting model: every position is predicted from its own token alone (embedding, then a ReLU MLP), so a masked
position only ever sees the mask token. It obeys the rules (Linear, Embedding, ReLU, addition); it cannot use context.
The scorer calls get_trained_model() and then model(token_indices) -> logits."""
import os

import torch
import torch.nn as nn

VOCAB_SIZE = 128   # token ids 0..126 are text, 127 is the mask token
SEQUENCE_LENGTH = 64
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "basic_model.pt")


class BasicModel(nn.Module):
    def __init__(self, d_model=64, d_hidden=256):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB_SIZE, d_model)
        self.hidden = nn.Linear(d_model, d_hidden)
        self.out = nn.Linear(d_hidden, VOCAB_SIZE)

    def forward(self, token_indices):                     # [batch, seq] -> [batch, seq, vocab]
        x = self.embedding(token_indices)
        x = torch.nn.functional.relu(self.hidden(x))
        return self.out(x)


def get_trained_model():
    model = BasicModel()
    model.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
    return model
