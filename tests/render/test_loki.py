"""Loki and Alloy values: monolithic Loki, storage per environment, retention, the shipper."""

from __future__ import annotations

import pytest

from infra.config import ConfigError
from infra.naming import LOKI_RELEASE
from infra.plan.loki import loki_plan
from infra.plan.workloads import endpoints
from infra.render.loki import (
    ALLOY_CHART_VERSION,
    LOKI_CHART_REPO,
    LOKI_CHART_VERSION,
    LOKI_SERVICE_ACCOUNT,
    alloy_config,
    alloy_values,
    default_bucket_name,
    lifecycle_expiration_days,
    loki_values,
    s3_access_policy,
    tls_only_bucket_policy,
)
from tests.conftest import make_config, stack_config

BUCKET = "blue-harvest-prod-loki-123456789012"
ROLE = "arn:aws:iam::123456789012:role/blue-harvest-prod-loki"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"


def test_charts_are_pinned_and_loki_comes_from_the_community_repository() -> None:
    for version in (LOKI_CHART_VERSION, ALLOY_CHART_VERSION):
        assert all(part.isdigit() for part in version.split("."))
        assert version.count(".") == 2
    assert LOKI_CHART_REPO == "https://grafana-community.github.io/helm-charts"


def test_loki_is_monolithic_and_named_like_its_endpoint() -> None:
    values = loki_values(loki_plan(make_config("dev")))
    assert values["deploymentMode"] == "Monolithic"
    assert values["fullnameOverride"] == LOKI_RELEASE
    assert endpoints(make_config("dev")).loki == "http://loki.observability.svc:3100"
    assert values["singleBinary"]["replicas"] == 1
    assert {values[t]["replicas"] for t in ("read", "write", "backend")} == {0}
    assert values["gateway"]["enabled"] is False


@pytest.mark.parametrize("environment", ["local", "dev", "staging"])
def test_filesystem_storage_below_prod(environment: str) -> None:
    values = loki_values(loki_plan(make_config(environment)))
    assert values["loki"]["storage"] == {"type": "filesystem"}
    assert values["loki"]["schemaConfig"]["configs"][0]["object_store"] == "filesystem"
    assert values["loki"]["compactor"]["delete_request_store"] == "filesystem"
    assert values["singleBinary"]["persistence"]["enabled"] is True
    assert "annotations" not in values["serviceAccount"]


def test_prod_stores_in_its_bucket_through_irsa() -> None:
    plan = loki_plan(stack_config("prod"))
    assert plan.storage == "s3"
    values = loki_values(plan, bucket=BUCKET, role_arn=ROLE)
    storage = values["loki"]["storage"]
    assert storage["type"] == "s3"
    assert storage["bucketNames"] == {"chunks": BUCKET, "ruler": BUCKET, "admin": BUCKET}
    assert storage["s3"]["region"] == "us-east-1"
    assert "accessKeyId" not in storage["s3"]
    assert values["serviceAccount"] == {
        "create": True,
        "name": LOKI_SERVICE_ACCOUNT,
        "annotations": {"eks.amazonaws.com/role-arn": ROLE},
    }


def test_s3_values_need_the_bucket_and_the_role() -> None:
    with pytest.raises(ValueError, match="bucket and the IRSA role"):
        loki_values(loki_plan(stack_config("prod")))


def test_schema_is_tsdb_v13() -> None:
    (period,) = loki_values(loki_plan(make_config("dev")))["loki"]["schemaConfig"]["configs"]
    assert (period["store"], period["schema"]) == ("tsdb", "v13")
    assert period["index"]["period"] == "24h"


@pytest.mark.parametrize(
    ("environment", "retention"),
    [("local", "24h"), ("dev", "72h"), ("staging", "168h"), ("prod", "720h")],
)
def test_retention_per_environment_is_enforced_by_the_compactor(
    environment: str, retention: str
) -> None:
    config = make_config(environment)
    values = loki_values(loki_plan(config), bucket=BUCKET, role_arn=ROLE)
    assert values["loki"]["limits_config"]["retention_period"] == retention
    assert values["loki"]["compactor"]["retention_enabled"] is True


def test_durations_and_the_bucket_lifecycle_backstop() -> None:
    # Never shorter than Loki's own retention: rounded up, plus a day.
    assert lifecycle_expiration_days("720h") == 31
    assert lifecycle_expiration_days("25h") == 3


def test_bucket_name_carries_the_environment_and_the_account() -> None:
    assert default_bucket_name("prod", "123456789012") == BUCKET
    assert loki_plan(make_config("prod", loki={"bucket": "bh-logs"})).bucket == "bh-logs"


def test_loki_may_list_its_bucket_and_use_its_objects_only() -> None:
    policy = s3_access_policy(BUCKET_ARN)
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert resources == {BUCKET_ARN, f"{BUCKET_ARN}/*"}
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_the_bucket_refuses_plain_http() -> None:
    (statement,) = tls_only_bucket_policy(BUCKET_ARN)["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_s3_without_an_oidc_provider_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config("prod", cluster={"oidcProviderArn": None}, metrics={"store": "in-cluster"})
    assert [p.key for p in caught.value.problems] == ["blue-harvest:cluster.oidcProviderArn"]


def test_nothing_unpinned_is_deployed_by_the_loki_chart() -> None:
    values = loki_values(loki_plan(make_config("dev")))
    assert values["test"]["enabled"] is False  # its image tag is `latest`
    assert values["lokiCanary"]["enabled"] is False


def test_alloy_ships_every_container_log_of_its_node_to_loki() -> None:
    plan = loki_plan(stack_config("prod"))
    text = alloy_config(plan)
    assert 'url = "http://loki.observability.svc:3100/loki/api/v1/push"' in text
    assert 'field = "spec.nodeName=" + sys.env("NODE_NAME")' in text
    assert 'replacement   = "/var/log/pods/*$1/*.log"' in text
    assert 'cluster     = "bh-prod"' in text
    assert 'environment = "prod"' in text
    assert "stage.cri {}" in text
    assert "{{" not in text  # the chart passes the config through `tpl`
    values = alloy_values(plan)
    assert values["controller"]["type"] == "daemonset"
    assert values["alloy"]["mounts"]["varlog"] is True
    assert values["alloy"]["configMap"]["content"] == text
    (env,) = values["alloy"]["extraEnv"]
    assert env["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"


def test_alloy_config_blocks_are_balanced() -> None:
    text = alloy_config(loki_plan(make_config("local")))
    assert text.count("{") == text.count("}")
    assert text.count("[") == text.count("]")


def test_loki_and_alloy_are_scraped_by_kube_prometheus_stack() -> None:
    plan = loki_plan(make_config("dev"))
    monitoring = loki_values(plan)["monitoring"]
    assert monitoring["serviceMonitor"]["enabled"] is True
    assert monitoring["serviceMonitor"]["labels"] == {"release": "kube-prometheus-stack"}
    assert monitoring["serviceMonitor"]["metricsInstance"] == {"enabled": False}
    assert monitoring["selfMonitoring"]["enabled"] is False
    alloy = alloy_values(plan)["serviceMonitor"]
    assert alloy == {
        "enabled": True,
        "additionalLabels": {"release": "kube-prometheus-stack"},
        "interval": "30s",
    }
