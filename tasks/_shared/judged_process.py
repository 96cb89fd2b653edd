"""Starts the process that runs the judged code (the submission) and connects the scorer to it.

Scorer runs hold the group that reads the protected area and appends to the official score log; a child of the
scorer inherits it. So where the sandbox offers $REBENCH_AGENT_EXEC, the judged process is started through it: the
sandbox runs the command as an ordinary agent Exec (the agent's user, no protected group). Descriptors cannot pass
through that relay, so the two processes meet at a rendezvous the scorer creates for this run only: a fresh directory
in the environment's /tmp (mode 0750, group the agent's: the scorer user's primary group) holding a copy of the
worker script(s) and a listening Unix socket. The worker connects; the scorer keeps the one connection that proves the
run's secret (below) and removes the socket, so nothing else connects later. Anything the worker needs beyond bytes (a shared-memory file)
is sent over that socket (SCM_RIGHTS). What the worker sees is what the agent may see anyway (the inputs).

Without $REBENCH_AGENT_EXEC (the scorer run directly, as the tests and measure_constants.sh do) the same worker is a
child of the scorer in a session of its own; the result's details say which way it ran ("judged_code_ran").
Kept as identical copies in each scoring folder that uses it (bundles are self-contained; Tasks.Tests checks).

Who connects: the socket is visible to every process of the agent's user, and a daemon the agent left running could
connect before the worker and answer for it. So the scorer makes a fresh random secret per run and hands it to the
worker on its standard input (through the relay's --stdin; never argv, environment or a file the agent can read).
The worker, before anything else, makes itself not dumpable (another process of its user can then neither ptrace it
nor open its /proc/<pid>/fd/0 or mem), reads the secret, connects (connect_worker) and answers the scorer's challenge
(a fresh nonce per connection) with HMAC-SHA256(secret, nonce): the secret never crosses the socket. The scorer
accepts connections until one answers correctly within the connect deadline; every other connection (wrong answer,
silence, hang-up, or one still queued once the worker proved itself) is closed and counted, and any such connection
fails the run (Impersonation): only the worker has a reason to connect, so another connection is an attempt to
answer in its place. The proven connection's SO_PEERCRED is checked (the agent's user when relayed) and its pid and
uid recorded (self.peer). The handshake ends before the scorer's first timed call.
Not closed here: between the exec of the relayed command and the worker's prctl (the shell and Python starting) the
secret waits in the stdin pipe, and a process of the agent's user that polls /proc could open that fd 0 and read it
first. The robbed worker then fails its proof (counted, if it connects before the socket is removed).
"""
import hashlib
import hmac
import json
import os
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

AS_AGENT = "as the agent, through $REBENCH_AGENT_EXEC (no protected group)"
AS_CHILD = "as a child of the scorer, with the scorer's rights: no $REBENCH_AGENT_EXEC (scorer run outside a sandbox)"


def how_it_runs():
    """For the details: how the judged code runs in this scorer run."""
    return AS_AGENT if os.environ.get("REBENCH_AGENT_EXEC") else AS_CHILD


SECRET_BYTES = 32
NONCE_BYTES = 32
PROOF_BYTES = 32  # HMAC-SHA256


class StartFailed(Exception):
    """The judged process did not connect: the message says why (it exited, timed out, or the sandbox refused)."""


class Impersonation(StartFailed):
    """A process other than the worker connected to the rendezvous (or the worker's proof failed): the run is invalid.
    foreign_connections: how many connections failed to prove the secret."""

    def __init__(self, message, foreign_connections):
        super().__init__(message)
        self.foreign_connections = foreign_connections


def _proof(secret, nonce):
    return hmac.new(secret, nonce, hashlib.sha256).digest()


def connect_worker(socket_path):
    """The worker's side of the handshake: the secret from standard input, then connect and answer the challenge.
    The caller has already made its process not dumpable (prctl(PR_SET_DUMPABLE, 0) as its first statement, before
    this module or anything else was imported). Returns the connected socket."""
    secret = b""
    while len(secret) < SECRET_BYTES:
        chunk = os.read(0, SECRET_BYTES - len(secret))
        if not chunk:
            break  # short: the scorer sees a wrong proof and says so
        secret += chunk
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)  # fd 0 again, empty: the submission reads nothing of the secret
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(socket_path)
    nonce = b""
    while len(nonce) < NONCE_BYTES:
        chunk = connection.recv(NONCE_BYTES - len(nonce))
        if not chunk:
            raise ConnectionError("the scorer closed the rendezvous during the handshake")
        nonce += chunk
    connection.sendall(_proof(secret, nonce))
    del secret
    return connection


