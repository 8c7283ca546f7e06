"""`estate check` gives the chart's remote write to the real `promtool check config`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.checks.remote_write import prometheus_config
from infra.checks.runner import remote_write_findings
from infra.estate import plan
from infra.render.remote_write import with_workspace
from tests.conftest import stack_config

WS = "ws-12345678-abcd-ef01-2345-6789abcdef01"
PATH = Path("out/prod/helm/kube-prometheus-stack.values.yaml")


def _values(stack: str) -> dict[str, Any]:
    estate = plan(stack_config(stack))
    chart = estate.monitoring
    store = chart.chart.store
    if store is None:
        return copy.deepcopy(chart.values)
    return with_workspace(chart.values, store, store.workspace_endpoint(WS))


def _spec(values: dict[str, Any]) -> dict[str, Any]:
    remote: dict[str, Any] = values["prometheus"]["prometheusSpec"]["remoteWrite"][0]
    return remote


def test_prods_remote_write_is_a_configuration_prometheus_loads() -> None:
    values = _values("prod")
    config, unknown = prometheus_config(values)
    assert unknown == []
    assert config is not None
    (entry,) = config["remote_write"]
    assert entry["sigv4"] == {"region": "us-east-1"}
    assert entry["url"].endswith(f"/workspaces/{WS}/api/v1/remote_write")
    assert config["global"]["external_labels"] == {
        "cluster": "bh-prod",
        "region": "us-east-1",
        "environment": "prod",
    }
    assert list(remote_write_findings(values, PATH)) == []


@pytest.mark.parametrize("stack", ["local", "dev", "staging"])
def test_in_cluster_stacks_have_nothing_to_check(stack: str) -> None:
    assert prometheus_config(_values(stack)) == (None, [])
    assert list(remote_write_findings(_values(stack), PATH)) == []


def test_a_relabelling_regex_prometheus_refuses_is_found() -> None:
    values = _values("prod")
    _spec(values)["writeRelabelConfigs"][0]["regex"] = "up|(http_requests_total"
    (finding,) = remote_write_findings(values, PATH)
    assert finding.check == "promtool check config"
    assert "error parsing regexp" in finding.message
    assert str(PATH) == finding.file


def test_static_credentials_half_given_are_found() -> None:
    values = _values("prod")
    _spec(values)["sigv4"]["accessKey"] = "AKIAEXAMPLE"
    findings = list(remote_write_findings(values, PATH))
    # The translation table knows no accessKey: reported, never silently dropped.
    assert [f.location for f in findings] == [
        "prometheus.prometheusSpec.remoteWrite[0].sigv4.accessKey"
    ]


def test_a_queue_prometheus_refuses_is_found() -> None:
    values = _values("prod")
    _spec(values)["queueConfig"]["batchSendDeadline"] = "soon"
    (finding,) = remote_write_findings(values, PATH)
    assert finding.check == "promtool check config"
    assert "soon" in finding.message


def test_the_yaml_given_to_promtool_is_what_the_values_say() -> None:
    config, _ = prometheus_config(_values("prod"))
    text = yaml.safe_dump(config)
    assert "aps-workspaces.us-east-1.amazonaws.com" in text
    assert "access_key" not in text
    assert "secret_key" not in text
