"""Grafana data sources (stable UIDs, in the chart's additionalDataSources shape) and the
dashboard ConfigMaps the sidecar loads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import dashboards
from infra.checks.manifests import validate_manifest
from infra.config.defaults import merge
from infra.naming import DATASOURCE_UIDS, Endpoints
from infra.plan.monitoring import chart_plan, grafana_plan
from infra.render.grafana import (
    AMP_DATASOURCE_TYPE,
    CONFIGMAP_TYPE,
    GRAFANA_DASHBOARD_TYPE,
    amp_datasource,
    chart_values,
    dashboard_configmap,
    datasource_uids,
    datasources,
    synth_dashboard_files,
)
from infra.render.kube_prometheus_stack import values
from tests.conftest import make_config, stack_config

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def _by_type(config_sources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["type"]: s for s in config_sources}


def test_prod_has_every_data_source_with_its_stable_uid() -> None:
    plan = chart_plan(stack_config("prod")).grafana
    sources = _by_type(datasources(plan))
    in_cluster = {k: v for k, v in DATASOURCE_UIDS.items() if k != "amp"}
    assert {t: s["uid"] for t, s in sources.items()} == in_cluster
    # The workspace's data source needs its endpoint (a Pulumi output): with_workspace adds
    # it; its UID is one a prod dashboard may reference all the same.
    assert datasource_uids(plan) == frozenset(DATASOURCE_UIDS.values())
    for source in sources.values():
        assert {"name", "type", "uid", "access", "jsonData"} <= set(source)
        assert source["access"] == "proxy"


def test_urls_are_the_in_cluster_services() -> None:
    config = make_config("dev", metrics={"namespace": "metrics"})
    ep = Endpoints(monitoring_namespace="metrics", observability_namespace="observability")
    sources = _by_type(datasources(grafana_plan(config)))
    assert sources["prometheus"]["url"] == ep.prometheus
    assert sources["alertmanager"]["url"] == ep.alertmanager
    assert sources["loki"]["url"] == ep.loki
    assert sources["jaeger"]["url"] == ep.jaeger_query


def test_prometheus_is_the_one_default_and_knows_the_scrape_interval() -> None:
    config = make_config("staging", metrics={"scrapeInterval": "15s"})
    sources = datasources(grafana_plan(config))
    assert [s["type"] for s in sources if s["isDefault"]] == ["prometheus"]
    assert _by_type(sources)["prometheus"]["jsonData"]["timeInterval"] == "15s"


def test_no_cloudwatch_data_source_grafana_has_no_credentials_for() -> None:
    """No dashboard reads CloudWatch, and Grafana has no IRSA role for it: no data source that
    would only fail (docs/architecture.md, choices)."""
    for environment in ("local", "dev", "staging", "prod"):
        assert "cloudwatch" not in _by_type(datasources(grafana_plan(make_config(environment))))
    assert "cloudwatch" not in DATASOURCE_UIDS


def test_loki_and_jaeger_only_when_deployed_and_linked_to_each_other() -> None:
    both = _by_type(datasources(grafana_plan(stack_config("prod"))))
    (derived,) = both["loki"]["jsonData"]["derivedFields"]
    assert derived["datasourceUid"] == DATASOURCE_UIDS["jaeger"]
    # Grafana expands $VAR in provisioning files; its own ${...} must be written $${...}.
    assert derived["url"] == "$${__value.raw}"
    assert re.search(derived["matcherRegex"], '{"level":"error","trace_id":"4bf92f35"}')
    logs_link = both["jaeger"]["jsonData"]["tracesToLogsV2"]
    assert logs_link["datasourceUid"] == DATASOURCE_UIDS["loki"]
    assert "$${__trace.traceId}" in logs_link["query"]

    neither = make_config("dev", loki={"enabled": False}, tracing={"enabled": False})
    assert set(_by_type(datasources(grafana_plan(neither)))) == {"prometheus", "alertmanager"}
    only_loki = _by_type(datasources(grafana_plan(make_config("dev", tracing={"enabled": False}))))
    assert "derivedFields" not in only_loki["loki"]["jsonData"]


def test_chart_values_turn_off_the_chart_data_sources_and_supply_ours() -> None:
    plan = chart_plan(stack_config("prod"))
    grafana = merge(values(plan)["grafana"], chart_values(plan.grafana))
    sidecar = grafana["sidecar"]["datasources"]
    assert sidecar["enabled"] is True  # the chart renders additionalDataSources only then
    assert sidecar["defaultDatasourceEnabled"] is False
    assert sidecar["alertmanager"] == {"enabled": False}
    assert grafana["additionalDataSources"] == datasources(plan.grafana)
    assert grafana["sidecar"]["dashboards"]["label"] == "grafana_dashboard"  # left as it was


def test_every_data_source_a_dashboard_references_is_provisioned(stack_name: str) -> None:
    config = stack_config(stack_name)
    known = datasource_uids(chart_plan(config).grafana)
    referenced = {
        m.group(1)
        for doc in dashboards.build_all(config, multi_cluster=False)
        for m in re.finditer(r'"uid": "([^"]+)"', doc.text)
        if m.group(1).startswith("bh-") and m.group(1) in DATASOURCE_UIDS.values()
    }
    assert referenced
    assert referenced <= known


@pytest.mark.parametrize("uid", ["bh-application-overview", "bh-infrastructure"])
def test_dashboard_configmap_is_labelled_for_the_sidecar_and_filed_by_area(uid: str) -> None:
    (doc,) = [
        d for d in dashboards.build_all(stack_config("prod"), multi_cluster=False) if d.uid == uid
    ]
    manifest = dashboard_configmap(doc, "monitoring")
    meta = manifest["metadata"]
    assert meta["namespace"] == "monitoring"
    assert meta["labels"]["grafana_dashboard"] == "1"
    assert meta["annotations"] == {"grafana_folder": doc.folder.title}
    assert _DNS_SUBDOMAIN.fullmatch(meta["name"])
    assert len(meta["name"]) <= 63
    assert manifest["data"] == {f"{uid}.json": doc.text}
    assert json.loads(manifest["data"][f"{uid}.json"]) == doc.json
    assert validate_manifest(manifest, "1.31") == []


@pytest.mark.parametrize("environment", ["local", "dev", "staging"])
def test_in_cluster_stacks_know_no_workspace_data_source(environment: str) -> None:
    plan = chart_plan(stack_config(environment)).grafana
    assert plan.store is None
    assert DATASOURCE_UIDS["amp"] not in datasource_uids(plan)
    assert DATASOURCE_UIDS["amp"] not in {s["uid"] for s in datasources(plan)}


def test_workspace_data_source_signs_with_the_pods_role_in_its_region() -> None:
    store = chart_plan(stack_config("prod")).store
    assert store is not None
    endpoint = store.workspace_endpoint("ws-0123abcd-0000-4000-8000-000000000000")
    source = amp_datasource(store, endpoint, "30s")
    assert source["uid"] == DATASOURCE_UIDS["amp"] == "bh-amp"
    assert source["type"] == AMP_DATASOURCE_TYPE == "prometheus"
    assert source["url"] == endpoint
    assert endpoint.endswith("/")
    assert source["jsonData"] == {
        "httpMethod": "POST",
        "sigV4Auth": True,
        # The AWS SDK's default chain: the pod's IRSA web identity; no keys, no profile.
        "sigV4AuthType": "default",
        "sigV4Region": "us-east-1",
        "timeInterval": "30s",
        "manageAlerts": False,
    }
    assert "secureJsonData" not in source
    assert source["isDefault"] is False  # panels without a UID keep reading the cluster's


def test_synth_writes_each_dashboard_once_from_either_delivery() -> None:
    doc = dashboards.build_all(stack_config("prod"), multi_cluster=False)[0]
    manifest = dashboard_configmap(doc, "monitoring")
    path = f"grafana/dashboards/{doc.uid}.json"
    assert synth_dashboard_files(CONFIGMAP_TYPE, manifest) == {path: doc.text}
    assert synth_dashboard_files(GRAFANA_DASHBOARD_TYPE, {"configJson": doc.text}) == {
        path: doc.text
    }
    other = {"metadata": {"name": "x", "labels": {}}, "data": {"a.json": "{}"}}
    assert synth_dashboard_files(CONFIGMAP_TYPE, other) == {}
    assert synth_dashboard_files("kubernetes:core/v1:Secret", manifest) == {}