def _agent_uid():
    """The agent's uid, when relayed: the sandbox relay runs the worker as the agent, whose home the scorer reads.
    None (no uid check, only the secret) when that home is not owned by a third user."""
    try:
        uid = os.stat(os.environ.get("HOME", "/nonexistent")).st_uid
    except OSError:
        return None
    return uid if uid not in (0, os.getuid()) else None


class JudgedProcess:
    """One worker process running judged code, connected over a Unix socket (self.connection)."""

    def __init__(self, scripts, argv, timeout_s, connect_timeout_s, env=None, preexec_fn=None, group=None):
        """scripts: files copied into the rendezvous directory (argv[0] is the name of the one to run, relative to it).
        argv: the worker's arguments after the script; "{socket}" in one is replaced by the rendezvous socket's path.
        timeout_s: the most the worker may live (the relay kills it then); connect_timeout_s: to import and connect.
        preexec_fn and group (outside a sandbox only): a worker that drops to another user reaches the rendezvous
        through that group."""
        self.connection = None
        self.peer = None  # {"pid", "uid", "gid"} of the proven connection (SO_PEERCRED)
        self.foreign_connections = 0
        self._process = None
        self._secret = os.urandom(SECRET_BYTES)
        self._expected_uid = None
        self._relayed = bool(os.environ.get("REBENCH_AGENT_EXEC"))
        self.directory = tempfile.mkdtemp(prefix="rebench-judged-")
        try:
            self._start(scripts, argv, timeout_s, connect_timeout_s, env or {}, preexec_fn, group)
        except BaseException:
            self.close()
            raise

    def _start(self, scripts, argv, timeout_s, connect_timeout_s, env, preexec_fn, group):
        # The agent's user reaches this directory through the group (scorer runs' primary group is the agent's); no
        # one can write into it but the scorer, so the scripts the worker runs are the scorer's copies.
        os.chmod(self.directory, 0o750)
        for source in scripts:
            target = os.path.join(self.directory, os.path.basename(source))
            shutil.copyfile(source, target)
            os.chmod(target, 0o640)
        socket_path = os.path.join(self.directory, "rendezvous.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(socket_path)
            os.chmod(socket_path, 0o660)  # connecting needs write permission on the socket file
            if group is not None and not self._relayed:
                for path in [self.directory, socket_path] + [os.path.join(self.directory, os.path.basename(s)) for s in scripts]:
                    os.chown(path, -1, group)
            listener.listen(1)
            script = os.path.join(self.directory, os.path.basename(scripts[0]))
            args = [sys.executable, script] + [a.replace("{socket}", socket_path) for a in argv]
            if self._relayed:
                self._report = os.path.join(self.directory, "exit.json")
                command = " ".join(shlex.quote(a) for a in args)
                relay = [os.environ["REBENCH_AGENT_EXEC"], "--timeout", str(int(timeout_s)), "--report", self._report,
                         "--stdin"]
                for key, value in env.items():
                    relay += ["--env", f"{key}={value}"]
                # The client relays the worker's stdout and stderr; both go to the scorer's stderr (stdout is the result).
                self._process = subprocess.Popen(relay + [command], stdin=subprocess.PIPE, stdout=2, stderr=2)
                self._expected_uid = _agent_uid()
            else:
                child_env = {k: v for k, v in os.environ.items() if k != "REBENCH_PROTECTED"}
                child_env.update(env)
                # A session of its own, so the whole group (what the submission starts included) can be killed.
                self._process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=2, stderr=2, env=child_env,
                                                 cwd=os.environ.get("HOME", "/"), start_new_session=True,
                                                 preexec_fn=preexec_fn)
                if preexec_fn is None:
                    self._expected_uid = os.getuid()
            # The secret goes only down the worker's stdin (the relay reads it to end of file, hence the close).
            try:
                self._process.stdin.write(self._secret)
                self._process.stdin.close()
            except OSError:
                pass  # it is gone already: _accept reports how it ended
            self.connection = self._accept(listener, connect_timeout_s)
        finally:
            listener.close()
            try:
                os.unlink(socket_path)  # one connection per run: nothing else can connect from now on
            except FileNotFoundError:
                pass

    def _accept(self, listener, timeout_s):
        """Challenges every connection until one proves the secret; the others are closed and counted. Any such
        connection (or a proven peer of the wrong user) is an impersonation attempt and fails the run."""
        deadline = time.monotonic() + timeout_s
        pending = {}  # socket -> (nonce, bytes of the proof received so far)
        proven = None
        try:
            while proven is None:
                readable = select.select([listener] + list(pending), [], [], 0.05)[0]
                for ready in readable:
                    if ready is listener:
                        connection, _ = listener.accept()
                        nonce = os.urandom(NONCE_BYTES)
                        try:
                            connection.sendall(nonce)
                        except OSError:
                            connection.close()
                            self.foreign_connections += 1
                            continue
                        pending[connection] = (nonce, b"")
                        continue
                    nonce, got = pending[ready]
                    try:
                        chunk = ready.recv(PROOF_BYTES - len(got))
                    except OSError:
                        chunk = b""
                    if chunk and len(got) + len(chunk) < PROOF_BYTES:
                        pending[ready] = (nonce, got + chunk)
                        continue
                    del pending[ready]
                    if chunk and proven is None and hmac.compare_digest(got + chunk, _proof(self._secret, nonce)):
                        proven = ready
                    else:
                        ready.close()
                        self.foreign_connections += 1
                if proven is not None:
                    break
                code = self._process.poll()
                if code is not None:
                    self._fail_if_foreign()
                    raise StartFailed(self._ended(code))
                if time.monotonic() > deadline:
                    self._fail_if_foreign()
                    raise StartFailed(f"the process running the solution did not start within {timeout_s:g} s")
            # Whatever else connected or is still queued is not the worker (there is one): counted, never served.
            listener.setblocking(False)
            while True:
                try:
                    extra, _ = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                extra.close()
                self.foreign_connections += 1
        except BaseException:
            if proven is not None:
                proven.close()
            raise
        finally:
            for connection in pending:
                connection.close()
            self.foreign_connections += len(pending)
            pending.clear()
        try:
            self._fail_if_foreign()
            self._check_peer(proven)
        except BaseException:
            proven.close()
            raise
        return proven

    def _fail_if_foreign(self):
        if self.foreign_connections:
            raise Impersonation(
                f"{self.foreign_connections} connection(s) to the scorer's rendezvous socket did not prove the worker's "
                "secret: a process other than the one running the solution tried to answer in its place (or the "
                "worker's secret was taken from it)", self.foreign_connections)

    def _check_peer(self, connection):
        pid, uid, gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        self.peer = {"pid": pid, "uid": uid, "gid": gid}
        if self._expected_uid is not None and uid != self._expected_uid:
            raise Impersonation(f"the process that proved the worker's secret runs as uid {uid}, not the expected "
                                f"{self._expected_uid}", self.foreign_connections)

    def _ended(self, code):
        if self._relayed:
            try:
                with open(self._report) as f:
                    ended = json.load(f)
            except (OSError, ValueError):
                return f"the sandbox refused to run the solution as the agent (agent-exec exit {code}; see the scorer's stderr)"
            if ended.get("timed_out"):
                return "the process running the solution hit its time limit"
            code = ended.get("exit_code", code)
        return f"the process running the solution exited (code {code}) before it was ready"

    def exit_code(self, wait_s=5.0):
        """The worker's exit code once it has ended (None if it still runs after wait_s)."""
        try:
            code = self._process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            return None
        if self._relayed:
            try:
                with open(self._report) as f:
                    return json.load(f).get("exit_code", code)
            except (OSError, ValueError):
                pass
        return code

    def close(self):
        """Ends the worker and everything it started, and removes the rendezvous directory."""
        if self.connection is not None:
            self.connection.close()  # the worker reads end-of-file and exits
            self.connection = None
        if self._process is not None:
            if self._relayed:
                # The relay kills the command's process group when the command exits; a worker that does not exit is
                # killed when the client goes away (the sandbox cancels the Exec once its connection closes).
                try:
                    self._process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            else:
                try:
                    os.killpg(self._process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self._process.wait()
            self._process = None
        shutil.rmtree(self.directory, ignore_errors=True)

