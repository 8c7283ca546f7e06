"""Hours of a production backend's metrics, as Prometheus would have scraped them, for promtool.

A deterministic (seeded) model of what the seed's Express backend exports from a real
cluster: several replicas (pods), each counting in its metrics middleware its users'
requests, its kubelet's probes (liveness /health every 10s, readiness /health/ready every 5s,
the startup probe when it starts) and Prometheus' scrapes of /metrics (every 30s), with the
seed's metric names, labels and histogram buckets. Users follow a daily curve with Poisson
noise, fail now and then (4xx, and a background of 5xx), and hit the cache, sign up and post
as a share of their requests. Pods live and die as in a cluster: a rolling deployment
replaces them (new pod, new instance, counters from 0; the old one's series go stale), a
crashed container restarts in place (up = 0 for a while, counters reset).

`Cluster.input_series()` gives promtool's `input_series` (one sample per scrape interval;
`_` where a series does not exist, `stale` where Prometheus marks it so). Faults are
`Fault`s: 5xx for a share of user requests, a replica crash-looping, every replica down, a
release that no longer exports a metric.
"""

from __future__ import annotations

import math
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from harness.servers import LOOPBACK

#: Prometheus' scrape interval in production (kube-prometheus-stack's default, our 30s).
STEP = 30
#: The seed's http_request_duration_seconds buckets (prom-client Histogram, section 2).
BUCKETS = (0.1, 0.3, 0.5, 0.7, 1.0, 3.0, 5.0, 7.0, 10.0)

Labels = tuple[tuple[str, str], ...]
Sample = float | str | None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    #: Share of user requests.
    share: float
    #: The status a successful request gets, and client errors with their share.
    ok: str = "200"
    client_errors: tuple[tuple[str, float], ...] = ()
    #: Median latency in seconds (lognormal, sigma 0.6: p95 is 2.7x the median).
    median: float = 0.08


#: The backend's user-facing routes (what `req.route.path` gives) and their mix.
ROUTES = (
    Route("GET", "/api/posts", 0.55, median=0.06),
    Route("GET", "/api/users/:id", 0.25, client_errors=(("404", 0.02),), median=0.04),
    Route("POST", "/api/posts", 0.08, ok="201", client_errors=(("400", 0.03),), median=0.15),
    Route("POST", "/api/auth/login", 0.10, client_errors=(("401", 0.08),), median=0.25),
    Route("POST", "/api/auth/signup", 0.02, ok="201", client_errors=(("409", 0.05),), median=0.3),
)


@dataclass(frozen=True)
class Pod:
    """One replica: alive from `start` until `end` (seconds), down during `crashes`."""

    name: str
    instance: str
    start: int
    end: int | None = None
    crashes: tuple[tuple[int, int], ...] = ()
    #: Metric names this pod's build does not export (a release that renamed one).
    missing: frozenset[str] = frozenset()

    def state(self, t: int) -> str:
        """`absent` (not yet or no longer), `down` (crashed: up = 0) or `up`."""
        if t < self.start or (self.end is not None and t >= self.end):
            return "absent"
        if any(a <= t < b for a, b in self.crashes):
            return "down"
        return "up"


@dataclass(frozen=True)
class Fault:
    """A share of user requests answered 500 between `start` and `end` (seconds)."""

    start: int
    end: int
    error_ratio: float


@dataclass
class _Process:
    """What one running container has exported since it started."""

    counters: dict[Labels, float] = field(default_factory=dict)

    def inc(self, labels: Labels, by: float = 1.0) -> None:
        self.counters[labels] = self.counters.get(labels, 0.0) + by


