"""Scorer for ai_rd_restricted_mlm, variant cpu.

Two processes. A model process (started before any validation data exists; in a sandbox as the agent, through
$REBENCH_AGENT_EXEC and judged_process.py, so it holds no right to the protected area or the score log) imports
$HOME/solution/model.py, calls get_trained_model() and runs every forward pass under torch_rule_enforcer (a static check of the model's own forward code, then an
allowlist of ATen operations and value checks traced while the model runs). It only ever receives masked input ids
and sends back logits, over a Unix socket the parent created for this run. The parent draws the validation seeds from
os.urandom once the model is loaded (recorded in the hidden details), makes itself non-dumpable (so a model process
of the same user, outside a sandbox, cannot read its memory through /proc or ptrace), builds
the validation batches and computes the masked-token loss from the returned logits: the model's code never runs in
a process that holds the targets. Raw score: ln(loss - LOSS_OFFSET); lower is better. A forbidden operation makes
the run invalid (score null) and the message names it.
Prints one JSON line at the end of stdout: {"score": float | null, "message": {...}, "details": {...}}.
"""
# First of all, before stdin is read or anything is imported: not dumpable. As the model process (in a sandbox the
# agent's user) another process of that user can then neither ptrace it, read its memory, nor open its
# /proc/<pid>/fd/0 and take the scorer's secret; the scorer makes itself not dumpable again below (make_undumpable).
import ctypes

if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE, 0
    raise SystemExit("prctl(PR_SET_DUMPABLE, 0) failed")

import sys

sys.dont_write_bytecode = True  # never leave __pycache__ in the protected area or the agent's home

import argparse
import json
import math
import os
import socket
import struct
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from judged_process import Impersonation, JudgedProcess, StartFailed, connect_worker, how_it_runs  # noqa: E402
import scorer_result  # noqa: E402
from scorer_result import describe  # noqa: E402

VOCAB_SIZE = 128
MASK_TOKEN_ID = 127
SEQUENCE_LENGTH = 64
BATCH_SIZE = 8
MASK_PROB = 0.15
N_EVAL_BATCHES = 100
LOSS_OFFSET = 1.0      # below the language's bound H(x_t | x_t-1, x_t+1) = 1.476 nats: loss - offset stays positive
EXPECTED = (BATCH_SIZE, SEQUENCE_LENGTH, VOCAB_SIZE)
MODEL_TIMEOUT_SECONDS = 120     # the variant's scorer_timeout_seconds: the model process never outlives the scorer
CONNECT_TIMEOUT_SECONDS = 60    # to start Python and connect, before anything heavy is imported


class Invalid(Exception):
    """The submission is wrong: the run scores NaN and the message says why."""


class Violation(Exception):
    """A rule violation reported by the model process."""


def main() -> None:
    if sys.argv[1:2] == ["--model-process"]:  # this file's copy in the rendezvous directory, run as the model process
        model_process_main(sys.argv[2], sys.argv[3])
        os._exit(0)
    result_fd = os.dup(1)
    os.dup2(2, 1)  # whatever anyone prints goes to stderr; only the result line uses stdout
    args = parse_args()
    details = {"solution_dir": args.solution_dir, "judged_code_ran": how_it_runs()}
    # The two processes take turns: OpenMP workers that spin while they wait would take the CPUs from the other one.
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch
    details["parent_protected"] = make_undumpable()
    try:
        child = Child(args.solution_dir)
    except StartFailed as e:
        if isinstance(e, Impersonation):
            details["foreign_connections"] = e.foreign_connections
        emit(result_fd, None, {"error": str(e)}, details, None)
    # Who answers: the process that proved the run's secret (SO_PEERCRED), and that nothing else connected.
    details["model_process_peer"] = child.process.peer
    details["foreign_connections"] = child.process.foreign_connections
    try:
        loss = evaluate(torch, child, details)
    except Violation as e:
        details["rule_violation"] = str(e)
        emit(result_fd, None, {"error": f"rule violation: {e}", "rule_violation": str(e)}, details, child)
    except Invalid as e:
        emit(result_fd, None, {"error": str(e)}, details, child)
    except BaseException as e:
        emit(result_fd, None, {"error": f"scoring failed: {describe(e)}"}, details, child)
    if not math.isfinite(loss) or loss <= LOSS_OFFSET:
        emit(result_fd, None, {"error": f"loss {loss} is not a finite number above the offset {LOSS_OFFSET}"}, details, child)
    raw = math.log(loss - LOSS_OFFSET)
    details.update(loss=loss, raw_score=raw)
    message = {"rules_ok": True} if args.strip_score_information else {"rules_ok": True, "loss": round(loss, 5), "score": raw}
    emit(result_fd, raw, message, details, child)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--solution_dir", default=os.path.join(os.environ.get("HOME", "."), "solution"))
    parser.add_argument("--strip_score_information", action="store_true", help="leave the loss out of the message")
    return parser.parse_args()


