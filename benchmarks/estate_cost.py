"""What the estate's own rules cost a real Prometheus as services grow (issue 13, item 5).

    python -m benchmarks.estate_cost                          # 10, 100 and 1,000 services
    python -m benchmarks.estate_cost --sizes 10 --interval 5s --scrape-interval 5s
    python -m benchmarks.estate_cost --sizes 1000 --shared    # also the shared-rule variant

For each generated estate (benchmarks/estates.py: `services-N`, the prod stack file with its
own services and `svc-0001`..), the real CLI synthesizes it (`estate synth`); every rule file
of out/<stack>/prometheus/rules/ is loaded UNCHANGED (the groups keep their own evaluation
intervals; `--interval` rewrites them in a copy, for quick runs) into the Prometheus of the
tools folder (`make tools`, the production version) on 127.0.0.1.

It scrapes one synthetic exporter process on 127.0.0.1 (`exposition()`): for every service
that has a ServiceMonitor in the synthesized output, one target per replica of its
Deployment, each at /metrics/<service>/<replica>, with the labels the Prometheus Operator
gives a ServiceMonitor's target (`job` = the service, as `jobLabel: app.kubernetes.io/name`
sets it, `namespace`, `service`, `pod`, `endpoint`, `instance`), listed in a file_sd file.
Every target serves the same text: the seed backend's metrics (infra/catalog/metrics_catalog.py
APPLICATION, with the routes, status codes and histogram buckets of `ROUTES`,
`LATENCY_BUCKETS`, `DB_QUERIES`, `DB_BUCKETS`) and prom-client's default Node.js metrics,
counters advancing with time; it is rebuilt at most once a second, so 2,000 targets are
cheap. The scrape interval is the stack's (`prometheus.prometheusSpec.scrapeInterval` of the
kube-prometheus-stack values) unless `--scrape-interval` says otherwise.

Once every target is up and every group has evaluated once (that first evaluation is not
counted), Prometheus' /metrics is read every second until every group has `--evaluations`
more: `prometheus_rule_group_last_duration_seconds` at each new
`prometheus_rule_group_last_evaluation_timestamp_seconds`. The report gives, per group, its
rules and the median and max duration as a share of the group's interval; the sum of the
groups' median shares is the share of time Prometheus spends evaluating the estate's rules
(the target: under 5% at 1,000 services). Per rule name, /api/v1/rules' `evaluationTime`
summed over a name's copies (median over the reads) shows which rules dominate and which are
copied per service. Series: `prometheus_tsdb_head_series` and the estate's recording rules'
series, per scraped service. The machine's load (`os.getloadavg()`), Prometheus' and the
exporter's CPU, scrape durations and `up` are reported with each run.

`--shared` also measures a copy of the rule files in which the rules copied per service
(ServiceDown, ServiceReplicaDown, ScrapeTargetMissing) are replaced by one rule each,
aggregated by job over the namespace (`share_per_service_rules()`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from benchmarks.estates import SIZES, generated_stack, write_generated_stack
from benchmarks.rule_cost import _read_metrics, _seconds, _version
from benchmarks.run import busy_cpu_seconds, estate_command, machine
from harness.servers import LOOPBACK, Server, prometheus, wait_until

#: The issue's target: the estate's rule evaluation under 5% of the evaluation interval.
TARGET_SHARE = 0.05
#: The namespace the estate's services run in (their ServiceMonitors' targets carry it).
NAMESPACE = "blue-harvest"

# ---------------------------------------------------------------- the exporter's text (pure)


@dataclass(frozen=True)
class Route:
    method: str
    route: str
    #: (status code, requests per second) of one replica.
    statuses: tuple[tuple[str, float], ...]


#: The seed backend's API as one replica serves it: 8 routes, 15 (route, status) series.
ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/posts", (("200", 12.0), ("500", 0.06))),
    Route("POST", "/api/posts", (("201", 1.5), ("400", 0.1), ("500", 0.01))),
    Route("GET", "/api/posts/:id", (("200", 8.0), ("404", 0.2))),
    Route("GET", "/api/users/:id", (("200", 3.0), ("404", 0.05))),
    Route("POST", "/api/auth/login", (("200", 0.8), ("401", 0.1))),
    Route("POST", "/api/auth/register", (("201", 0.05), ("400", 0.01))),
    Route("GET", "/health", (("200", 0.2),)),
    Route("GET", "/metrics", (("200", 0.033),)),
)
#: http_request_duration_seconds: the seed's buckets and the share of requests under each.
LATENCY_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0.1", 0.55),
    ("0.3", 0.85),
    ("0.5", 0.95),
    ("0.7", 0.98),
    ("1", 0.99),
    ("3", 0.998),
    ("5", 0.999),
    ("7", 1.0),
    ("10", 1.0),
    ("+Inf", 1.0),
)
#: db_query_duration_seconds: (operation, table, queries per second).
DB_QUERIES: tuple[tuple[str, str, float], ...] = (
    ("select", "posts", 20.0),
    ("insert", "posts", 1.5),
    ("update", "posts", 0.3),
    ("select", "users", 4.0),
    ("insert", "users", 0.05),
    ("select", "sessions", 1.0),
    ("insert", "sessions", 0.8),
)
DB_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0.01", 0.6),
    ("0.05", 0.9),
    ("0.1", 0.97),
    ("0.5", 0.995),
    ("1", 0.999),
    ("2", 1.0),
    ("5", 1.0),
    ("+Inf", 1.0),
)
#: prom-client's collectDefaultMetrics() on Node.js 20: heap spaces and GC kinds.
HEAP_SPACES = (
    "read_only",
    "new",
    "old",
    "code",
    "shared",
    "trusted",
    "new_large_object",
    "large_object",
)
GC_KINDS = ("minor", "major", "incremental", "weakcb")
GC_BUCKETS = ("0.001", "0.01", "0.1", "1", "2", "5", "+Inf")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _histogram(
    name: str, help_: str, rows: Sequence[tuple[dict[str, str], float]], buckets: Any, mean: float
) -> Iterator[str]:
    """A histogram family: rows of (labels, observations so far), cumulative buckets."""
    yield f"# HELP {name} {help_}\n# TYPE {name} histogram\n"
    for labels, count in rows:
        for le, share in buckets:
            yield f"{name}_bucket{_labels(**labels, le=le)} {count * share:.3f}\n"
        yield f"{name}_sum{_labels(**labels)} {count * mean:.3f}\n"
        yield f"{name}_count{_labels(**labels)} {count:.3f}\n"


def _family(name: str, kind: str, help_: str, rows: Sequence[tuple[str, float]]) -> str:
    head = f"# HELP {name} {help_}\n# TYPE {name} {kind}\n"
    return head + "".join(f"{name}{labels} {value:.3f}\n" for labels, value in rows)


def exposition(elapsed: float) -> str:
    """What one replica of a service exposes `elapsed` seconds after it started: the seed
    backend's metrics (prom-client names and labels) and prom-client's default metrics.
    Counters grow linearly with `elapsed`; gauges are constant."""
    t = max(elapsed, 0.0)
    requests = [
        ({"method": r.method, "route": r.route, "status_code": status}, rate * t)
        for r in ROUTES
        for status, rate in r.statuses
    ]
    queries = [({"operation": op, "table": table}, rate * t) for op, table, rate in DB_QUERIES]
    parts = [
        _family(
            "http_requests_total",
            "counter",
            "Total number of HTTP requests",
            [(_labels(**labels), count) for labels, count in requests],
        ),
        *_histogram(
            "http_request_duration_seconds",
            "Duration of HTTP requests in seconds",
            requests,
            LATENCY_BUCKETS,
            0.12,
        ),
        *_histogram(
            "db_query_duration_seconds",
            "Duration of database queries in seconds",
            queries,
            DB_BUCKETS,
            0.008,
        ),
        _family("active_users", "gauge", "Number of currently active users", [("", 42.0)]),
        _family(
            "cache_hits_total",
            "counter",
            "Cache hits",
            [(_labels(cache_type="redis"), 16.0 * t), (_labels(cache_type="memory"), 40.0 * t)],
        ),
        _family(
            "cache_misses_total",
            "counter",
            "Cache misses",
            [(_labels(cache_type="redis"), 4.0 * t), (_labels(cache_type="memory"), 6.0 * t)],
        ),
        _family("user_signups_total", "counter", "Total number of user signups", [("", 0.05 * t)]),
        _family(
            "posts_created_total",
            "counter",
            "Posts created",
            [(_labels(post_type=p), rate * t) for p, rate in (("1", 1.0), ("2", 0.4), ("3", 0.1))],
        ),
        _family("db_pool_active_connections", "gauge", "Active pool connections", [("", 3.0)]),
        _family("db_pool_max_connections", "gauge", "Pool size", [("", 20.0)]),
        *_prom_client_defaults(t),
    ]
    return "".join(parts)


def _prom_client_defaults(t: float) -> Iterator[str]:
    gauges = (
        ("process_start_time_seconds", 1_700_000_000.0),
        ("process_resident_memory_bytes", 160e6),
        ("process_virtual_memory_bytes", 1.1e9),
        ("process_heap_bytes", 210e6),
        ("process_open_fds", 31.0),
        ("process_max_fds", 1_048_576.0),
        ("nodejs_eventloop_lag_seconds", 0.004),
        *(
            (f"nodejs_eventloop_lag_{stat}_seconds", value)
            for stat, value in (
                ("min", 0.009),
                ("max", 0.03),
                ("mean", 0.011),
                ("stddev", 0.002),
                ("p50", 0.01),
                ("p90", 0.013),
                ("p99", 0.02),
            )
        ),
        ("nodejs_active_resources_total", 9.0),
        ("nodejs_active_handles_total", 6.0),
        ("nodejs_active_requests_total", 0.0),
        ("nodejs_heap_size_total_bytes", 80e6),
        ("nodejs_heap_size_used_bytes", 60e6),
        ("nodejs_external_memory_bytes", 3e6),
    )
    for name, rate in (
        ("process_cpu_user_seconds_total", 0.08),
        ("process_cpu_system_seconds_total", 0.02),
        ("process_cpu_seconds_total", 0.1),
    ):
        yield _family(name, "counter", name.replace("_", " "), [("", rate * t)])
    for name, value in gauges:
        yield _family(name, "gauge", name.replace("_", " "), [("", value)])
    for name, types in (
        ("nodejs_active_resources", ("TCPSocketWrap", "TCPServerWrap", "Timeout")),
        ("nodejs_active_handles", ("Socket", "Server", "Timeout")),
    ):
        yield _family(
            name, "gauge", name.replace("_", " "), [(_labels(type=k), 2.0) for k in types]
        )
    for stat, value in (("total", 8e6), ("used", 5e6), ("available", 3e6)):
        name = f"nodejs_heap_space_size_{stat}_bytes"
        rows = [(_labels(space=space), value) for space in HEAP_SPACES]
        yield _family(name, "gauge", name.replace("_", " "), rows)
    yield _family(
        "nodejs_version_info",
        "gauge",
        "Node.js version info",
        [(_labels(version="v20.11.1", major="20", minor="11", patch="1"), 1.0)],
    )
    gc = [({"kind": kind}, 2.0 * t) for kind in GC_KINDS]
    gc_buckets = [(le, 0.5 + 0.5 * i / (len(GC_BUCKETS) - 1)) for i, le in enumerate(GC_BUCKETS)]
    yield from _histogram(
        "nodejs_gc_duration_seconds", "Garbage collection duration", gc, gc_buckets, 0.002
    )


def series_count(text: str) -> int:
    """The samples (= series) of an exposition text."""
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


# ---------------------------------------------------------------- targets (pure)


@dataclass(frozen=True)
class Service:
    name: str
    replicas: int


def scraped_services(stack_out: Path) -> list[Service]:
    """The services Prometheus scrapes in a synthesized stack: those with a ServiceMonitor
    in kubernetes/, each with its Deployment's replicas."""
    kube = stack_out / "kubernetes"
    services = []
    for monitor in sorted(kube.glob(f"servicemonitor-{NAMESPACE}-*.yaml")):
        name = yaml.safe_load(monitor.read_text())["metadata"]["name"]
        deployment = kube / f"deployment-{NAMESPACE}-{name}.yaml"
        if not deployment.exists():
            raise FileNotFoundError(f"{monitor.name} monitors {name} but {deployment} is missing")
        replicas = int(yaml.safe_load(deployment.read_text())["spec"].get("replicas", 1))
        services.append(Service(name, replicas))
    if not services:
        raise ValueError(f"{kube}: no servicemonitor-{NAMESPACE}-*.yaml, nothing to scrape")
    return services


