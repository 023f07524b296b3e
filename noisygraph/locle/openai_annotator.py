"""An annotator for any OpenAI-compatible chat-completions server (OpenAI, vLLM,
llama.cpp's ``llama-server``, Ollama, ...), on the standard library only."""
from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Optional

from tqdm.auto import tqdm

from noisygraph.locle.annotation import NO_LABEL, Annotation, Annotator, ClassInfo
from noisygraph.locle.cache import AnswerCache, answer_key
from noisygraph.locle.parsing import AnswerParseError, build_messages, parse_guesses

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class AnnotatorError(RuntimeError):
    """The server refused the requests for a reason retrying cannot fix (e.g. 401, 404)."""


class OpenAIAnnotator(Annotator):
    r"""Asks a chat-completions model for its ``top_k`` guesses with confidences (0–100).

    Every question is ``POST {base_url}/chat/completions`` with the prompt of
    :func:`~noisygraph.locle.parsing.build_messages` at temperature 0. Answers are parsed
    robustly (:func:`~noisygraph.locle.parsing.parse_guesses`); an unusable answer gives an
    :class:`Annotation` with ``label == -1`` and the reason in ``error``.

    - **Budget.** At most ``max_queries`` distinct questions are ever sent by this object
      (a slot is reserved under a lock before sending, so concurrency cannot overshoot);
      a question whose slot was taken counts even if it failed (it may have been billed).
      Cache hits are free. Questions beyond the budget are not sent and come back with
      ``error="query budget exhausted"``.
    - **Retries.** HTTP 408/409/429/5xx, connection errors and timeouts are retried up to
      ``max_retries`` times with exponential backoff
      :math:`\min(\text{backoff} \cdot 2^{a}, \text{max\_backoff})` (plus up to 10 % jitter),
      honouring a ``Retry-After`` header (seconds or HTTP date). Other 4xx raise
      :class:`AnnotatorError`.
    - **Cache.** Every received answer is stored atomically under ``cache_dir``, keyed by
      (base URL, model, request payload), before it is used; a rerun or a resumed crash
      never pays twice.
    - **Secrets.** The API key is read from the environment variable ``api_key_env`` at
      each request; it is never stored on the object, logged, or written to the cache.

    Args:
        base_url (str): server root including the API prefix, e.g.
            ``"https://api.openai.com/v1"`` or ``"http://127.0.0.1:8000/v1"``.
        model (str): model name sent in the request.
        api_key_env (str, optional): name of the environment variable holding the key;
            no ``Authorization`` header when unset or empty. (default: ``"OPENAI_API_KEY"``)
        max_queries (int, optional): hard budget of paid questions. (default: :obj:`None`,
            unlimited)
        max_workers (int): concurrent requests. (default: ``4``)
        timeout (float): seconds per request (connect and read). (default: ``60``)
        max_retries (int): retries per question. (default: ``5``)
        backoff (float): first backoff in seconds. (default: ``1.0``)
        max_backoff (float): longest wait between retries. (default: ``60``)
        top_k (int): guesses asked for. (default: ``3``)
        prompt_price_per_1m (float): dollars per 1M prompt tokens. (default: ``0``)
        completion_price_per_1m (float): dollars per 1M completion tokens. (default: ``0``)
        cache_dir (os.PathLike, optional): answer cache folder; defaults to
            ``noisygraph.datasets.cache_dir()/locle/answers``. (default: :obj:`None`)
        max_tokens (int): completion length limit. (default: ``200``)
    """

    paid = True

    def __init__(self, base_url: str, model: str, api_key_env: Optional[str] = "OPENAI_API_KEY",
                 max_queries: Optional[int] = None, max_workers: int = 4, timeout: float = 60.0,
                 max_retries: int = 5, backoff: float = 1.0, max_backoff: float = 60.0,
                 top_k: int = 3, prompt_price_per_1m: float = 0.0,
                 completion_price_per_1m: float = 0.0, cache_dir: Optional[os.PathLike] = None,
                 max_tokens: int = 200):
        super().__init__()
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string")
        if max_queries is not None and max_queries < 0:
            raise ValueError(f"max_queries must be >= 0, got {max_queries}")
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if backoff < 0 or max_backoff < 0:
            raise ValueError("backoff and max_backoff must be >= 0")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        if prompt_price_per_1m < 0 or completion_price_per_1m < 0:
            raise ValueError("prices must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.max_queries = max_queries
        self.max_workers = max_workers
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.top_k = top_k
        self.prompt_price_per_1m = float(prompt_price_per_1m)
        self.completion_price_per_1m = float(completion_price_per_1m)
        self.max_tokens = max_tokens
        if cache_dir is None:
            from noisygraph.datasets import cache_dir as default_cache_dir
            cache_dir = os.path.join(default_cache_dir(), "locle", "answers")
        self.cache = AnswerCache(cache_dir)
        self._reserved = 0
        self._budget_lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r}, "
                f"api_key_env={self.api_key_env!r}, max_queries={self.max_queries})")

    @property
    def queries_left(self) -> Optional[int]:
        """Paid questions still allowed (``None`` when unlimited)."""
        return None if self.max_queries is None else self.max_queries - self._reserved

    # ------------------------------------------------------------------ questions
    def payload(self, text: str, classes: list[ClassInfo]) -> dict:
        """The JSON body of the chat-completions request for one text."""
        return {"model": self.model, "messages": build_messages(text, classes, self.top_k),
                "temperature": 0, "max_tokens": self.max_tokens}

    def _annotate(self, texts, node_ids, classes, verbose):
        payloads = [self.payload(text, classes) for text in texts]
        keys = [answer_key(self.base_url, self.model, payload) for payload in payloads]
        records: dict[str, tuple[Optional[dict], bool, Optional[str]]] = {}
        todo, queued = [], set()
        for key, payload in zip(keys, payloads):
            if key in records or key in queued:
                continue
            hit = self.cache.get(key)
            if hit is not None:
                records[key] = (hit, True, None)
                self._account(cache_hits=1)
            else:
                todo.append((key, payload))
                queued.add(key)
        bar = tqdm(total=len(todo), desc="annotating", unit="q", disable=not verbose or not todo)
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            futures = {pool.submit(self._ask, key, payload): key for key, payload in todo}
            try:
                for future in as_completed(futures):
                    records[futures[future]] = future.result()
                    bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            finally:
                bar.close()
        return [self._to_annotation(node, *records[key], classes)
                for node, key in zip(node_ids, keys)]

    def _reserve(self) -> bool:
        with self._budget_lock:
            if self.max_queries is not None and self._reserved >= self.max_queries:
                return False
            self._reserved += 1
            return True

    def _ask(self, key: str, payload: dict) -> tuple[Optional[dict], bool, Optional[str]]:
        """Sends one question (after reserving a budget slot); caches the answer."""
        if not self._reserve():
            return None, False, "query budget exhausted"
        try:
            response = self._post(payload)
        except _TransientFailure as failure:
            self._account(queries=1, failures=1)
            return None, False, str(failure)
        content = _content_of(response)
        usage = response.get("usage") if isinstance(response, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        prompt_tokens = _int(usage.get("prompt_tokens"), _estimate_tokens(payload))
        completion_tokens = _int(usage.get("completion_tokens"), len(content or "") // 4)
        record = {"base_url": self.base_url, "model": self.model, "content": content,
                  "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "created": time.time()}
        self.cache.put(key, record)
        self._account(queries=1, prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens, cost_usd=self._cost(record))
        return record, False, None

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

    def _post(self, payload: dict) -> dict:
        url = f"{self.base_url}/chat/completions"
        body = json.dumps(payload).encode("utf-8")
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, data=body, headers=self._headers(),
                                             method="POST")
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                try:
                    return json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    last = "the server's response is not JSON"
            except urllib.error.HTTPError as error:
                if error.code not in RETRYABLE_STATUS:
                    detail = error.read()[:200].decode("utf-8", "replace")
                    raise AnnotatorError(f"{url} answered HTTP {error.code}: {detail}") from None
                last = f"HTTP {error.code}"
                retry_after = _retry_after_seconds(error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
                reason = getattr(error, "reason", error)
                last = f"{type(reason).__name__}: {reason}"
            if attempt == self.max_retries:
                break
            delay = retry_after if retry_after is not None else self.backoff * 2 ** attempt
            delay = min(delay, self.max_backoff)
            time.sleep(delay * (1.0 + 0.1 * random.random()) if retry_after is None else delay)
        raise _TransientFailure(f"gave up after {self.max_retries + 1} attempts ({last})")


class _TransientFailure(Exception):
    pass


def _content_of(response: dict) -> Optional[str]:
    try:
        content = response["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _int(value, default: int) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and value >= 0 else int(default)


def _estimate_tokens(payload: dict) -> int:
    """About four characters per token, for servers that report no usage."""
    return sum(len(message["content"]) for message in payload["messages"]) // 4


def _retry_after_seconds(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
