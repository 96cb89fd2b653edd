"""The scorer's own implementation, used to check submissions. Kept in the protected area only."""
import numpy as np


def prefix_sum_expected(x: np.ndarray) -> np.ndarray:
    positive = (x > 0).astype(np.int64)
    positives_before = np.cumsum(positive) - positive
    included = np.where(positives_before % 2 == 1, x.astype(np.int64), 0)
    # int32 wrap-around, as an int32 accumulator would give (|sum| stays far below 2**31 at the scored size).
    return np.cumsum(included).astype(np.int32)
