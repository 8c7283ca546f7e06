"""The estate's Grafana dashboards, as typed Python built with grafana-foundation-sdk.

One module per dashboard (the seed's four, section 2, and Estate Health, the pipeline's own),
shared defaults in `common`. Each
dashboard takes its UID, title and the panel ids alerts link to from
infra/catalog/dashboard_refs.py, reads the recording rules the alerts read (alerts/recording.py),
and references data sources only by the stable UIDs of infra/naming.py.

`build_all(config)` returns plain records (uid, title, folder, JSON model), deterministic for
a config: the ConfigMaps, the Grafana API resources, the synth and the snapshots all take the
same canonical JSON (`DashboardDoc.text`). infra/checks/dashboards.py checks them.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Several SDK modules warn, on import, that the dashboard v2 schema exists. The classic
    # JSON model is what the Grafana sidecar and the Grafana provider take.
    warnings.simplefilter("ignore", DeprecationWarning)
    from dashboards import (
        application_overview,
        business_metrics,
        database_performance,
        estate_health,
        infrastructure,
        slo,
    )
    from dashboards.common import (
        APPLICATION_FOLDER,
        BUSINESS_FOLDER,
        INFRASTRUCTURE_FOLDER,
        Context,
        DashboardDoc,
        Folder,
        canonical_json,
    )

from alerts.settings import Settings
from alerts.slos import slos_from_config
from infra.config.model import EstateConfig

#: The folders the dashboards live in, one per area.
FOLDERS: tuple[Folder, ...] = (APPLICATION_FOLDER, BUSINESS_FOLDER, INFRASTRUCTURE_FOLDER)

__all__ = [
    "FOLDERS",
    "Context",
    "DashboardDoc",
    "Folder",
    "build_all",
    "canonical_json",
]


def build_all(
    config: EstateConfig, settings: Settings | None = None, *, multi_cluster: bool
) -> list[DashboardDoc]:
    """The dashboards of one stack, in dashboard_refs order: the seed's four, then the
    estate's own health (meta-monitoring, not in the seed), then one SLO dashboard per
    service with SLOs (dashboards/slo.py). `settings`: the alerts' settings
    for `config` when the caller has built them already; `multi_cluster`: from the metrics
    store's plan (several clusters write to one workspace)."""
    ctx = Context.from_config(config, settings, multi_cluster=multi_cluster)
    return [
        application_overview.build(ctx),
        database_performance.build(ctx),
        business_metrics.build(ctx),
        infrastructure.build(ctx),
        estate_health.build(ctx),
        *slo.build(
            ctx, slos_from_config(config, source=f"stacks/Pulumi.{config.environment}.yaml")
        ),
    ]
