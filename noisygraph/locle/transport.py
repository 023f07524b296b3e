"""One HTTP/1.1 request with a **total** deadline and a response size limit (standard
library only).

``urllib``'s ``timeout`` bounds each socket operation, so a server that trickles one byte
every half second holds a request for as long as it likes. Here ``timeout`` bounds the whole
request: name resolution, connecting (through the proxy the environment names, if any, as
``urllib`` does), the proxy tunnel and TLS handshake, sending, and reading the status line,
headers and body. Every socket operation gets the time still left as its timeout, and a
watchdog shuts the socket down at the deadline, which interrupts any read still blocked.

Each failure says whether any byte of the request may have reached the server
(:attr:`RequestError.sent`): a caller that pays per request counts those, and only those,
as possibly billed.
"""
from __future__ import annotations

import base64
import http.client
import math
import re
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Optional

_CHUNK = 64 * 1024
_MAX_PROXY_HEAD = 64 * 1024


class RequestError(Exception):
    """A request that failed before a complete response came back.

    Attributes:
        sent (bool): whether any byte of the request may have reached the server (``False``
            for failures while resolving, connecting, tunnelling or in the TLS handshake).
        timed_out (bool): the total deadline passed.
        too_large (bool): the response was larger than ``max_response_bytes``.
    """

    def __init__(self, message: str, *, sent: bool, timed_out: bool = False,
                 too_large: bool = False):
        super().__init__(message)
        self.sent = sent
        self.timed_out = timed_out
        self.too_large = too_large


@dataclass(frozen=True)
class Response:
    """A complete HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: dict
    body: bytes


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def expired_error(self, during: str, sent: bool) -> RequestError:
        return RequestError(f"timed out: no complete response within {self.seconds:g} s "
                            f"(the total deadline; {during})", sent=sent, timed_out=True)

    def remaining(self, during: str, sent: bool) -> float:
        """Seconds left, or the timeout error when none are."""
        left = self.left()
        if left <= 0:
            raise self.expired_error(during, sent)
        return left


class _Watchdog:
    """Shuts the current socket down when the deadline passes (a blocked read then returns)."""

    def __init__(self, deadline: _Deadline):
        self.fired = False
        self._sock: Optional[socket.socket] = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(deadline.left(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:  # the plain socket's shutdown, also for an SSLSocket (no TLS goodbye)
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shutdown()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shutdown()

    def cancel(self) -> None:
        self._timer.cancel()


def _resolve(host: str, port: int, deadline: _Deadline) -> list:
    """``getaddrinfo`` within the deadline (it has no timeout of its own, so a slow resolver
    runs in a daemon thread that is abandoned at the deadline)."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        pass  # not an address literal
    result: dict = {}
    done = threading.Event()

    def work():
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            result["error"] = error
        finally:
            done.set()

    threading.Thread(target=work, daemon=True, name="noisygraph-resolve").start()
    if not done.wait(deadline.remaining(f"resolving {host}", sent=False)):
        raise deadline.expired_error(f"resolving {host}", sent=False)
    if "error" in result:
        raise RequestError(f"cannot resolve host {host!r} ({result['error']})", sent=False)
    return result["infos"]


def _connect(host: str, port: int, deadline: _Deadline) -> socket.socket:
    last: Optional[BaseException] = None
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining(f"connecting to {host}:{port}", sent=False))
            sock.connect(address)
            return sock
        except RequestError:
            sock.close()
            raise
        except OSError as error:
            sock.close()
            last = error
    if isinstance(last, socket.timeout):
        raise deadline.expired_error(f"connecting to {host}:{port}", sent=False)
    if isinstance(last, ConnectionRefusedError):
        raise RequestError(f"connection refused by {host}:{port} (is the server running?)",
                           sent=False)
    raise RequestError(f"cannot connect to {host}:{port} ({last})", sent=False)


def _proxy_for(parts: urllib.parse.SplitResult) -> Optional[urllib.parse.SplitResult]:
    """The proxy ``urllib`` would use for this URL (``http_proxy``/``https_proxy``/``no_proxy``)."""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    proxy_parts = urllib.parse.urlsplit(proxy)
    if proxy_parts.scheme != "http" or not proxy_parts.hostname:
        raise RequestError(f"unsupported proxy {proxy_parts.scheme}://{proxy_parts.hostname} "
                           "(only http:// proxies)", sent=False)
    return proxy_parts


