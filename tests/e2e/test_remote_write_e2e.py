"""End to end: the prod stack's remote write, from a real Prometheus into a real receiver.

A Prometheus 3.5 (the tools folder's) scrapes the simulated backend on 127.0.0.1, evaluates
the prod stack's recording rules and remote-writes with the prod stack's settings: the
external labels of the rendered chart values (`prometheusSpec.externalLabels`) and
`remote_write` rendered from prod's AmpPlan by infra.render.remote_write (the queue and the
keep relabelling as AMP gets them; SigV4 left out, the receiver checks no signature). A second
Prometheus started with `--web.enable-remote-write-receiver` stands in for the workspace.

The backend also exposes a metric no rule or dashboard of the estate reads
(prom-client's `nodejs_heap_size_total_bytes`): the sender has it, the receiver must not.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from prometheus_client import Gauge
from prometheus_client.parser import text_string_to_metric_families

from alerts import rule_groups
from harness.backend import SimulatedBackend
from harness.servers import LOOPBACK, Server, free_port, prometheus, wait_until
from infra.estate import monitoring_plan
from infra.plan.metrics_store import AmpPlan
from infra.render.prometheus import rule_file, to_yaml
from infra.render.remote_write import REMOTE_NAME, prometheus_remote_write
from infra.rules import RecordingRule
from tests.conftest import stack_config

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-remote-write")]

#: Test-only: scrape and evaluate every second (the prod stack's own intervals are 30s).
INTERVAL = "1s"
#: What no rule or dashboard of the estate reads (the seed's prom-client default metric).
UNREAD = "nodejs_heap_size_total_bytes"
#: A recording rule of the prod stack (alerts/recording.py).
RECORD = "job:http_requests:rate5m"
WAIT = 40.0


def _query(server: Server, expr: str) -> list[dict[str, Any]]:
    body = server.get_json(f"/api/v1/query?query={quote(expr)}")
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _names(server: Server) -> set[str]:
    body = server.get_json("/api/v1/label/__name__/values")
    assert body["status"] == "success", body
    return set(body["data"])


def _own_metrics(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The server's own /metrics (not scraped by anyone here): name and labels -> value."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _remote_total(server: Server, name: str) -> float:
    """Sum of `name` over the remote write queue's series (every reason, every URL)."""
    return sum(
        value
        for (sample, labels), value in _own_metrics(server).items()
        if sample == name and dict(labels).get("remote_name") == REMOTE_NAME
    )


@dataclass(frozen=True)
class Estate:
    sender: Server
    receiver: Server
    store: AmpPlan
    #: The prod chart's prometheusSpec.externalLabels, as the sender was given them.
    labels: dict[str, str]


@dataclass(frozen=True)
class Sender:
    """What the sender is built from: the prod stack's store, labels and records."""

    store: AmpPlan
    labels: dict[str, str]
    rules: Path
    namespace: str

    def config(self, backend_port: int, receiver_url: str) -> dict[str, Any]:
        return {
            "global": {
                "scrape_interval": INTERVAL,
                "evaluation_interval": INTERVAL,
                "external_labels": self.labels,
            },
            "rule_files": [str(self.rules)],
            "scrape_configs": [
                {
                    "job_name": "backend",
                    "static_configs": [
                        {
                            "targets": [f"{LOOPBACK}:{backend_port}"],
                            "labels": {"namespace": self.namespace},
                        }
                    ],
                }
            ],
            "remote_write": [
                prometheus_remote_write(self.store, f"{receiver_url}/api/v1/write", sigv4=False)
            ],
        }

    def write(self, folder: Path, backend_port: int, receiver_url: str) -> Path:
        path = folder / "prometheus.yaml"
        config = self.config(backend_port, receiver_url)
        path.write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
        return path


def _prod_sender(work: Path) -> Sender:
    config = stack_config("prod")
    groups = rule_groups(config)
    monitoring = monitoring_plan(config, groups)
    store = monitoring.chart.store
    assert store is not None, "prod writes to Amazon Managed Service for Prometheus"
    labels = dict(monitoring.values["prometheus"]["prometheusSpec"]["externalLabels"])
    # The groups holding the prod stack's records, evaluated every second.
    recording = [g for g in groups if any(isinstance(r, RecordingRule) for r in g.rules)]
    doc = rule_file(recording)
    for group in doc["groups"]:
        group["interval"] = INTERVAL
    rules = work / "recording.yaml"
    rules.write_text(to_yaml(doc), encoding="utf-8")
    return Sender(store, labels, rules, config.cluster.namespace)


