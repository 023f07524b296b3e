"""Bad input to the LLM client (OpenAIAnnotator options, the answer cache, the ledger, the
HTTP transport, parsing, class names) and to ``noisygraph locle``'s flags: every case is a
ValueError/TypeError naming the argument, or for the CLI exit status 2 with one line naming
the flag, before any data is loaded."""
import pytest
import torch

from bad_input import BadInput, assert_rejects, case_id
from locle_stub import CLASSES, StubServer, closed_port
import noisygraph_cli as cli
from noisygraph_cli import locle as locle_command
from noisygraph.locle import AnswerCache, ClassInfo, EmbeddingAnnotator, OpenAIAnnotator
from noisygraph.locle.annotation import as_class_infos, check_annotation_input
from noisygraph.locle.cache import QueryLedger
from noisygraph.locle.parsing import build_messages, parse_guesses
from noisygraph.locle.transport import http_request

HEX = "ab" * 32
_FOLDER: dict = {}


@pytest.fixture(scope="module", autouse=True)
def folder(tmp_path_factory):
    """The scratch folder the cases' calls use (resolved when a case runs)."""
    _FOLDER["path"] = tmp_path_factory.mktemp("bad-input-locle")
    yield _FOLDER["path"]
    _FOLDER.clear()


def scratch():
    return _FOLDER["path"]


def make(**kwargs):
    def call():
        args = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "cache_dir": scratch() / "c"}
        args.update({key: value() if callable(value) else value
                     for key, value in kwargs.items()})
        return OpenAIAnnotator(**args)
    return call


def a_file():
    path = scratch() / "a-file"
    path.write_text("x")
    return path


def _case(id, error, names, **kwargs):
    return BadInput(id, make(**kwargs), error, names)


c = _case
ANNOTATOR_CASES = [
    c("base-url-int", TypeError, "base_url", base_url=5),
    c("base-url-ftp", ValueError, "base_url", base_url="ftp://x/v1"),
    c("base-url-no-host", ValueError, "base_url", base_url="http:///v1"),
    c("base-url-credentials", ValueError, "base_url", base_url="http://u:p@h/v1"),
    c("base-url-query", ValueError, "base_url", base_url="http://h/v1?key=1"),
    c("base-url-port", ValueError, "base_url", base_url="http://h:99999/v1"),
    c("base-url-space", ValueError, "base_url", base_url="http://h /v1"),
    c("model-empty", ValueError, "model", model=" "),
    c("model-int", TypeError, "model", model=5),
    c("model-newline", ValueError, "model", model="a\nb"),
    c("api-key-env-looks-like-a-key", ValueError, "api_key_env", api_key_env="sk-abc123"),
    c("api-key-env-int", TypeError, "api_key_env", api_key_env=5),
    c("max-queries-negative", ValueError, "max_queries", max_queries=-1),
    c("max-queries-float", TypeError, "max_queries", max_queries=2.5),
    c("max-queries-bool", TypeError, "max_queries", max_queries=True),
    c("max-workers-zero", ValueError, "max_workers", max_workers=0),
    c("max-workers-str", TypeError, "max_workers", max_workers="4"),
    c("timeout-zero", ValueError, "timeout", timeout=0),
    c("timeout-negative", ValueError, "timeout", timeout=-1.0),
    c("timeout-nan", ValueError, "timeout", timeout=float("nan")),
    c("timeout-inf", ValueError, "timeout", timeout=float("inf")),
    c("timeout-str", TypeError, "timeout", timeout="60"),
    c("max-retries-negative", ValueError, "max_retries", max_retries=-1),
    c("max-retries-float", TypeError, "max_retries", max_retries=1.0),
    c("backoff-negative", ValueError, "backoff", backoff=-0.1),
    c("backoff-nan", ValueError, "backoff", backoff=float("nan")),
    c("max-backoff-inf", ValueError, "max_backoff", max_backoff=float("inf")),
    c("top-k-zero", ValueError, "top_k", top_k=0),
    c("prompt-price-negative", ValueError, "prompt_price_per_1m", prompt_price_per_1m=-1),
    c("completion-price-nan", ValueError, "completion_price_per_1m",
      completion_price_per_1m=float("nan")),
    c("max-tokens-zero", ValueError, "max_tokens", max_tokens=0),
    c("max-response-bytes-zero", ValueError, "max_response_bytes", max_response_bytes=0),
    c("max-response-bytes-float", TypeError, "max_response_bytes", max_response_bytes=1e6),
    c("budget-scope-empty", ValueError, "budget_scope", budget_scope=" "),
    c("budget-scope-none", TypeError, "budget_scope", budget_scope=None),
    c("cache-dir-int", TypeError, "cache_dir", cache_dir=5),
    c("cache-dir-is-a-file", ValueError, "cache_dir", cache_dir=a_file),
    c("classes-collide", ValueError, "classes", classes=["C++", "C#"]),
    c("classes-case-variants", ValueError, "classes", classes=["AI", "ai", "Database"]),
    c("classes-one", ValueError, "classes", classes=["AI"]),
    c("classes-str", TypeError, "classes", classes="AI"),
]


