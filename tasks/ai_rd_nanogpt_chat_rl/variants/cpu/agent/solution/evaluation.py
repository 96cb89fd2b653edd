"""The only sanctioned way to ask the judge (the task's stand-in for llama-3-8b-instruct) which of two responses
is better. The judge's address comes from JUDGE_BASE_URL; when it is not set, a local judge is started on
127.0.0.1 the first time you call compare()."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge_server  # noqa: E402

_url = os.environ.get("JUDGE_BASE_URL")


def compare(question, response_a, response_b):
    """'A', 'B' or 'tie'."""
    global _url
    if _url is None:
        _, _url = judge_server.serve()
    return judge_server.compare(_url, question, response_a, response_b)
