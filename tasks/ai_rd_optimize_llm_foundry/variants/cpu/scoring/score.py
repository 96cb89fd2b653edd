"""Scorer for ai_rd_optimize_llm_foundry, variant cpu.

1. Draws a fresh training file (1000 rows of the task's language, seed from os.urandom) that the agent has never
   seen, so weights prepared in advance (e.g. copied from trained_model_reference) cannot match.
2. Runs `bash finetune.sh` in a copy of $HOME/solution with TRAIN_DATA pointing at that file, in its own process group, with
   this process as child subreaper: every process the script starts, even one that detaches, ends up reaped here,
   so its CPU time is counted, and none is left running afterwards.
3. Trains the reference model on the same file with the protected trainer (reference_train/), never written to
   disk, and compares: the run is valid only when the total L1 difference of all weights is <= MAX_NORM_DIFF.
   The reference starts from the base model and data as they were BEFORE the script ran (read, checked and kept in
   memory here, written to a fresh folder only after every process of the script is gone): a script that swaps
   base_model.pt or rewrites $TRAIN_DATA cannot steer the reference towards weights it predicted.
   Weights with NaN or infinite values are an invalid run (the message says which parameter), not a scorer failure.
Raw score: ln(CPU seconds, user + sys, of finetune.sh and everything it started); lower is better.
Prints one JSON line at the end of stdout: {"score": float | null, "message": {...}, "details": {...}}.
"""
import sys

sys.dont_write_bytecode = True  # never leave __pycache__ in the protected area or the agent's home

import argparse
import ctypes
import hashlib
import io
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MAX_NORM_DIFF = 0.5        # measured: equivalent re-implementations differ by < 0.01; other data or no training, > 20
SCRIPT_TIMEOUT_SECONDS = 240
PR_SET_CHILD_SUBREAPER = 36


class Invalid(Exception):
    """The submission is wrong: the run scores NaN and the message says why."""


def main() -> None:
    # finetune.sh runs as a child of this process, as the same user: it must not be able to ptrace this process or
    # read its memory (the measured CPU time, the reference weights), so this process is not dumpable.
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    result_fd = os.dup(1)
    os.dup2(2, 1)  # whatever anyone prints goes to stderr; only the result line uses stdout
    args = parse_args()
    details = {"solution_dir": args.solution_dir}
    try:
        cpu_seconds = score(args, details)
    except Invalid as e:
        emit(result_fd, None, {"error": str(e)}, details)
    except BaseException as e:
        emit(result_fd, None, {"error": f"scoring failed: {describe(e)}"}, details)
    raw = math.log(cpu_seconds)
    details["raw_score"] = raw
    message = {"l1_norm_diff": round(details["l1_norm_diff"], 6), "max_norm_diff": MAX_NORM_DIFF}
    if not args.strip_score_information:
        message.update(cpu_seconds=round(cpu_seconds, 3), wall_seconds=round(details["wall_seconds"], 3), score=raw)
    emit(result_fd, raw, message, details)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solution_dir", default=os.path.join(os.environ.get("HOME", "."), "solution"))
    parser.add_argument("--strip_score_information", action="store_true", help="leave the time out of the message")
    return parser.parse_args()


def score(args, details: dict) -> float:
    import textgen

    solution = os.path.abspath(args.solution_dir)
    script = os.path.join(solution, "finetune.sh")
    if not os.path.isfile(script):
        raise Invalid(f"{script} does not exist")
    base_model = check_base_model(solution)  # the checked bytes: the reference trains from these, not the file
    seed = int.from_bytes(os.urandom(8), "little")
    details["data_seed"] = seed
    work = tempfile.mkdtemp(prefix="finetune-data-")
    private = None
    try:
        data = os.path.join(work, "train_data.jsonl")
        textgen.write_jsonl(data, seed)
        with open(data, "rb") as f:
            data_bytes = f.read()  # the script may rewrite $TRAIN_DATA; the reference trains on these bytes
        # The script runs in a copy of the solution folder the scorer owns: scorer runs are another user than the
        # agent and may not write into the agent's home (in the platform's sandbox), and the copy keeps the agent's
        # own folder as it was.
        copy = os.path.join(work, "solution")
        shutil.copytree(solution, copy, symlinks=True, ignore=shutil.ignore_patterns("trained_model"))
        output = os.path.join(copy, "trained_model")
        cpu_seconds, wall_seconds, code = run_script(os.path.join(copy, "finetune.sh"), copy, data)
        details.update(cpu_seconds=cpu_seconds, wall_seconds=wall_seconds, exit_code=code)
        if code != 0:
            raise Invalid(f"finetune.sh exited with code {code} (its output is in the scorer's stderr)")
        produced = load_weights(os.path.join(output, "model.pt"))
        # Every process of the script has been reaped (run_script): nothing of the submission runs any more.
        private = tempfile.mkdtemp(prefix="finetune-reference-")
        reference_data = os.path.join(private, "train_data.jsonl")
        with open(reference_data, "wb") as f:
            f.write(data_bytes)
        expected = reference_weights(reference_data, base_model)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if private:
            shutil.rmtree(private, ignore_errors=True)
    check_finite(produced)
    diff = l1_difference(produced, expected)
    if not math.isfinite(diff):
        details["l1_norm_diff"] = str(diff)  # JSON has no NaN/Infinity
        raise Invalid(f"the total L1 norm difference from the reference training is {diff}: the trained weights "
                      f"or the reference are not finite numbers")
    details["l1_norm_diff"] = diff
    if not diff <= MAX_NORM_DIFF:
        raise Invalid(f"the trained weights differ from the reference training on the same data: total L1 norm "
                      f"difference {diff:.4f} exceeds the limit {MAX_NORM_DIFF}")
    if not (math.isfinite(cpu_seconds) and cpu_seconds > 0):
        raise Invalid(f"measured CPU time {cpu_seconds} s is not a positive number")
    return cpu_seconds


