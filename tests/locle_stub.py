"""A local stub of an OpenAI-compatible chat-completions server that misbehaves on request.

The node text of a question says what the stub does (``"RATE ..."``: one 429 first,
``"TRICKLE ..."``: a body one byte at a time, ...); see :func:`make_handler`.
"""
from __future__ import annotations

import collections
import json
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from noisygraph.locle import ClassInfo

CLASSES = [ClassInfo("Database", "storing and querying data"),
           ClassInfo("Data Mining", "finding patterns"),
           ClassInfo("AI", "intelligent agents")]


class StubState:
    """What the stub server saw and how it misbehaves."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = collections.Counter()     # text -> POSTs received
        self.answered = collections.Counter()     # text -> 200 answers sent
        self.authorization = []
        self.paths = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.refuse = set()                        # texts answered with HTTP 401
        self.hang_seconds = 3.0
        self.delay = 0.02                          # seconds before each answer
        self.require_key = None                    # GET /models needs "Bearer <this>"

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.requests.values())


def answer_for(text: str) -> str:
    """The assistant content for a text; the text says what to answer."""
    if text.startswith("MALFORMED"):
        return '{"guesses": [{"label": "Database", "confidence": 80'
    if text.startswith("EMPTY"):
        return ""
    if text.startswith("UNKNOWN"):
        return '{"guesses": [{"label": "Astrology", "confidence": 99}]}'
    if text.startswith("NEGATED"):
        return '{"guesses": [{"label": "Not AI", "confidence": 90}]}'
    if text.startswith("FENCED"):
        return ('Sure!\n```json\n{"guesses": [{"label": "data-mining", '
                '"confidence": "70%"}, {"label": "AI", "confidence": 20}]}\n```')
    label = next((c.name for c in CLASSES if text.endswith(c.name)), "AI")
    return json.dumps({"guesses": [{"label": label, "confidence": 90},
                                   {"label": "AI" if label != "AI" else "Database",
                                    "confidence": 8}]})


USAGE = {  # raw JSON of the "usage" field, by text prefix
    "USAGE-INF": '{"prompt_tokens": Infinity, "completion_tokens": 20}',
    "USAGE-NEG": '{"prompt_tokens": -5, "completion_tokens": 20}',
    "USAGE-FRAC": '{"prompt_tokens": 1.5, "completion_tokens": 20}',
    "USAGE-STR": '{"prompt_tokens": "100", "completion_tokens": 20}',
    "USAGE-HUGE": '{"prompt_tokens": 1e300, "completion_tokens": 20}',
    "USAGE-LIST": '[1, 2]',
    "USAGE-NONE": None,
}


def make_handler(state: StubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def _send_raw(self, status, raw: bytes, headers=None, length=True):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if length:
                self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _send(self, status, body: dict, headers=None):
            self._send_raw(status, json.dumps(body).encode(), headers)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path != "/v1/models":
                self._send(404, {"error": "not found"})
                return
            if state.require_key and self.headers.get("Authorization") != \
                    f"Bearer {state.require_key}":
                self._send(401, {"error": "invalid api key"})
                return
            self._send(200, {"data": [{"id": "stub-model"}]})

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            with state.lock:
                state.paths.append(self.path)
            if path != "/v1/chat/completions":
                self._send(404, {"error": "not found"})
                return
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            text = re.search(r"Text: (.*?)\n\nWhich", payload["messages"][-1]["content"],
                             re.S).group(1)
            with state.lock:
                state.requests[text] += 1
                seen = state.requests[text]
                state.authorization.append(self.headers.get("Authorization"))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                self._respond(text, seen)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _respond(self, text: str, seen: int):
            time.sleep(state.delay)
            if text in state.refuse:
                self._send(401, {"error": "bad key"})
                return
            if text.startswith("RATE") and seen == 1:
                self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
                return
            if text.startswith("ALWAYS429"):
                self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
                return
            if text.startswith("BUSY") and seen == 1:
                self._send(503, {"error": "busy"})
                return
            if text.startswith("HANG"):
                time.sleep(state.hang_seconds)
            if text.startswith("TRICKLEHEAD"):  # the status line itself, a byte at a time
                for byte in b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n" * 100:
                    self.wfile.write(bytes([byte]))
                    time.sleep(0.1)
                return
            if text.startswith("TRICKLE"):  # headers at once, then a byte every 0.1 s
                body = b" " * 400 + json.dumps({"choices": [{"message": {
                    "content": answer_for(text)}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    time.sleep(0.1)
                return
            if text.startswith("HUGE"):
                content = json.dumps({"choices": [{"message": {"content": answer_for(text)}}],
                                      "usage": {"prompt_tokens": 100, "completion_tokens": 20},
                                      "padding": "x" * 2_000_000}).encode()
                if text.startswith("HUGESTREAM"):  # no Content-Length: read until close
                    self._send_raw(200, content, length=False)
                    self.close_connection = True
                else:
                    self._send_raw(200, content)
                return
            if text.startswith("NOTJSON"):
                self._send_raw(200, b"<html>gateway says hi</html>")
                return
            usage = next((raw for prefix, raw in USAGE.items() if text.startswith(prefix)),
                         '{"prompt_tokens": 100, "completion_tokens": 20}')
            content = json.dumps(answer_for(text))
            raw = '{"choices": [{"message": {"role": "assistant", "content": %s}}]%s}' % (
                content, "" if usage is None else f', "usage": {usage}')
            with state.lock:
                state.answered[text] += 1
            self._send_raw(200, raw.encode())

    return Handler


class StubServer:
    """The stub on 127.0.0.1 in a background thread; ``url`` ends in ``/v1``."""

    def __init__(self):
        self.state = StubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