def client():
    return make()()


def cache():
    return AnswerCache(scratch() / "cache")


def ledger():
    return QueryLedger(scratch() / "ledger.jsonl")


LIBRARY_CASES = [
    BadInput("check-server-timeout", lambda: client().check_server(timeout=0), ValueError,
             "timeout"),
    BadInput("annotate-texts-str", lambda: client().annotate("abc", [0], CLASSES), TypeError,
             "texts"),
    BadInput("annotate-node-ids-float", lambda: client().annotate(["a"], [1.5], CLASSES),
             TypeError, "node_ids"),
    BadInput("annotate-node-ids-negative", lambda: client().annotate(["a"], [-1], CLASSES),
             ValueError, "node_ids"),
    BadInput("annotate-lengths", lambda: client().annotate(["a", "b"], [0], CLASSES),
             ValueError, "node_ids"),
    BadInput("annotate-classes-collide",
             lambda: client().annotate(["a"], [0], ["Data Mining", "data-mining"]),
             ValueError, "classes"),
    BadInput("check-input-texts-none", lambda: check_annotation_input(None, [], CLASSES),
             TypeError, "texts"),
    BadInput("classes-no-letter", lambda: as_class_infos(["++", "AI"]), ValueError,
             "classes"),
    BadInput("classes-multiline", lambda: as_class_infos(["A\nB", "C"]), ValueError,
             "classes"),
    BadInput("classes-description-int", lambda: as_class_infos([("AI", 5), "B"]), TypeError,
             "classes"),
    BadInput("classes-name-int", lambda: as_class_infos([ClassInfo(5), "B"]), TypeError,
             "classes"),
    BadInput("classes-entry-int", lambda: as_class_infos([1, 2]), TypeError, "classes"),
    BadInput("classes-whitespace-variant",
             lambda: as_class_infos(["Data Base", "Database"]), ValueError, "classes"),
    BadInput("parse-content-int", lambda: parse_guesses(5, CLASSES), TypeError, "content"),
    BadInput("parse-top-k-zero", lambda: parse_guesses("AI", CLASSES, top_k=0), ValueError,
             "top_k"),
    BadInput("parse-classes-empty", lambda: parse_guesses("AI", []), ValueError, "classes"),
    BadInput("messages-text-none", lambda: build_messages(None, CLASSES), TypeError, "text"),
    BadInput("messages-top-k", lambda: build_messages("t", CLASSES, top_k=-1), ValueError,
             "top_k"),
    BadInput("cache-root-int", lambda: AnswerCache(5), TypeError, "root"),
    # the offline annotator's options (none of these cases loads the sentence model)
    BadInput("embedding-temperature-bool", lambda: EmbeddingAnnotator(temperature=True),
             TypeError, "temperature"),
    BadInput("embedding-temperature-zero", lambda: EmbeddingAnnotator(temperature=0.0),
             ValueError, "temperature"),
    BadInput("embedding-temperature-nan", lambda: EmbeddingAnnotator(temperature=float("nan")),
             ValueError, "temperature"),
    BadInput("embedding-top-k-float", lambda: EmbeddingAnnotator(top_k=2.5), TypeError,
             "top_k"),
    BadInput("embedding-top-k-zero", lambda: EmbeddingAnnotator(top_k=0), ValueError, "top_k"),
    BadInput("embedding-model-name-int", lambda: EmbeddingAnnotator(model_name=3), TypeError,
             "model_name"),
    BadInput("embedding-verbose-str", lambda: EmbeddingAnnotator(verbose="no"), TypeError,
             "verbose"),
    BadInput("embedding-corpus-str", lambda: EmbeddingAnnotator(
        corpus="one text", corpus_embeddings=torch.zeros(8, 4)), TypeError, "corpus"),
    BadInput("embedding-corpus-embeddings-list", lambda: EmbeddingAnnotator(
        corpus=["a", "b"], corpus_embeddings=[[0.0], [1.0]]), TypeError, "corpus_embeddings"),
    BadInput("embedding-corpus-embeddings-rows", lambda: EmbeddingAnnotator(
        corpus=["a", "b"], corpus_embeddings=torch.zeros(3, 4)), ValueError,
        "corpus_embeddings"),
    BadInput("embedding-corpus-embeddings-nan", lambda: EmbeddingAnnotator(
        corpus=["a", "b"], corpus_embeddings=torch.full((2, 4), float("nan"))), ValueError,
        "corpus_embeddings"),
    BadInput("embedding-corpus-embeddings-without-corpus", lambda: EmbeddingAnnotator(
        corpus_embeddings=torch.zeros(2, 4)), ValueError, "corpus_embeddings"),
    BadInput("cache-key-not-hex", lambda: cache().get("../../etc/passwd"), ValueError, "key"),
    BadInput("cache-key-int", lambda: cache().get(5), TypeError, "key"),
    BadInput("cache-record-list", lambda: cache().put(HEX, [1]), TypeError, "record"),
    BadInput("cache-record-nan", lambda: cache().put(HEX, {"x": float("nan")}), ValueError,
             "record"),
    BadInput("ledger-path-int", lambda: QueryLedger(5), TypeError, "path"),
    BadInput("ledger-limit-negative", lambda: ledger().reserve(-1), ValueError, "limit"),
    BadInput("ledger-limit-float", lambda: ledger().reserve(1.5), TypeError, "limit"),
    BadInput("ledger-details-clash", lambda: ledger().reserve(None, id="x"), ValueError,
             "details"),
    BadInput("ledger-refund-id", lambda: ledger().refund(5, "x"), TypeError, "entry_id"),
    BadInput("http-url-ftp", lambda: http_request("GET", "ftp://x/", timeout=1,
                                                  max_response_bytes=10), ValueError, "url"),
    BadInput("http-url-port", lambda: http_request("GET", "http://h:x/", timeout=1,
                                                   max_response_bytes=10), ValueError, "url"),
    BadInput("http-timeout-inf", lambda: http_request("GET", "http://h/", timeout=float("inf"),
                                                      max_response_bytes=10), ValueError,
             "timeout"),
    BadInput("http-max-bytes-zero", lambda: http_request("GET", "http://h/", timeout=1,
                                                         max_response_bytes=0), ValueError,
             "max_response_bytes"),
    BadInput("http-method", lambda: http_request("GET /x", "http://h/", timeout=1,
                                                 max_response_bytes=10), ValueError, "method"),
    BadInput("http-body-str", lambda: http_request("POST", "http://h/", body="x", timeout=1,
                                                   max_response_bytes=10), TypeError, "body"),
]


