"""The metrics-store plan: which stacks write to AMP, as whom, and what they write."""

from __future__ import annotations

import re

import pytest

from alerts import rule_groups
from infra.config import ConfigError
from infra.plan.metrics_store import (
    GRAFANA_SERVICE_ACCOUNT,
    PROMETHEUS_SERVICE_ACCOUNT,
    amp_plan,
    written_metrics,
)
from tests.conftest import STACK_NAMES, make_config, stack_config

OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/T"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_only_prod_writes_to_amp_by_default(stack: str) -> None:
    config = stack_config(stack)
    plan = amp_plan(config, rule_groups(config))
    assert (plan is not None) == (stack == "prod")


def test_prods_plan_names_its_roles_in_the_clusters_account() -> None:
    config = stack_config("prod")
    plan = amp_plan(config, rule_groups(config))
    assert plan is not None
    assert plan.region == "us-east-1"
    assert plan.existing_workspace_id is None
    assert plan.prometheus_role_arn == (
        "arn:aws:iam::333333333333:role/blue-harvest-prod-bh-prod-prometheus-amp"
    )
    assert plan.grafana_role_arn == (
        "arn:aws:iam::333333333333:role/blue-harvest-prod-bh-prod-grafana-amp"
    )
    assert (plan.prometheus_service_account, plan.grafana_service_account) == (
        PROMETHEUS_SERVICE_ACCOUNT,
        GRAFANA_SERVICE_ACCOUNT,
    )
    assert plan.namespace == "monitoring"
    assert plan.clusters == ("bh-prod",)
    assert not plan.multi_cluster
    ws = "ws-00000000-0000-0000-0000-000000000000"
    assert plan.workspace_arn(ws) == f"arn:aws:aps:us-east-1:333333333333:workspace/{ws}"
    assert plan.workspace_endpoint(ws) == (
        f"https://aps-workspaces.us-east-1.amazonaws.com/workspaces/{ws}/"
    )


def test_the_partition_follows_the_oidc_provider() -> None:
    config = make_config(
        "dev",
        extra={"aws:region": "cn-north-1"},
        cluster={"oidcProviderArn": OIDC.replace("arn:aws:", "arn:aws-cn:")},
        metrics={"store": "amp"},
    )
    plan = amp_plan(config, [])
    assert plan is not None
    assert plan.prometheus_role_arn.startswith("arn:aws-cn:iam::123456789012:role/")
    assert plan.workspace_arn("ws-x").startswith("arn:aws-cn:aps:cn-north-1:")


def test_written_metrics_are_what_the_estate_reads_plus_up_and_alerts() -> None:
    config = stack_config("prod")
    groups = rule_groups(config)
    written = set(written_metrics(groups))
    records = {r.record for g in groups for r in g.records}
    assert records <= written
    assert {"up", "ALERTS", "http_requests_total", "http_request_duration_seconds_bucket"} <= (
        written
    )
    # Not read by any rule or dashboard: dropped before it leaves.
    assert "nodejs_heap_size_total_bytes" not in written
    assert "apiserver_request_duration_seconds_bucket" not in written
    assert all(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name) for name in written)


def test_keep_metrics_adds_to_what_is_written() -> None:
    config = make_config("prod", metrics={"amp": {"keepMetrics": ["nodejs_heap_size_total_bytes"]}})
    plan = amp_plan(config, [])
    assert plan is not None
    assert "nodejs_heap_size_total_bytes" in plan.keep_metrics


def test_a_second_cluster_writes_to_an_existing_workspace() -> None:
    ws = "ws-12345678-abcd-ef01-2345-6789abcdef01"
    config = make_config(
        "prod",
        cluster={"name": "bh-prod-eu"},
        metrics={"amp": {"workspaceId": ws, "otherClusters": ["bh-prod"]}},
    )
    plan = amp_plan(config, [])
    assert plan is not None
    assert plan.existing_workspace_id == ws
    assert plan.clusters == ("bh-prod-eu", "bh-prod")
    assert plan.multi_cluster


def test_min_shards_above_max_shards_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config("prod", metrics={"amp": {"queue": {"minShards": 10, "maxShards": 5}}})
    assert [p.key for p in caught.value.problems] == ["blue-harvest:metrics.amp.queue.minShards"]
