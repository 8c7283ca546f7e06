"""kube-prometheus-stack values: sizing per environment, secrets by reference only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra.naming import DATASOURCE_UIDS
from infra.plan.monitoring import chart_plan
from infra.render.alertmanager import alertmanager_config
from infra.render.chart_facts import (
    COMPONENT_OF_JOB,
    RULE_GROUPS,
    UNREACHABLE_JOBS,
    enabled_rule_groups,
)
from infra.render.kube_prometheus_stack import ALERTMANAGER_SECRET, RELEASE_NAME, values
from infra.render.monitors import service_monitor
from infra.yamlout import dump
from tests.conftest import make_config, stack_config


@pytest.mark.parametrize(
    ("environment", "prometheus", "alertmanager", "retention"),
    [("local", 1, 1, "2d"), ("dev", 1, 1, "7d"), ("staging", 2, 2, "30d"), ("prod", 2, 3, "30d")],
)
def test_sizing_per_environment(
    environment: str, prometheus: int, alertmanager: int, retention: str
) -> None:
    v = values(chart_plan(make_config(environment)))
    spec = v["prometheus"]["prometheusSpec"]
    assert spec["replicas"] == prometheus
    assert spec["retention"] == retention
    assert v["alertmanager"]["alertmanagerSpec"]["replicas"] == alertmanager


def test_prod_is_highly_available_and_spread() -> None:
    v = values(chart_plan(make_config("prod")))
    assert v["prometheus"]["prometheusSpec"]["podAntiAffinity"] == "hard"
    assert v["alertmanager"]["alertmanagerSpec"]["podAntiAffinity"] == "hard"
    storage = v["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert storage["resources"]["requests"]["storage"] == "100Gi"
    assert v["prometheus"]["prometheusSpec"]["retentionSize"] == "90GB"


@pytest.mark.parametrize(
    ("stack", "cluster", "region"),
    [
        ("local", "bh-local", "local"),
        ("dev", "bh-dev", "us-east-1"),
        ("staging", "bh-staging", "us-east-1"),
        ("prod", "bh-prod", "us-east-1"),
    ],
)
def test_external_labels_name_cluster_region_and_environment(
    stack: str, cluster: str, region: str
) -> None:
    spec = values(chart_plan(stack_config(stack)))["prometheus"]["prometheusSpec"]
    assert spec["externalLabels"] == {"cluster": cluster, "region": region, "environment": stack}


def test_prod_service_accounts_assume_the_plans_irsa_roles() -> None:
    plan = chart_plan(stack_config("prod"))
    store = plan.store
    assert store is not None
    v = values(plan)
    prometheus_sa = v["prometheus"]["serviceAccount"]
    grafana_sa = v["grafana"]["serviceAccount"]
    assert prometheus_sa == {
        "create": True,
        "name": store.prometheus_service_account,
        "annotations": {"eks.amazonaws.com/role-arn": store.prometheus_role_arn},
    }
    assert grafana_sa == {
        "create": True,
        "name": store.grafana_service_account,
        "annotations": {"eks.amazonaws.com/role-arn": store.grafana_role_arn},
    }
    # The names the chart gives them anyway (fullnameOverride), now fixed for the trust policies.
    assert prometheus_sa["name"] == f"{RELEASE_NAME}-prometheus"
    assert grafana_sa["name"] == f"{RELEASE_NAME}-grafana"
    assert store.prometheus_role_arn != store.grafana_role_arn
    assert store.prometheus_role_arn.endswith(f":role/{store.prometheus_role_name}")
    assert v["grafana"]["grafana.ini"] == {"auth": {"sigv4_auth_enabled": True}}
    # AMP keeps one copy of what both replicas write (it drops `__replica__`, keeps `cluster`).
    assert v["prometheus"]["prometheusSpec"]["replicaExternalLabelName"] == "__replica__"
    # The remote write needs the workspace's endpoint (a Pulumi output): with_workspace adds it.
    assert "remoteWrite" not in v["prometheus"]["prometheusSpec"]
    # The in-cluster Prometheus keeps its rules and paging.
    assert v["prometheus"]["prometheusSpec"]["ruleSelectorNilUsesHelmValues"] is True
    assert v["alertmanager"]["config"] == alertmanager_config(plan.alertmanager)


@pytest.mark.parametrize("stack", ["local", "dev", "staging"])
def test_in_cluster_stacks_write_nowhere_else(stack: str) -> None:
    plan = chart_plan(stack_config(stack))
    assert plan.store is None
    v = values(plan)
    text = dump(v)
    spec = v["prometheus"]["prometheusSpec"]
    assert "remoteWrite" not in spec
    assert "replicaExternalLabelName" not in spec
    assert "serviceAccount" not in v["prometheus"]
    assert "serviceAccount" not in v["grafana"]
    assert "grafana.ini" not in v["grafana"]
    assert "eks.amazonaws.com/role-arn" not in text
    assert "sigv4" not in text.lower()
    assert DATASOURCE_UIDS["amp"] not in text


def test_intervals_and_resources_come_from_config() -> None:
    config = make_config(
        "dev",
        metrics={
            "scrapeInterval": "15s",
            "evaluationInterval": "20s",
            "prometheusResources": {"cpuRequest": "300m", "memoryLimit": "3Gi"},
        },
    )
    spec = values(chart_plan(config))["prometheus"]["prometheusSpec"]
    assert (spec["scrapeInterval"], spec["evaluationInterval"]) == ("15s", "20s")
    assert spec["resources"] == {
        "requests": {"cpu": "300m", "memory": "1Gi"},
        "limits": {"memory": "3Gi"},
    }


def test_alertmanager_config_is_given_whole_and_its_secret_mounted() -> None:
    plan = chart_plan(make_config("prod"))
    v = values(plan)
    assert v["alertmanager"]["config"] == alertmanager_config(plan.alertmanager)
    assert v["alertmanager"]["alertmanagerSpec"]["secrets"] == [ALERTMANAGER_SECRET]


def test_grafana_uses_an_existing_admin_secret_and_the_dashboard_sidecar() -> None:
    grafana = values(chart_plan(make_config("prod")))["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in grafana
    assert grafana["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    assert grafana["persistence"] == {"enabled": True, "size": "10Gi"}
    assert values(chart_plan(make_config("local")))["grafana"]["persistence"] == {"enabled": False}


def test_nothing_is_exposed_outside_the_cluster() -> None:
    v = values(chart_plan(make_config("prod")))
    for part in ("prometheus", "alertmanager", "grafana"):
        assert v[part]["service"]["type"] == "ClusterIP"
        assert v[part]["ingress"]["enabled"] is False


def test_service_monitor_carries_the_release_label_and_scrapes_metrics() -> None:
    sm = service_monitor(
        service="backend",
        namespace="blue-harvest",
        release="kube-prometheus-stack",
        interval="30s",
    )
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = sm["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("http", "/metrics", "30s")
    assert sm["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "backend"}}


def test_values_serialise_deterministically() -> None:
    plan = chart_plan(make_config("prod"))
    assert dump(values(plan)) == dump(values(plan))


def test_the_charts_own_watchdog_is_off_so_only_ours_fires() -> None:
    for flavor in ("eks", "kind", "generic"):
        v = values(chart_plan(make_config("prod", cluster={"flavor": flavor})))
        assert v["defaultRules"]["create"] is True
        assert v["defaultRules"]["disabled"] == {"Watchdog": True}


def test_the_charts_target_down_stays_for_the_jobs_the_estate_has_no_alert_for() -> None:
    """`general` holds TargetDown, the only down-alert for kubelet, node-exporter,
    kube-state-metrics and the operator; switching the group off loses it."""
    for flavor in ("eks", "kind", "generic"):
        v = values(chart_plan(make_config("prod", cluster={"flavor": flavor})))
        assert "general" not in v["defaultRules"]["rules"]
        assert "general" in {g.key for g in enabled_rule_groups(v)}


@pytest.mark.parametrize("flavor", ["eks", "kind", "generic"])
def test_no_enabled_default_rule_group_targets_a_job_the_flavor_cannot_scrape(
    flavor: str,
) -> None:
    v = values(chart_plan(make_config("prod", cluster={"flavor": flavor})))
    lacking = UNREACHABLE_JOBS[flavor]  # type: ignore[index]
    enabled = enabled_rule_groups(v)
    offending = {g.key: set(g.jobs) & lacking for g in enabled if set(g.jobs) & lacking}
    assert offending == {}
    # The rest of the chart's rules stay: node, kubelet, apiserver, kube-state-metrics...
    jobs = {job for g in enabled for job in g.jobs}
    assert {"kubelet", "apiserver", "kube-state-metrics", "node-exporter"} <= jobs
    # ...and nothing scrapes what cannot be scraped (its target would only ever be down).
    for job in lacking:
        assert v[COMPONENT_OF_JOB[job]] == {"enabled": False}


def test_on_eks_the_control_plane_rules_and_monitors_are_off() -> None:
    v = values(chart_plan(make_config("prod")))  # prod defaults to eks
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert v[component] == {"enabled": False}
    rules = v["defaultRules"]["rules"]
    for key in (
        "kubeControllerManager",
        "kubeSchedulerAlerting",
        "kubeSchedulerRecording",
        "etcd",
        "kubeProxy",
    ):
        assert rules[key] is False, key


def test_a_generic_cluster_keeps_every_control_plane_group() -> None:
    v = values(chart_plan(make_config("local", cluster={"flavor": "generic"})))
    keys = {g.key for g in enabled_rule_groups(v)}
    assert {"kubeControllerManager", "kubeSchedulerAlerting", "etcd", "kubeProxy"} <= keys


def test_the_chart_defaults_on_eks_would_page_for_the_scheduler_and_controller_manager() -> None:
    """The check is not vacuous: the chart's own defaults fail it on EKS."""
    defaults: dict[str, object] = {"defaultRules": {"create": True}}
    lacking = UNREACHABLE_JOBS["eks"]
    offending = {g.key for g in enabled_rule_groups(defaults) if set(g.jobs) & lacking}
    assert {"kubeControllerManager", "kubeSchedulerAlerting", "etcd", "kubeProxy"} <= offending