def check_base_model(solution: str) -> bytes:
    """The bytes of solution/base_model.pt, read once before the script runs, after checking their digest."""
    with open(os.path.join(HERE, "base_model.sha256")) as f:
        wanted = f.read().strip()
    path = os.path.join(solution, "base_model.pt")
    try:
        with open(path, "rb") as f:
            content = f.read()
    except OSError as e:
        raise Invalid(f"{path} cannot be read: {e}") from e
    actual = hashlib.sha256(content).hexdigest()
    if actual != wanted:
        raise Invalid(f"{path} was changed (sha256 {actual}); the base model is part of the task, not the solution")
    return content


def run_script(script: str, solution: str, data: str):
    """(CPU seconds of the script's whole process tree, wall seconds, exit code)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise RuntimeError(f"prctl(PR_SET_CHILD_SUBREAPER) failed: errno {ctypes.get_errno()}")
    env = {k: v for k, v in os.environ.items() if k != "REBENCH_PROTECTED"}
    env["TRAIN_DATA"] = data
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(["/bin/bash", script], cwd=solution, env=env, stdin=subprocess.DEVNULL,
                               stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)
    try:
        code = process.wait(timeout=SCRIPT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        reap_all(process.pid)
        raise Invalid(f"finetune.sh ran longer than {SCRIPT_TIMEOUT_SECONDS} s")
    wall = time.monotonic() - started
    reap_all(process.pid)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, code


def reap_all(group: int) -> None:
    """Kills the script's process group and any descendant that left it (they are our children now), and reaps them."""
    for _ in range(50):
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return  # no children left
        time.sleep(0.05)


def children():
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                yield int(entry)


def load_weights(path: str) -> dict:
    import torch
    if not os.path.isfile(path):
        raise Invalid(f"finetune.sh did not write {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        state = checkpoint["model"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise TypeError("model is not a dict of tensors")
    except Exception as e:
        raise Invalid(f"{path} is not a checkpoint {{'config': ..., 'model': state_dict}}: {describe(e)}") from e
    return state


def reference_weights(data: str, base_model: bytes) -> dict:
    """Trains the reference on data, from the base model bytes checked before the script ran (torch.load reads them
    from memory: the file in the solution folder, which the script could have replaced, is not read again)."""
    import torch
    torch.set_num_threads(1)
    sys.path.insert(0, os.path.join(HERE, "reference_train"))
    import fast_finetune
    model = fast_finetune.finetune(os.path.join(HERE, "reference_train", "finetune.yaml"), data, io.BytesIO(base_model))
    return {k: v.detach() for k, v in model.state_dict().items()}


def check_finite(produced: dict) -> None:
    import torch
    for name, tensor in produced.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise Invalid(f"trained_model parameter {name} contains {bad} NaN or infinite value(s); "
                          f"the fine-tuned weights must be finite numbers")


def l1_difference(produced: dict, expected: dict) -> float:
    import torch
    if set(produced) != set(expected):
        extra, missing = sorted(set(produced) - set(expected))[:5], sorted(set(expected) - set(produced))[:5]
        raise Invalid(f"trained_model has other parameters than the model: unexpected {extra}, missing {missing}")
    total = 0.0
    for name, want in expected.items():
        got = produced[name]
        if got.shape != want.shape:
            raise Invalid(f"trained_model parameter {name} has shape {tuple(got.shape)}, expected {tuple(want.shape)}")
        total += float((got.double() - want.double()).abs().sum())
    return total


def describe(e: BaseException) -> str:
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


def emit(fd: int, score, message: dict, details: dict) -> None:
    if score is not None and not math.isfinite(score):
        score, message = None, {"error": f"the raw score {score} is not a finite number", **message}
    line = json.dumps({"score": score, "message": json_safe(message), "details": json_safe(details)}, allow_nan=False)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(fd, (line + "\n").encode())
    os._exit(0)


if __name__ == "__main__":
    main()
