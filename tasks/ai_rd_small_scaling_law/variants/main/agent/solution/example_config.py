# An example experiment config for train.py (nanoGPT configurator format): python train.py example_config.py
# FLOPs = n_layer * n_embd * n_embd * 12 * 6 * block_size * batch_size * max_iters; keep each experiment <= 1e16.
out_dir = "out-example"
eval_interval = 500
eval_iters = 200
log_interval = 10
always_save_checkpoint = False
dataset = "openwebtext"
n_layer = 4
n_head = 4
n_embd = 128
block_size = 1024
batch_size = 64
gradient_accumulation_steps = 1
max_iters = 2000
lr_decay_iters = 2000
