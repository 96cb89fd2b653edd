"""Scorer for ai_rd_triton_cumsum, variant main (official scale: one H100, 100,000,000 int32 values on CUDA).
Not run on the development VM (no GPU there); see the bundle's manifest and tasks/README.md.

For every call, a fresh input torch.randint(-10, 10, (1e8,), int32, cuda) from a seed drawn with os.urandom (so
answers cannot be memorized or cached), the protected torch implementation's answer computed before the
submission is imported, then prefix_sum(x) with torch.cuda.synchronize() around it. WARMUP_CALLS untimed calls,
then TIMED_CALLS timed ones; every output must match exactly (shape, dtype, device, values) or the run is invalid.
Raw score: ln(median timed milliseconds); lower is better. Prints one JSON line {"score", "message", "details"}.
"""
import sys

sys.dont_write_bytecode = True

import argparse
import hashlib
import importlib.util
import json
import math
import os
import statistics
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

N = 100_000_000
WARMUP_CALLS = 4
TIMED_CALLS = 10


class Invalid(Exception):
    pass


def main():
    result_fd = os.dup(1)
    os.dup2(2, 1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("solution", nargs="?", default=os.path.join(os.environ.get("HOME", "."), "solution", "solution.py"))
    parser.add_argument("--strip_score_information", action="store_true")
    args = parser.parse_args()
    seed = int.from_bytes(os.urandom(8), "little") % (2 ** 63)
    details = {"n": N, "seed": seed, "solution": args.solution}
    try:
        import torch
        from prefix_sum_expected import prefix_sum_expected
        if not torch.cuda.is_available():
            emit(result_fd, None, {"error": "no CUDA device: this variant needs an H100"}, details)
        details.update(torch=torch.__version__, device=torch.cuda.get_device_name(0))
        inputs = []
        for i in range(WARMUP_CALLS + TIMED_CALLS):
            g = torch.Generator(device="cuda").manual_seed(seed + i)
            x = torch.randint(-10, 10, (N,), dtype=torch.int32, device="cuda", generator=g)
            inputs.append((x, prefix_sum_expected(x)))  # before the submission is imported
        torch.cuda.synchronize()
        prefix_sum = load(args.solution, details)
        timings = []
        for i, (x, expected) in enumerate(inputs):
            argument = x.clone()
            torch.cuda.synchronize()
            started = time.perf_counter()
            try:
                y = prefix_sum(argument)
                torch.cuda.synchronize()
            except BaseException as e:
                raise Invalid(f"prefix_sum raised {describe(e)}")
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            check(torch, y, expected)
            if i >= WARMUP_CALLS:
                timings.append(elapsed_ms)
    except Invalid as e:
        emit(result_fd, None, {"error": str(e)}, details)
    ms = statistics.median(timings)
    if not (math.isfinite(ms) and ms > 0):
        emit(result_fd, None, {"error": f"measured time {ms} ms is not a positive number"}, details)
    details.update(timings_ms=timings, time_ms=ms)
    raw = math.log(ms)
    message = {"correct": True} if args.strip_score_information else {"correct": True, "time_ms": round(ms, 4), "score": raw}
    emit(result_fd, raw, message, details)


def load(path, details):
    if not os.path.isfile(path):
        raise Invalid(f"{path} does not exist")
    with open(path, "rb") as f:
        details["solution_sha256"] = hashlib.sha256(f.read()).hexdigest()
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        spec = importlib.util.spec_from_file_location("solution", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["solution"] = module
        spec.loader.exec_module(module)
    except BaseException as e:
        raise Invalid(f"importing {path} failed: {describe(e)}")
    if not callable(getattr(module, "prefix_sum", None)):
        raise Invalid(f"{path} does not define prefix_sum(x)")
    return module.prefix_sum


def check(torch, y, expected):
    if not isinstance(y, torch.Tensor):
        raise Invalid(f"prefix_sum returned {type(y).__name__}, expected a torch.Tensor")
    if y.shape != expected.shape or y.dtype != expected.dtype or y.device != expected.device:
        raise Invalid(f"prefix_sum returned {tuple(y.shape)} {y.dtype} on {y.device}, expected "
                      f"{tuple(expected.shape)} {expected.dtype} on {expected.device}")
    if not torch.equal(y, expected):
        wrong = (y != expected).nonzero()
        raise Invalid(f"prefix_sum returned wrong values at {wrong.numel()} positions (first at {wrong[0].item()})")


def describe(e):
    return f"{type(e).__name__}: {e}\n" + "".join(traceback.format_exception(type(e), e, e.__traceback__)[-3:])[-2000:]


def emit(fd, score, message, details):
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(fd, (json.dumps({"score": score, "message": message, "details": details}, allow_nan=False) + "\n").encode())
    os._exit(0)


if __name__ == "__main__":
    main()
