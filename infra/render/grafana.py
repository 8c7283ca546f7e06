"""Grafana's data sources and dashboard ConfigMaps, as pure functions of their plans.

Data sources. kube-prometheus-stack creates a Prometheus data source (uid `prometheus`) and an
Alertmanager one (uid `alertmanager`) unless told not to. The dashboards reference data sources
by the estate's own stable UIDs (infra/naming.py: DATASOURCE_UIDS), so the chart's two
are switched off (`chart_values`) and every data source is declared here, once, in the shape
of the chart's `grafana.additionalDataSources` (Grafana's provisioning format). Grafana expands
`$VAR` in provisioning files, so a literal `$` (Grafana's own `${__value.raw}`) is written `$$`.

Dashboards. Grafana's sidecar loads every ConfigMap labelled `grafana_dashboard: "1"` (in any
namespace) into the folder its `grafana_folder` annotation names; each ConfigMap holds one
dashboard's canonical JSON under `<uid>.json`.
"""

from __future__ import annotations

import json
from typing import Any

from dashboards import DashboardDoc
from infra.naming import DATASOURCE_UIDS, PART_OF_LABEL, PROJECT
from infra.plan.metrics_store import AmpPlan
from infra.plan.monitoring import GrafanaPlan

#: The sidecar's selector and folder annotation (infra/render/kube_prometheus_stack.py sets them).
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
FOLDER_ANNOTATION = "grafana_folder"

#: Resource types whose inputs hold a dashboard, for `estate synth`'s grafana/ folder.
CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap"
GRAFANA_DASHBOARD_TYPE = "grafana:oss/dashboard:Dashboard"

#: winston's JSON lines carry OpenTelemetry's trace_id (instrumentation-winston injects it).
TRACE_ID_REGEX = r'"trace_id":"(\w+)"'


def datasources(plan: GrafanaPlan) -> list[dict[str, Any]]:
    """Every data source the dashboards (and Explore) use, with the stable UIDs.

    Loki and Jaeger only when deployed (their panels exist only then). There is no CloudWatch
    data source: no dashboard reads it, and a data source Grafana has no credentials for only
    fails in Explore. The logs it would show are in Loki too (Alloy ships the same container
    output); CloudWatch's own views (Logs Insights saved queries, the alarms) stay in the AWS
    console, where the seed's queries are saved. Adding it back means an IRSA role for Grafana's
    service account with cloudwatch:GetMetricData/ListMetrics and logs:StartQuery/
    GetQueryResults on the estate's log groups, not a data source alone.
    """
    ep = plan.endpoints
    logs, traces = plan.loki, plan.tracing
    sources: list[dict[str, Any]] = [
        {
            "name": "Prometheus",
            "type": "prometheus",
            "uid": DATASOURCE_UIDS["prometheus"],
            "url": ep.prometheus,
            "access": "proxy",
            "isDefault": True,
            "editable": False,
            "jsonData": {
                "httpMethod": "POST",
                "prometheusType": "Prometheus",
                # $__rate_interval is at least four scrape intervals: Grafana needs to know it.
                "timeInterval": plan.scrape_interval,
            },
        },
        {
            "name": "Alertmanager",
            "type": "alertmanager",
            "uid": DATASOURCE_UIDS["alertmanager"],
            "url": ep.alertmanager,
            "access": "proxy",
            "isDefault": False,
            "editable": False,
            "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
        },
    ]
    if logs:
        loki_json: dict[str, Any] = {"maxLines": 1000}
        if traces:
            loki_json["derivedFields"] = [
                {
                    "name": "TraceID",
                    "matcherType": "regex",
                    "matcherRegex": TRACE_ID_REGEX,
                    "datasourceUid": DATASOURCE_UIDS["jaeger"],
                    "url": "$${__value.raw}",
                    "urlDisplayLabel": "Open trace in Jaeger",
                }
            ]
        sources.append(
            {
                "name": "Loki",
                "type": "loki",
                "uid": DATASOURCE_UIDS["loki"],
                "url": ep.loki,
                "access": "proxy",
                "isDefault": False,
                "editable": False,
                "jsonData": loki_json,
            }
        )
    if traces:
        jaeger_json: dict[str, Any] = {"nodeGraph": {"enabled": True}}
        if logs:
            jaeger_json["tracesToLogsV2"] = {
                "datasourceUid": DATASOURCE_UIDS["loki"],
                "filterByTraceID": True,
                "filterBySpanID": False,
                "spanStartTimeShift": "-5m",
                "spanEndTimeShift": "5m",
                "customQuery": True,
                "query": f'{{namespace="{plan.workloads_namespace}"}} |= "$${{__trace.traceId}}"',
            }
        sources.append(
            {
                "name": "Jaeger",
                "type": "jaeger",
                "uid": DATASOURCE_UIDS["jaeger"],
                "url": ep.jaeger_query,
                "access": "proxy",
                "isDefault": False,
                "editable": False,
                "jsonData": jaeger_json,
            }
        )
    return sources


