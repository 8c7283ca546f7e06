"""Shared fixtures: the repository's own stacks and a way to build configs from plain dicts."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from infra.config import EstateConfig, build_config, load_stack_file
from infra.config.defaults import merge
from infra.tools import describe_tools

#: The suite runs many Go programs (promtool, Prometheus, Alertmanager) side by side on few
#: cores (pytest-xdist): one scheduler thread each spends about a fifth less CPU for the same
#: wall time (measured on promtool's SLO tests), which the other workers get instead.
os.environ.setdefault("GOMAXPROCS", "1")

#: One synth cache for the session (estate diff keeps synthesized commits there), shared by
#: the pytest-xdist workers, which inherit it; never the user's own cache.
if "ESTATE_CACHE_DIR" not in os.environ:
    os.environ["ESTATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="estate-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ESTATE_CACHE_DIR"], True)

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"
STACK_NAMES = ("local", "dev", "staging", "prod")


def pytest_report_header() -> list[str]:
    """The Prometheus tools this session runs (make tools installs the production versions)."""
    return ["prometheus tools: " + line for line in describe_tools()]


def stack_config(stack: str) -> EstateConfig:
    return load_stack_file(STACKS / f"Pulumi.{stack}.yaml", stack)


def make_config(
    environment: str,
    *,
    plaintext_secrets_ok: bool = True,
    extra: dict[str, Any] | None = None,
    **keys: Any,
) -> EstateConfig:
    """A config for `environment`; keyword arguments are project keys (logs=...) merged over a
    valid baseline, so a test states only what it is about."""
    raw: dict[str, Any] = {
        "blue-harvest:environment": environment,
        "blue-harvest:services": {
            "backend": {
                "image": "ghcr.io/blue-harvest/backend:1.42.0",
                "port": 4000,
                "logFilters": ["errors", "slowRequests", "failedLogins"],
            },
            "frontend": {"image": "ghcr.io/blue-harvest/frontend:1.42.0", "port": 3000},
        },
    }
    if environment != "local":
        raw["aws:region"] = "us-east-1"
    if environment in ("staging", "prod"):
        raw["blue-harvest:logs"] = {"reportEmail": "sre@blueharvest.example"}
        raw["aws:allowedAccountIds"] = ["123456789012"]
    if environment in ("staging", "prod"):
        raw["blue-harvest:sentry"] = {"organization": "blue-harvest", "team": "platform"}
        raw["sentry:token"] = "sentry-test-token"
    if environment == "prod":
        raw["blue-harvest:tracing"] = {"storageUrl": "https://traces.search.example:9200"}
        raw["blue-harvest:cluster"] = {
            "oidcProviderArn": (
                "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/T"
            )
        }
    if environment in ("staging", "prod"):
        raw["blue-harvest:alerting"] = {
            "pagerduty": {"routingKey": "pd-test-key"},
            "heartbeatUrl": "https://heartbeat.example/test",
        }
        raw["blue-harvest:metrics"] = {
            "prometheusExternalUrl": "https://prometheus.example",
            "alertmanagerExternalUrl": "https://alertmanager.example",
        }
    for name, value in {**keys, **(extra or {})}.items():
        key = name if ":" in name else f"blue-harvest:{name}"
        raw[key] = merge(raw[key], value) if isinstance(raw.get(key), dict) else value
    return build_config(
        raw,
        source=f"test:{environment}",
        stack=environment,
        plaintext_secrets_ok=plaintext_secrets_ok,
    )


@pytest.fixture(params=STACK_NAMES)
def stack_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
