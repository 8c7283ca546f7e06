"""Remote write to Amazon Managed Service for Prometheus: the chart's remoteWrite and Grafana's
data source for the workspace (with_workspace), and the same remote write in Prometheus's own
format (prometheus_remote_write), both from the prod stack's AmpPlan."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import rule_groups
from infra.config.model import EstateConfig
from infra.estate import monitoring_plan
from infra.naming import DATASOURCE_UIDS
from infra.plan.metrics_store import AmpPlan
from infra.plan.monitoring import MonitoringPlan
from infra.render.remote_write import (
    OPERATOR_TO_PROMETHEUS,
    RELABEL_OPERATOR_TO_PROMETHEUS,
    prometheus_remote_write,
    remote_write_url,
    with_workspace,
)
from infra.tools import tool_path
from tests.conftest import make_config, stack_config

WORKSPACE = "ws-0123abcd-4567-4890-abcd-0123456789ab"
#: What a keep rule must never send: the prom-client default metrics the estate never reads,
#: names that merely start or end like a kept one (Prometheus anchors the regex), and the
#: series Prometheus adds per scrape besides `up`.
DROPPED = (
    "nodejs_heap_size_total_bytes",
    "process_open_fds",
    "upstream_requests_total",
    "http_requests_total_created",
    "http_requests_created",
    "xhttp_requests_total",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
)
#: Credentials SigV4 may be given; the pods' IRSA web identity makes every one unnecessary.
FORBIDDEN_KEYS = {
    "accessKey",
    "secretKey",
    "access_key",
    "secret_key",
    "profile",
    "roleArn",
    "role_arn",
    "sigV4AccessKey",
    "sigV4SecretKey",
    "sigV4Profile",
    "sigV4AssumeRoleArn",
    "secureJsonData",
}


def _monitoring(config: EstateConfig) -> MonitoringPlan:
    """What the program renders for the chart (infra.program.monitoring_plan), with the
    stack's rule groups: their records are among the series written."""
    return monitoring_plan(config, rule_groups(config))


@pytest.fixture(scope="module")
def prod() -> MonitoringPlan:
    return _monitoring(stack_config("prod"))


@pytest.fixture(scope="module")
def store(prod: MonitoringPlan) -> AmpPlan:
    assert prod.chart.store is not None
    return prod.chart.store


@pytest.fixture(scope="module")
def written(prod: MonitoringPlan, store: AmpPlan) -> dict[str, Any]:
    return with_workspace(prod.values, store, store.workspace_endpoint(WORKSPACE))


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _prometheus_match(regex: str, value: str) -> bool:
    """Prometheus's relabel match: the regex compiled as `^(?s:<regex>)$` (relabel.NewRegexp)."""
    return re.match(f"^(?s:{regex})$", value) is not None


def test_one_remote_write_to_the_workspace_signed_with_the_region_only(
    written: dict[str, Any],
) -> None:
    (rw,) = written["prometheus"]["prometheusSpec"]["remoteWrite"]
    assert rw["url"] == (
        f"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{WORKSPACE}/api/v1/remote_write"
    )
    assert rw["sigv4"] == {"region": "us-east-1"}
    assert FORBIDDEN_KEYS.isdisjoint(_keys(written))
    assert "basicAuth" not in rw
    assert "authorization" not in rw


def test_the_queue_is_the_configs(written: dict[str, Any]) -> None:
    (rw,) = written["prometheus"]["prometheusSpec"]["remoteWrite"]
    queue = stack_config("prod").metrics.amp.queue
    assert rw["queueConfig"] == {
        "capacity": queue.capacity,
        "minShards": queue.min_shards,
        "maxShards": queue.max_shards,
        "maxSamplesPerSend": queue.max_samples_per_send,
        "batchSendDeadline": queue.batch_send_deadline,
    }


def test_a_stack_sized_queue_reaches_both_forms() -> None:
    config = make_config(
        "prod",
        metrics={
            "amp": {
                "queue": {
                    "capacity": 5000,
                    "minShards": 2,
                    "maxShards": 20,
                    "maxSamplesPerSend": 1000,
                    "batchSendDeadline": "10s",
                }
            }
        },
    )
    monitoring = _monitoring(config)
    store = monitoring.chart.store
    assert store is not None
    (rw,) = with_workspace(monitoring.values, store, store.workspace_endpoint(WORKSPACE))[
        "prometheus"
    ]["prometheusSpec"]["remoteWrite"]
    assert rw["queueConfig"] == {
        "capacity": 5000,
        "minShards": 2,
        "maxShards": 20,
        "maxSamplesPerSend": 1000,
        "batchSendDeadline": "10s",
    }
    assert prometheus_remote_write(store, rw["url"])["queue_config"] == {
        "capacity": 5000,
        "min_shards": 2,
        "max_shards": 20,
        "max_samples_per_send": 1000,
        "batch_send_deadline": "10s",
    }