#: The workspace's data source type: Grafana 12's core Prometheus data source, signing with
#: SigV4 (infra/render/remote_write.py says why, and what changes with Grafana 13).
AMP_DATASOURCE_TYPE = "prometheus"
#: What Grafana 12 needs in grafana.ini to offer SigV4 to HTTP data sources at all.
SIGV4_GRAFANA_INI: dict[str, Any] = {"auth": {"sigv4_auth_enabled": True}}


def amp_datasource(store: AmpPlan, endpoint: str, scrape_interval: str) -> dict[str, Any]:
    """Grafana's data source for the workspace at `endpoint` (its Prometheus endpoint, ending
    in `/`): SigV4 in the workspace's region with the AWS SDK's default credential chain, which
    in the pod is Grafana's IRSA role (aps:QueryMetrics, GetSeries, GetLabels,
    GetMetricMetadata on this workspace only). No keys: there are none to give."""
    return {
        "name": "Amazon Managed Prometheus",
        "type": AMP_DATASOURCE_TYPE,
        "uid": DATASOURCE_UIDS["amp"],
        "url": endpoint,
        "access": "proxy",
        "isDefault": False,
        "editable": False,
        "jsonData": {
            "httpMethod": "POST",
            "sigV4Auth": True,
            "sigV4AuthType": "default",
            "sigV4Region": store.region,
            "timeInterval": scrape_interval,
            # The rules live in the cluster's Prometheus; the role may not list the
            # workspace's (aps:ListRules), so Grafana's alerting pages must not ask it.
            "manageAlerts": False,
        },
    }


def datasource_uids(plan: GrafanaPlan) -> frozenset[str]:
    """The UIDs a dashboard of this stack may reference: the in-cluster data sources, and the
    workspace's (declared with its endpoint, a Pulumi output: remote_write.with_workspace)."""
    uids = {str(s["uid"]) for s in datasources(plan)}
    if plan.store is not None:
        uids.add(DATASOURCE_UIDS["amp"])
    return frozenset(uids)


def chart_values(plan: GrafanaPlan) -> dict[str, Any]:
    """What to deep-merge into kube-prometheus-stack's `grafana` values: the chart's own
    Prometheus and Alertmanager data sources off (they have other UIDs), ours instead."""
    return {
        "sidecar": {
            "datasources": {
                "enabled": True,
                "defaultDatasourceEnabled": False,
                "alertmanager": {"enabled": False},
            }
        },
        "additionalDataSources": datasources(plan),
    }


def configmap_name(doc: DashboardDoc) -> str:
    return f"grafana-dashboard-{doc.uid}"


def dashboard_configmap(doc: DashboardDoc, namespace: str) -> dict[str, Any]:
    """The ConfigMap the sidecar loads `doc` from, into the folder of its area."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": configmap_name(doc),
            "namespace": namespace,
            "labels": {
                DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE,
                PART_OF_LABEL: PROJECT,
                "app.kubernetes.io/component": "dashboards",
            },
            "annotations": {FOLDER_ANNOTATION: doc.folder.title},
        },
        "data": {f"{doc.uid}.json": doc.text},
    }


def synth_dashboard_files(resource_type: str, inputs: dict[str, Any]) -> dict[str, str]:
    """`grafana/dashboards/<uid>.json` for a registered dashboard ConfigMap or Grafana
    Dashboard (what `estate synth` writes), taken from the registration's inputs; {} for any
    other resource. The text is the canonical JSON the resource was given."""
    texts: list[str] = []
    if resource_type == CONFIGMAP_TYPE:
        labels = (inputs.get("metadata") or {}).get("labels") or {}
        if labels.get(DASHBOARD_LABEL) != DASHBOARD_LABEL_VALUE:
            return {}
        data = inputs.get("data") or {}
        texts = [str(data[key]) for key in sorted(data) if key.endswith(".json")]
    elif resource_type == GRAFANA_DASHBOARD_TYPE and isinstance(inputs.get("configJson"), str):
        texts = [inputs["configJson"]]
    files: dict[str, str] = {}
    for text in texts:
        uid = json.loads(text)["uid"]
        files[f"grafana/dashboards/{uid}.json"] = text
    return files
