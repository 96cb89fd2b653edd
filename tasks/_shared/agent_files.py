"""Reading what the agent produced as data, never as code, and never a protected file in its place.

A scorer run has the group `protected`. Two ways the agent's files could borrow that right:
- a pickle: unpickling runs whatever callable the file names (torch.load without weights_only=True, np.load with
  allow_pickle), as the scorer. So checkpoints are unpickled with weights_only=True (tensors and plain containers
  only; anything else is refused before it runs), and a model folder a library loads (transformers) is first copied
  to a private folder and every pickle in it checked the same way.
- a link: a path the agent controls could be a symlink or a hard link to a protected file, which the scorer would
  then read for it (and echo in an error message or a hash). So a file is opened once, accepted only when it is a
  regular file owned by the owner of the home (the agent; the protected area is root's), and read from that
  descriptor: swapping the path afterwards changes nothing.
One module, copied into each scoring folder that needs it (a scorer sees only its own folder);
tests/Tasks.Tests/BundleCopiesTests.cs keeps the copies identical.
"""
import io
import os
import shutil
import stat
import tempfile

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since 1.6
PICKLE_MAGIC = b"\x80"     # a pickle of protocol 2 or later (torch's legacy format starts with one)


class NotData(Exception):
    """The agent's file cannot be read as data: the message says why (for the agent to see)."""


def agent_uid():
    """The owner of the home: the agent in the platform's sandbox (the scorer is another user)."""
    return os.stat(os.environ.get("HOME", ".")).st_uid


def read_agent_file(path, limit_bytes=None):
    """The bytes of path, a regular file of the agent's (not a link to someone else's file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as e:
        raise NotData(f"{path} cannot be opened: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotData(f"{path} is not a regular file")
        if st.st_uid != agent_uid():
            raise NotData(f"{path} is not the agent's own file (owner uid {st.st_uid}); links to other files are refused")
        if limit_bytes is not None and st.st_size > limit_bytes:
            raise NotData(f"{path} is larger than {limit_bytes} bytes")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def load_torch(source):
    """A checkpoint (path of the agent's file, or its bytes) unpickled as data only: no callable of the file runs."""
    import torch
    content = read_agent_file(source) if isinstance(source, str) else source
    try:
        return torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - whatever the file holds, it is the submission's fault
        raise NotData(f"not a checkpoint torch.load can read as data (weights_only=True): {type(e).__name__}: {str(e)[:300]}") from e


def copy_agent_tree(source, destination=None):
    """A private copy (0700, this user's) of the agent's folder: regular files and folders only, each read as
    read_agent_file does. Libraries then load the copy, which nobody else can change while they do."""
    destination = destination or tempfile.mkdtemp(prefix="rebench-agent-copy-")
    try:
        st = os.lstat(source)
    except OSError as e:
        raise NotData(f"{source} cannot be read: {e.strerror}") from e
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != agent_uid():
        raise NotData(f"{source} is not a folder of the agent's own")
    for root, dirs, files in os.walk(source, followlinks=False):
        relative = os.path.relpath(root, source)
        target = os.path.normpath(os.path.join(destination, relative))
        os.makedirs(target, mode=0o700, exist_ok=True)
        for name in dirs:
            if os.path.islink(os.path.join(root, name)):
                raise NotData(f"{os.path.join(root, name)} is a symbolic link; the folder must hold its own files")
        for name in files:
            with open(os.path.join(target, name), "xb") as f:
                f.write(read_agent_file(os.path.join(root, name)))
    return destination


def check_data_only(folder):
    """Refuses a folder (a private copy) holding a pickle that is more than data: every file named like a checkpoint
    or starting like a pickle or a torch zip must load with weights_only=True."""
    for root, _, files in os.walk(folder, followlinks=False):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                head = f.read(4)
            if name.endswith(PICKLE_SUFFIXES) or head.startswith(ZIP_MAGIC) or head.startswith(PICKLE_MAGIC):
                with open(path, "rb") as f:
                    content = f.read()
                try:
                    load_torch(content)
                except NotData as e:
                    raise NotData(f"{os.path.relpath(path, folder)}: {e}") from e


def private_model_folder(source):
    """The agent's model folder copied privately and checked to hold only data; the caller removes it (remove())."""
    copy = copy_agent_tree(source)
    try:
        check_data_only(copy)
    except BaseException:
        remove(copy)
        raise
    return copy


def remove(folder):
    shutil.rmtree(folder, ignore_errors=True)
