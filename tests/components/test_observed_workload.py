"""ObservedWorkload under the mock engine: one call, every child, ordered after what it needs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.components.observed_workload import ObservedWorkload, ObservedWorkloadArgs
from infra.config import EstateConfig
from infra.plan.workloads import workload_spec
from infra.render.workloads import namespace
from infra.synth.engine import SynthRun, run_program
from infra.synth.recorder import Registration
from infra.synth.writer import render_files
from tests.conftest import stack_config

RULE: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {
        "name": "blue-harvest-backend",
        "namespace": "monitoring",
        "labels": {"release": "kube-prometheus-stack"},
    },
    "spec": {"groups": [{"name": "backend", "rules": [{"alert": "X", "expr": "vector(1)"}]}]},
}
ROLE = "arn:aws:iam::333333333333:role/blue-harvest-prod-backend"


def _run(stack: str = "prod", *, with_chart: bool = True, service: str = "backend") -> SynthRun:
    def program(config: EstateConfig) -> None:
        ns_manifest = namespace(config.cluster.namespace, environment=config.environment)
        ns = k8s.core.v1.Namespace("workloads-namespace", metadata=ns_manifest["metadata"])
        chart = (
            k8s.helm.v3.Release("monitoring-chart", name="kube-prometheus-stack", chart="x")
            if with_chart
            else None
        )
        ObservedWorkload(
            service,
            ObservedWorkloadArgs(
                spec=workload_spec(config, service),
                monitor_release="kube-prometheus-stack",
                scrape_interval=config.metrics.scrape_interval,
                irsa_role_arn=pulumi.Output.from_input(ROLE),
                rules=[RULE],
                monitoring_chart=chart,
                depends_on=[ns],
            ),
        )

    return run_program(stack_config(stack), stack, program)


def _one(regs: tuple[Registration, ...], type_: str) -> Registration:
    (reg,) = [r for r in regs if r.type == type_]
    return reg


def test_one_call_declares_the_whole_workload() -> None:
    regs = _run().registrations
    component = _one(regs, "blueharvest:observability:ObservedWorkload")
    children = sorted((r.type, r.name) for r in regs if r.parent == component.urn)
    assert children == [
        ("kubernetes:apps/v1:Deployment", "backend-deployment"),
        ("kubernetes:core/v1:Service", "backend-service"),
        ("kubernetes:core/v1:ServiceAccount", "backend-service-account"),
        (
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "backend-rules-blue-harvest-backend",
        ),
        ("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "backend-monitor"),
        ("kubernetes:policy/v1:PodDisruptionBudget", "backend-pdb"),
    ]


def test_custom_resources_wait_for_the_chart_that_brings_their_crds() -> None:
    regs = _run().registrations
    chart = _one(regs, "kubernetes:helm.sh/v3:Release")
    crs = [r for r in regs if r.type.startswith("kubernetes:monitoring.coreos.com/")]
    assert len(crs) == 2
    assert all(chart.urn in r.depends_on for r in crs)
    plain = _one(regs, "kubernetes:apps/v1:Deployment")
    assert chart.urn not in plain.depends_on


def test_without_a_chart_the_monitor_still_exists() -> None:
    regs = _run(with_chart=False).registrations
    sm = _one(regs, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    assert sm.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert sm.depends_on == (_one(regs, "kubernetes:core/v1:Namespace").urn,)


def test_every_namespaced_child_waits_for_the_namespace() -> None:
    regs = _run().registrations
    ns = _one(regs, "kubernetes:core/v1:Namespace")
    component = _one(regs, "blueharvest:observability:ObservedWorkload")
    children = [r for r in regs if r.parent == component.urn]
    assert all(ns.urn in r.depends_on for r in children)
    deploy = _one(regs, "kubernetes:apps/v1:Deployment")
    account = _one(regs, "kubernetes:core/v1:ServiceAccount")
    assert account.urn in deploy.depends_on


def test_the_service_account_carries_the_irsa_role() -> None:
    account = _one(_run().registrations, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert account.inputs["automountServiceAccountToken"] is False


def test_synth_writes_the_prod_backend_deployment_with_the_seeds_probes() -> None:
    files = render_files(_run())
    deploy = yaml.safe_load(files["kubernetes/deployment-blue-harvest-backend.yaml"])
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    probes = {
        kind: (
            p["httpGet"]["path"],
            p["initialDelaySeconds"],
            p["periodSeconds"],
            p["timeoutSeconds"],
            p["failureThreshold"],
        )
        for kind, p in (
            ("liveness", container["livenessProbe"]),
            ("readiness", container["readinessProbe"]),
            ("startup", container["startupProbe"]),
        )
    }
    assert probes == {
        "liveness": ("/health", 30, 10, 5, 3),
        "readiness": ("/health/ready", 10, 5, 3, 3),
        "startup": ("/health/startup", 0, 10, 3, 30),
    }
    assert "kubernetes/servicemonitor-blue-harvest-backend.yaml" in files
    assert "prometheus/rules/blue-harvest-backend.yaml" in files


def test_nothing_is_protected_a_workload_is_replaceable() -> None:
    assert not any(r.protect for r in _run().registrations)


def test_the_local_stack_needs_no_aws() -> None:
    regs = _run("local").registrations
    assert not any(r.type.startswith("aws:") for r in regs)
    deploy = _one(regs, "kubernetes:apps/v1:Deployment")
    names = {e["name"] for e in deploy.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "AWS_REGION" not in names


def test_the_seeds_frontend_gets_no_service_monitor_and_tcp_probes() -> None:
    """No /metrics in the seed's frontend: nothing to scrape, so no target to report down."""
    regs = _run(service="frontend").registrations
    assert not [r for r in regs if r.type == "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"]
    deploy = _one(regs, "kubernetes:apps/v1:Deployment")
    (container,) = deploy.inputs["spec"]["template"]["spec"]["containers"]
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[kind]["tcpSocket"] == {"port": "http"}, kind
        assert "httpGet" not in container[kind]
