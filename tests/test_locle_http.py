"""The OpenAI-compatible annotator against a local stub chat-completions server: the total
deadline, the response size limit, the budget ledger across crashes, retries and processes,
paid answers never lost, the free preflight, and the API key never written."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

from locle_stub import CLASSES, StubServer, closed_port
from noisygraph.locle import AnnotatorError, OpenAIAnnotator
from noisygraph.locle.openai_annotator import _retry_after_seconds

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def stub():
    server = StubServer()
    yield server.url, server.state
    server.close()


def annotator(url, tmp_path, **kw):
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 5.0)
    return OpenAIAnnotator(url, "stub-model", api_key_env="NOISYGRAPH_TEST_KEY",
                           cache_dir=tmp_path / "answers", **kw)


def ask(client, texts):
    return client.annotate(texts, list(range(len(texts))), CLASSES, verbose=False)


# ---------------------------------------------------------------- answers and parsing
def test_good_answers_tokens_and_cost(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, prompt_price_per_1m=1.0, completion_price_per_1m=2.0)
    answers = ask(client, ["paper about Database", "paper about Data Mining", "paper about AI"])
    assert [a.label for a in answers] == [0, 1, 2]
    assert all(a.confidence == pytest.approx(0.9) for a in answers)
    assert answers[0].top_k == [(0, pytest.approx(0.9)), (2, pytest.approx(0.08))]
    assert all(a.tokens == 120 and not a.cached for a in answers)
    assert answers[0].cost_usd == pytest.approx((100 * 1.0 + 20 * 2.0) / 1e6)
    assert client.usage.queries == 3 and client.usage.tokens == 360
    assert client.usage.requests == 3
    assert client.usage.cost_usd == pytest.approx(3 * 140e-6)


def test_malformed_empty_unknown_negated_and_fuzzy_answers(stub, tmp_path):
    url, _ = stub
    client = annotator(url, tmp_path)
    answers = ask(client, ["MALFORMED 1", "EMPTY 1", "UNKNOWN 1", "FENCED 1", "NEGATED 1"])
    assert [a.label for a in answers] == [-1, -1, -1, 1, -1]
    assert "JSON" in answers[0].error
    assert "empty" in answers[1].error
    assert "Astrology" in answers[2].error
    # fenced JSON, a differently spelled label and a confidence given as "70%"
    assert answers[3].confidence == pytest.approx(0.7)
    # "Not AI" is never read as the class "AI"
    assert "Not AI" in answers[4].error
    # unusable answers were still paid for
    assert client.usage.queries == 5


def test_classes_that_collide_are_rejected_when_the_annotator_is_built(stub, tmp_path):
    url, state = stub
    with pytest.raises(ValueError, match="classes.*'C\\+\\+' and 'C#'"):
        annotator(url, tmp_path, classes=["C++", "C#", "Java"])
    client = annotator(url, tmp_path, classes=CLASSES)
    with pytest.raises(ValueError, match="classes differ"):
        client.annotate(["x AI"], [0], ["AI", "Databases"], verbose=False)
    with pytest.raises(ValueError, match="told apart"):
        annotator(url, tmp_path).annotate(["x"], [0], ["Data Mining", "data-mining"])
    assert state.total == 0  # nothing was sent for a rejected class list


# ---------------------------------------------------------------- retries and the deadline
def test_rate_limit_and_server_errors_are_retried(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, max_retries=2)
    answers = ask(client, ["RATE Database", "BUSY AI"])
    assert [a.label for a in answers] == [0, 2]
    assert state.requests["RATE Database"] == 2 and state.requests["BUSY AI"] == 2
    assert client.usage.queries == 2  # two questions
    # the 429 was refunded (nothing billed), the 503 counts (the server may have worked)
    assert client.usage.requests == 3 and client.ledger.spent == 3


def test_hanging_server_times_out(stub, tmp_path):
    url, state = stub
    state.hang_seconds = 3.0
    client = annotator(url, tmp_path, timeout=0.3, max_retries=1)
    answers = ask(client, ["HANG forever"])
    assert answers[0].label == -1
    assert "gave up after 2 attempts" in answers[0].error
    assert "timed out" in answers[0].error
    assert state.requests["HANG forever"] == 2
    assert client.usage.failures == 1
    assert client.ledger.spent == 2  # a request that timed out counts as spent


@pytest.mark.parametrize("text", ["TRICKLE body", "TRICKLEHEAD status line"])
def test_timeout_bounds_the_whole_request_not_each_read(stub, tmp_path, text):
    """A byte every 0.1 s never trips a per-read timeout of 1 s; the total deadline does."""
    url, state = stub
    client = annotator(url, tmp_path, timeout=1.0, max_retries=0)
    start = time.monotonic()
    answers = ask(client, [text])
    elapsed = time.monotonic() - start
    assert elapsed < 1.0 + 0.8, elapsed
    assert answers[0].label == -1 and "timed out" in answers[0].error
    assert "total deadline" in answers[0].error
    assert client.ledger.spent == 1 and state.total == 1
    assert len(client.cache) == 0


def test_slow_server_with_retries_sends_at_most_the_budget(stub, tmp_path):
    """max_queries=1: a request that timed out was (maybe) paid; no retry may be sent."""
    url, state = stub
    state.hang_seconds = 1.0
    client = annotator(url, tmp_path, timeout=0.2, max_retries=3, max_queries=1)
    answers = ask(client, ["HANG slow"])
    assert state.total == 1
    assert not answers[0].ok and "budget is exhausted" in answers[0].error
    assert client.queries_left == 0
    # without a budget the same question is retried: 4 requests
    free = annotator(url, tmp_path, timeout=0.2, max_retries=3, budget_scope="other")
    ask(free, ["HANG slow"])
    assert state.total == 1 + 4


def test_refused_requests_are_retried_free_under_the_budget(stub, tmp_path):
    """429s are refunded: the documented bound is N billable requests plus the 429s."""
    url, state = stub
    client = annotator(url, tmp_path, max_queries=1, max_retries=3)
    answers = ask(client, ["RATE AI"])
    assert answers[0].label == 2
    assert state.total == 2 and client.ledger.spent == 1
    always = annotator(url, tmp_path, max_queries=1, max_retries=2, budget_scope="429")
    answers = ask(always, ["ALWAYS429 AI"])
    assert not answers[0].ok and "HTTP 429" in answers[0].error
    assert state.requests["ALWAYS429 AI"] == 3 and always.ledger.spent == 0


def test_unreachable_server_spends_nothing(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    client = annotator(url, tmp_path, max_queries=1, max_retries=2)
    answers = ask(client, ["anything AI"])
    assert not answers[0].ok and "connection refused" in answers[0].error
    assert client.ledger.spent == 0 and client.queries_left == 1
    assert client.usage.requests == 0


# ---------------------------------------------------------------- response size
@pytest.mark.parametrize("text", ["HUGE declared", "HUGESTREAM no length"])
def test_oversized_answers_are_rejected_counted_and_not_cached(stub, tmp_path, text):
    url, state = stub
    client = annotator(url, tmp_path, max_retries=3)
    answers = ask(client, [text])
    assert not answers[0].ok and "max_response_bytes=1000000" in answers[0].error
    assert state.total == 1  # not retried: it would be paid again
    assert len(client.cache) == 0
    assert client.ledger.spent == 1 and client.usage.requests == 1
    # the limit is configurable
    roomy = annotator(url, tmp_path, max_response_bytes=5_000_000, budget_scope="roomy")
    assert ask(roomy, [text])[0].ok


def test_small_response_limit(stub, tmp_path):
    url, _ = stub
    client = annotator(url, tmp_path, max_response_bytes=50)
    assert "max_response_bytes=50" in ask(client, ["small AI"])[0].error


# ---------------------------------------------------------------- the budget ledger
def test_budget_never_exceeded_under_concurrency(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, max_queries=7, max_workers=8)
    texts = [f"text {i} Database" for i in range(30)]
    answers = ask(client, texts)
    assert state.total == 7
    assert [a.ok for a in answers] == [True] * 7 + [False] * 23  # the first 7, in order
    assert all(a.error.startswith("query budget exhausted") for a in answers if not a.ok)
    assert state.max_in_flight > 1  # the requests really ran concurrently
    assert client.queries_left == 0
    # nothing more is sent later either
    more = client.annotate(["another Database"], [31], CLASSES, verbose=False)
    assert not more[0].ok and state.total == 7


def test_threads_sharing_one_budget(stub, tmp_path):
    """Two annotators (two threads) on one cache and scope share the budget of 10."""
    url, state = stub
    state.delay = 0.05
    clients = [annotator(url, tmp_path, max_queries=10, max_workers=4) for _ in range(2)]
    threads = [threading.Thread(target=ask, args=(c, [f"t{j} {i} AI" for i in range(10)]))
               for j, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert state.total == 10
    assert clients[0].ledger.spent == 10


def test_budget_holds_after_an_exception_and_resume(stub, tmp_path, monkeypatch):
    """A crash between receiving and caching (here: an exception) loses those answers; the
    ledger still counts them, so the resumed run sends only what is left of 20."""
    url, state = stub
    texts = [f"crash {i} AI" for i in range(40)]
    client = annotator(url, tmp_path, max_queries=20, max_workers=1)
    real_put, calls = client.cache.put, []

    def put_then_die(key, record):
        calls.append(key)
        if len(calls) == 6:
            raise KeyboardInterrupt  # the process "dies" after 6 paid answers, 5 cached
        real_put(key, record)

    monkeypatch.setattr(client.cache, "put", put_then_die)
    with pytest.raises(KeyboardInterrupt):
        ask(client, texts)
    before = state.total  # 6, or 7 if the worker had already taken the next question
    assert before in (6, 7)
    resumed = annotator(url, tmp_path, max_queries=20)
    answers = ask(resumed, texts)
    assert state.total == 20  # never more than 20 in total
    assert resumed.usage.cache_hits == before - 1  # the 6th answer was lost, paid
    assert sum(a.ok for a in answers) == 19


CRASH_SCRIPT = textwrap.dedent("""
    import os, sys, types
    # import the annotator alone, without the packages' __init__ (torch, PyG): fast startup
    repo = os.environ["PYTHONPATH"]
    for name in ("noisygraph", "noisygraph.locle"):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(repo, *name.split("."))]
        sys.modules[name] = package
    from noisygraph.locle.openai_annotator import OpenAIAnnotator
    url, cache, budget, prefix, count = sys.argv[1:6]
    client = OpenAIAnnotator(url, "stub-model", api_key_env="NOISYGRAPH_TEST_KEY",
                             cache_dir=cache, max_queries=int(budget), max_workers=2,
                             backoff=0.01, timeout=5.0)
    texts = [f"{prefix} {i} AI" for i in range(int(count))]
    classes = [("Database", "storing and querying data"), ("Data Mining", "finding patterns"),
               ("AI", "intelligent agents")]  # = locle_stub.CLASSES
    client.annotate(texts, list(range(len(texts))), classes, verbose=False)
    print("done", client.usage.requests)
