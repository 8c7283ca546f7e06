"""Per-environment defaults, in stack-file shape: a stack file says only what differs.

docs/configuration.md is generated from this table (`estate docs`) so the two never drift.
"""

from __future__ import annotations

from typing import Any

from infra.config.model import PROJECT, Environment

_P = PROJECT

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
