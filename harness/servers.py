"""End-to-end harness: real Prometheus and Alertmanager on 127.0.0.1, a simulated backend
exposing the seed's metrics, and HTTP sinks standing in for PagerDuty and Slack.

Everything binds to loopback, every loop is bounded in time, and every process started is
stopped by the context managers even when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import make_wsgi_app

from infra.tools import tool_path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.25, what: str = ""
) -> float:
    """Poll `predicate` until true; return the seconds it took; fail after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")


# ---------------------------------------------------------------- sinks


@dataclass
class Received:
    at: float
    path: str
    body: dict[str, Any]


@dataclass
class Sink:
    """An HTTP endpoint that records JSON posts; it can be told to fail with 500 for a while."""

    name: str
    port: int = 0
    received: list[Received] = field(default_factory=list)
    failures: int = 0
    fail_until: float = 0.0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def fail_for(self, seconds: float) -> None:
        self.fail_until = time.monotonic() + seconds

    def reply(self) -> tuple[int, str, bytes]:
        """What the real service answers to an accepted post. Alertmanager >= 0.30 reads
        Slack's answer: an incoming webhook says `ok` in plain text (a JSON body without
        `"ok": true` is an error); PagerDuty's Events API v2 answers 202 with JSON."""
        if self.name.startswith("slack"):
            return 200, "text/plain; charset=utf-8", b"ok"
        return 202, "application/json", b'{"status":"success","message":"Event processed"}'

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.received]

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if time.monotonic() < sink.fail_until:
                    with sink._lock:
                        sink.failures += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"raw": raw.decode(errors="replace")}
                with sink._lock:
                    sink.received.append(Received(time.monotonic(), self.path, body))
                status, content_type, reply = sink.reply()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# ---------------------------------------------------------------- simulated backend


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class SimulatedBackend:
    """The seed's backend metrics (prom-client names and labels), driven by a traffic thread.

    `error_ratio` is the share of requests answered 5xx; the thread stops by itself after
    `max_seconds` so a forgotten backend cannot run on.
    """

    def __init__(self, *, max_seconds: float = 600.0) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "http_requests",
            "Total number of HTTP requests",
            ["method", "route", "status_code"],
            registry=r,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Duration of HTTP requests in seconds",
            ["method", "route", "status_code"],
            registry=r,
            buckets=(0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10),
        )
        self.db = Histogram(
            "db_query_duration_seconds",
            "Duration of database queries in seconds",
            ["operation", "table"],
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5),
        )
        self.active_users = Gauge("active_users", "Number of currently active users", registry=r)
        self.cache_hits = Counter("cache_hits", "Cache hits", ["cache_type"], registry=r)
        self.cache_misses = Counter("cache_misses", "Cache misses", ["cache_type"], registry=r)
        self.signups = Counter("user_signups", "Total number of user signups", registry=r)
        self.posts = Counter("posts_created", "Posts created", ["post_type"], registry=r)
        self.pool_active = Gauge(
            "db_pool_active_connections", "Active pool connections", registry=r
        )
        self.pool_max = Gauge("db_pool_max_connections", "Pool size", registry=r)
        self.error_ratio = 0.0
        self.latency_seconds = 0.08
        self.requests_per_tick = 20
        self.max_seconds = max_seconds
        self.port = 0
        self._server: WSGIServer | None = None
        self._stop = threading.Event()

    def _tick(self) -> None:
        errors = round(self.requests_per_tick * self.error_ratio)
        ok = self.requests_per_tick - errors
        for status, count in (("200", ok), ("500", errors)):
            if count:
                self.requests.labels("GET", "/api/posts", status).inc(count)
                # A handful of observations per tick is enough for the quantiles; observing
                # every request would make a traffic surge cost seconds of CPU.
                for _ in range(min(count, 5)):
                    self.duration.labels("GET", "/api/posts", status).observe(self.latency_seconds)
        self.db.labels("select", "posts").observe(0.02)
        self.cache_hits.labels("redis").inc(8)
        self.cache_misses.labels("redis").inc(2)
        self.posts.labels("1").inc()
        self.signups.inc()

    def _traffic(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._tick()
            self._stop.wait(0.2)

    def start(self) -> None:
        self.active_users.set(42)
        self.pool_active.set(3)
        self.pool_max.set(20)
        self._server = make_server(
            LOOPBACK, 0, make_wsgi_app(self.registry), handler_class=_QuietHandler
        )
        self.port = int(self._server.server_port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        threading.Thread(target=self._traffic, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# ---------------------------------------------------------------- real servers


def _binary(name: str) -> str:
    """The tools folder's binary (`make tools`), else PATH's; ToolMissingError says how."""
    return tool_path(name)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as resp:
            return json.load(resp)

    def post_json(self, path: str, body: Any) -> int:
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                return int(resp.status) == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


@contextlib.contextmanager
def _server(name: str, argv: list[str], port: int, log: Path) -> Iterator[Server]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    try:
        wait_until(server.ready, timeout=30, what=f"{name} to be ready")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def alertmanager(config: Path, workdir: Path) -> Iterator[Server]:
    port = free_port()
    argv = [
        _binary("alertmanager"),
        f"--config.file={config}",
        f"--storage.path={workdir / 'am-data'}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--cluster.listen-address=",
        "--log.level=debug",
    ]
    with _server("alertmanager", argv, port, workdir / "alertmanager.log") as server:
        yield server


@contextlib.contextmanager
def prometheus(
    config: Path, workdir: Path, *extra_args: str, port: int | None = None
) -> Iterator[Server]:
    """`extra_args` go to the command line, e.g. a shorter --rules.alert.resend-delay; `port`
    restarts a server where its clients expect it (default: a free one)."""
    port = port or free_port()
    argv = [
        _binary("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prom-data'}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--web.enable-lifecycle",
        *extra_args,
    ]
    with _server("prometheus", argv, port, workdir / "prometheus.log") as server:
        yield server
