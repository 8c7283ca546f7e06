"""MonitoringStack under the mock engine: the chart, its secrets, and CRs ordered after it."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pydantic import SecretStr

from infra.components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from infra.config import EstateConfig
from infra.config.secrets import SECRET_MARKER
from infra.plan.monitoring import MonitoringPlan, chart_plan
from infra.render.kube_prometheus_stack import values
from infra.synth.engine import SynthRun, run_program
from infra.synth.writer import render_files
from tests.conftest import make_config

CANARY = "CANARY-pd-4b1f"
RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {
        "name": "application",
        "namespace": "monitoring",
        "labels": {"release": "kube-prometheus-stack"},
    },
    "spec": {
        "groups": [
            {
                "name": "application",
                "rules": [{"alert": "Always", "expr": "vector(1)", "labels": {"severity": "info"}}],
            }
        ]
    },
}


ENDPOINT = (
    "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/"
    "ws-00000000-0000-4000-8000-000000000000/"
)


def _run(store: str = "in-cluster", endpoint: str | None = None) -> SynthRun:
    def program(config: EstateConfig) -> None:
        chart = chart_plan(config)
        MonitoringStack(
            "monitoring",
            MonitoringStackArgs(
                plan=MonitoringPlan(
                    namespace="monitoring",
                    environment=config.environment,
                    chart_version="88.0.0",
                    values=values(chart),
                    chart=chart,
                    receiver_secrets={"pagerduty-routing-key": SecretStr(CANARY)},
                    rules=[RULE],
                ),
                store_endpoint=pulumi.Output.from_input(endpoint) if endpoint else None,
            ),
        )

    return run_program(make_config("prod", metrics={"store": store}), "prod", program)


def _chart_values(run: SynthRun) -> dict[str, Any]:
    (release,) = [r for r in run.registrations if r.type == "kubernetes:helm.sh/v3:Release"]
    chart_values: dict[str, Any] = release.inputs["values"]
    return chart_values


def test_in_cluster_values_stay_the_plans_own() -> None:
    config = make_config("prod", metrics={"store": "in-cluster"})
    assert _chart_values(_run()) == values(chart_plan(config))
    assert "remoteWrite" not in _chart_values(_run())["prometheus"]["prometheusSpec"]


def test_with_a_store_the_chart_writes_to_the_endpoint_it_is_given() -> None:
    chart_values = _chart_values(_run("amp", ENDPOINT))
    (remote,) = chart_values["prometheus"]["prometheusSpec"]["remoteWrite"]
    assert remote["url"] == f"{ENDPOINT}api/v1/remote_write"
    assert remote["sigv4"] == {"region": "us-east-1"}
    (amp,) = [s for s in chart_values["grafana"]["additionalDataSources"] if s["uid"] == "bh-amp"]
    assert amp["url"] == ENDPOINT


@pytest.mark.parametrize(("store", "endpoint"), [("amp", None), ("in-cluster", ENDPOINT)])
def test_a_store_without_an_endpoint_or_an_endpoint_without_a_store_is_refused(
    store: str, endpoint: str | None
) -> None:
    with pytest.raises(ValueError, match="needs both the chart plan's store and the workspace"):
        _run(store, endpoint)


def test_release_has_a_fixed_name_and_pinned_chart() -> None:
    (release,) = [r for r in _run().registrations if r.type == "kubernetes:helm.sh/v3:Release"]
    assert release.inputs["name"] == "kube-prometheus-stack"
    assert release.inputs["chart"] == "kube-prometheus-stack"
    assert release.inputs["version"] == "88.0.0"
    assert release.inputs["repositoryOpts"]["repo"].startswith("https://prometheus-community")


def test_custom_resources_depend_on_the_chart_that_brings_their_crds() -> None:
    regs = _run().registrations
    (release,) = [r for r in regs if r.type == "kubernetes:helm.sh/v3:Release"]
    crs = [r for r in regs if r.type.startswith("kubernetes:monitoring.coreos.com/v1:")]
    # ServiceMonitors come with each ObservedWorkload, not with the monitoring stack.
    assert sorted(r.type.rsplit(":", 1)[1] for r in crs) == ["PrometheusRule"]
    for cr in crs:
        assert release.urn in cr.depends_on


def test_chart_waits_for_its_namespace_and_secrets() -> None:
    regs = _run().registrations
    (release,) = [r for r in regs if r.type == "kubernetes:helm.sh/v3:Release"]
    secrets = [r.urn for r in regs if r.type == "kubernetes:core/v1:Secret"]
    assert len(secrets) == 2
    assert set(secrets) <= set(release.depends_on)


def test_secret_values_are_masked_everywhere() -> None:
    run = _run()
    (receivers,) = [
        r
        for r in run.registrations
        if r.type == "kubernetes:core/v1:Secret"
        and r.inputs["metadata"]["name"] == "alertmanager-receivers"
    ]
    # pulumi_kubernetes marks a Secret's whole stringData secret, so the recorder masks it all.
    assert receivers.inputs["stringData"] == SECRET_MARKER
    (grafana,) = [
        r
        for r in run.registrations
        if r.type == "kubernetes:core/v1:Secret" and r.inputs["metadata"]["name"] == "grafana-admin"
    ]
    assert grafana.inputs["stringData"] == SECRET_MARKER
    files = render_files(run)
    assert not any(CANARY in text for text in files.values())
    assert CANARY not in json.dumps([r.as_dict() for r in run.registrations])


def test_synth_writes_helm_values_rules_alertmanager_and_manifests() -> None:
    files = render_files(_run())
    assert "helm/kube-prometheus-stack.values.yaml" in files
    assert "alertmanager/alertmanager.yaml" in files
    assert files["prometheus/rules/application.yaml"].startswith("groups:\n- name: application\n")
    assert "kubernetes/namespace-monitoring.yaml" in files


def test_every_child_is_parented_to_the_component() -> None:
    regs = _run().registrations
    (component,) = [r for r in regs if r.type == "blueharvest:observability:MonitoringStack"]
    children = [r for r in regs if r is not component and not r.type.startswith("pulumi:providers")]
    assert {r.parent for r in children} == {component.urn}
