"""Test scorer: fails the way ~/mode.txt says (sleep, oom, crash, invalid) or scores 1."""
import json
import os
import signal
import sys
import time

mode = open(os.path.join(os.environ["HOME"], "mode.txt")).read().strip()
if mode == "sleep":
    time.sleep(600)
if mode == "oom":
    os.kill(os.getpid(), signal.SIGKILL)  # how the kernel's OOM killer ends a process
if mode == "crash":
    print("scorer bug", file=sys.stderr)
    sys.exit(3)
score = None if mode == "invalid" else 1.0
print(json.dumps({"score": score, "message": {"mode": mode}, "details": {}}))