""")


def _spawn(url, cache, budget, prefix, count):
    env = dict(os.environ, PYTHONPATH=REPO, NOISYGRAPH_CACHE=str(cache.parent / "ng-cache"),
               OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, url, str(cache), str(budget),
                             prefix, str(count)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_budget_holds_across_a_killed_process_and_resume(stub, tmp_path):
    """Budget 20; the process is SIGKILLed mid-run (requests in flight); the resumed run
    brings the total the server ever received to at most 20."""
    url, state = stub
    state.delay = 0.3
    cache = tmp_path / "answers"
    process = _spawn(url, cache, 20, "kill", 40)
    deadline = time.monotonic() + 60
    while state.total < 7 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = state.total
    assert 7 <= before < 20
    state.delay = 0.0
    resumed = OpenAIAnnotator(url, "stub-model", api_key_env="NOISYGRAPH_TEST_KEY",
                              cache_dir=cache, max_queries=20, backoff=0.01)
    answers = resumed.annotate([f"kill {i} AI" for i in range(40)], list(range(40)), CLASSES,
                               verbose=False)
    time.sleep(0.4)  # let any request of the killed process still in the server finish
    assert state.total <= 20
    assert resumed.ledger.spent == 20
    # lost: at most the two requests in flight and two reserved but not yet sent
    assert sum(a.ok for a in answers) >= 20 - 4, (before, resumed.usage)
    assert not list(cache.glob("*/*.tmp"))


def test_budget_holds_across_two_concurrent_processes(stub, tmp_path):
    url, state = stub
    state.delay = 0.05
    cache = tmp_path / "answers"
    processes = [_spawn(url, cache, 10, f"proc{j}", 10) for j in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    assert state.total == 10


def test_torn_ledger_line_counts_as_spent_with_one_warning(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, max_queries=3)
    ask(client, ["first AI"])
    with open(client.ledger.path, "ab") as ledger:
        ledger.write(b'{"event": "reserve", "id": "ab')  # a crash in the middle of a line
    resumed = annotator(url, tmp_path, max_queries=3)
    with pytest.warns(RuntimeWarning, match="unreadable line"):
        answers = ask(resumed, ["second AI", "third AI"])
    assert [a.ok for a in answers] == [True, False]  # 1 + 1 torn + 1 = 3
    assert state.total == 2
    lines = client.ledger.path.read_bytes().split(b"\n")
    assert json.loads(lines[-2])["event"] == "reserve"  # the torn line was ended first


def test_a_ledger_that_cannot_be_written_stops_before_sending(stub, tmp_path):
    url, state = stub
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "ledgers").write_text("a file where the folder should be")
    with pytest.raises(AnnotatorError, match="cannot write the budget ledger.*nothing was sent"):
        ask(annotator(url, tmp_path), ["unledgered AI"])
    assert state.total == 0


def test_ledger_is_per_scope_base_url_and_model(stub, tmp_path):
    url, state = stub
    ask(annotator(url, tmp_path, max_queries=1), ["one AI"])
    assert annotator(url, tmp_path, max_queries=1).queries_left == 0
    assert annotator(url, tmp_path, max_queries=1, budget_scope="seed-1").queries_left == 1
    other_model = OpenAIAnnotator(url, "other", cache_dir=tmp_path / "answers", max_queries=1)
    assert other_model.queries_left == 1


# ---------------------------------------------------------------- paid answers never lost
@pytest.mark.parametrize("prefix", ["USAGE-INF", "USAGE-NEG", "USAGE-FRAC", "USAGE-STR",
                                    "USAGE-HUGE", "USAGE-LIST", "USAGE-NONE"])
def test_invalid_usage_is_unknown_with_one_warning(stub, tmp_path, prefix):
    url, state = stub
    client = annotator(url, tmp_path, prompt_price_per_1m=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = ask(client, [f"{prefix} {i} Database" for i in range(3)])
    usage_warnings = [w for w in caught if "usage" in str(w.message)]
    assert len(usage_warnings) == 1
    assert [a.label for a in answers] == [0, 0, 0]
    assert all(0 < a.tokens < 10_000 for a in answers)  # estimated
    assert len(client.cache) == 3  # every paid answer kept
    again = annotator(url, tmp_path, max_queries=0, budget_scope="none-left")
    assert all(a.cached and a.ok for a in ask(again, [f"{prefix} {i} Database"
                                                       for i in range(3)]))


def test_corrupt_cache_entries_are_misses_with_one_warning(stub, tmp_path):
    url, state = stub
    texts = [f"corrupt {i} AI" for i in range(6)]
    first = annotator(url, tmp_path)
    ask(first, texts)
    files = sorted((tmp_path / "answers").glob("*/*.json"))
    assert len(files) == 6
    files[0].write_bytes(b'{"content": "{\\"guesses\\": [')  # truncated
    files[1].write_bytes(b"\xff\xfe not utf-8")
    files[2].write_text("[1, 2, 3]")  # JSON, not an object
    files[3].write_text(json.dumps({"content": 5, "prompt_tokens": 1, "completion_tokens": 1}))
    files[4].write_text(json.dumps({"content": "x", "prompt_tokens": "many",
                                    "completion_tokens": 1}))
    second = annotator(url, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        answers = ask(second, texts)
    assert [str(w.message) for w in caught if "cache" in str(w.message)] and \
        len([w for w in caught if "cache" in str(w.message)]) == 1
    assert "5 unreadable answer-cache entries" in str(caught[0].message)
    assert all(a.label == 2 for a in answers)
    assert second.usage.cache_hits == 1 and second.usage.queries == 5
    third = annotator(url, tmp_path, max_queries=0)  # repaired: all hits now
    assert all(a.cached for a in ask(third, texts))


def test_cache_that_cannot_be_written_keeps_the_answer(stub, tmp_path, monkeypatch):
    url, _ = stub
    client = annotator(url, tmp_path)

    def broken(key, record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(client.cache, "put", broken)
    with pytest.warns(RuntimeWarning, match="cannot write the answer cache"):
        answers = ask(client, ["disk AI", "full AI"])
    assert [a.label for a in answers] == [2, 2]


def test_cache_rerun_pays_nothing(stub, tmp_path):
    url, state = stub
    texts = [f"cached {i} AI" for i in range(6)]
    first = ask(annotator(url, tmp_path, prompt_price_per_1m=1.0), texts)
    assert state.total == 6
    again = annotator(url, tmp_path, prompt_price_per_1m=1.0, max_queries=0)
    second = ask(again, texts)
    assert state.total == 6  # nothing sent
    assert [a.label for a in second] == [a.label for a in first]
    assert all(a.cached and a.cost_usd == 0.0 and a.tokens == 120 for a in second)
    assert again.usage.cache_hits == 6 and again.usage.cost_usd == 0.0


def test_duplicate_questions_in_one_batch_are_asked_once(stub, tmp_path):
    url, state = stub
    answers = ask(annotator(url, tmp_path), ["same AI"] * 4)
    assert state.requests["same AI"] == 1
    assert [a.node for a in answers] == [0, 1, 2, 3] and all(a.label == 2 for a in answers)


def test_crash_and_resume_never_pays_twice(stub, tmp_path):
    url, state = stub
    texts = [f"resume {i} Database" for i in range(12)]
    state.refuse.add(texts[7])  # the server rejects one question: the run aborts
    with pytest.raises(AnnotatorError, match="401"):
        ask(annotator(url, tmp_path, max_workers=3), texts)
    paid_before = sum(state.answered.values())
    assert paid_before >= 1
    state.refuse.clear()
    resumed = annotator(url, tmp_path, max_workers=3)
    answers = ask(resumed, texts)
    assert all(a.label == 0 for a in answers)
    assert max(state.answered.values()) == 1  # every question answered (paid) exactly once
    assert resumed.usage.cache_hits == paid_before
    assert resumed.usage.queries == 12 - paid_before
    assert not list((tmp_path / "answers").glob("*/*.tmp"))


def test_non_json_answers_are_retried_and_count(stub, tmp_path):
    url, state = stub
    client = annotator(url, tmp_path, max_retries=1, max_queries=5)
    answers = ask(client, ["NOTJSON gateway"])
    assert "not JSON" in answers[0].error and state.total == 2 and client.ledger.spent == 2


# ---------------------------------------------------------------- preflight and secrets
def test_check_server(stub, tmp_path, monkeypatch):
    url, state = stub
    annotator(url, tmp_path).check_server()  # reachable, no key needed
    state.require_key = "good"
    monkeypatch.setenv("NOISYGRAPH_TEST_KEY", "wrong-secret")
    with pytest.raises(AnnotatorError, match="HTTP 401.*NOISYGRAPH_TEST_KEY, which is set") \
            as info:
        annotator(url, tmp_path).check_server()
    assert info.value.status == 401 and "wrong-secret" not in str(info.value)
    monkeypatch.setenv("NOISYGRAPH_TEST_KEY", "good")
    annotator(url, tmp_path).check_server()
    with pytest.raises(AnnotatorError, match="HTTP 404.*API prefix"):
        annotator(url.replace("/v1", ""), tmp_path).check_server()
    refused = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(AnnotatorError, match=f"cannot reach {refused}: connection refused"):
        annotator(refused, tmp_path).check_server()
    assert state.total == 0  # the preflight never posts a question
    assert not (tmp_path / "answers" / "ledgers").exists()


def test_check_server_times_out(tmp_path):
    """A server that accepts the connection and never answers."""
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        start = time.monotonic()
        with pytest.raises(AnnotatorError, match="timed out"):
            annotator(url, tmp_path).check_server(timeout=0.5)
        assert time.monotonic() - start < 1.5


def test_api_key_sent_but_never_stored(stub, tmp_path, monkeypatch):
    url, state = stub
    monkeypatch.setenv("NOISYGRAPH_TEST_KEY", "sk-very-secret")
    client = annotator(url, tmp_path)
    ask(client, ["key AI", "another AI"])
    assert state.authorization[0] == "Bearer sk-very-secret"
    assert "sk-very-secret" not in repr(client) and "sk-very-secret" not in str(vars(client))
    files = [f for f in (tmp_path / "answers").rglob("*") if f.is_file()]
    assert any(f.suffix == ".jsonl" for f in files)  # the ledger is among them
    for file in files:
        assert b"sk-very-secret" not in file.read_bytes()


def test_unknown_endpoint_is_a_clear_error(stub, tmp_path):
    url, _ = stub
    client = OpenAIAnnotator(url.replace("/v1", "/nope"), "m", cache_dir=tmp_path)
    with pytest.raises(AnnotatorError, match="404"):
        client.annotate(["x"], [0], CLASSES, verbose=False)
    assert client.ledger.spent == 0  # a 4xx refusal is refunded


def test_http_proxy_from_the_environment(stub, tmp_path, monkeypatch):
    """Like urllib, http_proxy is honoured: the stub plays the proxy for a host that does
    not exist, and receives the absolute URL."""
    url, state = stub
    monkeypatch.setenv("http_proxy", url.rsplit("/v1", 1)[0])
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    client = OpenAIAnnotator("http://api.example.invalid/v1", "stub-model", api_key_env=None,
                             cache_dir=tmp_path)
    answers = client.annotate(["proxied AI"], [0], CLASSES, verbose=False)
    assert answers[0].label == 2
    assert state.paths == ["http://api.example.invalid/v1/chat/completions"]


def test_retry_after_header_forms():
    assert _retry_after_seconds("3") == 3.0
    assert _retry_after_seconds(None) is None
    assert _retry_after_seconds("garbage") is None
    assert _retry_after_seconds("inf") is None and _retry_after_seconds("nan") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 20 < _retry_after_seconds(later) <= 31


# ---------------------------------------------------------------- TLS and proxies
@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1 (needs the openssl command)."""
    import shutil
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_stub(certificate, monkeypatch):
    import ssl
    server = StubServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the client trusts it
    yield server.url.replace("http://127.0.0.1", "https://localhost"), server.state
    server.close()


