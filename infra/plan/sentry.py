"""The error-tracking plan: the environment's Sentry project and where its DSN Secret goes.

Pure data (no Pulumi); the ErrorTracking component takes it as its args' plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import EstateConfig


@dataclass(frozen=True)
class SentryPlan:
    environment: str
    #: What account-wide names carry (EstateConfig.name_scope): the stack's name.
    name_scope: str
    #: Sentry organization and team slugs (sentry.organization, sentry.team).
    organization: str
    team: str
    #: Namespaces whose workloads read the DSN Secret.
    namespaces: tuple[str, ...]
    #: Sentry platform of the project (the seed's backend is Express).
    platform: str = "node-express"


def sentry_plan(config: EstateConfig) -> SentryPlan | None:
    """The plan, or None when the stack has no Sentry (sentry.enabled false)."""
    s = config.sentry
    if not s.enabled:
        return None
    if s.organization is None or s.team is None:
        raise ValueError("ErrorTracking needs sentry.enabled with organization and team")
    return SentryPlan(
        environment=config.environment,
        name_scope=config.name_scope,
        organization=s.organization,
        team=s.team,
        namespaces=(config.cluster.namespace,),
    )
