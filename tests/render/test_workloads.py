"""Workload specs and manifests: the seed's probes, env per environment, restricted pods."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError
from infra.plan.workloads import (
    SENTRY_SECRET_KEY,
    SENTRY_SECRET_NAME,
    EnvVar,
    WorkloadSpec,
    image_version,
    workload_spec,
    workload_specs,
)
from infra.render.workloads import (
    IRSA_ANNOTATION,
    deployment,
    manifests,
    monitor,
    namespace,
    pod_disruption_budget,
    sentry_secret,
    service,
    service_account,
)
from tests.conftest import make_config, stack_config


def _container(spec: WorkloadSpec) -> dict[str, Any]:
    containers = deployment(spec)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def _env(spec: WorkloadSpec) -> dict[str, dict[str, Any]]:
    return {var["name"]: var for var in _container(spec)["env"]}


def test_the_prod_backend_deployment_carries_exactly_the_seeds_probes() -> None:
    container = _container(workload_spec(stack_config("prod"), "backend"))
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/health", "port": "http", "scheme": "HTTP"},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
        "successThreshold": 1,
    }
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/health/ready", "port": "http", "scheme": "HTTP"},
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
        "successThreshold": 1,
    }
    assert container["startupProbe"] == {
        "httpGet": {"path": "/health/startup", "port": "http", "scheme": "HTTP"},
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 30,
        "successThreshold": 1,
    }
    assert container["ports"] == [{"name": "http", "containerPort": 4000, "protocol": "TCP"}]


def test_probe_problems_are_config_errors_naming_the_service_key() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config("dev", services={"backend": {"bootSeconds": 400}})
    keys = [p.key for p in caught.value.problems]
    assert keys == ["blue-harvest:services.backend.probes.startup.failureThreshold"]


@pytest.mark.parametrize(
    ("environment", "node_env", "log_level"),
    [
        ("local", "development", "debug"),
        ("dev", "development", "debug"),
        ("staging", "production", "info"),
        ("prod", "production", "info"),
    ],
)
def test_node_env_and_log_level_follow_the_environment(
    environment: str, node_env: str, log_level: str
) -> None:
    env = _env(workload_spec(make_config(environment), "backend"))
    assert env["NODE_ENV"]["value"] == node_env
    assert env["LOG_LEVEL"]["value"] == log_level
    assert env["DEBUG_REQUESTS"]["value"] == "false"
    assert "DEBUG" not in env


def test_a_service_can_set_its_log_level_and_debug_switches_outside_prod() -> None:
    config = make_config(
        "dev",
        services={"backend": {"logLevel": "http", "debug": "app:*", "debugRequests": True}},
    )
    env = _env(workload_spec(config, "backend"))
    assert env["LOG_LEVEL"]["value"] == "http"
    assert env["DEBUG"]["value"] == "app:*"
    assert env["DEBUG_REQUESTS"]["value"] == "true"


def test_version_instance_and_region_come_from_the_image_the_pod_and_aws() -> None:
    env = _env(workload_spec(make_config("staging"), "backend"))
    assert env["APP_VERSION"]["value"] == "1.42.0"
    assert env["INSTANCE_ID"]["valueFrom"] == {
        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}
    }
    assert env["AWS_REGION"]["value"] == "us-east-1"
    assert "AWS_REGION" not in _env(workload_spec(make_config("local"), "backend"))


def test_traces_go_to_the_collector_which_alone_samples() -> None:
    env = _env(workload_spec(make_config("prod"), "backend"))
    assert env["OTEL_SERVICE_NAME"]["value"] == "blue-harvest-backend"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == (
        "http://otel-collector.observability.svc:4318"
    )
    legacy = "http://otel-collector.observability.svc:14268/api/traces"
    assert env["OTEL_EXPORTER_JAEGER_ENDPOINT"]["value"] == legacy
    assert env["JAEGER_ENDPOINT"]["value"] == legacy  # what the seed's tracing.ts reads
    assert env["OTEL_TRACES_SAMPLER"]["value"] == "parentbased_always_on"
    assert "OTEL_TRACES_SAMPLER_ARG" not in env


def test_without_tracing_the_sdk_is_switched_off() -> None:
    env = _env(workload_spec(make_config("dev", tracing={"enabled": False}), "backend"))
    assert env["OTEL_SDK_DISABLED"]["value"] == "true"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env


@pytest.mark.parametrize(("environment", "optional"), [("local", True), ("prod", False)])
def test_sentry_dsn_comes_from_the_secret_and_is_required_only_when_sentry_is_on(
    environment: str, optional: bool
) -> None:
    env = _env(workload_spec(make_config(environment), "backend"))
    assert env["SENTRY_DSN"]["valueFrom"] == {
        "secretKeyRef": {"name": SENTRY_SECRET_NAME, "key": SENTRY_SECRET_KEY, "optional": optional}
    }
    assert env["SENTRY_ENVIRONMENT"]["value"] == environment


def test_sentry_traces_sample_rate_is_the_configured_one() -> None:
    assert _env(workload_spec(make_config("prod"), "backend"))["SENTRY_TRACES_SAMPLE_RATE"] == {
        "name": "SENTRY_TRACES_SAMPLE_RATE",
        "value": "0.1",
    }
    dev = _env(workload_spec(make_config("dev"), "backend"))
    assert dev["SENTRY_TRACES_SAMPLE_RATE"]["value"] == "1"


def test_a_service_that_opts_out_of_sentry_gets_no_dsn() -> None:
    config = make_config("prod", services={"frontend": {"sentry": False}})
    env = _env(workload_spec(config, "frontend"))
    assert not any(name.startswith("SENTRY_") for name in env)


def test_no_env_var_is_written_twice() -> None:
    for environment in ("local", "prod"):
        for spec in workload_specs(make_config(environment)):
            names = [var.name for var in spec.env]
            assert len(names) == len(set(names))


def test_env_var_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        EnvVar("X")
    with pytest.raises(ValueError, match="exactly one"):
        EnvVar("X", value="1", field_path="metadata.name")


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("ghcr.io/blue-harvest/backend:1.42.0", "1.42.0"),
        ("localhost:5000/backend:2.0.1", "2.0.1"),
        ("ghcr.io/bh/backend:1.2.3@sha256:" + "a" * 64, "1.2.3"),
        ("ghcr.io/bh/backend@sha256:" + "0123456789ab" + "f" * 52, "sha256-0123456789ab"),
    ],
)
def test_image_version_is_the_tag_or_a_short_digest(image: str, version: str) -> None:
    assert image_version(image) == version


def test_resources_are_the_services_or_the_environments_default() -> None:
    assert _container(workload_spec(make_config("prod"), "backend"))["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"memory": "512Mi"},
    }
    configured = {"cpuRequest": "300m", "memoryRequest": "1Gi", "memoryLimit": "2Gi"}
    config = make_config("prod", services={"backend": {"resources": configured}})
    assert _container(workload_spec(config, "backend"))["resources"] == {
        "requests": {"cpu": "300m", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }


def test_pods_meet_the_restricted_pod_security_standard() -> None:
    manifest = deployment(workload_spec(make_config("prod"), "backend"))
    pod = manifest["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["rw-tmp"] == "/tmp"
    assert set(mounts) == set(volumes)
    assert all(v["emptyDir"] == {} for v in volumes.values())


def test_rolling_updates_never_remove_a_ready_pod_first() -> None:
    spec = workload_spec(stack_config("prod"), "backend")
    manifest = deployment(spec)["spec"]
    assert manifest["replicas"] == 3
    assert manifest["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert manifest["selector"] == {"matchLabels": {"app.kubernetes.io/name": "backend"}}


def test_labels_name_the_service_its_version_and_the_estate() -> None:
    spec = workload_spec(make_config("prod"), "frontend")
    assert spec.labels["app.kubernetes.io/name"] == "frontend"
    assert spec.labels["app.kubernetes.io/part-of"] == "blue-harvest"
    assert spec.labels["app.kubernetes.io/version"] == "1.42.0"
    assert deployment(spec)["spec"]["template"]["metadata"]["labels"] == spec.labels


def test_the_service_monitor_finds_the_service_by_label_and_port_name() -> None:
    spec = workload_spec(make_config("prod"), "backend")
    svc = service(spec)
    sm = monitor(spec, release="kube-prometheus-stack", interval="30s")
    assert sm is not None
    assert sm["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    selector = sm["spec"]["selector"]["matchLabels"]
    assert selector.items() <= svc["metadata"]["labels"].items()
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [svc["metadata"]["namespace"]]}
    ports = {p["name"] for p in svc["spec"]["ports"]}
    assert [e["port"] for e in sm["spec"]["endpoints"]] == ["http"]
    assert "http" in ports
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


def test_the_service_account_is_annotated_for_irsa_only_with_a_role() -> None:
    config = make_config("prod", services={"backend": {"serviceAccount": "bh-backend"}})
    spec = workload_spec(config, "backend")
    plain = service_account(spec)
    assert plain["metadata"]["name"] == "bh-backend"
    assert "annotations" not in plain["metadata"]
    arn = "arn:aws:iam::123456789012:role/blue-harvest-prod-backend"
    assert service_account(spec, arn)["metadata"]["annotations"] == {IRSA_ANNOTATION: arn}
    assert deployment(spec)["spec"]["template"]["spec"]["serviceAccountName"] == "bh-backend"


@pytest.mark.parametrize("replicas", [1, 3])
def test_the_disruption_budget_lets_one_pod_go_at_a_time(replicas: int) -> None:
    config = make_config("prod", services={"backend": {"replicas": replicas}})
    pdb = pod_disruption_budget(workload_spec(config, "backend"))
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "backend"}},
    }


def test_namespace_enforces_a_pod_security_standard() -> None:
    labels = namespace("blue-harvest", environment="dev")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["blue-harvest.io/environment"] == "dev"
    privileged = namespace("observability", environment="dev", pod_security="privileged")
    privileged = privileged["metadata"]["labels"]
    assert privileged["pod-security.kubernetes.io/enforce"] == "privileged"


def test_the_sentry_secret_is_the_one_the_deployments_read() -> None:
    secret = sentry_secret("blue-harvest", "https://key@o1.ingest.sentry.io/2")
    assert secret["metadata"]["name"] == SENTRY_SECRET_NAME
    assert secret["stringData"] == {SENTRY_SECRET_KEY: "https://key@o1.ingest.sentry.io/2"}


def test_manifests_are_the_plain_kinds_in_creation_order() -> None:
    kinds = [m["kind"] for m in manifests(workload_spec(make_config("dev"), "backend"))]
    assert kinds == ["ServiceAccount", "Service", "Deployment", "PodDisruptionBudget"]


def test_the_frontend_by_default_has_no_metrics_and_tcp_probes_as_the_seed_allows() -> None:
    """The seed gives /metrics and /health* to the backend only: the Next.js frontend gets no
    ServiceMonitor (nothing to scrape, so no ServiceDown paging) and TCP probes on its port."""
    spec = workload_spec(make_config("prod"), "frontend")
    assert spec.metrics is None
    assert monitor(spec, release="kube-prometheus-stack", interval="30s") is None
    container = _container(spec)
    for kind, delay, period, timeout, failures in (
        ("livenessProbe", 30, 10, 5, 3),
        ("readinessProbe", 10, 5, 3, 3),
        ("startupProbe", 0, 10, 3, 30),
    ):
        assert container[kind] == {
            "tcpSocket": {"port": "http"},
            "initialDelaySeconds": delay,
            "periodSeconds": period,
            "timeoutSeconds": timeout,
            "failureThreshold": failures,
            "successThreshold": 1,
        }, kind
    assert [p["name"] for p in container["ports"]] == ["http"]


def test_a_frontend_that_serves_metrics_and_health_routes_can_say_so() -> None:
    config = make_config(
        "prod",
        services={
            "frontend": {
                "metrics": {"enabled": True, "path": "/api/metrics", "port": 9464},
                "probes": {"liveness": {"type": "http", "path": "/api/health"}},
            }
        },
    )
    assert config.scraped_services == ("backend", "frontend")
    spec = workload_spec(config, "frontend")
    sm = monitor(spec, release="kube-prometheus-stack", interval="30s")
    assert sm is not None
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    assert sm["spec"]["endpoints"][0]["path"] == "/api/metrics"
    assert {"name": "metrics", "containerPort": 9464, "protocol": "TCP"} in _container(spec)[
        "ports"
    ]
    assert {p["name"]: p["port"] for p in service(spec)["spec"]["ports"]} == {
        "http": 3000,
        "metrics": 9464,
    }
    container = _container(spec)
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert "tcpSocket" in container["readinessProbe"]


def test_the_backend_keeps_the_seeds_metrics_endpoint() -> None:
    spec = workload_spec(make_config("prod"), "backend")
    assert spec.metrics is not None
    assert (spec.metrics.path, spec.metrics.port, spec.metrics.port_name) == (
        "/metrics",
        4000,
        "http",
    )
    assert make_config("prod").scraped_services == ("backend",)


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        ({"type": "http", "path": None}, "an http probe needs a path"),
        ({"type": "tcp", "path": "/health"}, "a tcp probe has no path"),
    ],
)
def test_a_probe_whose_type_and_path_disagree_is_refused_naming_the_key(
    probe: dict[str, Any], message: str
) -> None:
    timings = {
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    with pytest.raises(ConfigError) as caught:
        make_config("local", services={"backend": {"probes": {"liveness": probe | timings}}})
    rendered = caught.value.render()
    assert "blue-harvest:services.backend.probes.liveness" in rendered
    assert message in rendered