def _receiver_dir(work: Path) -> Path:
    folder = work / "receiver"
    folder.mkdir()
    (folder / "prometheus.yaml").write_text("global: {}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    work = tmp_path_factory.mktemp("remote-write-e2e")
    sender = _prod_sender(work)
    backend = SimulatedBackend(max_seconds=120)
    Gauge(UNREAD, "Process heap size from Node.js in bytes.", registry=backend.registry).set(5e7)
    receiver_dir, sender_dir = _receiver_dir(work), work / "sender"
    sender_dir.mkdir()
    try:
        backend.start()
        with prometheus(
            receiver_dir / "prometheus.yaml", receiver_dir, "--web.enable-remote-write-receiver"
        ) as receiver:
            path = sender.write(sender_dir, backend.port, receiver.url)
            with prometheus(path, sender_dir) as running:
                yield Estate(running, receiver, sender.store, sender.labels)
    finally:
        backend.stop()


def _arrived(estate: Estate, name: str) -> bool:
    return bool(_query(estate.receiver, name))


def test_kept_series_arrive_with_the_stacks_external_labels(estate: Estate) -> None:
    assert estate.labels == {"cluster": "bh-prod", "region": "us-east-1", "environment": "prod"}
    for name in ("up", "http_requests_total", RECORD):
        wait_until(partial(_arrived, estate, name), timeout=WAIT, what=f"{name} to arrive")
        for series in _query(estate.receiver, name):
            metric = series["metric"]
            assert metric["__name__"] == name
            assert {k: metric.get(k) for k in estate.labels} == estate.labels, metric
    (up,) = _query(estate.receiver, 'up{job="backend"}')
    assert up["value"][1] == "1"
    recorded = _query(estate.receiver, f'{RECORD}{{job="backend"}}')
    assert recorded
    assert float(recorded[0]["value"][1]) > 0


def test_relabelling_drops_what_the_estate_does_not_read(estate: Estate) -> None:
    wait_until(partial(_arrived, estate, RECORD), timeout=WAIT, what=f"{RECORD} to arrive")
    # The sender has the unread metric (and the per-scrape series, prometheus_client's
    # *_created); none of it left.
    sender_names = _names(estate.sender)
    assert UNREAD in sender_names
    assert {"scrape_duration_seconds", "http_requests_created"} <= sender_names
    wait_until(
        lambda: _remote_total(estate.sender, "prometheus_remote_storage_samples_dropped_total") > 0,
        timeout=WAIT,
        what="the sender to count samples dropped by relabelling",
    )
    received = _names(estate.receiver)
    assert UNREAD not in received
    assert not _query(estate.receiver, UNREAD)
    # Whatever arrived is a name the plan keeps, and the sender had names it did not keep.
    assert received <= set(estate.store.keep_metrics), received - set(estate.store.keep_metrics)
    assert sender_names - received >= {UNREAD, "scrape_duration_seconds"}


def test_the_sender_fails_nothing_and_sends_what_it_keeps(estate: Estate) -> None:
    wait_until(partial(_arrived, estate, RECORD), timeout=WAIT, what=f"{RECORD} to arrive")
    sent = _remote_total(estate.sender, "prometheus_remote_storage_samples_total")
    assert sent > 0
    assert _remote_total(estate.sender, "prometheus_remote_storage_samples_failed_total") == 0
    assert _remote_total(estate.sender, "prometheus_remote_storage_samples_retried_total") == 0
    # The drops are relabelling's (series dropped before they are queued), not the queue's.
    by_reason = {
        dict(labels).get("reason"): value
        for (name, labels), value in _own_metrics(estate.sender).items()
        if name == "prometheus_remote_storage_samples_dropped_total"
    }
    assert by_reason.get("dropped_series", 0) > 0, by_reason
    assert sum(v for r, v in by_reason.items() if r != "dropped_series") == 0, by_reason


def _samples_between(server: Server, expr: str, start: float, end: float) -> int:
    """How many samples of `expr` the server holds with timestamps in [start, end]."""
    window = max(1, int(end - start))
    body = server.get_json(
        f"/api/v1/query?query={quote(f'count_over_time({expr}[{window}s])')}&time={end}"
    )
    assert body["status"] == "success", body
    return int(sum(float(r["value"][1]) for r in body["data"]["result"]))


def test_a_store_outage_loses_no_samples(tmp_path: Path) -> None:
    """The workspace unreachable for 15 s (its receiver killed): the sender keeps the samples
    in its write-ahead log and retries; once the receiver is back on the same address, the
    gap fills in, with nothing failed or dropped by the queue."""
    sender = _prod_sender(tmp_path)
    backend = SimulatedBackend(max_seconds=120)
    receiver_dir, sender_dir = _receiver_dir(tmp_path), tmp_path / "sender"
    sender_dir.mkdir()
    receiver_config = receiver_dir / "prometheus.yaml"
    flag = "--web.enable-remote-write-receiver"
    port = free_port()
    up = 'up{job="backend"}'
    try:
        backend.start()
        with prometheus(receiver_config, receiver_dir, flag, port=port) as receiver:
            path = sender.write(sender_dir, backend.port, receiver.url)
            with prometheus(path, sender_dir) as running:
                wait_until(lambda: bool(_query(receiver, up)), timeout=WAIT, what="up to arrive")
                receiver.process.kill()
                receiver.process.wait(timeout=10)
                down_at = time.time()
                wait_until(
                    lambda: (
                        _remote_total(running, "prometheus_remote_storage_samples_retried_total")
                        > 0
                    ),
                    timeout=WAIT,
                    what="the sender to retry while the store is down",
                )
                time.sleep(max(0.0, 15 - (time.time() - down_at)))
                back_at = time.time()
                with prometheus(receiver_config, receiver_dir, flag, port=port) as restarted:
                    wait_until(
                        lambda: (
                            _samples_between(restarted, up, down_at, back_at)
                            >= 0.8 * (back_at - down_at)
                        ),
                        timeout=WAIT,
                        what="the outage's samples to arrive after the store is back",
                    )
                    assert (
                        _remote_total(running, "prometheus_remote_storage_samples_failed_total")
                        == 0
                    )
                    queue_drops = {
                        dict(labels).get("reason"): value
                        for (name, labels), value in _own_metrics(running).items()
                        if name == "prometheus_remote_storage_samples_dropped_total"
                        and dict(labels).get("reason") != "dropped_series"
                    }
                    assert sum(queue_drops.values()) == 0, queue_drops
    finally:
        backend.stop()