@pytest.mark.parametrize("case", ANNOTATOR_CASES + LIBRARY_CASES, ids=case_id)
def test_rejects(case):
    assert_rejects(case)


def test_case_ids_are_unique():
    ids = [case.id for case in ANNOTATOR_CASES + LIBRARY_CASES]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- the command line
@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny text graph; loading data or embedding text fails the test (validate must
    stop every bad flag before)."""
    root = tmp_path / "root"
    folder = root / "tag" / "tiny"
    folder.mkdir(parents=True)
    (folder / "nodes.tsv").write_text("node\tlabel\ttext\n0\t0\ta\n1\t1\tb\n")
    (folder / "edges.tsv").write_text("src\tdst\n0\t1\n")
    (folder / "classes.tsv").write_text("label\tname\tdescription\n0\tAI\tx\n1\tDatabase\ty\n")
    monkeypatch.setenv("NOISYGRAPH_DATA", str(root))
    monkeypatch.setenv("NOISYGRAPH_CACHE", str(tmp_path / "cache"))

    def no_work(*args, **kwargs):
        raise AssertionError("data was loaded before the flags were validated")

    monkeypatch.setattr(locle_command, "_load", no_work)
    monkeypatch.setattr(locle_command, "run", no_work)
    return tmp_path, folder


def run_cli(argv, capsys):
    status = cli.main(["locle"] + argv)
    captured = capsys.readouterr()
    return status, captured.err


def cli_cases(tmp, folder):
    collide = tmp / "collide"
    collide.mkdir(exist_ok=True)
    for name in ("nodes.tsv", "edges.tsv"):
        (collide / name).write_text((folder / name).read_text())
    (collide / "classes.tsv").write_text("label\tname\tdescription\n0\tC++\tx\n1\tC#\ty\n")
    partial = tmp / "partial"
    partial.mkdir(exist_ok=True)
    (partial / "nodes.tsv").write_text("node\tlabel\ttext\n")
    a_folder = tmp / "a-folder"
    a_folder.mkdir(exist_ok=True)
    plain = tmp / "plain-file"
    plain.write_text("x")
    malformed = tmp / "malformed.jsonl"
    malformed.write_text('{"node": 0, "label": "AI"}\n{"node": "zero", "label": "AI"}\n')
    return [
        (["--budget", "0"], "--budget"), (["--budget", "-5"], "--budget"),
        (["--rounds", "0"], "--rounds"), (["--seed", "-1"], "--seed"),
        (["--seed", str(2**32)], "--seed"), (["--threads", "0"], "--threads"),
        (["--root", str(tmp / "no-such-root")], "--root"),
        (["--max-workers", "0"], "--max-workers"), (["--timeout", "0"], "--timeout"),
        (["--timeout", "nan"], "--timeout"), (["--timeout", "inf"], "--timeout"),
        (["--timeout", "-1"], "--timeout"), (["--prompt-price", "-1"], "--prompt-price"),
        (["--completion-price", "inf"], "--completion-price"),
        (["--sim-accuracy", "1.5"], "--sim-accuracy"),
        (["--sim-accuracy", "-0.1"], "--sim-accuracy"),
        (["--max-response-bytes", "0"], "--max-response-bytes"),
        (["--annotator", "recorded"], "--answers"),
        (["--annotator", "recorded", "--answers", str(tmp / "missing.jsonl")], "--answers"),
        (["--annotator", "recorded", "--answers", str(malformed)], "--answers"),
        (["--answers", str(a_folder)], "--answers"), (["--json", str(a_folder)], "--json"),
        (["--cache-dir", str(plain)], "--cache-dir"),
        (["--base-url", "ftp://x/v1"], "--base-url"),
        (["--base-url", "http://user:pw@h/v1"], "--base-url"),
        (["--base-url", "http://h:99999/v1"], "--base-url"),
        (["--api-key-env", "sk-secret-value"], "--api-key-env"),
        (["--model", " "], "--model"), (["--budget-scope", ""], "--budget-scope"),
        (["--dataset", "nope"], "--dataset"), (["--dataset", str(partial)], "--dataset"),
        (["--dataset", str(collide)], "--dataset"), (["--dataset", ""], "--dataset"),
        (["--annotator", "openai", "--base-url",
          f"http://127.0.0.1:{closed_port()}/v1"], "--base-url"),
    ]


def test_cli_rejects_bad_flags_in_one_line_before_any_work(tiny, capsys):
    tmp, folder = tiny
    cases = cli_cases(tmp, folder)
    assert len(cases) >= 30
    for argv, flag in cases:
        status, err = run_cli(["--dataset", "tiny"] + argv, capsys)
        assert status == 2, (argv, err)
        assert err.count("\n") == 1 and err.startswith(f"noisygraph locle: error: {flag}: "), \
            (argv, err)
        assert "Traceback" not in err
        assert "sk-secret-value" not in err


def test_cli_unreachable_server_names_the_url_and_the_cause(tiny, capsys):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    status, err = run_cli(["--dataset", "tiny", "--annotator", "openai", "--base-url", url],
                          capsys)
    assert status == 2
    assert err == (f"noisygraph locle: error: --base-url: cannot reach {url}: connection "
                   f"refused by 127.0.0.1:{url.split(':')[2].split('/')[0]} (is the server "
                   "running?)\n")


def test_cli_refused_key_names_the_variable_not_the_key(tiny, capsys, monkeypatch):
    server = StubServer()
    try:
        server.state.require_key = "right"
        monkeypatch.setenv("NOISYGRAPH_TEST_KEY", "sk-wrong-secret")
        status, err = run_cli(["--dataset", "tiny", "--annotator", "openai", "--base-url",
                               server.url, "--api-key-env", "NOISYGRAPH_TEST_KEY"], capsys)
    finally:
        server.close()
    assert status == 2 and err.count("\n") == 1
    assert "HTTP 401" in err and "check --api-key-env NOISYGRAPH_TEST_KEY" in err
    assert "sk-wrong-secret" not in err
    assert server.state.total == 0


def test_cli_good_flags_pass_validation(tiny, capsys):
    """The same fixture accepts good flags: validate() passes and run() is reached."""
    server = StubServer()
    try:
        with pytest.raises(AssertionError, match="before the flags were validated"):
            cli.main(["locle", "--dataset", "tiny", "--annotator", "openai", "--base-url",
                      server.url, "--api-key-env", "NOISYGRAPH_TEST_KEY"])
        with pytest.raises(AssertionError, match="before the flags were validated"):
            cli.main(["locle", "--dataset", "tiny", "--annotator", "openai", "--base-url",
                      f"http://127.0.0.1:{closed_port()}/v1", "--skip-server-check"])
    finally:
        server.close()
