"""The dashboards plan: the built dashboards and where they are delivered.

Plain data (no Pulumi); the GrafanaDashboards component takes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from dashboards import DashboardDoc


@dataclass(frozen=True)
class ExternalGrafanaPlan:
    #: An external Grafana's URL (grafana.external.url).
    url: str
    auth: SecretStr


@dataclass(frozen=True)
class DashboardsPlan:
    dashboards: Sequence[DashboardDoc]
    #: Namespace of the sidecar's ConfigMaps (metrics.namespace).
    namespace: str
    #: With an external Grafana, its API resources instead of ConfigMaps.
    external: ExternalGrafanaPlan | None = None