def test_every_default_rule_group_key_of_the_chart_is_in_the_table_once() -> None:
    keys = [g.key for g in RULE_GROUPS]
    assert len(keys) == len(set(keys))
    # values.yaml's defaultRules.rules, in the chart's order (kube-prometheus-stack 8x).
    assert keys[:4] == ["alertmanager", "etcd", "configReloaders", "general"]
    assert len(keys) == 34


def test_the_local_stack_runs_on_kind_and_the_aws_stacks_on_eks() -> None:
    assert make_config("local").cluster.flavor == "kind"
    for environment in ("dev", "staging", "prod"):
        assert make_config(environment).cluster.flavor == "eks"


def test_external_urls_make_alert_and_silence_links_resolve() -> None:
    v = values(chart_plan(make_config("prod")))
    assert v["prometheus"]["prometheusSpec"]["externalUrl"] == "https://prometheus.example"
    assert v["alertmanager"]["alertmanagerSpec"]["externalUrl"] == "https://alertmanager.example"
    local = values(chart_plan(make_config("local")))
    assert "externalUrl" not in local["prometheus"]["prometheusSpec"]


def test_the_values_are_a_function_of_the_plan_alone() -> None:
    """The renderer reads the plan, never the config: a dev plan told it is prod is sized as
    prod's high availability, and its flavor decides what is switched off."""
    dev = chart_plan(make_config("dev", cluster={"flavor": "generic"}))
    assert "podAntiAffinity" not in values(dev)["prometheus"]["prometheusSpec"]
    assert "kubeScheduler" not in values(dev)
    as_prod = replace(dev, environment="prod", flavor="eks")
    assert values(as_prod)["prometheus"]["prometheusSpec"]["podAntiAffinity"] == "hard"
    assert values(as_prod)["kubeScheduler"] == {"enabled": False}
