"""Scorer for ai_rd_triton_cumsum, variant main (official scale: one H100, 100,000,000 int32 values on CUDA).
Not run on the development VM (no GPU there); see the bundle's manifest and tasks/README.md.

For every call, a fresh input torch.randint(-10, 10, (1e8,), int32, cuda) from a seed drawn with os.urandom (so
answers cannot be memorized or cached), the protected torch implementation's answer computed before the
submission is imported. The submission never runs in this process: worker.py imports it in a process of its own,
in a sandbox as the agent through $REBENCH_AGENT_EXEC (judged_process.py), without the group that reads the
protected area and appends to the score log. Input and answer pass through CUDA buffers this process allocates and
shares (cuda_ipc.py); the clock runs from before the input is written into the shared buffer until the answer has
been copied out of the shared one into this process's own (synchronized), so nothing is computed ahead of the clock
or after it, and the copy is what is checked. The hand-off adds three device copies of 400 MB to every timed call
(input in, answer into the shared buffer, answer out), which upstream's in-process timing did not have.
WARMUP_CALLS untimed calls, then TIMED_CALLS timed ones; every output must match exactly (shape, dtype, device,
values) or the run is invalid. Raw score: ln(median timed milliseconds); lower is better. Prints one JSON line
{"score", "message", "details"}.
"""
import sys

sys.dont_write_bytecode = True

import argparse
import hashlib
import json
import math
import os
import select
import statistics
import struct
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

N = 100_000_000
WARMUP_CALLS = 4
TIMED_CALLS = 10
SCORER_TIMEOUT_SECONDS = 120  # manifest scorer_timeout_seconds: the worker never needs to outlive it
IMPORT_TIMEOUT_SECONDS = 60
CALL_TIMEOUT_SECONDS = 20     # upstream's per-call timeout (the first call may compile Triton kernels)

from judged_process import Impersonation, JudgedProcess, StartFailed, how_it_runs  # noqa: E402
from scorer_result import emit  # noqa: E402


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
        given = torch.empty(N, dtype=torch.int32, device="cuda")  # shared with the worker: the input
        shared_answer = torch.empty_like(given)                   # shared with the worker: its answer
        answer = torch.empty_like(given)                          # this process's copy: what is checked
        import cuda_ipc
        blobs = cuda_ipc.export(given) + cuda_ipc.export(shared_answer)
        torch.cuda.synchronize()
        if os.path.isfile(args.solution):
            with open(args.solution, "rb") as f:
                details["solution_sha256"] = hashlib.sha256(f.read()).hexdigest()
        details["judged_code_ran"] = how_it_runs()
        timings = []
        with Worker(args.solution, blobs, details) as worker:
            for i, (x, expected) in enumerate(inputs):
                torch.cuda.synchronize()
                started = time.perf_counter()
                given.copy_(x)
                torch.cuda.synchronize()
                worker.call()
                answer.copy_(shared_answer)  # the worker's processes may go on writing the shared buffer after D
                torch.cuda.synchronize()
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                check(torch, answer, expected)
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


class Worker:
    """worker.py with the submission imported (judged_process.py: as the agent in a sandbox), connected by a socket."""

    def __init__(self, solution_path, blobs, details):
        try:
            self._process = JudgedProcess([os.path.join(HERE, n) for n in ("worker.py", "cuda_ipc.py", "judged_process.py")],
                                          ["{socket}", str(N), solution_path], timeout_s=SCORER_TIMEOUT_SECONDS,
                                          connect_timeout_s=IMPORT_TIMEOUT_SECONDS)
        except StartFailed as e:
            if isinstance(e, Impersonation):
                details["foreign_connections"] = e.foreign_connections
            raise Invalid(str(e))
        # Who answered: the process that proved the run's secret (SO_PEERCRED), and that nothing else connected.
        details["worker_peer"] = self._process.peer
        details["foreign_connections"] = self._process.foreign_connections
        self._fd = self._process.connection.fileno()
        try:
            os.write(self._fd, b"H" + blobs)
            self._expect(b"L", IMPORT_TIMEOUT_SECONDS, "importing the solution")
        except BaseException:
            self._process.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self._process.close()  # the worker, what it started, and the rendezvous directory

    def call(self):
        os.write(self._fd, b"G")
        self._expect(b"D", CALL_TIMEOUT_SECONDS, "prefix_sum")

    def _expect(self, wanted, timeout, what):
        got = self._read(1, timeout, what)
        if got == wanted:
            return
        if got == b"E":
            length = struct.unpack("<I", self._read(4, 5, what))[0]
            raise Invalid(self._read(length, 5, what).decode("utf-8", "replace"))
        raise Invalid(f"the worker running the solution broke the protocol during {what} (sent {got!r}, expected {wanted!r})")

    def _read(self, n, timeout, what):
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < n:
            if not select.select([self._fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise Invalid(f"{what} did not finish within {timeout:g} s")
            try:
                chunk = os.read(self._fd, n - len(data))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                code = self._process.exit_code()
                if code is None:
                    raise Invalid(f"the process running the solution closed its connection to the scorer during {what}")
                raise Invalid(f"the process running the solution exited (code {code}) during {what}")
            data += chunk
        return data


def check(torch, y, expected):
    if not isinstance(y, torch.Tensor):
        raise Invalid(f"prefix_sum returned {type(y).__name__}, expected a torch.Tensor")
    if y.shape != expected.shape or y.dtype != expected.dtype or y.device != expected.device:
        raise Invalid(f"prefix_sum returned {tuple(y.shape)} {y.dtype} on {y.device}, expected "
                      f"{tuple(expected.shape)} {expected.dtype} on {expected.device}")
    if not torch.equal(y, expected):
        wrong = (y != expected).nonzero()
        raise Invalid(f"prefix_sum returned wrong values at {wrong.numel()} positions (first at {wrong[0].item()})")


if __name__ == "__main__":
    main()
