"""Remote write to Amazon Managed Service for Prometheus, rendered from the stack's AmpPlan.

Two forms of the same settings, built from one plan:

* `with_workspace(values, store, endpoint)`: kube-prometheus-stack's values with
  `prometheus.prometheusSpec.remoteWrite` (the operator's RemoteWriteSpec, camelCase) and
  Grafana's data source for the workspace. The workspace's endpoint is a Pulumi output
  (`aws.amp.Workspace.prometheus_endpoint`, or `AmpPlan.workspace_endpoint(id)` for an
  existing workspace), so the component applies this function to it; everything else is
  known at plan time and rendered by infra/render/kube_prometheus_stack.py (the service
  accounts' IRSA annotations, `grafana.ini`, the HA replica label).
* `prometheus_remote_write(store, url)`: the same entry in Prometheus's own configuration
  format (snake_case), translated from the first by `to_prometheus` with the field tables
  (`OPERATOR_TO_PROMETHEUS`), as the operator does; `estate check` translates the synthesized
  values the same way for `promtool check config`. The end-to-end test
  (tests/e2e/test_remote_write_e2e.py) runs a real Prometheus with it.

Authentication is SigV4 with the region only: no keys, no profile, no role ARN. Prometheus's
SigV4 signer takes the AWS SDK's default credential chain, which in the pod is the IRSA web
identity the EKS pod identity webhook injects for the annotated service account.

Grafana. kube-prometheus-stack 88 bundles Grafana 12.x. There the core Prometheus data source
still signs with SigV4 when `grafana.ini [auth] sigv4_auth_enabled = true` and the data source
says `jsonData.sigV4Auth: true`, `sigV4AuthType: default` (the AWS SDK's default chain: the
pod's IRSA web identity), `sigV4Region`. Grafana has deprecated this in favour of the
`grafana-amazonprometheus-datasource` plugin (same jsonData keys, type
`grafana-amazonprometheus-datasource`); in Grafana 13 the `prometheusTypeMigration` toggle is
on by default and migrates such data sources to the plugin at startup (dashboards keep
working, by UID). The core data source is used here because it works in the Grafana this
chart runs without downloading a plugin from grafana.com when the pod starts (no egress, no
unpinned code) and keeps the dashboards' data source type `prometheus`. When the chart moves
to Grafana 13, set AMP_DATASOURCE_TYPE (infra/render/grafana.py) to the plugin's type and
install the plugin pinned (`grafana.plugins`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from infra.naming import DATASOURCE_UIDS
from infra.plan.metrics_store import AmpPlan
from infra.render.grafana import amp_datasource

#: Where a Prometheus-compatible store accepts remote write, under the workspace endpoint.
REMOTE_WRITE_PATH = "api/v1/remote_write"
#: The remote write queue's name (`remote_name` label of Prometheus's remote storage metrics).
REMOTE_NAME = "amp"
#: Metric metadata (TYPE/HELP) sent with the samples: Grafana's query editor reads it through
#: aps:GetMetricMetadata. Prometheus's own default, stated so both forms say it.
METADATA_SEND_INTERVAL = "1m"

#: The operator's RemoteWriteSpec field -> Prometheus's remote_write field, for every field
#: both forms carry (dotted paths; list items of writeRelabelConfigs are compared one by one).
OPERATOR_TO_PROMETHEUS: dict[str, str] = {
    "name": "name",
    "url": "url",
    "sigv4.region": "sigv4.region",
    "queueConfig.capacity": "queue_config.capacity",
    "queueConfig.minShards": "queue_config.min_shards",
    "queueConfig.maxShards": "queue_config.max_shards",
    "queueConfig.maxSamplesPerSend": "queue_config.max_samples_per_send",
    "queueConfig.batchSendDeadline": "queue_config.batch_send_deadline",
    "metadataConfig.send": "metadata_config.send",
    "metadataConfig.sendInterval": "metadata_config.send_interval",
}
#: The relabel rule's fields (writeRelabelConfigs[i] -> write_relabel_configs[i]).
RELABEL_OPERATOR_TO_PROMETHEUS: dict[str, str] = {
    "sourceLabels": "source_labels",
    "regex": "regex",
    "action": "action",
}


def remote_write_url(endpoint: str) -> str:
    """The workspace's remote write URL from its endpoint (`.../workspaces/<id>/`)."""
    return f"{endpoint.rstrip('/')}/{REMOTE_WRITE_PATH}"


