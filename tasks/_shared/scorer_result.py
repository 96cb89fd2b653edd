"""The scorer's result line (tasks/README.md, "Scorer contract"), written once for every scorer that lays it in.

A scorer moves its stdout aside at start (result_fd = os.dup(1); os.dup2(2, 1)) so that whatever the judged code
prints goes to stderr and the result line is the only thing on the real stdout. emit writes that line and ends the
process with os._exit: the judged code's threads, atexit handlers and CUDA teardown could otherwise print after it,
hang past the scorer's timeout, or exit non-zero, any of which turns a scored run into a scorer crash.
allow_nan=False: JSON has no NaN, and a non-finite score must fail here rather than reach the platform as text.
"""
import json
import math
import os
import sys
import traceback


def emit(fd: int, score, message: dict, details: dict, json_default=None) -> None:
    """json_default: what json.dumps calls for a value it cannot write (str for scorers whose details may hold
    paths or numpy scalars); None fails on such a value."""
    line = json.dumps({"score": score, "message": message, "details": details}, allow_nan=False, default=json_default)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(fd, (line + "\n").encode())
    os._exit(0)


def describe(e: BaseException) -> str:
    """The exception and its last two frames, at most 1500 characters: enough to say where the submission failed
    without echoing a whole traceback into the agent's message."""
    frames = traceback.format_exception(type(e), e, e.__traceback__)
    return f"{type(e).__name__}: {e}\n" + "".join(frames[-2:])[-1500:]


def json_safe(value):
    """value with every NaN or infinite float replaced by its name as a string ("nan", "inf"): JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
