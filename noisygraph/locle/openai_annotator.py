"""An annotator for any OpenAI-compatible chat-completions server (OpenAI, vLLM,
llama.cpp's ``llama-server``, Ollama, ...), on the standard library only."""
from __future__ import annotations

import email.utils
import hashlib
import json
import math
import os
import random
import re
import threading
import time
import urllib.parse
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Optional, Sequence

from tqdm.auto import tqdm

from noisygraph.locle.annotation import NO_LABEL, Annotation, Annotator, ClassInfo, as_class_infos
from noisygraph.locle.cache import AnswerCache, QueryLedger, answer_key
from noisygraph.locle.parsing import AnswerParseError, build_messages, name_key, parse_guesses
from noisygraph.locle.transport import RequestError, http_request

#: statuses after which the same request is sent again (408/409/429 are refunded, 5xx count)
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: a usage count above this is not believed (no request has a billion tokens)
_MAX_TOKENS_BELIEVED = 10 ** 9
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AnnotatorError(RuntimeError):
    """The server refused the requests for a reason retrying cannot fix (e.g. 401, 404), or
    cannot be reached (:meth:`OpenAIAnnotator.check_server`).

    Attributes:
        status (int, optional): the HTTP status, when the server answered.
    """

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


def _integer(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def _real(value, name: str, low: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < low or (low_open and value == low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    return value


def check_base_url(base_url) -> str:
    """``base_url`` without a trailing ``/``, or a ValueError/TypeError naming it."""
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, got {type(base_url).__name__}")
    match = re.fullmatch(r"(https?)://([^/?#@\s]+@)?([^/?#\s]+)(/[^?#\s]*)?", base_url)
    if match is None or match.group(3).startswith(":"):
        raise ValueError(f"base_url must be an http:// or https:// URL with a host and no "
                         f"query, got {base_url!r}")
    if match.group(2):
        raise ValueError("base_url must not hold credentials (user:password@); the API key "
                         "is read from the variable named by api_key_env")
    try:
        parts = urllib.parse.urlsplit(base_url)
        parts.port  # noqa: B018 - raises on a port that is not a number in [0, 65535]
    except ValueError as error:
        raise ValueError(f"base_url {base_url!r} is not a valid URL ({error})") from None
    if not parts.hostname:
        raise ValueError(f"base_url must name a host, got {base_url!r}")
    return base_url.rstrip("/")


def check_env_name(api_key_env) -> Optional[str]:
    """``api_key_env`` if it is ``None`` or an environment variable's NAME; the value itself is
    never echoed (a user may pass the key by mistake)."""
    if api_key_env is None:
        return None
    if not isinstance(api_key_env, str):
        raise TypeError(f"api_key_env must be a str or None, got {type(api_key_env).__name__}")
    if not _ENV_NAME.fullmatch(api_key_env):
        raise ValueError("api_key_env must be the NAME of an environment variable (letters, "
                         "digits and _, not starting with a digit), not the key itself")
    return api_key_env


class OpenAIAnnotator(Annotator):
    r"""Asks a chat-completions model for its ``top_k`` guesses with confidences (0–100).

    Every question is ``POST {base_url}/chat/completions`` with the prompt of
    :func:`~noisygraph.locle.parsing.build_messages` at temperature 0. Answers are parsed by
    :func:`~noisygraph.locle.parsing.parse_guesses`, which maps labels to classes by the one
    rule of :func:`~noisygraph.locle.parsing.match_class`; an unusable answer gives an
    :class:`Annotation` with ``label == -1`` and the reason in ``error``.

    - **Deadline.** ``timeout`` bounds each whole request (name resolution, connect, TLS,
      send and every read; :func:`~noisygraph.locle.transport.http_request`), not each
      socket read. A question takes at most :math:`(\text{max\_retries} + 1)\cdot
      \text{timeout}` plus the waits between attempts.
    - **Response size.** A response longer than ``max_response_bytes`` is dropped: the
      question fails (it counts as paid), is not retried and nothing is cached.
    - **Budget = a ledger.** Every request that may be billed is first written to a ledger
      beside the cache (:class:`~noisygraph.locle.cache.QueryLedger`: append-only, one
      fsync'ed line per request, written *before* it is sent). ``max_queries`` bounds those
      lines, for all annotators, processes, crashes and resumes that share ``cache_dir``,
      ``base_url``, ``model`` and ``budget_scope``. A request counts when its bytes may have
      reached the server: a timeout, a dropped connection, a 5xx or a malformed answer all
      count. It is refunded (a second line) only when nothing was billed for sure: it was
      never sent (connection refused, name not resolved, connect timeout, TLS failure), or
      the server refused it with a 4xx status. So under ``max_queries = N`` at most ``N``
      requests are sent that were not refused with a 4xx status, retries included; a crash
      can only make the count larger than what was paid. Cache hits are free and need no
      line. Use a new ``budget_scope`` for a new experiment.
    - **Retries.** Up to ``max_retries`` more attempts per question, with backoff
      :math:`\min(\text{backoff}\cdot 2^{a}, \text{max\_backoff})` (plus up to 10 % jitter)
      or the server's ``Retry-After`` (capped at ``max_backoff``), after: a request never
      sent (free), HTTP 408/409/429 (free), and HTTP 500/502/503/504, a timeout, a dropped
      connection or a non-JSON answer (each retry is a new request that needs a budget slot;
      without one the question ends with its last error). Other 3xx/4xx/5xx raise
      :class:`AnnotatorError` (a wrong key or URL: retrying cannot help).
    - **A paid answer is never lost.** The answer is written to the cache (atomically,
      keyed by base URL, model and request payload) before anything else is done with it.
      The server's ``usage`` is validated: a count that is missing, negative, not an
      integer, not finite or absurd makes the usage unknown (tokens estimated at four
      characters each, one warning per annotator), never an error. A cache entry that
      cannot be read is a miss (asked again) with one warning per call; a cache that
      cannot be written gives one warning and the answer is still used.
    - **Secrets.** The API key is read from the environment variable ``api_key_env`` at
      each request; it is never stored on the object, logged, or written to the cache or
      the ledger.

    Args:
        base_url (str): server root including the API prefix, e.g.
            ``"https://api.openai.com/v1"`` or ``"http://127.0.0.1:8000/v1"``.
        model (str): model name sent in the request.
        api_key_env (str, optional): NAME of the environment variable holding the key;
            no ``Authorization`` header when it is unset or empty. (default:
            ``"OPENAI_API_KEY"``)
        max_queries (int, optional): the budget of requests that may be billed (see
            above). (default: :obj:`None`, unlimited, still written to the ledger)
        max_workers (int): concurrent requests. (default: ``4``)
        timeout (float): seconds for each whole request. (default: ``60``)
        max_retries (int): further attempts per question. (default: ``5``)
        backoff (float): first wait between attempts, in seconds. (default: ``1.0``)
        max_backoff (float): longest wait between attempts. (default: ``60``)
        top_k (int): guesses asked for. (default: ``3``)
        prompt_price_per_1m (float): dollars per 1M prompt tokens. (default: ``0``)
        completion_price_per_1m (float): dollars per 1M completion tokens. (default: ``0``)
        cache_dir (os.PathLike, optional): answer cache folder (the ledgers live in its
            ``ledgers/`` folder); defaults to ``noisygraph.datasets.cache_dir()/locle/answers``.
            (default: :obj:`None`)
        max_tokens (int): completion length limit. (default: ``200``)
        max_response_bytes (int): longest response accepted. (default: ``1_000_000``)
        budget_scope (str): the name under which the budget is kept in the ledger.
            (default: ``"default"``)
        classes (Sequence, optional): the classes this annotator will be asked about,
            checked now (:func:`~noisygraph.locle.annotation.as_class_infos`: names that
            collide are rejected here); :meth:`annotate` then accepts only these.
            (default: :obj:`None`, checked at each call)
    """

    paid = True

    def __init__(self, base_url: str, model: str, api_key_env: Optional[str] = "OPENAI_API_KEY",
                 max_queries: Optional[int] = None, max_workers: int = 4, timeout: float = 60.0,
                 max_retries: int = 5, backoff: float = 1.0, max_backoff: float = 60.0,
                 top_k: int = 3, prompt_price_per_1m: float = 0.0,
                 completion_price_per_1m: float = 0.0, cache_dir: Optional[os.PathLike] = None,
                 max_tokens: int = 200, max_response_bytes: int = 1_000_000,
                 budget_scope: str = "default", classes: Optional[Sequence] = None):
        super().__init__()
        self.base_url = check_base_url(base_url)
        if not isinstance(model, str):
            raise TypeError(f"model must be a str, got {type(model).__name__}")
        if not model.strip() or any(ord(c) < 32 for c in model):
            raise ValueError(f"model must be a non-empty one-line string, got {model!r}")
        self.model = model
        self.api_key_env = check_env_name(api_key_env)
        self.max_queries = None if max_queries is None else _integer(max_queries, "max_queries", 0)
        self.max_workers = _integer(max_workers, "max_workers", 1)
        self.timeout = _real(timeout, "timeout", 0.0, low_open=True)
        self.max_retries = _integer(max_retries, "max_retries", 0)
        self.backoff = _real(backoff, "backoff", 0.0)
        self.max_backoff = _real(max_backoff, "max_backoff", 0.0)
        self.top_k = _integer(top_k, "top_k", 1)
        self.prompt_price_per_1m = _real(prompt_price_per_1m, "prompt_price_per_1m", 0.0)
        self.completion_price_per_1m = _real(completion_price_per_1m, "completion_price_per_1m",
                                             0.0)
        self.max_tokens = _integer(max_tokens, "max_tokens", 1)
        self.max_response_bytes = _integer(max_response_bytes, "max_response_bytes", 1)
        if not isinstance(budget_scope, str):
            raise TypeError(f"budget_scope must be a str, got {type(budget_scope).__name__}")
        if not budget_scope.strip():
            raise ValueError("budget_scope must be a non-empty string")
        self.budget_scope = budget_scope
        self.classes = None if classes is None else as_class_infos(classes)
        if cache_dir is None:
            from noisygraph.datasets import cache_dir as default_cache_dir
            cache_dir = os.path.join(default_cache_dir(), "locle", "answers")
        if not isinstance(cache_dir, (str, os.PathLike)):
            raise TypeError(f"cache_dir must be a path, got {type(cache_dir).__name__}")
        if os.path.exists(cache_dir) and not os.path.isdir(cache_dir):
            raise ValueError(f"cache_dir {os.fspath(cache_dir)!r} exists and is not a folder")
        self.cache = AnswerCache(cache_dir)
        ledger_id = hashlib.sha256(json.dumps([self.budget_scope, self.base_url, self.model])
                                   .encode("utf-8")).hexdigest()[:16]
        self.ledger = QueryLedger(self.cache.root / "ledgers" / f"{ledger_id}.jsonl",
                                  scope=self.budget_scope)
        self._warned: set[str] = set()
        self._warn_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key_env={self.api_key_env!r}, max_queries={self.max_queries}, "
                f"budget_scope={self.budget_scope!r})")

    @property
    def queries_left(self) -> Optional[int]:
        """Requests the budget still allows (``None`` when unlimited), read from the ledger."""
        if self.max_queries is None:
            return None
        return max(0, self.max_queries - self.ledger.spent)

    def _warn_once(self, kind: str, message: str) -> None:
        with self._warn_lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    # ------------------------------------------------------------------ preflight
    def check_server(self, timeout: float = 10.0) -> None:
        """Checks, for free, that the server can be reached and accepts the key:
        ``GET {base_url}/models`` (listed by OpenAI, vLLM, llama.cpp and Ollama; nothing is
        billed and the ledger is not touched).

        Args:
            timeout (float): seconds for the whole check. (default: ``10``)

        Raises:
            AnnotatorError: one line naming the URL and the cause: connection refused, the
                host not resolved, no answer within ``timeout``, HTTP 401/403 (the key),
                HTTP 404 (a wrong API prefix).
        """
        timeout = _real(timeout, "timeout", 0.0, low_open=True)
        url = f"{self.base_url}/models"
        try:
            response = http_request("GET", url, headers=self._headers(), timeout=timeout,
                                    max_response_bytes=self.max_response_bytes)
        except RequestError as error:
            raise AnnotatorError(f"cannot reach {self.base_url}: {error}") from None
        if response.status in (401, 403):
            variable = self.api_key_env or "(none)"
            state = "set" if self.api_key_env and os.environ.get(self.api_key_env) else "not set"
            raise AnnotatorError(f"{url} answered HTTP {response.status}: the server refused "
                                 f"the API key (read from the variable {variable}, which is "
                                 f"{state})", response.status)
        if response.status == 404:
            raise AnnotatorError(f"{url} answered HTTP 404: is the API prefix right (e.g. "
                                 "http://host:port/v1)?", 404)

    # ------------------------------------------------------------------ questions
    def payload(self, text: str, classes: list[ClassInfo]) -> dict:
        """The JSON body of the chat-completions request for one text."""
        return {"model": self.model, "messages": build_messages(text, classes, self.top_k),
                "temperature": 0, "max_tokens": self.max_tokens}

    def _annotate(self, texts, node_ids, classes, verbose):
        if self.classes is not None and ([name_key(c.name) for c in classes]
                                         != [name_key(c.name) for c in self.classes]):
            raise ValueError("classes differ from the classes this annotator was built with")
        payloads = [self.payload(text, classes) for text in texts]
        keys = [answer_key(self.base_url, self.model, payload) for payload in payloads]
        records: dict[str, tuple[Optional[dict], bool, Optional[str]]] = {}
        todo, queued = [], set()
        corrupt_before = len(self.cache.corrupt)
        for key, payload in zip(keys, payloads):
            if key in records or key in queued:
                continue
            hit = self.cache.get(key)
            if hit is not None and not _usable_record(hit):
                self.cache.corrupt.append(self.cache.root / key[:2] / f"{key}.json")
                hit = None
            if hit is not None:
                records[key] = (hit, True, None)
                self._account(cache_hits=1)
            else:
                todo.append((key, payload))
                queued.add(key)
        corrupt = self.cache.corrupt[corrupt_before:]
        if corrupt:
            warnings.warn(f"{len(corrupt)} unreadable answer-cache entr"
                          f"{'y' if len(corrupt) == 1 else 'ies'} ignored and asked again "
                          f"(e.g. {corrupt[0]})", RuntimeWarning, stacklevel=3)
        left = self.queries_left
        if left is not None and len(todo) > left:  # the last questions, deterministically
            for key, _ in todo[left:]:
                records[key] = (None, False, self._exhausted())
            todo = todo[:left]
        bar = tqdm(total=len(todo), desc="annotating", unit="q", disable=not verbose or not todo)
        stop = threading.Event()  # set on an error or Ctrl-C: no new attempt starts
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            futures = {pool.submit(self._ask, key, payload, stop): key for key, payload in todo}
            try:
                for future in as_completed(futures):
                    records[futures[future]] = future.result()
                    bar.update(1)
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
            finally:
                bar.close()
        return [self._to_annotation(node, *records[key], classes)
                for node, key in zip(node_ids, keys)]

    def _exhausted(self) -> str:
        return (f"query budget exhausted ({self.max_queries} requests spent in budget scope "
                f"{self.budget_scope!r}, ledger {self.ledger.path})")

    def _ask(self, key: str, payload: dict,
             stop: threading.Event) -> tuple[Optional[dict], bool, Optional[str]]:
        """Sends one question; caches the answer before any other bookkeeping."""
        response, error, billed, attempts = self._post(key, payload, stop)
        if response is None:
            if attempts:
                self._account(queries=1 if billed else 0, requests=billed, failures=1)
            return None, False, error
        record = self._record(response, payload)
        self._store(key, record)
        self._account(queries=1, requests=billed, prompt_tokens=record["prompt_tokens"],
                      completion_tokens=record["completion_tokens"],
                      cost_usd=self._cost(record))
        return record, False, None

    def _record(self, response: dict, payload: dict) -> dict:
        """The cache record of a paid answer; never raises."""
        content = _content_of(response)
        usage = _reported_usage(response)
        reported = usage is not None
        if not reported:
            self._warn_once("usage", f"{self.base_url} reported no usable token usage (missing, "
                            "negative, non-integer or non-finite counts); tokens and cost of "
                            "such answers are estimated at four characters per token")
            usage = (_estimate_tokens(payload), len(content or "") // 4)
        return {"base_url": self.base_url, "model": self.model, "content": content,
                "prompt_tokens": usage[0], "completion_tokens": usage[1],
                "usage_reported": reported,
                "created": time.time()}

    def _store(self, key: str, record: dict) -> None:
        try:
            self.cache.put(key, record)
        except (OSError, ValueError, TypeError) as error:
            self._warn_once("cache-write", f"cannot write the answer cache {self.cache.root} "
                            f"({error}); answers are used but a rerun will ask them again")

    def _cost(self, record: dict) -> float:
        return (record["prompt_tokens"] * self.prompt_price_per_1m
                + record["completion_tokens"] * self.completion_price_per_1m) / 1e6

    def _to_annotation(self, node: int, record: Optional[dict], cached: bool,
                       error: Optional[str], classes: list[ClassInfo]) -> Annotation:
        if record is None:
            return Annotation(node, NO_LABEL, 0.0, error=error)
        tokens = record["prompt_tokens"] + record["completion_tokens"]
        cost = 0.0 if cached else self._cost(record)
        try:
            guesses = parse_guesses(record.get("content"), classes, self.top_k)
        except AnswerParseError as failure:
            return Annotation(node, NO_LABEL, 0.0, tokens=tokens, cost_usd=cost, cached=cached,
                              error=str(failure))
        label, confidence = guesses[0]
        return Annotation(node, label, confidence, top_k=guesses, tokens=tokens,
                          cost_usd=cost, cached=cached)

    # ------------------------------------------------------------------ HTTP
    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _refund(self, entry: str, reason: str) -> None:
        try:
            self.ledger.refund(entry, reason)
        except OSError as error:  # the request then stays counted: never an overspend
            self._warn_once("ledger-refund", f"cannot write a refund to the budget ledger "
                            f"{self.ledger.path} ({error}); the request stays counted")

    def _post(self, key: str, payload: dict,
              stop: threading.Event) -> tuple[Optional[dict], Optional[str], int, int]:
        """``(response JSON or None, error or None, requests counted as billed, attempts)``."""
        url = f"{self.base_url}/chat/completions"
        body = json.dumps(payload).encode("utf-8")
        last, billed = "no attempt", 0
        for attempt in range(self.max_retries + 1):
            if stop.is_set():
                return None, f"stopped after {attempt} attempts ({last})", billed, attempt
            try:
                entry = self.ledger.reserve(self.max_queries, key=key, base_url=self.base_url,
                                            model=self.model, attempt=attempt)
            except OSError as error:
                raise AnnotatorError(f"cannot write the budget ledger {self.ledger.path} "
                                     f"({error}); nothing was sent") from None
            if entry is None:
                if attempt == 0:
                    return None, self._exhausted(), billed, attempt
                return None, (f"gave up after {attempt} attempts, the query budget is "
                              f"exhausted ({last})"), billed, attempt
            retry_after = None
            try:
                response = http_request("POST", url, body=body, headers=self._headers(),
                                        timeout=self.timeout,
                                        max_response_bytes=self.max_response_bytes)
            except RequestError as error:
                if not error.sent:
                    self._refund(entry, "not sent")
                else:
                    billed += 1
                if error.too_large:
                    return None, str(error), billed, attempt + 1
                last = str(error)
            else:
                status = response.status
                if 200 <= status < 300:
                    billed += 1
                    try:
                        return (json.loads(response.body.decode("utf-8")), None, billed,
                                attempt + 1)
                    except (UnicodeDecodeError, ValueError, RecursionError):
                        last = "the server's response is not JSON"
                elif 300 <= status < 500:
                    self._refund(entry, f"HTTP {status}")
                    if status not in RETRYABLE_STATUS:
                        detail = response.body[:200].decode("utf-8", "replace")
                        raise AnnotatorError(f"{url} answered HTTP {status}: {detail}", status)
                    last = f"HTTP {status}"
                    retry_after = _retry_after_seconds(response.headers.get("retry-after"))
                else:
                    billed += 1
                    if status not in RETRYABLE_STATUS:
                        detail = response.body[:200].decode("utf-8", "replace")
                        raise AnnotatorError(f"{url} answered HTTP {status}: {detail}", status)
                    last = f"HTTP {status}"
                    retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            if attempt == self.max_retries:
                break
            delay = retry_after if retry_after is not None else self.backoff * 2 ** attempt
            delay = min(delay, self.max_backoff)
            stop.wait(delay * (1.0 + 0.1 * random.random()) if retry_after is None else delay)
        return (None, f"gave up after {self.max_retries + 1} attempts ({last})", billed,
                self.max_retries + 1)


def _content_of(response) -> Optional[str]:
    try:
        content = response["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _token_count(value) -> Optional[int]:
    """A believable token count, or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= _MAX_TOKENS_BELIEVED:
        return value
    return None


def _reported_usage(response) -> Optional[tuple[int, int]]:
    """``(prompt_tokens, completion_tokens)`` as the server reported them, if both are
    believable; never raises."""
    usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt = _token_count(usage.get("prompt_tokens"))
    completion = _token_count(usage.get("completion_tokens"))
    return None if prompt is None or completion is None else (prompt, completion)


def _usable_record(record: dict) -> bool:
    """Whether a cache record has the fields an annotation needs, with sane values."""
    tokens = (record.get("prompt_tokens"), record.get("completion_tokens"))
    return (isinstance(record.get("content"), (str, type(None)))
            and all(type(count) is int and 0 <= count <= _MAX_TOKENS_BELIEVED
                    for count in tokens))


def _estimate_tokens(payload: dict) -> int:
    """About four characters per token, for servers that report no usage."""
    return sum(len(message["content"]) for message in payload["messages"]) // 4


def _retry_after_seconds(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    try:
        return max(0.0, when.timestamp() - time.time())
    except (OverflowError, ValueError, OSError):
        return None