def keep_regex(store: AmpPlan) -> str:
    """One alternation of every metric name written. Prometheus anchors relabel regexes
    (`^(?:regex)$`), so `up` keeps `up` and not `upstream_requests_total`. Metric names are
    `[a-zA-Z_:][a-zA-Z0-9_:]*` (the config refuses others): nothing in them needs escaping."""
    if not store.keep_metrics:
        raise ValueError("metrics.amp: no metric would be written (keep_metrics is empty)")
    return "|".join(sorted(set(store.keep_metrics)))


def remote_write_spec(store: AmpPlan, endpoint: str) -> dict[str, Any]:
    """The operator's RemoteWriteSpec for the workspace at `endpoint`."""
    return _spec(store, remote_write_url(endpoint))


def _spec(store: AmpPlan, url: str) -> dict[str, Any]:
    q = store.queue
    return {
        "name": REMOTE_NAME,
        "url": url,
        "sigv4": {"region": store.region},
        "queueConfig": {
            "capacity": q.capacity,
            "minShards": q.min_shards,
            "maxShards": q.max_shards,
            "maxSamplesPerSend": q.max_samples_per_send,
            "batchSendDeadline": q.batch_send_deadline,
        },
        "metadataConfig": {"send": True, "sendInterval": METADATA_SEND_INTERVAL},
        # Everything the estate does not read stays in the cluster (and out of the bill).
        "writeRelabelConfigs": [
            {"sourceLabels": ["__name__"], "regex": keep_regex(store), "action": "keep"}
        ],
    }


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten(item, f"{path}."))
        else:
            out[path] = item
    return out


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def to_prometheus(spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One RemoteWriteSpec as the Prometheus remote_write entry the operator makes of it, by
    the field tables above, and the fields the tables do not know (dotted operator paths)."""
    entry: dict[str, Any] = {}
    unknown: list[str] = []
    fields = {k: v for k, v in spec.items() if k != "writeRelabelConfigs"}
    for path, value in _flatten(fields).items():
        if path in OPERATOR_TO_PROMETHEUS:
            _put(entry, OPERATOR_TO_PROMETHEUS[path], value)
        else:
            unknown.append(path)
    relabels: list[dict[str, Any]] = []
    for index, rule in enumerate(spec.get("writeRelabelConfigs") or []):
        translated: dict[str, Any] = {}
        for key, value in rule.items():
            if key in RELABEL_OPERATOR_TO_PROMETHEUS:
                translated[RELABEL_OPERATOR_TO_PROMETHEUS[key]] = value
            else:
                unknown.append(f"writeRelabelConfigs[{index}].{key}")
        relabels.append(translated)
    if relabels:
        entry["write_relabel_configs"] = relabels
    return entry, unknown


def prometheus_remote_write(store: AmpPlan, url: str, *, sigv4: bool = True) -> dict[str, Any]:
    """The same remote write in Prometheus's configuration format, to `url` (the full write
    URL), translated from the operator's form. `sigv4=False` leaves the signing out (a test's
    local receiver checks no signature)."""
    entry, unknown = to_prometheus(_spec(store, url))
    if unknown:
        raise ValueError(f"remote write fields with no Prometheus translation: {unknown}")
    if not sigv4:
        del entry["sigv4"]
    return entry


def with_workspace(values: dict[str, Any], store: AmpPlan, endpoint: str) -> dict[str, Any]:
    """A copy of the chart's `values` writing to the workspace at `endpoint` (ending in `/`)
    and with Grafana's data source for it. `values` is not changed."""
    out = copy.deepcopy(values)
    spec = out.setdefault("prometheus", {}).setdefault("prometheusSpec", {})
    spec["remoteWrite"] = [remote_write_spec(store, endpoint)]
    grafana = out.setdefault("grafana", {})
    scrape_interval = str(spec.get("scrapeInterval", "30s"))
    uid = DATASOURCE_UIDS["amp"]
    sources = [s for s in grafana.get("additionalDataSources", []) if s.get("uid") != uid]
    sources.append(amp_datasource(store, endpoint, scrape_interval))
    grafana["additionalDataSources"] = sources
    return out
