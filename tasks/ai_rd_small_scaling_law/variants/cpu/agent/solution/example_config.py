# An example experiment: /usr/bin/python3 train.py example_config.py
# FLOPs = 2 * 16 * 16 * 72 * 32 * 16 * 200 = 3.77e9 (under the 4e9 per-experiment limit)
n_embd = 16
max_iters = 200