def file_sd(services: Sequence[Service], port: int) -> list[dict[str, Any]]:
    """file_sd target groups: one per replica, as the Prometheus Operator labels a
    ServiceMonitor's target. `job` in the target's labels is kept (Prometheus sets `job`
    from job_name only when the target has none); `__metrics_path__` picks the replica."""
    groups = []
    for s_index, service in enumerate(services):
        for replica in range(service.replicas):
            pod = f"{service.name}-{replica}"
            groups.append(
                {
                    "targets": [f"{LOOPBACK}:{port}"],
                    "labels": {
                        "__metrics_path__": f"/metrics/{service.name}/{replica}",
                        "job": service.name,
                        "namespace": NAMESPACE,
                        "service": service.name,
                        "pod": pod,
                        "container": service.name,
                        "endpoint": "http",
                        "instance": f"10.{s_index // 250}.{s_index % 250}.{replica + 1}:8080",
                    },
                }
            )
    return groups


def exporter_paths(groups: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    return frozenset(str(g["labels"]["__metrics_path__"]) for g in groups)


# ---------------------------------------------------------------- the exporter process


class Exposition:
    """The shared text, rebuilt at most once a second (counters advance with time)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._built = -1.0
        self._body = b""

    def body(self) -> bytes:
        now = time.monotonic()
        with self._lock:
            if now - self._built >= 1.0:
                # A fresh process has an hour of traffic behind it: rates are defined at once.
                self._body = exposition(3600.0 + now - self.start).encode()
                self._built = now
            return self._body


def serve(targets_file: Path, max_seconds: float) -> None:
    """Serve /metrics/<service>/<replica> for every target of the file_sd file on
    127.0.0.1; print the port; stop after `max_seconds` (a forgotten exporter cannot run on)."""
    paths = exporter_paths(json.loads(targets_file.read_text()))
    text = Exposition()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in paths:
                self.send_error(404, f"no target {self.path}")
                return
            body = text.body()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Timer(max_seconds, server.shutdown).start()
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


class Exporter:
    """The exporter as a child process of this one (its own interpreter: no GIL shared with
    the measuring loop)."""

    def __init__(self, targets_file: Path, max_seconds: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.estate_cost",
                "--serve",
                str(targets_file),
                "--serve-seconds",
                str(max_seconds),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"the exporter did not start (printed {line!r})")
        self.port = int(line)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# ---------------------------------------------------------------- sharing the copies


#: One rule, aggregated by job over the namespace, for each rule copied per service.
SHARED_EXPRS: dict[str, str] = {
    "ServiceDown": (
        f'sum by (namespace, job) (up{{namespace="{NAMESPACE}"}})\n/\n'
        f'count by (namespace, job) (up{{namespace="{NAMESPACE}"}})\n<= 0'
    ),
    "ServiceReplicaDown": f'up{{namespace="{NAMESPACE}"}} == 0',
    # absent() cannot be aggregated: a job whose every target vanished within the hour.
    "ScrapeTargetMissing": (
        f'group by (namespace, job) (max_over_time(up{{namespace="{NAMESPACE}"}}[1h]))\n'
        f'unless on (namespace, job)\ngroup by (namespace, job) (up{{namespace="{NAMESPACE}"}})'
    ),
}


def share_per_service_rules(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """A copy of a rule file in which every alert of SHARED_EXPRS copied per service becomes
    one rule (its `service` label templated from `job`). Returns the copy and, per alert name,
    how many copies were replaced."""
    replaced: dict[str, int] = defaultdict(int)
    groups = []
    for group in doc.get("groups", []):
        rules: list[dict[str, Any]] = []
        for rule in group.get("rules", []):
            name = rule.get("alert")
            if name not in SHARED_EXPRS:
                rules.append(rule)
                continue
            replaced[name] += 1
            if replaced[name] == 1:
                rules.append(
                    {
                        **rule,
                        "expr": SHARED_EXPRS[name],
                        "labels": {**rule.get("labels", {}), "service": "{{ $labels.job }}"},
                    }
                )
        groups.append({**group, "rules": rules})
    return {**doc, "groups": groups}, dict(replaced)


# ---------------------------------------------------------------- what is measured


@dataclass(frozen=True)
class GroupCost:
    file: str
    group: str
    interval_s: float
    records: int
    alerts: int
    evaluations: int
    median_s: float
    max_s: float

    @property
    def rules(self) -> int:
        return self.records + self.alerts

    @property
    def median_share(self) -> float:
        return self.median_s / self.interval_s

    @property
    def max_share(self) -> float:
        return self.max_s / self.interval_s


@dataclass(frozen=True)
class RuleCost:
    """A rule name within a group: its copies and their evaluation time summed over them."""

    group: str
    name: str
    copies: int
    median_s: float


@dataclass(frozen=True)
class Health:
    """Whether the synthetic estate was scraped as a real one would be."""

    targets: int
    up: int
    #: Distinct `job` values of the targets (one per scraped service when file_sd's `job` holds).
    jobs: int
    scrape_p99_s: float
    scrape_max_s: float
    rule_failures: float
    missed_iterations: float


@dataclass
class EstateCost:
    stack: str
    services: int
    scraped: list[Service]
    variant: str
    scrape_interval: str
    groups: list[GroupCost]
    rules: list[RuleCost]
    health: Health
    head_series: int
    record_series: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    prometheus_cores: float
    exporter_cores: float
    #: CPU the machine spent on other processes during the measurement (a shared machine).
    other_cores: float
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def total_share(self) -> float:
        return total_share(self.groups)

    @property
    def targets(self) -> int:
        return sum(s.replicas for s in self.scraped)


def total_share(groups: Sequence[GroupCost]) -> float:
    """The share of time spent evaluating the groups: each group's median duration over its
    own interval, summed (a 30s group and a 1m group each count for their own period)."""
    return sum(g.median_share for g in groups)


def verdict(share: float, target: float = TARGET_SHARE) -> str:
    return "PASS" if share < target else "FAIL"


def aggregate_rules(reads: Sequence[Sequence[Mapping[str, Any]]]) -> list[RuleCost]:
    """Per (group, rule name): its copies and the median over `reads` (each a /api/v1/rules
    `groups` list) of the evaluation time summed over its copies; the costliest first."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(list)
    copies: dict[tuple[str, str], int] = {}
    for groups in reads:
        per_read: dict[tuple[str, str], float] = defaultdict(float)
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for group in groups:
            for rule in group["rules"]:
                key = (str(group["name"]), str(rule["name"]))
                per_read[key] += float(rule.get("evaluationTime", 0.0))
                counts[key] += 1
        for key, seconds in per_read.items():
            totals[key].append(seconds)
            copies[key] = counts[key]
    costs = [
        RuleCost(group, name, copies[(group, name)], statistics.median(values))
        for (group, name), values in totals.items()
    ]
    return sorted(costs, key=lambda c: (-c.median_s, c.group, c.name))


def synthesize(services: int, work: Path) -> Path:
    """Write the generated stack file and synthesize it with the real CLI; returns
    out/<stack>/."""
    stacks = work / "stacks"
    stack = write_generated_stack(stacks, services)
    out = work / "out"
    done = subprocess.run(
        [*estate_command(), "synth", stack, "--stacks-dir", str(stacks), "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"estate synth {stack} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    return out / stack


def stack_scrape_interval(stack_out: Path) -> str:
    values = yaml.safe_load((stack_out / "helm" / "kube-prometheus-stack.values.yaml").read_text())
    return str(values["prometheus"]["prometheusSpec"]["scrapeInterval"])


def stack_evaluation_interval(stack_out: Path) -> str:
    values = yaml.safe_load((stack_out / "helm" / "kube-prometheus-stack.values.yaml").read_text())
    return str(values["prometheus"]["prometheusSpec"]["evaluationInterval"])


@dataclass(frozen=True)
class Rules:
    files: list[Path]
    #: "<file>;<group>" (Prometheus' rule_group label) -> (file name, group, interval s,
    #: records, alerts).
    groups: dict[str, tuple[str, str, float, int, int]]
    record_names: frozenset[str]
    replaced: dict[str, int]


def prepare_rules(
    rules_dir: Path, work: Path, default_interval: str, interval: str | None, shared: bool
) -> Rules:
    """The rule files Prometheus loads: out/<stack>/prometheus/rules/*.yaml as they are,
    or copies with `interval` and/or the per-service copies shared."""
    files: list[Path] = []
    groups: dict[str, tuple[str, str, float, int, int]] = {}
    records: set[str] = set()
    replaced: dict[str, int] = defaultdict(int)
    copies = work / "rules"
    for path in sorted(rules_dir.glob("*.yaml")):
        doc: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
        target = path
        if shared:
            doc, counts = share_per_service_rules(doc)
            for name, n in counts.items():
                replaced[name] += n
        if interval is not None:
            for group in doc.get("groups", []):
                group["interval"] = interval
        if shared or interval is not None:
            copies.mkdir(exist_ok=True)
            target = copies / path.name
            target.write_text(yaml.safe_dump(doc, sort_keys=False))
        files.append(target)
        for group in doc.get("groups", []):
            rules = group.get("rules", [])
            records.update(r["record"] for r in rules if "record" in r)
            groups[f"{target};{group['name']}"] = (
                path.name,
                str(group["name"]),
                _seconds(str(group.get("interval", default_interval))),
                sum("record" in r for r in rules),
                sum("alert" in r for r in rules),
            )
    return Rules(files, groups, frozenset(records), dict(replaced))


def _query(prom: Server, expr: str) -> float:
    result = prom.get_json(f"/api/v1/query?query={quote(expr)}")["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def _self_metrics(prom: Server) -> dict[str, float]:
    """Prometheus' own unlabelled-or-summed gauges and counters the report needs."""
    wanted = {
        "prometheus_tsdb_head_series": 0.0,
        "process_cpu_seconds_total": 0.0,
        "prometheus_rule_evaluation_failures_total": 0.0,
        "prometheus_rule_group_iterations_missed_total": 0.0,
    }
    with urllib.request.urlopen(f"{prom.url}/metrics", timeout=10) as resp:
        for raw in resp:
            line = raw.decode()
            if line.startswith("#"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in wanted:
                wanted[name] += float(line.rsplit(" ", 1)[1])
    return wanted


def measure(
    services: int,
    *,
    evaluations: int = 4,
    interval: str | None = None,
    scrape_interval: str | None = None,
    shared: bool = False,
    timeout: float | None = None,
) -> EstateCost:
    """Synthesize the estate of `services` services, run it on a real Prometheus and return
    what its rules cost. Raises TimeoutError when a group has not evaluated `evaluations`
    times (after the first) in time, or when a target is not up."""
    with tempfile.TemporaryDirectory(prefix="estate-cost-") as tmp:
        work = Path(tmp)
        stack_out = synthesize(services, work)
        scraped = scraped_services(stack_out)
        default_interval = stack_evaluation_interval(stack_out)
        scrape = scrape_interval or stack_scrape_interval(stack_out)
        rules = prepare_rules(
            stack_out / "prometheus" / "rules", work, default_interval, interval, shared
        )
        longest = max(g[2] for g in rules.groups.values())
        budget = timeout or (longest * (evaluations + 2) + 3 * _seconds(scrape) + 60)
        targets_file = work / "targets.json"
        # The exporter needs its port before the targets exist: it reads the paths only.
        targets_file.write_text(json.dumps(file_sd(scraped, 0)))
        exporter = Exporter(targets_file, budget + 120)
        try:
            groups = file_sd(scraped, exporter.port)
            targets_file.write_text(json.dumps(groups))
            config = work / "prometheus.yml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "global": {
                            "scrape_interval": scrape,
                            "evaluation_interval": default_interval,
                        },
                        "rule_files": [str(f) for f in rules.files],
                        "scrape_configs": [
                            {
                                "job_name": "estate",
                                "file_sd_configs": [{"files": [str(targets_file)]}],
                            }
                        ],
                    }
                )
            )
            return _run(
                config=config,
                work=work,
                services=services,
                scraped=scraped,
                rules=rules,
                scrape=scrape,
                evaluations=evaluations,
                budget=budget,
                exporter=exporter,
                shared=shared,
            )
        finally:
            exporter.stop()


def _run(
    *,
    config: Path,
    work: Path,
    services: int,
    scraped: list[Service],
    rules: Rules,
    scrape: str,
    evaluations: int,
    budget: float,
    exporter: Exporter,
    shared: bool,
) -> EstateCost:
    targets = sum(s.replicas for s in scraped)
    started = time.monotonic()
    load_before = os.getloadavg()
    with prometheus(config, work) as prom:

        def all_up() -> bool:
            return _query(prom, "count(up == 1)") == targets

        wait_until(all_up, timeout=3 * _seconds(scrape) + 60, interval=1.0, what=f"{targets} up")

        def stamps() -> dict[str, float]:
            m = _read_metrics(prom.url)
            return m[("prometheus_rule_group_last_evaluation_timestamp_seconds", "")]

        def evaluated_once() -> bool:
            s = stamps()
            return all(s.get(key, 0) > 0 for key in rules.groups)

        deadline = started + budget
        wait_until(
            evaluated_once,
            timeout=max(deadline - time.monotonic(), 1.0),
            interval=1.0,
            what="every group to evaluate",
        )
        first = stamps()
        cpu0, exp0, mine0, busy0, t0 = (
            _self_metrics(prom)["process_cpu_seconds_total"],
            exporter.cpu_seconds(),
            time.process_time(),
            busy_cpu_seconds(),
            time.monotonic(),
        )
        durations: dict[str, list[float]] = defaultdict(list)
        seen: dict[str, set[float]] = {key: {first[key]} for key in rules.groups}
        reads: list[list[dict[str, Any]]] = []
        last_read = 0.0
        while any(len(durations[k]) < evaluations for k in rules.groups):
            if time.monotonic() > deadline:
                short = {
                    k: len(durations[k]) for k in rules.groups if len(durations[k]) < evaluations
                }
                raise TimeoutError(
                    f"after {budget:.0f}s these groups have too few evaluations: {short}"
                )
            m = _read_metrics(prom.url)
            now_stamps = m[("prometheus_rule_group_last_evaluation_timestamp_seconds", "")]
            last = m[("prometheus_rule_group_last_duration_seconds", "")]
            for key in rules.groups:
                stamp = now_stamps.get(key, 0.0)
                if stamp not in seen[key]:
                    seen[key].add(stamp)
                    durations[key].append(last[key])
            if time.monotonic() - last_read > min(g[2] for g in rules.groups.values()):
                reads.append(prom.get_json("/api/v1/rules?exclude_alerts=true")["data"]["groups"])
                last_read = time.monotonic()
            time.sleep(1.0)
        own = _self_metrics(prom)
        elapsed = time.monotonic() - t0
        prometheus_cores = (own["process_cpu_seconds_total"] - cpu0) / elapsed
        exporter_cores = (exporter.cpu_seconds() - exp0) / elapsed
        mine = (time.process_time() - mine0) / elapsed
        # Everything the machine did besides Prometheus, the exporter and this loop.
        other_cores = (busy_cpu_seconds() - busy0) / elapsed - prometheus_cores
        other_cores -= exporter_cores + mine
        health = Health(
            targets=targets,
            up=int(_query(prom, "count(up == 1)")),
            jobs=int(_query(prom, "count(count by (job) (up))")),
            scrape_p99_s=_query(prom, "quantile(0.99, scrape_duration_seconds)"),
            scrape_max_s=_query(prom, "max(max_over_time(scrape_duration_seconds[10m]))"),
            rule_failures=own["prometheus_rule_evaluation_failures_total"],
            missed_iterations=own["prometheus_rule_group_iterations_missed_total"],
        )
        names = "|".join(sorted(rules.record_names))
        record_series = int(_query(prom, f'count({{__name__=~"{names}"}})')) if names else 0
        head_series = int(own["prometheus_tsdb_head_series"])
    groups = [
        GroupCost(
            file=file,
            group=group,
            interval_s=interval_s,
            records=records,
            alerts=alerts,
            evaluations=len(durations[key]),
            median_s=statistics.median(durations[key]),
            max_s=max(durations[key]),
        )
        for key, (file, group, interval_s, records, alerts) in sorted(rules.groups.items())
    ]
    notes = [f"shared {n} copies of {name}" for name, n in sorted(rules.replaced.items())]
    return EstateCost(
        stack=generated_stack(services),
        services=services,
        scraped=scraped,
        variant="shared" if shared else "as synthesized",
        scrape_interval=scrape,
        groups=groups,
        rules=aggregate_rules(reads),
        health=health,
        head_series=head_series,
        record_series=record_series,
        load_before=load_before,
        load_after=os.getloadavg(),
        prometheus_cores=prometheus_cores,
        exporter_cores=exporter_cores,
        other_cores=max(other_cores, 0.0),
        seconds=time.monotonic() - started,
        notes=notes,
    )


# ---------------------------------------------------------------- the report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _pct(share: float) -> str:
    return f"{share * 100:.3f}%"


def report(cost: EstateCost) -> str:
    scraped = len(cost.scraped)
    lines = [
        f"## {cost.stack} ({cost.variant}): {cost.services} services, {scraped} scraped,"
        f" {cost.targets} targets every {cost.scrape_interval}",
        "",
        f"- load average before {cost.load_before[0]:.2f}, after {cost.load_after[0]:.2f};"
        f" Prometheus used {cost.prometheus_cores:.3f} cores, the exporter"
        f" {cost.exporter_cores:.3f}, other processes {cost.other_cores:.2f};"
        f" {cost.seconds:.0f} s",
        f"- targets up {cost.health.up}/{cost.health.targets} in {cost.health.jobs} jobs;"
        f" scrape duration p99"
        f" {_ms(cost.health.scrape_p99_s)} ms, max {_ms(cost.health.scrape_max_s)} ms;"
        f" rule evaluation failures {cost.health.rule_failures:.0f}, missed iterations"
        f" {cost.health.missed_iterations:.0f}",
        f"- head series {cost.head_series} ({cost.head_series / scraped:.0f} per scraped"
        f" service); the estate's records {cost.record_series}"
        f" ({cost.record_series / scraped:.2f} per scraped service)",
        *(f"- {note}" for note in cost.notes),
        "",
        "| group | interval | rules (records + alerts) | evaluations | median ms | max ms"
        " | median share | max share |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {g.group} | {g.interval_s:g}s | {g.rules} ({g.records} + {g.alerts})"
        f" | {g.evaluations} | {_ms(g.median_s)} | {_ms(g.max_s)} | {_pct(g.median_share)}"
        f" | {_pct(g.max_share)} |"
        for g in cost.groups
    ]
    share = cost.total_share
    lines += [
        f"| **all groups** | | {sum(g.rules for g in cost.groups)} | | | |"
        f" **{_pct(share)}** | {_pct(sum(g.max_share for g in cost.groups))} |",
        "",
        f"Verdict (rule evaluation under {TARGET_SHARE:.0%} of the interval):"
        f" **{verdict(share)}** at {_pct(share)}",
        "",
        "Costliest rule names (evaluationTime summed over a name's copies, median of"
        f" {len(cost.rules) and 'the'} reads):",
        "",
        "| group | rule | copies | ms per evaluation, all copies | µs per copy |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r.group} | {r.name} | {r.copies} | {_ms(r.median_s)}"
        f" | {r.median_s / r.copies * 1e6:.1f} |"
        for r in cost.rules[:8]
    ]
    return "\n".join(lines) + "\n"


def copied_per_service(cost: EstateCost) -> list[RuleCost]:
    """The rule names with one copy per scraped service."""
    return [r for r in cost.rules if r.copies == len(cost.scraped)]


def summary(costs: Sequence[EstateCost]) -> str:
    """One row per run: rules, their cost, the verdict, series per service."""
    lines = [
        "| estate | rules | scraped services (targets) | all groups, median ms"
        " | share of the interval | verdict | rules copied per service (ms) | head series"
        " per service | records' series | load before / after | other processes, cores |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for c in costs:
        copied = copied_per_service(c)
        names = ", ".join(r.name for r in copied) or "-"
        lines.append(
            f"| {c.stack} ({c.variant}) | {sum(g.rules for g in c.groups)}"
            f" | {len(c.scraped)} ({c.targets}) | {_ms(sum(g.median_s for g in c.groups))}"
            f" | {_pct(c.total_share)} | {verdict(c.total_share)}"
            f" | {sum(r.copies for r in copied)}: {names} ({_ms(sum(r.median_s for r in copied))})"
            f" | {c.head_series / len(c.scraped):.0f} | {c.record_series}"
            f" | {c.load_before[0]:.2f} / {c.load_after[0]:.2f} | {c.other_cores:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--evaluations", type=int, default=4)
    parser.add_argument("--interval", default=None, help="override every group's interval")
    parser.add_argument("--scrape-interval", default=None, help="default: the stack's")
    parser.add_argument("--shared", action="store_true", help="also the shared-rule variant")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve-seconds", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.serve_seconds)
        return 0
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: {args.sizes!r} is not a comma-separated list of service counts")
    for option in (args.interval, args.scrape_interval):
        if option is not None:
            try:
                _seconds(option)
            except ValueError as err:
                parser.error(str(err))
    info = machine()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    sys.stdout.write(f"{_version()}; nproc {info['nproc']}, {info['cpu']}; {when}\n\n")
    costs: list[EstateCost] = []
    for size in sizes:
        for shared in (False, True) if args.shared else (False,):
            cost = measure(
                size,
                evaluations=args.evaluations,
                interval=args.interval,
                scrape_interval=args.scrape_interval,
                shared=shared,
            )
            costs.append(cost)
            sys.stdout.write(report(cost) + "\n")
            sys.stdout.flush()
    sys.stdout.write(summary(costs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
