"""`blue-harvest:loki`: Loki and its log shipper."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from infra.config.fields import (
    _BUCKET,
    Duration,
    _Model,
)


class LokiConfig(_Model):
    """Loki for in-cluster logs, with a shipper DaemonSet."""

    enabled: bool = True
    retention: Duration = Field()
    storage: Literal["filesystem", "s3"]
    bucket: str | None = Field(default=None, pattern=_BUCKET)
