"""The estates the benchmarks synthesize: the repository's stacks and generated prod-like ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = ROOT / "stacks"

#: The repository's stacks, in the order the report lists them.
REPO_STACKS = ("local", "dev", "staging", "prod")
#: Service counts of the generated estates.
SIZES = (10, 100, 1000)
#: Every generated service turns on every log filter, so each one declares the most resources.
LOG_FILTERS = ("errors", "slowRequests", "failedLogins")


def generated_stack(services: int) -> str:
    """The stack name of the generated estate with `services` services."""
    return f"services-{services}"


def service_name(index: int) -> str:
    return f"svc-{index:04d}"


def generated_config(services: int, base: Path = STACKS_DIR / "Pulumi.prod.yaml") -> dict[str, Any]:
    """The stack document of a prod-like estate of `services` services: the prod stack file
    (its region, cluster, logs, alerting and secrets) with its own services (the alerts need
    `backend`) and `svc-0001`.. up to the count, each pinned, with a port and all three log
    filters."""
    doc = yaml.safe_load(base.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise ValueError(f"{base} is not a stack file with a `config:` mapping")
    config: dict[str, Any] = dict(doc["config"])
    config["blue-harvest:environment"] = "prod"
    own: dict[str, Any] = config.get("blue-harvest:services") or {}
    if services < len(own):
        raise ValueError(f"{base} alone has {len(own)} services; ask for at least that many")
    generated = {
        name: {**spec, "logFilters": list(LOG_FILTERS)} for name, spec in sorted(own.items())
    }
    for i in range(1, services - len(own) + 1):
        generated[service_name(i)] = {
            "image": f"ghcr.io/blue-harvest/{service_name(i)}:1.{i}.0",
            "port": 3000 + i,
            "replicas": 2,
            "bootSeconds": 60,
            "logFilters": list(LOG_FILTERS),
        }
    config["blue-harvest:services"] = generated
    return {**doc, "config": config}


def write_generated_stack(stacks_dir: Path, services: int) -> str:
    """Write Pulumi.services-<n>.yaml into `stacks_dir`; returns the stack name."""
    stack = generated_stack(services)
    stacks_dir.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(generated_config(services), sort_keys=False, width=120)
    (stacks_dir / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    return stack
