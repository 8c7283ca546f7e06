"""Per-environment defaults, in stack-file shape: a stack file says only what differs.

docs/configuration.md lists them per key; keep the two in step.
"""

from __future__ import annotations

from typing import Any

from infra.config.model import PROJECT, Environment

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


ENV_DEFAULTS: dict[Environment, dict[str, Any]] = {
    "local": {
        f"{_P}:aws": {"enabled": False},
        f"{_P}:cluster": {
            "name": "bh-local",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 1, "encrypt": False, "protect": False},
        f"{_P}:alerting": {
            "pageOnCall": False,
            "grouping": {"groupWait": "10s", "groupInterval": "1m", "repeatInterval": "1h"},
        },
        f"{_P}:metrics": _metrics("2d", "4GB", "5Gi", 1, 1, "100m", "512Mi", None),
        f"{_P}:tracing": {"sampleRatio": 1.0, "storage": "memory"},
        f"{_P}:loki": {"retention": "24h", "storage": "filesystem"},
        f"{_P}:sentry": {"enabled": False, "tracesSampleRate": 1.0},
    },
    "dev": {
        f"{_P}:aws": {"enabled": True},
        f"{_P}:cluster": {
            "name": "bh-dev",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 14, "encrypt": False, "protect": False},
        f"{_P}:alerting": {
            "pageOnCall": False,
            "grouping": {"groupWait": "1m", "groupInterval": "10m", "repeatInterval": "12h"},
        },
        f"{_P}:metrics": _metrics("7d", "18GB", "20Gi", 1, 1, "250m", "1Gi", "2Gi"),
        f"{_P}:tracing": {"sampleRatio": 1.0, "storage": "memory"},
        f"{_P}:loki": {"retention": "72h", "storage": "filesystem"},
        f"{_P}:sentry": {"enabled": False, "tracesSampleRate": 1.0},
    },
    "staging": {
        f"{_P}:aws": {"enabled": True},
        f"{_P}:cluster": {
            "name": "bh-staging",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 30, "encrypt": True, "protect": False},
        f"{_P}:alerting": {
            "pageOnCall": True,
            "grouping": {"groupWait": "30s", "groupInterval": "5m", "repeatInterval": "4h"},
        },
        f"{_P}:metrics": _metrics("15d", "45GB", "50Gi", 2, 2, "500m", "2Gi", "5Gi"),
        f"{_P}:tracing": {"sampleRatio": 1.0, "storage": "memory"},
        f"{_P}:loki": {"retention": "168h", "storage": "filesystem"},
        f"{_P}:sentry": {"enabled": True, "tracesSampleRate": 1.0},
    },
    "prod": {
        f"{_P}:aws": {"enabled": True},
        f"{_P}:cluster": {
            "name": "bh-prod",
            "kubernetesVersion": "1.31",
            "namespace": "blue-harvest",
        },
        f"{_P}:logs": {"retentionDays": 90, "encrypt": True, "protect": True},
        f"{_P}:alerting": {
            "pageOnCall": True,
            "grouping": {"groupWait": "30s", "groupInterval": "5m", "repeatInterval": "1h"},
        },
        f"{_P}:metrics": _metrics("30d", "90GB", "100Gi", 2, 3, "1", "4Gi", "10Gi"),
        f"{_P}:tracing": {"sampleRatio": 0.1, "storage": "elasticsearch"},
        f"{_P}:loki": {"retention": "720h", "storage": "s3"},
        f"{_P}:sentry": {"enabled": True, "tracesSampleRate": 0.1},
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