def test_https(tls_stub, tmp_path):
    url, state = tls_stub
    client = annotator(url, tmp_path)
    assert ask(client, ["secure AI"])[0].label == 2
    client.check_server()


def test_https_with_an_untrusted_certificate_sends_nothing(tls_stub, tmp_path, monkeypatch):
    url, state = tls_stub
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # no system CA knows the stub
    client = annotator(url, tmp_path, max_queries=1, max_retries=1)
    answers = ask(client, ["untrusted AI"])
    assert "TLS handshake" in answers[0].error and "CERTIFICATE_VERIFY_FAILED" in \
        answers[0].error
    assert state.total == 0 and client.ledger.spent == 0


def test_tls_handshake_that_never_finishes_is_bounded(tmp_path):
    """A server that accepts the TCP connection and never speaks TLS."""
    import socket
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/v1"
        client = annotator(url, tmp_path, timeout=0.5, max_retries=0, max_queries=1)
        start = time.monotonic()
        answers = ask(client, ["stuck AI"])
        assert time.monotonic() - start < 0.5 + 0.8
    assert "timed out" in answers[0].error and "TLS handshake" in answers[0].error
    assert client.ledger.spent == 0  # nothing of the request was sent


def _connect_proxy(seen):
    """A one-connection-at-a-time CONNECT proxy that tunnels to the requested host:port."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)

    def pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(4096)
            request_line = head.split(b"\r\n", 1)[0].decode()
            seen.append(request_line)
            host, port = request_line.split()[1].rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_https_through_a_connect_proxy(tls_stub, tmp_path, monkeypatch):
    url, state = tls_stub
    seen = []
    listener = _connect_proxy(seen)
    try:
        monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{listener.getsockname()[1]}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        client = annotator(url, tmp_path)
        assert ask(client, ["tunnelled AI"])[0].label == 2
    finally:
        listener.close()
    port = url.split(":")[2].split("/")[0]
    assert seen == [f"CONNECT localhost:{port} HTTP/1.1"]
