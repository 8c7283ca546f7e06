"""`blue-harvest:tracing`: Jaeger, its collector and its store."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from infra.config.fields import (
    _URL,
    HttpUrl,
    Secret,
    _Model,
)


class TracingConfig(_Model):
    """OpenTelemetry collector and Jaeger v2."""

    enabled: bool = True
    sample_ratio: float = Field(ge=0, le=1, description="Head sampling at the collector.")
    storage: Literal["memory", "elasticsearch", "opensearch"]
    storage_url: HttpUrl | None = Field(default=None, pattern=_URL)
    storage_username: str | None = None
    storage_password: Secret | None = None
    retention_days: int = Field(
        ge=1,
        le=3650,
        description="Days of trace indices kept in Elasticsearch/OpenSearch (the chart's"
        " esIndexCleaner deletes older ones daily).",
    )