def test_relabelling_keeps_what_the_estate_reads_and_drops_the_rest(
    written: dict[str, Any], store: AmpPlan
) -> None:
    (rw,) = written["prometheus"]["prometheusSpec"]["remoteWrite"]
    (rule,) = rw["writeRelabelConfigs"]
    assert rule["sourceLabels"] == ["__name__"]
    assert rule["action"] == "keep"
    regex = rule["regex"]
    records = [m for m in store.keep_metrics if ":" in m]
    assert "job:http_requests:rate5m" in records  # a recording rule of the prod stack
    for kept in ("http_requests_total", "up", "ALERTS", "job:http_requests:rate5m", *records):
        assert _prometheus_match(regex, kept), kept
    for dropped in DROPPED:
        assert not _prometheus_match(regex, dropped), dropped
    # Exactly the plan's names, nothing more.
    assert sorted(regex.split("|")) == sorted(store.keep_metrics)


def test_grafana_reads_the_workspace_with_sigv4(written: dict[str, Any], store: AmpPlan) -> None:
    sources = written["grafana"]["additionalDataSources"]
    (amp,) = [s for s in sources if s["uid"] == DATASOURCE_UIDS["amp"]]
    assert amp["url"] == store.workspace_endpoint(WORKSPACE)
    assert amp["jsonData"]["sigV4Auth"] is True
    assert amp["jsonData"]["sigV4AuthType"] == "default"
    assert amp["jsonData"]["sigV4Region"] == "us-east-1"
    # Grafana 12 offers SigV4 only with this switch (rendered at plan time).
    assert written["grafana"]["grafana.ini"]["auth"]["sigv4_auth_enabled"] is True
    # The in-cluster data sources stay, the cluster's Prometheus still the default.
    assert [s["uid"] for s in sources if s["isDefault"]] == [DATASOURCE_UIDS["prometheus"]]


def test_with_workspace_copies_and_is_idempotent(prod: MonitoringPlan, store: AmpPlan) -> None:
    before = yaml.safe_dump(prod.values, sort_keys=True)
    endpoint = store.workspace_endpoint(WORKSPACE)
    once = with_workspace(prod.values, store, endpoint)
    assert yaml.safe_dump(prod.values, sort_keys=True) == before
    assert "remoteWrite" not in prod.values["prometheus"]["prometheusSpec"]
    assert with_workspace(once, store, endpoint) == once


def test_an_existing_workspace_is_written_through_its_endpoint(store: AmpPlan) -> None:
    endpoint = store.workspace_endpoint(WORKSPACE)
    assert endpoint.endswith("/")
    assert remote_write_url(endpoint) == f"{endpoint}api/v1/remote_write"
    assert remote_write_url(endpoint.rstrip("/")) == f"{endpoint}api/v1/remote_write"


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out |= _leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: node}


def test_both_forms_say_the_same_thing_field_by_field(
    written: dict[str, Any], store: AmpPlan
) -> None:
    (shared,) = written["prometheus"]["prometheusSpec"]["remoteWrite"]
    operator = dict(shared)  # the fixture is the module's: popped here, never there
    native = prometheus_remote_write(store, operator["url"])
    operator_relabels = operator.pop("writeRelabelConfigs")
    native_relabels = native.pop("write_relabel_configs")
    op, pr = _leaves(operator), _leaves(native)
    # Every field of either form is in the table, mapped to a field of the other.
    assert set(op) == set(OPERATOR_TO_PROMETHEUS)
    assert set(pr) == set(OPERATOR_TO_PROMETHEUS.values())
    for operator_path, prometheus_path in OPERATOR_TO_PROMETHEUS.items():
        assert op[operator_path] == pr[prometheus_path], operator_path
    assert len(operator_relabels) == len(native_relabels) == 1
    for o, p in zip(operator_relabels, native_relabels, strict=True):
        assert set(o) == set(RELABEL_OPERATOR_TO_PROMETHEUS)
        assert set(p) == set(RELABEL_OPERATOR_TO_PROMETHEUS.values())
        for operator_key, prometheus_key in RELABEL_OPERATOR_TO_PROMETHEUS.items():
            assert o[operator_key] == p[prometheus_key], operator_key


def test_without_sigv4_only_the_signing_is_left_out(store: AmpPlan) -> None:
    url = "http://127.0.0.1:9/api/v1/write"
    signed = prometheus_remote_write(store, url)
    unsigned = prometheus_remote_write(store, url, sigv4=False)
    assert signed.pop("sigv4") == {"region": "us-east-1"}
    assert "sigv4" not in unsigned
    assert signed == unsigned


def test_promtool_accepts_the_signed_remote_write(store: AmpPlan, tmp_path: Path) -> None:
    """Prometheus's own parser (promtool 3.5) reads the rendered remote_write, SigV4 included."""
    config: dict[str, Any] = {
        "global": {"external_labels": {"cluster": "bh-prod"}},
        "remote_write": [
            prometheus_remote_write(store, remote_write_url(store.workspace_endpoint(WORKSPACE)))
        ],
    }
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=True))
    result = subprocess.run(
        [tool_path("promtool"), "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    broken = dict(config["remote_write"][0])
    broken["sigv4"] = {"region": "us-east-1", "access_key": "AKIA0000000000000000"}
    path.write_text(yaml.safe_dump({"remote_write": [broken]}, sort_keys=True))
    refused = subprocess.run(
        [tool_path("promtool"), "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # An access key without its secret is refused: the tool really reads the sigv4 block.
    assert refused.returncode != 0
    assert "SigV4" in refused.stdout + refused.stderr