@dataclass
class Cluster:
    """`hours` of a backend's scrapes, beginning at `clock` o'clock (for the daily curve)."""

    pods: tuple[Pod, ...]
    hours: float = 6.0
    clock: float = 3.0
    namespace: str = "blue-harvest"
    job: str = "backend"
    #: User requests per second across the service at the daily trough and peak.
    trough: float = 0.15
    peak: float = 6.0
    #: Background share of user requests answered 5xx (a healthy service's noise).
    background_errors: float = 0.002
    faults: tuple[Fault, ...] = ()
    seed: int = 7

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._steps = int(self.hours * 3600) // STEP + 1
        self._series: dict[Labels, list[Sample]] = {}

    # ------------------------------------------------------------------ model

    def user_rate(self, t: int) -> float:
        """User requests/s: a daily cosine between trough (04:00) and peak (16:00)."""
        hour = (self.clock + t / 3600) % 24
        phase = (1 - math.cos(2 * math.pi * (hour - 4) / 24)) / 2
        return self.trough + (self.peak - self.trough) * phase

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        if mean > 30:
            return max(0, round(self._rng.gauss(mean, math.sqrt(mean))))
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self._rng.random()
            if p <= limit:
                return k
            k += 1

    def _error_ratio(self, t: int) -> float:
        extra = [f.error_ratio for f in self.faults if f.start <= t < f.end]
        return max([self.background_errors, *extra])

    def _labels(self, pod: Pod, name: str, **labels: str) -> Labels:
        base = {
            "__name__": name,
            "job": self.job,
            "namespace": self.namespace,
            "pod": pod.name,
            "instance": pod.instance,
        }
        return tuple(sorted({**base, **labels}.items()))

    def _observe(
        self, proc: _Process, pod: Pod, request: tuple[str, str, str], seconds: float
    ) -> None:
        """Count one request (method, route, status) as the seed's middleware does."""
        method, route, status = request
        common = {"method": method, "route": route, "status_code": status}
        proc.inc(self._labels(pod, "http_requests_total", **common))
        if "http_request_duration_seconds" in pod.missing:
            return
        for le in (*BUCKETS, math.inf):
            if seconds <= le:
                name = "http_request_duration_seconds_bucket"
                proc.inc(self._labels(pod, name, **common, le=_le(le)))
        # The bucket series exist from the first observation on, each at 0 if not hit.
        for le in (*BUCKETS, math.inf):
            key = self._labels(pod, "http_request_duration_seconds_bucket", **common, le=_le(le))
            proc.counters.setdefault(key, 0.0)

    def _step(self, proc: _Process, pod: Pod, t: int, ready: int, since_start: int) -> None:
        rng = self._rng
        # The kubelet: startup probe every 10s until it passes (its first 20s), then liveness
        # every 10s and readiness every 5s; Prometheus scrapes /metrics once per step.
        if since_start < 20:
            for _ in range(2):
                self._observe(proc, pod, ("GET", "/health/startup", "200"), 0.002)
        else:
            for _ in range(STEP // 10):
                self._observe(proc, pod, ("GET", "/health", "200"), rng.uniform(0.001, 0.004))
            for _ in range(STEP // 5):
                self._observe(proc, pod, ("GET", "/health/ready", "200"), rng.uniform(0.002, 0.02))
        self._observe(proc, pod, ("GET", "/metrics", "200"), rng.uniform(0.005, 0.02))
        # Users, spread over the ready pods by the Service.
        users = self._poisson(self.user_rate(t) * STEP / max(ready, 1)) if since_start >= 20 else 0
        errors = self._error_ratio(t)
        weights = [r.share for r in ROUTES]
        for route in rng.choices(ROUTES, weights, k=users):
            roll = rng.random()
            status = route.ok
            for code, share in route.client_errors:
                if roll < share:
                    status = code
                    break
                roll -= share
            if rng.random() < errors:
                status = "500"
            seconds = rng.lognormvariate(math.log(route.median), 0.6)
            self._observe(proc, pod, (route.method, route.path, status), seconds)
            if route.method == "GET":
                hit = rng.random() < 0.85
                name = "cache_hits_total" if hit else "cache_misses_total"
                proc.inc(self._labels(pod, name, cache_type="redis"))
            if route.path == "/api/auth/signup" and status == "201":
                proc.inc(self._labels(pod, "user_signups_total"))
            if route.path == "/api/posts" and status == "201":
                post_type = "image" if rng.random() < 0.2 else "text"
                proc.inc(self._labels(pod, "posts_created_total", post_type=post_type))

    def _gauges(self, pod: Pod, t: int, ready: int) -> dict[Labels, float]:
        busy = self.user_rate(t) / max(ready, 1) * 0.6
        return {
            self._labels(pod, "db_pool_active_connections"): float(
                min(20, 1 + self._poisson(busy))
            ),
            self._labels(pod, "db_pool_max_connections"): 20.0,
        }

    # ------------------------------------------------------------------ scrapes

    def _record(self, labels: Labels, step: int, value: Sample) -> None:
        values = self._series.setdefault(labels, [None] * self._steps)
        values[step] = value

    def run(self) -> Cluster:
        procs: dict[str, _Process] = {}
        exported: dict[str, set[Labels]] = {pod.name: set() for pod in self.pods}
        previous: dict[str, str] = {pod.name: "absent" for pod in self.pods}
        for step in range(self._steps):
            t = step * STEP
            states = {pod.name: pod.state(t) for pod in self.pods}
            ready = sum(
                1 for pod in self.pods if states[pod.name] == "up" and t - _started(pod, t) >= 20
            )
            for pod in self.pods:
                state, before = states[pod.name], previous[pod.name]
                up = self._labels(pod, "up")
                if state == "absent":
                    if before != "absent":  # terminated: Prometheus marks its series stale
                        for labels in exported[pod.name] | {up}:
                            self._record(labels, step, "stale")
                    continue
                if state == "down":
                    self._record(up, step, 0.0)
                    if before == "up":  # failed scrape: its series go stale
                        for labels in exported[pod.name]:
                            self._record(labels, step, "stale")
                    procs.pop(pod.name, None)  # the restarted process starts from 0
                    continue
                proc = procs.setdefault(pod.name, _Process())
                if len(proc.counters) == 0:
                    # prom-client exports an unlabelled counter at 0 from the start.
                    proc.counters[self._labels(pod, "user_signups_total")] = 0.0
                self._step(proc, pod, t, ready, t - _started(pod, t))
                self._record(up, step, 1.0)
                current = {**proc.counters, **self._gauges(pod, t, ready)}
                current = {k: v for k, v in current.items() if _name(k) not in pod.missing}
                for labels, value in current.items():
                    self._record(labels, step, value)
                exported[pod.name] |= set(current)
            previous = states
        return self

    def input_series(self) -> list[dict[str, str]]:
        """promtool's `input_series`, one sample per STEP seconds, `_` where absent."""
        return [
            {"series": _selector(labels), "values": " ".join(_fmt(v) for v in values)}
            for labels, values in sorted(self._series.items())
        ]

    def series_count(self) -> int:
        return len(self._series)

    def __iter__(self) -> Iterator[Labels]:
        return iter(self._series)


def _started(pod: Pod, t: int) -> int:
    """When the container running at `t` started: the pod's start or its last restart."""
    start = pod.start
    for _, end in pod.crashes:
        if end <= t:
            start = max(start, end)
    return start


def _name(labels: Labels) -> str:
    return dict(labels)["__name__"].removesuffix("_bucket")


def _le(value: float) -> str:
    return "+Inf" if math.isinf(value) else f"{value:g}"


def _fmt(value: Sample) -> str:
    if value is None:
        return "_"
    if isinstance(value, str):
        return value
    return f"{value:g}" if value < 1e15 else repr(value)


def _selector(labels: Labels) -> str:
    values = dict(labels)
    name = values.pop("__name__")
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    return f"{name}{{{inner}}}"


def replicas(
    count: int, *, prefix: str = "backend-7d9f", start: int = 0, subnet: int = 1
) -> tuple[Pod, ...]:
    """`count` pods of one ReplicaSet, as the Deployment names them, on port 4000."""
    return tuple(
        Pod(f"{prefix}-{chr(97 + i)}{i}x", f"10.0.{subnet}.{10 + i}:4000", start)
        for i in range(count)
    )


def rolling_update(
    old: tuple[Pod, ...], at: int, *, prefix: str, missing: frozenset[str] = frozenset()
) -> tuple[Pod, ...]:
    """Replace `old` one pod at a time from `at`: each new pod starts, becomes ready within
    its 20s startup, and the old one it replaces terminates a minute after it started."""
    pods: list[Pod] = []
    for i, pod in enumerate(old):
        begin = at + i * 90
        pods.append(Pod(pod.name, pod.instance, pod.start, begin + 60, pod.crashes, pod.missing))
        pods.append(
            Pod(
                f"{prefix}-{chr(97 + i)}{i}y",
                f"10.0.2.{10 + i}:4000",
                begin,
                missing=missing,
            )
        )
    return tuple(pods)


# ---------------------------------------------------------------------- live replicas
#
# The same backend, live: each replica is an HTTP server on 127.0.0.1 whose metrics
# middleware counts every request it answers (users', the kubelet's probes, Prometheus'
# scrapes of /metrics) in the seed's metrics, as prom-client would. A `Kubelet` thread probes
# the replicas that run and a `Users` thread sends user requests to them (a Service only
# routes to running pods). Time may be compressed: `speed` 30 runs a 30s scrape interval as
# 1s, so probes come every 10s/30 and 5s/30, and user rates are multiplied by 30.

_LIVE_ROUTES: tuple[tuple[str, str, str, float], ...] = (
    # method, path requested, route label (req.route.path), share of user requests
    ("GET", "/api/posts", "/api/posts", 0.6),
    ("GET", "/api/users/42", "/api/users/:id", 0.25),
    ("POST", "/api/posts", "/api/posts", 0.1),
    ("POST", "/api/auth/signup", "/api/auth/signup", 0.05),
)
_PROBES = {"/health", "/health/ready", "/health/startup"}


class LiveReplica:
    """One backend replica: its own process state (a fresh registry on every start)."""

    def __init__(self, name: str, port: int, *, seed: int = 0) -> None:
        self.name = name
        self.port = port
        #: Share of user requests answered 500.
        self.error_ratio = 0.0
        #: Metric families this build does not export (a release that renamed them).
        self.missing: set[str] = set()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def _fresh_metrics(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        r = self.registry = CollectorRegistry()
        labels = ["method", "route", "status_code"]
        self.requests = Counter("http_requests", "Total HTTP requests", labels, registry=r)
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration",
            labels,
            registry=r,
            buckets=BUCKETS,
        )
        self.cache_hits = Counter("cache_hits", "Cache hits", ["cache_type"], registry=r)
        self.cache_misses = Counter("cache_misses", "Cache misses", ["cache_type"], registry=r)
        self.signups = Counter("user_signups", "User signups", registry=r)
        self.posts = Counter("posts_created", "Posts created", ["post_type"], registry=r)
        Gauge("db_pool_active_connections", "Pool in use", registry=r).set(3)
        Gauge("db_pool_max_connections", "Pool size", registry=r).set(20)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        missing = set(self.missing)

        class Exported:
            def __init__(self, registry: Any) -> None:
                self.registry = registry

            def collect(self) -> Iterator[Any]:
                for family in self.registry.collect():
                    if family.name not in missing and f"{family.name}_total" not in missing:
                        yield family

        return generate_latest(Exported(self.registry))

    def count(self, method: str, route: str, status: int, seconds: float) -> None:
        """The seed's metrics middleware, on `finish`."""
        code = str(status)
        self.requests.labels(method, route, code).inc()
        self.duration.labels(method, route, code).observe(seconds)

    def answer(self, method: str, path: str) -> tuple[int, str, float]:
        """Status, route label and (simulated) duration of one request."""
        rng = self._rng
        if path in _PROBES:
            return 200, path, rng.uniform(0.001, 0.004)
        routes = {(m, p): route for m, p, route, _ in _LIVE_ROUTES}
        route = routes.get((method, path))
        if route is None:
            return 404, path, 0.001
        with self._lock:
            failed = rng.random() < self.error_ratio
            seconds = rng.lognormvariate(math.log(0.08), 0.6)
            hit = rng.random() < 0.85
            post_type = "image" if rng.random() < 0.2 else "text"
        if failed:
            return 500, route, seconds
        if method == "GET":
            (self.cache_hits if hit else self.cache_misses).labels("redis").inc()
            return 200, route, seconds
        if route == "/api/posts":
            self.posts.labels(post_type).inc()
        else:
            self.signups.inc()
        return 201, route, seconds

    def start(self) -> None:
        """Start (or restart) the process: counters from 0, like a restarted container."""
        self._fresh_metrics()
        replica = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def _serve(self) -> None:
                started = time.monotonic()
                path = self.path.split("?")[0]
                if path == "/metrics":
                    status, route, body = 200, "/metrics", replica.exposition()
                    seconds = time.monotonic() - started
                    content_type = CONTENT_TYPE_LATEST
                else:
                    status, route, seconds = replica.answer(self.command, path)
                    body = b'{"status":"ok"}' if status < 500 else b'{"error":"e2e"}'
                    content_type = "application/json"
                self.send_response(status)
                # Prometheus 3 refuses a scrape without a valid Content-Type.
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                replica.count(self.command, route, status, seconds)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def stop(self) -> None:
        """Crash: the port refuses connections until `start`."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


def _get(url: str, method: str = "GET") -> None:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            response.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        pass


class _Loop(threading.Thread):
    """A daemon thread that runs `tick` until stopped (or `max_seconds` pass)."""

    def __init__(self, max_seconds: float) -> None:
        super().__init__(daemon=True)
        self._halt = threading.Event()
        self._deadline = time.monotonic() + max_seconds

    def tick(self) -> float:
        """One step; returns the seconds to wait before the next."""
        raise NotImplementedError

    def run(self) -> None:
        while not self._halt.is_set() and time.monotonic() < self._deadline:
            self._halt.wait(self.tick())

    def halt(self) -> None:
        self._halt.set()


class Kubelet(_Loop):
    """Liveness /health every 10s and readiness /health/ready every 5s, per running replica."""

    def __init__(self, pods: list[LiveReplica], *, speed: float, max_seconds: float) -> None:
        super().__init__(max_seconds)
        self.pods = pods
        self.period = 5 / speed
        self._n = 0

    def tick(self) -> float:
        self._n += 1
        for pod in self.pods:
            if pod.running:
                base = f"http://{LOOPBACK}:{pod.port}"
                _get(f"{base}/health/ready")
                if self._n % 2 == 0:
                    _get(f"{base}/health")
        return self.period


class Users(_Loop):
    """User requests at `rate` per (simulated) second, spread over the running replicas."""

    def __init__(
        self, pods: list[LiveReplica], *, rate: float, speed: float, max_seconds: float
    ) -> None:
        super().__init__(max_seconds)
        self.pods = pods
        self.rate = rate * speed
        self._rng = random.Random(11)
        self._next = 0

    def tick(self) -> float:
        running = [p for p in self.pods if p.running]
        if running:
            pod = running[self._next % len(running)]
            self._next += 1
            shares = [r[3] for r in _LIVE_ROUTES]
            method, path, _, _ = self._rng.choices(_LIVE_ROUTES, shares)[0]
            _get(f"http://{LOOPBACK}:{pod.port}{path}", method)
        return self._rng.expovariate(self.rate)
