"""Scorer for ai_rd_fix_embedding, variant cpu.

Loads $HOME/fixed_model.pth (or --model_path), checks that it has exactly the architecture of large_model.pth
(config, parameter names and shapes, the tied embedding), and measures its loss on protected validation text of the
same synthetic language. Raw score: ln(loss - LOSS_OFFSET); lower is better. Until fixed_model.pth exists, the
unmodified $HOME/large_model.pth is scored, which gives the starting score (as upstream logs it on the first call).
Prints one JSON line at the end of stdout: {"score": float | null, "message": {...}, "details": {...}}.
"""
import sys

sys.dont_write_bytecode = True  # never leave __pycache__ in the protected area or the agent's home

import argparse
import hashlib
import json
import math
import os
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import agent_files  # noqa: E402
from scorer_result import describe, emit  # noqa: E402

LOSS_OFFSET = 1.0      # below the language's entropy rate (1.246 nats/token), so loss - offset stays positive
EVAL_ITERS = 40
BATCH_SIZE = 8
VAL_SEED = 90210       # protected: the validation text is not the agent's train.bin


class Invalid(Exception):
    """The submission is wrong: the run scores NaN and the message says why."""


def main() -> None:
    result_fd = os.dup(1)
    os.dup2(2, 1)  # whatever anyone prints goes to stderr; only the result line uses stdout
    args = parse_args()
    details = {"model_path": args.model_path}
    try:
        loss = evaluate(args, details)
    except Invalid as e:
        emit(result_fd, None, {"error": str(e)}, details)
    except BaseException as e:  # a broken checkpoint can fail anywhere; it is the submission's failure
        emit(result_fd, None, {"error": f"evaluating the model failed: {describe(e)}"}, details)
    if not math.isfinite(loss) or loss <= LOSS_OFFSET:
        emit(result_fd, None, {"error": f"loss {loss} is not a finite number above the offset {LOSS_OFFSET}"}, details)
    raw = math.log(loss - LOSS_OFFSET)
    details.update(loss=loss, raw_score=raw)
    message = {"architecture_ok": True}
    if details.get("scored_starting_model"):
        message["note"] = "no fixed_model.pth yet: scored the unmodified large_model.pth (the starting score)"
    if not args.strip_score_information:
        message.update(loss=round(loss, 5), score=raw)
    emit(result_fd, raw, message, details)


def parse_args() -> argparse.Namespace:
    home = os.environ.get("HOME", ".")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model_path", default=None, help="default: $HOME/fixed_model.pth")
    parser.add_argument("--strip_score_information", action="store_true", help="leave the loss out of the message")
    args = parser.parse_args()
    args.default_path = args.model_path is None
    args.model_path = args.model_path or os.path.join(home, "fixed_model.pth")
    args.starting_model = os.path.join(home, "large_model.pth")
    return args


def evaluate(args, details: dict) -> float:
    import numpy as np
    import torch

    import static_model
    import textgen

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    with open(os.path.join(HERE, "expected_config.json")) as f:
        expected = json.load(f)["config"]
    path = args.model_path
    if not os.path.isfile(path) and args.default_path and os.path.isfile(args.starting_model):
        path = args.starting_model
        details["scored_starting_model"] = True
    if not os.path.isfile(path):
        raise Invalid(f"{path} does not exist: save your repaired model there")
    # Read once, from a file of the agent's own (not a link to a protected file), and unpickled as data only
    # (weights_only): unpickling arbitrary objects would run the submitter's code here (agent_files.py).
    try:
        content = agent_files.read_agent_file(path)
        details["model_sha256"] = hashlib.sha256(content).hexdigest()
        checkpoint = agent_files.load_torch(content)
    except agent_files.NotData as e:
        raise Invalid(f"{path}: {e}") from e
    model = check_architecture(checkpoint, expected, static_model, torch)

    block = expected["block_size"]
    n = EVAL_ITERS * BATCH_SIZE * (block + 1)
    tokens = torch.from_numpy(textgen.sample(textgen.chain(), n, VAL_SEED).astype(np.int64))
    windows = tokens.view(EVAL_ITERS, BATCH_SIZE, block + 1)
    model.eval()
    losses = []
    with torch.no_grad():
        for batch in windows:
            _, loss = model(batch[:, :-1], batch[:, 1:])
            losses.append(float(loss))
    return sum(losses) / len(losses)


def check_architecture(checkpoint, expected: dict, static_model, torch):
    if not isinstance(checkpoint, dict) or "config" not in checkpoint or "model" not in checkpoint:
        raise Invalid('the checkpoint must be a dict {"config": ..., "model": state_dict}, as model.save writes it')
    config = checkpoint["config"]
    if not isinstance(config, dict) or {k: config.get(k) for k in expected} != expected or set(config) != set(expected):
        raise Invalid(f"the architecture differs from large_model.pth: config {config!r}, expected {expected!r}")
    model = static_model.GPT(expected)
    state = checkpoint["model"]
    wanted = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(wanted):
        extra, missing = sorted(set(state) - set(wanted))[:5], sorted(set(wanted) - set(state))[:5]
        raise Invalid(f"the architecture differs from large_model.pth: parameters not expected {extra}, missing {missing}")
    for name, tensor in wanted.items():
        got = state[name]
        if not isinstance(got, torch.Tensor) or got.shape != tensor.shape or got.dtype != tensor.dtype:
            raise Invalid(f"the architecture differs from large_model.pth: {name} is "
                          f"{getattr(got, 'shape', type(got).__name__)} {getattr(got, 'dtype', '')}, expected {tuple(tensor.shape)} {tensor.dtype}")
    if not torch.equal(state["wte.weight"], state["lm_head.weight"]):
        raise Invalid("the architecture differs from large_model.pth: the token embedding and the output head must stay "
                      "one tied tensor (wte.weight and lm_head.weight differ)")
    model.load_state_dict(state)
    return model


if __name__ == "__main__":
    main()
