"""One observed workload (the Express backend, the Next.js frontend) as plain typed data.

Everything a Deployment needs is decided here from EstateConfig: image and version, probes
(checked once, by the config's validator, with infra.config.probes), resources, service
account, and the environment the seed's code reads (NODE_ENV, LOG_LEVEL, DEBUG, DEBUG_REQUESTS,
APP_VERSION, INSTANCE_ID, AWS_REGION, the OpenTelemetry and Sentry settings).
infra.render.workloads turns a spec into manifests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infra.config.model import Environment, EstateConfig, ResourcesConfig
from infra.config.probes import ProbesSpec
from infra.core import environments
from infra.naming import PART_OF_LABEL, PROJECT, Endpoints, trace_service_name
from infra.text import num

#: Container port name; the ServiceMonitor (infra.render.monitors) scrapes the port by name.
PORT_NAME = "http"
#: Name of a separate metrics port, when a service serves metrics on a port of its own.
METRICS_PORT_NAME = "metrics"
#: Secret (one per workload namespace, written by ErrorTracking) holding the Sentry DSN.
SENTRY_SECRET_NAME = "sentry-dsn"
SENTRY_SECRET_KEY = "dsn"
#: UID/GID the containers run as. Node images name their user ("node"), which the kubelet
#: cannot check against runAsNonRoot, so the pod states a numeric one.
RUN_AS_USER = 1000

#: Resources when a service sets none: small in local/dev, memory-guaranteed in prod.
DEFAULT_RESOURCES: dict[Environment, ResourcesConfig] = {
    "local": ResourcesConfig(cpu_request="50m", memory_request="128Mi", memory_limit="256Mi"),
    "dev": ResourcesConfig(cpu_request="100m", memory_request="128Mi", memory_limit="256Mi"),
    "staging": ResourcesConfig(cpu_request="250m", memory_request="256Mi", memory_limit="512Mi"),
    "prod": ResourcesConfig(cpu_request="250m", memory_request="512Mi", memory_limit="512Mi"),
}

#: Directories the containers may write to (emptyDirs) under a read-only root filesystem.
#: /tmp for every service; the seed's backend logger writes logs/*.log relative to its working
#: directory in production, and Next.js keeps its cache in .next/cache. Both assume the
#: images' WORKDIR is /app (not visible from here).
DEFAULT_WRITABLE_PATHS: tuple[str, ...] = ("/tmp",)
WRITABLE_PATHS: dict[str, tuple[str, ...]] = {
    "backend": ("/tmp", "/app/logs"),
    "frontend": ("/tmp", "/app/.next/cache"),
}


@dataclass(frozen=True)
class SecretKeyRef:
    name: str
    key: str
    optional: bool


@dataclass(frozen=True)
class EnvVar:
    """A container env var: a literal value, a pod field, or a Secret key."""

    name: str
    value: str | None = None
    field_path: str | None = None
    secret: SecretKeyRef | None = None

    def __post_init__(self) -> None:
        sources = [s for s in (self.value, self.field_path, self.secret) if s is not None]
        if len(sources) != 1:
            raise ValueError(f"env var {self.name} needs exactly one of value, field, secret")

    def as_k8s(self) -> dict[str, Any]:
        if self.value is not None:
            return {"name": self.name, "value": self.value}
        if self.field_path is not None:
            return {
                "name": self.name,
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": self.field_path}},
            }
        assert self.secret is not None
        ref = self.secret
        return {
            "name": self.name,
            "valueFrom": {
                "secretKeyRef": {"name": ref.name, "key": ref.key, "optional": ref.optional}
            },
        }


@dataclass(frozen=True)
class MetricsEndpoint:
    """Where Prometheus scrapes a service: a path on a named container port."""

    path: str
    port: int
    port_name: str


@dataclass(frozen=True)
class WorkloadSpec:
    """Everything the workload's manifests say, decided and checked."""

    service: str
    environment: Environment
    namespace: str
    image: str
    version: str
    port: int
    replicas: int
    service_account: str
    probes: ProbesSpec
    resources: dict[str, dict[str, str]]
    env: tuple[EnvVar, ...]
    writable_paths: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    #: None: the service serves no metrics, so it gets no ServiceMonitor.
    metrics: MetricsEndpoint | None = None

    @property
    def selector(self) -> dict[str, str]:
        """Immutable on a Deployment: the name only (never the version)."""
        return {"app.kubernetes.io/name": self.service}

    def env_value(self, name: str) -> str | None:
        for var in self.env:
            if var.name == name:
                return var.value
        return None


