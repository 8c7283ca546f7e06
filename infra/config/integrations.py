"""`blue-harvest:sentry` and `blue-harvest:rum`: error tracking and real-user monitoring."""

from __future__ import annotations

from pydantic import (
    Field,
)

from infra.config.fields import (
    _DOMAIN,
    _SLUG,
    _Model,
)


class SentryConfig(_Model):
    """A Sentry project and client key per environment (token in `sentry:token`)."""

    enabled: bool
    organization: str | None = Field(default=None, pattern=_SLUG)
    team: str | None = Field(default=None, pattern=_SLUG)
    traces_sample_rate: float = Field(ge=0, le=1)


class RumConfig(_Model):
    """CloudWatch RUM app monitor for the frontend."""

    enabled: bool = False
    domain: str | None = Field(default=None, pattern=_DOMAIN)
    session_sample_rate: float = Field(default=1.0, ge=0, le=1)
