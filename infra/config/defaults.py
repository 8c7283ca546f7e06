"""Per-environment defaults, in stack-file shape: a stack file says only what differs.

docs/configuration.md lists them per key; keep the two in step.
"""

from __future__ import annotations

from typing import Any

from infra.config.model import Environment
from infra.naming import PROJECT

_P = PROJECT


def _metrics(  # noqa: PLR0917 (one row of the sizing table)
    retention: str,
    size: str,
    storage: str,
    prometheus: int,
    alertmanager: int,
    cpu: str,
    memory: str,
    grafana_storage: str | None,
) -> dict[str, Any]:
    return {
        "retention": retention,
        "retentionSize": size,
        "storage": storage,
        "prometheusReplicas": prometheus,
        "alertmanagerReplicas": alertmanager,
        "prometheusResources": {"cpuRequest": cpu, "memoryRequest": memory, "memoryLimit": memory},
        "grafanaStorage": grafana_storage,
    }


def _slos(availability: float, latency: float, *, page: bool) -> dict[str, Any]:
    """The backend's two SLOs (alerts/slos.py): non-5xx user requests, and user requests
    within 1 s (a bucket of the seed's histogram), over 30 days."""
    return {
        "backend": {
            "availability": {"objective": availability, "page": page},
            "latency": {"objective": latency, "thresholdSeconds": 1, "page": page},
        }
    }


ENV_DEFAULTS: dict[Environment, dict[str, Any]] = {
    "local": {
        f"{_P}:aws": {"enabled": False},
        f"{_P}:cluster": {
            "name": "bh-local",
            "flavor": "kind",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 1, "encrypt": False, "protect": False},
        f"{_P}:alerting": {
            "pageOnCall": False,
            "grouping": {"groupWait": "10s", "groupInterval": "1m", "repeatInterval": "1h"},
        },
        f"{_P}:metrics": _metrics("2d", "4GB", "5Gi", 1, 1, "100m", "512Mi", None),
        f"{_P}:tracing": {"sampleRatio": 1.0, "storage": "memory", "retentionDays": 3},
        f"{_P}:loki": {"retention": "24h", "storage": "filesystem"},
        f"{_P}:sentry": {"enabled": False, "tracesSampleRate": 1.0},
    },
    "dev": {
        f"{_P}:aws": {"enabled": True},
        f"{_P}:cluster": {
            "name": "bh-dev",
            "flavor": "eks",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 14, "encrypt": False, "protect": False},
        f"{_P}:alerting": {
            "pageOnCall": False,
            "grouping": {"groupWait": "1m", "groupInterval": "10m", "repeatInterval": "12h"},
        },
        f"{_P}:metrics": _metrics("7d", "18GB", "20Gi", 1, 1, "250m", "1Gi", "2Gi"),
        f"{_P}:tracing": {"sampleRatio": 1.0, "storage": "memory", "retentionDays": 3},
        f"{_P}:loki": {"retention": "72h", "storage": "filesystem"},
        f"{_P}:sentry": {"enabled": False, "tracesSampleRate": 1.0},
    },
    "staging": {
        f"{_P}:aws": {"enabled": True},
        f"{_P}:cluster": {
            "name": "bh-staging",
            "flavor": "eks",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 30, "encrypt": True, "protect": False},
        f"{_P}:alerting": {
            "pageOnCall": True,
            "grouping": {"groupWait": "30s", "groupInterval": "5m", "repeatInterval": "4h"},
        },
        # 30 days: the SLOs' budget window is read from Prometheus's own disk.
        f"{_P}:metrics": _metrics("30d", "90GB", "100Gi", 2, 2, "500m", "2Gi", "5Gi"),
        f"{_P}:tracing": {"sampleRatio": 1.0, "storage": "memory", "retentionDays": 7},
        f"{_P}:loki": {"retention": "168h", "storage": "filesystem"},
        f"{_P}:sentry": {"enabled": True, "tracesSampleRate": 1.0},
        f"{_P}:slos": _slos(0.995, 0.95, page=True),
    },
    "prod": {
        f"{_P}:aws": {"enabled": True},
        f"{_P}:cluster": {
            "name": "bh-prod",
            "flavor": "eks",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 90, "encrypt": True, "protect": True},
        f"{_P}:alerting": {
            "pageOnCall": True,
            "grouping": {"groupWait": "30s", "groupInterval": "5m", "repeatInterval": "1h"},
        },
        f"{_P}:metrics": {
            **_metrics("30d", "90GB", "100Gi", 2, 3, "1", "4Gi", "10Gi"),
            # Remote-written to Amazon Managed Service for Prometheus (docs/scaling.md).
            "store": "amp",
        },
        f"{_P}:tracing": {"sampleRatio": 0.1, "storage": "elasticsearch", "retentionDays": 14},
        f"{_P}:loki": {"retention": "720h", "storage": "s3"},
        f"{_P}:sentry": {"enabled": True, "tracesSampleRate": 0.1},
        f"{_P}:slos": _slos(0.999, 0.99, page=True),
    },
}


#: Each seed service's instrumentation, by service name, under what a stack file says about it.
#: The seed (sections 2 and 5) gives the Express backend /metrics and /health, /health/ready,
#: /health/startup; those are also the model's defaults for any other service. It defines
#: none for the Next.js frontend: no metrics endpoint (no ServiceMonitor, no ServiceDown, not
#: in the dashboards' $service) and no health route, so its probes are TCP connects to its port
#: (the server accepts connections once `next start` is ready; an HTTP GET of `/` would render
#: a page, and fail whenever the backend it calls fails). Timings are the seed's backend's.
SERVICE_DEFAULTS: dict[str, dict[str, Any]] = {
    "frontend": {
        "metrics": {"enabled": False},
        "probes": {
            "liveness": {
                "type": "tcp",
                "initialDelaySeconds": 30,
                "periodSeconds": 10,
                "timeoutSeconds": 5,
                "failureThreshold": 3,
            },
            "readiness": {
                "type": "tcp",
                "initialDelaySeconds": 10,
                "periodSeconds": 5,
                "timeoutSeconds": 3,
                "failureThreshold": 3,
            },
            "startup": {
                "type": "tcp",
                "initialDelaySeconds": 0,
                "periodSeconds": 10,
                "timeoutSeconds": 3,
                "failureThreshold": 30,
            },
        },
    },
}


def merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `given` over `defaults`: mappings merge key by key, anything else replaces."""
    out = dict(defaults)
    for key, value in given.items():
        base = out.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            out[key] = merge(base, value)
        else:
            out[key] = value
    return out