def _proxy_authorization(proxy: urllib.parse.SplitResult) -> dict:
    if proxy.username is None:
        return {}
    user = urllib.parse.unquote(proxy.username)
    password = urllib.parse.unquote(proxy.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Proxy-Authorization": f"Basic {token}"}


def _tunnel(sock: socket.socket, target: str, proxy: urllib.parse.SplitResult,
            deadline: _Deadline) -> None:
    """``CONNECT target`` through an HTTP proxy; nothing of the request itself is sent yet."""
    head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    for name, value in _proxy_authorization(proxy).items():
        head += f"{name}: {value}\r\n"
    reply = b""
    try:
        sock.settimeout(deadline.remaining("sending CONNECT to the proxy", sent=False))
        sock.sendall((head + "\r\n").encode("latin-1"))
        while b"\r\n\r\n" not in reply:
            sock.settimeout(deadline.remaining("reading the proxy's CONNECT answer", sent=False))
            chunk = sock.recv(4096)
            if not chunk or len(reply) > _MAX_PROXY_HEAD:
                break
            reply += chunk
    except OSError as error:
        raise RequestError(f"proxy tunnel to {target} failed ({error})", sent=False) from None
    status = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    if len(status.split()) < 2 or status.split()[1] != "200" or b"\r\n\r\n" not in reply:
        raise RequestError(f"proxy refused the tunnel to {target} ({status or 'no answer'!r})",
                           sent=False)


def http_request(method: str, url: str, *, body: Optional[bytes] = None,
                 headers: Optional[dict] = None, timeout: float,
                 max_response_bytes: int,
                 ssl_context: Optional[ssl.SSLContext] = None) -> Response:
    """Sends one request and returns the complete response, whatever its status.

    Args:
        method (str): ``"GET"``, ``"POST"``, ...
        url (str): an ``http://`` or ``https://`` URL.
        body (bytes, optional): the request body. (default: :obj:`None`)
        headers (dict, optional): request headers. (default: :obj:`None`)
        timeout (float): seconds for the whole request, from name resolution to the last
            byte of the body.
        max_response_bytes (int): a longer body (by ``Content-Length`` or as it arrives) ends
            the request with :class:`RequestError` (``too_large``).
        ssl_context (ssl.SSLContext, optional): for ``https``; the system's default
            verifying context when :obj:`None`. (default: :obj:`None`)

    Raises:
        RequestError: no complete response within ``timeout``, the connection failed, the
            response was malformed or too large.
        TypeError, ValueError: an argument is not valid (a message naming it).
    """
    if not isinstance(method, str) or not re.fullmatch(r"[A-Z]+", method):
        raise ValueError(f"method must be an upper-case HTTP method, got {method!r}")
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, got {type(url).__name__}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number, got {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be finite and > 0, got {timeout}")
    if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
        raise TypeError(f"max_response_bytes must be an int, got "
                        f"{type(max_response_bytes).__name__}")
    if max_response_bytes < 1:
        raise ValueError(f"max_response_bytes must be >= 1, got {max_response_bytes}")
    if body is not None and not isinstance(body, bytes):
        raise TypeError(f"body must be bytes or None, got {type(body).__name__}")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port
    except ValueError:
        raise ValueError(f"url has an invalid port: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url must be an http:// or https:// URL with a host, got {url!r}")
    deadline = _Deadline(timeout)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    proxy = _proxy_for(parts)
    headers = dict(headers or {})
    headers["Host"] = parts.netloc.rpartition("@")[2]
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))

    if proxy is None:
        sock = _connect(parts.hostname, port, deadline)
    else:
        sock = _connect(proxy.hostname, proxy.port or 80, deadline)
    watchdog = _Watchdog(deadline)
    watchdog.watch(sock)
    sent = False
    connection: Optional[http.client.HTTPConnection] = None
    try:
        if proxy is not None and secure:
            _tunnel(sock, f"{parts.hostname}:{port}", proxy, deadline)
        elif proxy is not None:
            target = url  # absolute form for a plain-HTTP proxy
            headers.update(_proxy_authorization(proxy))
        if secure:
            context = ssl_context or ssl.create_default_context()
            sock.settimeout(deadline.remaining("in the TLS handshake", sent=False))
            try:
                sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            except (ssl.SSLError, ssl.CertificateError, OSError) as error:
                if watchdog.fired or isinstance(error, socket.timeout):
                    raise deadline.expired_error("in the TLS handshake", sent=False) from None
                raise RequestError(f"TLS handshake with {parts.hostname} failed ({error})",
                                   sent=False) from None
            watchdog.watch(sock)
        connection = http.client.HTTPConnection(parts.hostname, port)
        connection.sock = sock
        sent = True
        sock.settimeout(deadline.remaining("sending the request", sent=True))
        connection.request(method, target, body=body, headers=headers)
        sock.settimeout(deadline.remaining("waiting for the response", sent=True))
        response = connection.getresponse()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        declared = answer_headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > max_response_bytes:
            raise RequestError(f"response of {int(declared)} bytes is larger than "
                               f"max_response_bytes={max_response_bytes}", sent=True,
                               too_large=True)
        chunks, size = [], 0
        while True:
            sock.settimeout(deadline.remaining("reading the response body", sent=True))
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_response_bytes:
                raise RequestError(f"response is larger than max_response_bytes="
                                   f"{max_response_bytes}", sent=True, too_large=True)
            chunks.append(chunk)
        if watchdog.fired:  # the shutdown may read as a clean end of the body
            raise deadline.expired_error("reading the response body", sent=True)
        return Response(response.status, answer_headers, b"".join(chunks))
    except RequestError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if watchdog.fired or isinstance(error, socket.timeout):
            raise deadline.expired_error("while talking to the server", sent=sent) from None
        raise RequestError(f"{type(error).__name__}: {error}", sent=sent) from None
    finally:
        watchdog.cancel()
        if connection is not None:
            connection.close()
        else:
            sock.close()
