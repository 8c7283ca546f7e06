"""`blue-harvest:grafana`: an external Grafana the dashboards go to."""

from __future__ import annotations

from pydantic import (
    Field,
)

from infra.config.fields import (
    _URL,
    HttpUrl,
    Secret,
    _Model,
)


class ExternalGrafana(_Model):
    """A Grafana outside the cluster that receives the dashboards via its API."""

    url: HttpUrl = Field(pattern=_URL)
    auth: Secret = Field(description="Service-account token, or user:password.")


class GrafanaConfig(_Model):
    """Dashboards and data sources as code."""

    external: ExternalGrafana | None = None
