"""The OpenAI-compatible annotator against a local stub chat-completions server."""
import collections
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from noisygraph.locle import AnnotatorError, ClassInfo, OpenAIAnnotator
from noisygraph.locle.openai_annotator import _retry_after_seconds

CLASSES = [ClassInfo("Database", "storing and querying data"),
           ClassInfo("Data Mining", "finding patterns"),
           ClassInfo("AI", "intelligent agents")]


class StubState:
    """What the stub server saw and how it misbehaves."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = collections.Counter()     # text -> requests received
        self.answered = collections.Counter()     # text -> 200 answers sent
        self.authorization = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.refuse = set()                        # texts answered with HTTP 401
        self.hang_seconds = 3.0


def answer_for(text: str) -> tuple[int, dict, str]:
    """(status, headers, assistant content) for a text; the text says what to do."""
    if text.startswith("MALFORMED"):
        return 200, {}, '{"guesses": [{"label": "Database", "confidence": 80'
    if text.startswith("EMPTY"):
        return 200, {}, ""
    if text.startswith("UNKNOWN"):
        return 200, {}, '{"guesses": [{"label": "Astrology", "confidence": 99}]}'
    if text.startswith("FENCED"):
        return 200, {}, ('Sure!\n```json\n{"guesses": [{"label": "data-mining", '
                         '"confidence": "70%"}, {"label": "AI", "confidence": 20}]}\n```')
    label = next((c.name for c in CLASSES if text.endswith(c.name)), "AI")
    return 200, {}, json.dumps({"guesses": [{"label": label, "confidence": 90},
                                            {"label": "AI" if label != "AI" else "Database",
                                             "confidence": 8}]})


def make_handler(state: StubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def _send(self, status, body: dict, headers=None):
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            if self.path != "/v1/chat/completions":
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
                time.sleep(0.02)
                if text in state.refuse:
                    self._send(401, {"error": "bad key"})
                    return
                if text.startswith("RATE") and seen == 1:
                    self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
                    return
                if text.startswith("BUSY") and seen == 1:
                    self._send(503, {"error": "busy"})
                    return
                if text.startswith("HANG"):
                    time.sleep(state.hang_seconds)
                status, headers, content = answer_for(text)
                with state.lock:
                    state.answered[text] += 1
                self._send(status, {"choices": [{"message": {"role": "assistant",
                                                             "content": content}}],
                                    "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
                           headers)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with state.lock:
                    state.in_flight -= 1

    return Handler


@pytest.fixture
def stub():
    state = StubState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    server.shutdown()
    server.server_close()


def annotator(url, tmp_path, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5.0)
    return OpenAIAnnotator(url, "stub-model", api_key_env="NOISYGRAPH_TEST_KEY",
                           cache_dir=tmp_path / "answers", **kw)


def test_good_answers_tokens_and_cost(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, prompt_price_per_1m=1.0, completion_price_per_1m=2.0)
    texts = ["paper about Database", "paper about Data Mining", "paper about AI"]
    answers = client.annotate(texts, [0, 1, 2], CLASSES, verbose=False)
    assert [a.label for a in answers] == [0, 1, 2]
    assert all(a.confidence == pytest.approx(0.9) for a in answers)
    assert answers[0].top_k == [(0, pytest.approx(0.9)), (2, pytest.approx(0.08))]
    assert all(a.tokens == 120 and not a.cached for a in answers)
    assert answers[0].cost_usd == pytest.approx((100 * 1.0 + 20 * 2.0) / 1e6)
    assert client.usage.queries == 3 and client.usage.tokens == 360
    assert client.usage.cost_usd == pytest.approx(3 * 140e-6)


def test_malformed_empty_unknown_and_fuzzy_answers(stub, tmp_path):
    url, _ = stub
    client = annotator(url, tmp_path)
    answers = client.annotate(["MALFORMED 1", "EMPTY 1", "UNKNOWN 1", "FENCED 1"],
                              [0, 1, 2, 3], CLASSES, verbose=False)
    assert [a.label for a in answers[:3]] == [-1, -1, -1]
    assert "JSON" in answers[0].error
    assert "empty" in answers[1].error
    assert "Astrology" in answers[2].error
    # fenced JSON, a differently spelled label and a confidence given as "70%"
    assert answers[3].label == 1 and answers[3].confidence == pytest.approx(0.7)
    # unusable answers were still paid for
    assert client.usage.queries == 4


def test_rate_limit_and_server_errors_are_retried(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, max_retries=2)
    answers = client.annotate(["RATE Database", "BUSY AI"], [0, 1], CLASSES, verbose=False)
    assert [a.label for a in answers] == [0, 2]
    assert state.requests["RATE Database"] == 2 and state.requests["BUSY AI"] == 2
    assert client.usage.queries == 2  # one question each, whatever the retries


def test_hanging_server_times_out(stub, tmp_path):
    url, state = stub
    state.hang_seconds = 3.0
    client = annotator(url, tmp_path, timeout=0.3, max_retries=1)
    answers = client.annotate(["HANG forever"], [0], CLASSES, verbose=False)
    assert answers[0].label == -1
    assert "gave up after 2 attempts" in answers[0].error
    assert "timed out" in answers[0].error.lower() or "timeout" in answers[0].error.lower()
    assert state.requests["HANG forever"] == 2
    assert client.usage.failures == 1


def test_budget_never_exceeded_under_concurrency(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, max_queries=7, max_workers=8)
    texts = [f"text {i} Database" for i in range(30)]
    answers = client.annotate(texts, list(range(30)), CLASSES, verbose=False)
    assert sum(state.requests.values()) == 7
    assert sum(a.ok for a in answers) == 7
    assert all(a.error == "query budget exhausted" for a in answers if not a.ok)
    assert state.max_in_flight > 1  # the requests really ran concurrently
    assert client.queries_left == 0
    # nothing more is sent later either
    more = client.annotate(["another Database"], [31], CLASSES, verbose=False)
    assert not more[0].ok and sum(state.requests.values()) == 7


def test_cache_rerun_pays_nothing(stub, tmp_path):
    url, state = stub
    texts = [f"cached {i} AI" for i in range(6)]
    first = annotator(url, tmp_path, prompt_price_per_1m=1.0).annotate(
        texts, list(range(6)), CLASSES, verbose=False)
    assert sum(state.requests.values()) == 6
    again = annotator(url, tmp_path, prompt_price_per_1m=1.0, max_queries=0)
    second = again.annotate(texts, list(range(6)), CLASSES, verbose=False)
    assert sum(state.requests.values()) == 6  # nothing sent
    assert [a.label for a in second] == [a.label for a in first]
    assert all(a.cached and a.cost_usd == 0.0 and a.tokens == 120 for a in second)
    assert again.usage.cache_hits == 6 and again.usage.cost_usd == 0.0


def test_duplicate_questions_in_one_batch_are_asked_once(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path)
    answers = client.annotate(["same AI"] * 4, [0, 1, 2, 3], CLASSES, verbose=False)
    assert state.requests["same AI"] == 1
    assert [a.node for a in answers] == [0, 1, 2, 3] and all(a.label == 2 for a in answers)


def test_crash_and_resume_never_pays_twice(stub, tmp_path):
    url, state = stub
    texts = [f"resume {i} Database" for i in range(12)]
    state.refuse.add(texts[7])  # the server rejects one question: the run aborts
    with pytest.raises(AnnotatorError, match="401"):
        annotator(url, tmp_path, max_workers=3).annotate(texts, list(range(12)), CLASSES,
                                                         verbose=False)
    paid_before = sum(state.answered.values())
    assert paid_before >= 1
    state.refuse.clear()
    resumed = annotator(url, tmp_path, max_workers=3)
    answers = resumed.annotate(texts, list(range(12)), CLASSES, verbose=False)
    assert all(a.label == 0 for a in answers)
    assert max(state.answered.values()) == 1  # every question answered (paid) exactly once
    assert resumed.usage.cache_hits == paid_before
    assert resumed.usage.queries == 12 - paid_before
    assert not list((tmp_path / "answers").glob("*/*.tmp"))


def test_api_key_sent_but_never_stored(stub, tmp_path, monkeypatch):
    url, state = stub
    monkeypatch.setenv("NOISYGRAPH_TEST_KEY", "sk-very-secret")
    client = annotator(url, tmp_path)
    client.annotate(["key AI"], [0], CLASSES, verbose=False)
    assert state.authorization == ["Bearer sk-very-secret"]
    assert "sk-very-secret" not in repr(client) and "sk-very-secret" not in str(vars(client))
    for file in (tmp_path / "answers").rglob("*"):
        if file.is_file():
            assert "sk-very-secret" not in file.read_text()


def test_unknown_endpoint_is_a_clear_error(stub, tmp_path):
    url, _ = stub
    client = OpenAIAnnotator(url.replace("/v1", "/nope"), "m", cache_dir=tmp_path)
    with pytest.raises(AnnotatorError, match="404"):
        client.annotate(["x"], [0], CLASSES, verbose=False)


def test_retry_after_header_forms():
    assert _retry_after_seconds("3") == 3.0
    assert _retry_after_seconds(None) is None
    assert _retry_after_seconds("garbage") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 20 < _retry_after_seconds(later) <= 31


@pytest.mark.parametrize("kwargs, match", [
    ({"base_url": "ftp://x"}, "base_url"), ({"max_queries": -1}, "max_queries"),
    ({"max_workers": 0}, "max_workers"), ({"timeout": 0}, "timeout"),
])
def test_bad_configuration(kwargs, match, tmp_path):
    args = {"base_url": "http://127.0.0.1:1/v1", "model": "m", "cache_dir": tmp_path}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        OpenAIAnnotator(**args)
