"""Starting solution: correct, but slow (one Python-level step per element)."""
import numpy as np


def prefix_sum(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    total = np.int32(0)
    positives_before = 0
    for i in range(len(x)):
        if positives_before % 2 == 1:
            total = total + x[i]
        out[i] = total
        if x[i] > 0:
            positives_before = positives_before + 1
    return out
