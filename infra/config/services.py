"""`blue-harvest:services.<name>`: a workload, its resources, probes and metrics endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    model_validator,
)

from infra.config.fields import (
    _CPU,
    _DNS_LABEL,
    _HTTP_PATH,
    _MEMORY,
    LogFilter,
    _bytes,
    _millicores,
    _Model,
    _pinned_image,
)


class ResourcesConfig(_Model):
    """Kubernetes requests and limits for one container."""

    cpu_request: str = Field(pattern=_CPU)
    memory_request: str = Field(pattern=_MEMORY)
    cpu_limit: str | None = Field(default=None, pattern=_CPU)
    memory_limit: str = Field(pattern=_MEMORY)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        if _bytes(self.memory_request) > _bytes(self.memory_limit):
            raise ValueError(
                f"memoryRequest {self.memory_request} is above memoryLimit {self.memory_limit}"
            )
        if self.cpu_limit and _millicores(self.cpu_request) > _millicores(self.cpu_limit):
            raise ValueError(f"cpuRequest {self.cpu_request} is above cpuLimit {self.cpu_limit}")
        return self

    def as_k8s(self) -> dict[str, dict[str, str]]:
        limits = {"memory": self.memory_limit}
        if self.cpu_limit:
            limits["cpu"] = self.cpu_limit
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": limits,
        }


class ProbeConfig(_Model):
    """One probe, as Kubernetes takes it: an HTTP GET of `path`, or (type tcp, for a service
    with no health endpoint) a TCP connect to the service's port."""

    type: Literal["http", "tcp"] = Field(
        default="http", description="http: GET `path`; tcp: the port accepts a connection."
    )
    path: str | None = Field(default=None, pattern=_HTTP_PATH)
    initial_delay_seconds: int = Field(ge=0, le=3600)
    period_seconds: int = Field(ge=1, le=3600)
    timeout_seconds: int = Field(ge=1, le=3600)
    failure_threshold: int = Field(ge=1, le=1000)
    success_threshold: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _path_matches_type(self) -> Self:
        if self.type == "http" and self.path is None:
            raise ValueError("an http probe needs a path (or use type: tcp)")
        if self.type == "tcp" and self.path is not None:
            raise ValueError("a tcp probe has no path (use type: http to GET one)")
        return self


class MetricsEndpointConfig(_Model):
    """Whether a service serves Prometheus metrics, and where."""

    enabled: bool = Field(
        default=True, description="It serves metrics: a ServiceMonitor, ServiceDown, $service."
    )
    path: str = Field(default="/metrics", pattern=_HTTP_PATH)
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Defaults to the service's own port."
    )


#: The seed's probes (section 5), field by field as a stack file spells them. A probe a stack
#: file gives takes every field it does not set from here: `liveness: {path: /livez}` keeps the
#: seed's liveness timings. A probe switched to `type: tcp` takes no path.
SEED_PROBES: dict[str, dict[str, Any]] = {
    "liveness": {
        "type": "http",
        "path": "/health",
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
        "successThreshold": 1,
    },
    "readiness": {
        "type": "http",
        "path": "/health/ready",
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
        "successThreshold": 1,
    },
    "startup": {
        "type": "http",
        "path": "/health/startup",
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 30,
        "successThreshold": 1,
    },
}


def _with_seed(seed: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` with each field it sets neither by its stack-file (camelCase) nor its Python
    name taken from `seed`; a tcp probe takes no seed path."""
    out = dict(given)
    names = {field.alias or name: name for name, field in ProbeConfig.model_fields.items()}
    kind = given.get("type", seed["type"])
    for key, value in seed.items():
        if key in given or names.get(key, key) in given:
            continue
        if key == "path" and kind == "tcp":
            continue
        out[key] = value
    return out


class ProbesConfig(_Model):
    """The seed's three probes; defaults are exactly the seed's (section 5), per field."""

    liveness: ProbeConfig = ProbeConfig.model_validate(SEED_PROBES["liveness"])
    readiness: ProbeConfig = ProbeConfig.model_validate(SEED_PROBES["readiness"])
    startup: ProbeConfig = ProbeConfig.model_validate(SEED_PROBES["startup"])

    @model_validator(mode="before")
    @classmethod
    def _seed_each_field(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            kind: _with_seed(SEED_PROBES[kind], given)
            if kind in SEED_PROBES and isinstance(given, dict)
            else given
            for kind, given in data.items()
        }


LogLevel = Literal["error", "warn", "info", "http", "debug"]


class ServiceConfig(_Model):
    """One workload of the application (the Express backend, the Next.js frontend)."""

    image: Annotated[str, AfterValidator(_pinned_image)] = Field(
        description="Container image, pinned to a tag or digest (never 'latest')."
    )
    port: int = Field(ge=1, le=65535, description="Container port serving HTTP and /metrics.")
    replicas: int = Field(default=1, ge=1, le=100)
    boot_seconds: int = Field(default=60, ge=1, le=3600, description="Worst-case start time.")
    service_account: str | None = Field(
        default=None, pattern=_DNS_LABEL, description="Defaults to the service's name."
    )
    log_filters: tuple[LogFilter, ...] = Field(
        default=("errors", "slowRequests"),
        description="CloudWatch metric filters over this service's JSON logs.",
    )
    probes: ProbesConfig = ProbesConfig()
    metrics: MetricsEndpointConfig = Field(
        default=MetricsEndpointConfig(),
        description="Its /metrics endpoint (default: the seed's backend's; off for frontend).",
    )
    log_level: LogLevel | None = Field(
        default=None, description="LOG_LEVEL; default debug in local and dev, info elsewhere."
    )
    debug: str | None = Field(
        default=None, description="DEBUG namespaces for the debug package, e.g. 'app:*'."
    )
    debug_requests: bool = Field(default=False, description="DEBUG_REQUESTS request dumps.")
    resources: ResourcesConfig | None = Field(
        default=None, description="Container resources; default per environment."
    )
    sentry: bool = Field(default=True, description="Wire SENTRY_DSN when Sentry is enabled.")


def _seed_service_defaults(value: object) -> object:
    """Each service's instrumentation defaults by name (infra/config/defaults.py:
    SERVICE_DEFAULTS), deep-merged under what the stack file says about it."""
    from infra.config.defaults import SERVICE_DEFAULTS, merge

    if not isinstance(value, dict):
        return value
    return {
        name: merge(SERVICE_DEFAULTS[name], given)
        if name in SERVICE_DEFAULTS and isinstance(given, dict)
        else given
        for name, given in value.items()
    }
