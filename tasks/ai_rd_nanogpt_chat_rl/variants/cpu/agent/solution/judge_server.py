"""The cpu variant's judge: a deterministic stand-in for llama-3-8b-instruct, served on 127.0.0.1 with the OpenAI
chat-completions protocol. It reads a pairwise-comparison prompt (format below) and answers "A", "B" or "tie"
from world.rubric: the correct fact counts most, a wrong fact costs, a short clean sentence helps.

    Question: <question>
    Response A: <text>
    Response B: <text>

    /usr/bin/python3 judge_server.py [PORT]     (prints the base URL; PORT 0 or absent = any free port)
"""
import sys

sys.dont_write_bytecode = True

import http.server
import json
import os
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402

JUDGE_PROMPT = ("Which response answers the question better? Reply with exactly A, B or tie.\n\n"
                "Question: {question}\nResponse A: {a}\nResponse B: {b}")


def _field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line[len(name) + 1:].strip()
    return None


def answer(body):
    messages = body.get("messages") or []
    text = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
    q, a, b = _field(text, "Question"), _field(text, "Response A"), _field(text, "Response B")
    verdict = "tie" if None in (q, a, b) else world.judge(q, a, b)
    return {"id": "judge", "object": "chat.completion", "model": body.get("model", "judge"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": verdict}}]}


def serve(port=0):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status, reply = (200, answer(body)) if self.path.rstrip("/").endswith("/chat/completions") else (404, {})
            except ValueError:
                status, reply = 400, {"error": {"message": "the body is not JSON"}}
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def compare(base_url, question, a, b, model="judge"):
    """Asks the judge at base_url; returns 'A', 'B' or 'tie'."""
    body = {"model": model, "temperature": 0,
            "messages": [{"role": "user", "content": JUDGE_PROMPT.format(question=question, a=a, b=b)}]}
    request = urllib.request.Request(base_url.rstrip("/") + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + os.environ.get("JUDGE_API_KEY", "local")})
    with urllib.request.urlopen(request, timeout=60) as response:
        content = json.loads(response.read())["choices"][0]["message"]["content"].strip()
    return "A" if content.upper().startswith("A") else "B" if content.upper().startswith("B") else "tie"


if __name__ == "__main__":
    _, url = serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(url, flush=True)
    threading.Event().wait()
