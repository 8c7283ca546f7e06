"""A simulated backend exposing the seed's metrics (prom-client names and labels) on
127.0.0.1, driven by a traffic thread that stops by itself."""

from __future__ import annotations

import threading
import time
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import make_wsgi_app

from harness.servers import LOOPBACK


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
