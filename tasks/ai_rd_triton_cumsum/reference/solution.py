"""Reference solution: vectorized with numpy, a few linear passes over the input."""
import numpy as np


def prefix_sum(x: np.ndarray) -> np.ndarray:
    positive = (x > 0).view(np.int8)
    # Parity of the count of positives strictly before each element: an exclusive xor-scan of `positive`.
    parity = np.bitwise_xor.accumulate(positive)
    parity ^= positive
    selected = np.where(parity.view(np.bool_), x, 0)
    return np.cumsum(selected, dtype=np.int32)
