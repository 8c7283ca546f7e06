"""The real-user-monitoring plan: the frontend's CloudWatch RUM app monitor.

Pure data (no Pulumi); the Rum component takes it as its args, and its IAM documents are
rendered by infra/render/rum.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.config.model import EstateConfig
from infra.naming import PROJECT


@dataclass(frozen=True)
class RumPlan:
    environment: str
    #: What account-wide names carry (EstateConfig.name_scope): the stack's name.
    name_scope: str
    #: The frontend's top-level domain (rum.domain).
    domain: str
    #: Share of sessions recorded, 0 to 1 (rum.sessionSampleRate).
    session_sample_rate: float
    tags: dict[str, str] = field(default_factory=dict)


def rum_plan(config: EstateConfig) -> RumPlan | None:
    """The plan, or None when the stack has no RUM (rum.enabled false)."""
    if not config.rum.enabled:
        return None
    if config.rum.domain is None:
        raise ValueError("Rum needs rum.enabled with a domain")
    return RumPlan(
        environment=config.environment,
        name_scope=config.name_scope,
        domain=config.rum.domain,
        session_sample_rate=config.rum.session_sample_rate,
        tags={"project": PROJECT, "environment": config.environment, "component": "rum"},
    )