def image_version(image: str) -> str:
    """The image's tag, or a label-safe form of its digest when it is pinned by digest only."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return "sha256-" + digest.removeprefix("sha256:")[:12]


def _label_value(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", text)[:63]
    return cleaned.strip("-._") or "unknown"


def otel_service_name(service: str) -> str:
    return trace_service_name(service)


def endpoints(config: EstateConfig) -> Endpoints:
    return Endpoints(
        monitoring_namespace=config.metrics.namespace,
        observability_namespace=config.cluster.observability_namespace,
    )


def _env(config: EstateConfig, service: str, version: str) -> tuple[EnvVar, ...]:
    svc = config.services[service]
    development = not environments.production_like(config.environment)
    env = [
        EnvVar("NODE_ENV", "development" if development else "production"),
        EnvVar("LOG_LEVEL", svc.log_level or ("debug" if development else "info")),
        EnvVar("DEBUG_REQUESTS", "true" if svc.debug_requests else "false"),
    ]
    if svc.debug:
        env.append(EnvVar("DEBUG", svc.debug))
    env += [
        EnvVar("APP_VERSION", version),
        EnvVar("INSTANCE_ID", field_path="metadata.name"),
    ]
    if config.aws.enabled and config.aws_region:
        env.append(EnvVar("AWS_REGION", config.aws_region))
    env.append(EnvVar("OTEL_SERVICE_NAME", otel_service_name(service)))
    env.append(
        EnvVar(
            "OTEL_RESOURCE_ATTRIBUTES",
            f"deployment.environment={config.environment},service.version={version}",
        )
    )
    if config.tracing.enabled:
        ep = endpoints(config)
        env += [
            EnvVar("OTEL_EXPORTER_OTLP_ENDPOINT", ep.otel_collector_otlp_http),
            # The seed's backend exports with the Jaeger exporter to the collector's legacy
            # Thrift HTTP receiver; its tracing.ts reads JAEGER_ENDPOINT.
            EnvVar("OTEL_EXPORTER_JAEGER_ENDPOINT", ep.otel_collector_jaeger_thrift),
            EnvVar("JAEGER_ENDPOINT", ep.otel_collector_jaeger_thrift),
            # Head sampling happens once, at the collector (tracing.sampleRatio). Sampling in
            # the SDK as well would multiply the two ratios (10% x 10% = 1% in prod).
            EnvVar("OTEL_TRACES_SAMPLER", "parentbased_always_on"),
        ]
    else:
        env.append(EnvVar("OTEL_SDK_DISABLED", "true"))
    if svc.sentry:
        # Sentry enabled: the Secret must exist (ErrorTracking writes it). Disabled: optional,
        # so the pod starts without it (a hand-made Secret can still turn Sentry on locally).
        env.append(
            EnvVar(
                "SENTRY_DSN",
                secret=SecretKeyRef(
                    SENTRY_SECRET_NAME, SENTRY_SECRET_KEY, optional=not config.sentry.enabled
                ),
            )
        )
        env += [
            EnvVar("SENTRY_ENVIRONMENT", config.environment),
            EnvVar("SENTRY_TRACES_SAMPLE_RATE", num(config.sentry.traces_sample_rate)),
        ]
    return tuple(env)


def workload_spec(config: EstateConfig, service: str) -> WorkloadSpec:
    """The spec of `service`. Its probes come from the validated config, whose validator ran
    the probe rules (infra.config.probes) once and refused the stack on any problem."""
    svc = config.services[service]
    probes = ProbesSpec.from_config(svc.probes, svc.boot_seconds)
    version = image_version(svc.image)
    resources = svc.resources or DEFAULT_RESOURCES[config.environment]
    metrics: MetricsEndpoint | None = None
    if svc.metrics.enabled:
        port = svc.metrics.port or svc.port
        metrics = MetricsEndpoint(
            path=svc.metrics.path,
            port=port,
            port_name=PORT_NAME if port == svc.port else METRICS_PORT_NAME,
        )
    return WorkloadSpec(
        service=service,
        environment=config.environment,
        namespace=config.cluster.namespace,
        image=svc.image,
        version=version,
        port=svc.port,
        replicas=svc.replicas,
        service_account=config.service_account(service),
        probes=probes,
        resources=resources.as_k8s(),
        env=_env(config, service, version),
        writable_paths=WRITABLE_PATHS.get(service, DEFAULT_WRITABLE_PATHS),
        metrics=metrics,
        labels={
            "app.kubernetes.io/name": service,
            PART_OF_LABEL: PROJECT,
            "app.kubernetes.io/version": _label_value(version),
            "app.kubernetes.io/managed-by": "pulumi",
            "environment": config.environment,
        },
    )


def workload_specs(config: EstateConfig) -> list[WorkloadSpec]:
    """Every service's spec, sorted by name."""
    return [workload_spec(config, service) for service in sorted(config.services)]