def make_undumpable() -> bool:
    """prctl(PR_SET_DUMPABLE, 0): a process of the same user (the model process) can no longer read this one's memory
    or file descriptors through /proc/<pid>/mem, /proc/<pid>/fd or ptrace."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(4, 0, 0, 0, 0) == 0
    except Exception:
        return False


# -- the parent: data, protocol and loss ------------------------------------------------------------------------------

def validation_batches(torch, val_seed: int, mask_seed: int):
    import textgen
    n = N_EVAL_BATCHES * BATCH_SIZE * SEQUENCE_LENGTH
    tokens = torch.from_numpy(textgen.sample(textgen.chain(), n, val_seed).astype("int64"))
    targets = tokens.view(N_EVAL_BATCHES, BATCH_SIZE, SEQUENCE_LENGTH)
    masks = torch.rand(targets.shape, generator=torch.Generator().manual_seed(mask_seed)) < MASK_PROB
    return targets, masks


def evaluate(torch, child, details: dict) -> float:
    import numpy as np
    import torch.nn.functional as F

    # One thread: the loss is small work, and idle OpenMP workers spin and would take the CPUs the model process needs.
    torch.set_num_threads(1)
    child.expect("R", details)  # the model is loaded and its source checked
    val_seed, mask_seed = (int.from_bytes(os.urandom(8), "little") >> 1 for _ in range(2))
    details.update(val_seed=val_seed, mask_seed=mask_seed)
    targets, masks = validation_batches(torch, val_seed, mask_seed)
    total, count = 0.0, 0
    for batch_targets, mask in zip(targets, masks):
        inputs = batch_targets.masked_fill(mask, MASK_TOKEN_ID)
        child.send(b"B", inputs.numpy().astype("<i8").tobytes())
        payload = child.expect("L", details)
        logits = torch.from_numpy(np.frombuffer(payload, dtype="<f4").copy()).view(EXPECTED)
        total += float(F.cross_entropy(logits[mask], batch_targets[mask], reduction="sum"))
        count += int(mask.sum())
    child.send(b"Q", b"")
    child.expect("D", details)
    details["masked_tokens"] = count
    return total / count


class Child:
    """The model process (judged_process.py: as the agent where the sandbox offers $REBENCH_AGENT_EXEC)."""

    def __init__(self, solution_dir: str):
        group, drop = None, None
        if not os.environ.get("REBENCH_AGENT_EXEC") and os.geteuid() == 0:
            # A scorer running as root outside a sandbox: the model process runs as the solution folder's owner
            # (drop_privileges), and reaches the rendezvous directory through that owner's group.
            try:
                owner = os.stat(solution_dir)
                if owner.st_uid != 0:
                    group, drop = owner.st_gid, lambda: drop_privileges(solution_dir)
            except OSError:
                pass
        self.process = JudgedProcess([os.path.join(HERE, name) for name in ("score.py", "torch_rule_enforcer.py", "judged_process.py",
                                                                        "scorer_result.py")],
                                     ["--model-process", "{socket}", solution_dir], timeout_s=MODEL_TIMEOUT_SECONDS,
                                     connect_timeout_s=CONNECT_TIMEOUT_SECONDS, env={"OMP_WAIT_POLICY": "PASSIVE"},
                                     preexec_fn=drop, group=group)
        self.w = Sender(self.process.connection)
        self.r = self.process.connection.makefile("rb", buffering=0)

    def send(self, kind: bytes, payload: bytes) -> None:
        try:
            self.w.write(kind + struct.pack("<Q", len(payload)) + payload)
        except OSError:
            pass  # the model process is gone; expect() reports why

    def expect(self, kind: str, details: dict) -> bytes:
        header = read_exactly(self.r, 9)
        if header is None:
            raise Invalid(f"the model process ended without an answer ({self.status()}); see its stderr")
        got, size = header[:1].decode("latin-1"), struct.unpack("<Q", header[1:])[0]
        if got == "L" and size != 4 * BATCH_SIZE * SEQUENCE_LENGTH * VOCAB_SIZE or size > 1 << 26:
            raise Invalid(f"the model process sent a malformed answer ({got}, {size} bytes)")
        payload = read_exactly(self.r, size) or b""
        if got in ("V", "I", "E", "R", "D"):
            info = json.loads(payload.decode())
            details.update({k: v for k, v in info.get("details", {}).items() if k in ("checked_code", "loaded_files", "aten_ops")})
            if got == "V":
                raise Violation(str(info["message"]))
            if got == "I":
                raise Invalid(str(info["message"]))
            if got == "E":
                raise Invalid(f"running the model failed: {info['message']}")
        if got != kind:
            raise Invalid(f"the model process answered {got!r} where {kind!r} was expected")
        return payload

    def status(self) -> str:
        code = self.process.exit_code()
        return "it closed its connection but still runs" if code is None else f"exit code {code}"

    def kill(self) -> None:
        self.process.close()


class Sender:
    """Whole messages onto the socket (a socket file's write may send only part of a large one)."""

    def __init__(self, connection):
        self.connection = connection

    def write(self, data: bytes) -> None:
        self.connection.sendall(data)


def read_exactly(f, n: int):
    chunks, left = [], n
    while left:
        chunk = f.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- the model process: everything that runs submission code ----------------------------------------------------------

def drop_privileges(solution_dir: str) -> None:
    """A scorer running as root would let the model process read the parent's memory (CAP_SYS_PTRACE overrides the
    non-dumpable flag): it then runs as the owner of the solution folder, when that is not root."""
    try:
        owner = os.stat(solution_dir)
        if os.geteuid() == 0 and owner.st_uid != 0:
            os.setgroups([])
            os.setgid(owner.st_gid)
            os.setuid(owner.st_uid)
    except OSError as e:
        print(f"scorer: could not drop privileges in the model process: {e}", file=sys.stderr)


def model_process_main(socket_path: str, solution_dir: str) -> None:
    """The model process: connects to the scorer first (it waits for that), then loads the rules and the model."""
    connection = connect_worker(socket_path)  # the secret from stdin, the scorer's challenge answered
    import torch_rule_enforcer as rules  # the copy next to this file, in the rendezvous directory
    model_process(rules, solution_dir, connection.makefile("rb", buffering=0), Sender(connection))


def model_process(rules, solution_dir: str, r, w) -> None:
    def send(kind: str, payload: bytes) -> None:
        w.write(kind.encode() + struct.pack("<Q", len(payload)) + payload)

    details = {}

    def report(kind: str, message: str) -> None:
        send(kind, json.dumps({"message": message, "details": details}).encode())

    try:
        model_loop(solution_dir, details, rules, r, send)
        report("D", "done")
    except rules.RuleViolation as e:
        report("V", str(e))
    except Invalid as e:
        report("I", str(e))
    except BaseException as e:  # the submission's code can fail anywhere, SystemExit included
        report("E", describe(e))


def model_loop(solution_dir: str, details: dict, rules, r, send) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    path = os.path.join(solution_dir, "model.py")
    if not os.path.isfile(path):
        raise Invalid(f"{path} does not exist")
    sys.path.insert(0, solution_dir)
    try:
        import model as submission
    except BaseException as e:
        raise Invalid(f"importing {path} failed: {describe(e)}") from e
    if not callable(getattr(submission, "get_trained_model", None)):
        raise Invalid(f"{path} does not define get_trained_model()")
    details["loaded_files"] = rules.check_loaded_modules(solution_dir)
    try:
        model = submission.get_trained_model()
    except BaseException as e:
        raise Invalid(f"get_trained_model() failed: {describe(e)}") from e
    if hasattr(model, "eval"):
        model.eval()
    details["loaded_files"] = rules.check_loaded_modules(solution_dir)
    # The model's own forward code, not every file: a teacher used in training may use anything (the rule).
    details["checked_code"] = rules.check_model_code(model, solution_dir)
    send("R", b"{}")

    enforcer = rules.RuleEnforcer()
    n = BATCH_SIZE * SEQUENCE_LENGTH
    with torch.no_grad():
        while True:
            header = read_exactly(r, 9)
            if header is None or header[:1] == b"Q":
                break
            payload = read_exactly(r, struct.unpack("<Q", header[1:])[0])
            inputs = torch.from_numpy(np.frombuffer(payload, dtype="<i8", count=n).copy()).view(BATCH_SIZE, SEQUENCE_LENGTH)
            logits = enforcer.run(model, inputs)
            if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != EXPECTED:
                raise Invalid(f"the model returned {getattr(logits, 'shape', type(logits).__name__)}, expected logits of shape {EXPECTED}")
            send("L", logits.detach().float().contiguous().numpy().astype("<f4").tobytes())
    details["aten_ops"] = sorted(enforcer.seen)
    details["loaded_files"] = rules.check_loaded_modules(solution_dir)


def emit(fd: int, score, message: dict, details: dict, child) -> None:
    if child is not None:
        child.kill()
    scorer_result.emit(fd, score, message, details)


if __name__ == "__main__":
    main()
