"""`blue-harvest:slos`: one objective per service and SLI (alerts/slos.py renders them)."""

from __future__ import annotations

from pydantic import (
    Field,
)

from infra.config.fields import (
    _Model,
)


class SloConfig(_Model):
    """One service level objective over 30 days (alerts/slos.py renders its rules and tests)."""

    objective: float = Field(
        gt=0, lt=1, description="The share of good user requests, e.g. 0.999 for 99.9%."
    )
    threshold_seconds: float | None = Field(
        default=None, gt=0, description="Latency SLOs: a histogram bucket boundary, e.g. 1."
    )
    page: bool = Field(
        default=False,
        description="The fast burn tiers page (critical); else every tier is a ticket (warning).",
    )


#: Where Prometheus's samples end up: only its own disk, or also Amazon Managed Service for
#: Prometheus (remote write; docs/scaling.md).
