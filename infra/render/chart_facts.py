"""Facts about kube-prometheus-stack's default rules, kept as data (not the chart's files).

Which rule groups the chart ships, which values key switches each on, and which scrape jobs
each one's expressions select. Read from the chart's own source (prometheus-community/
helm-charts): `charts/kube-prometheus-stack/values.yaml` (`defaultRules.rules.*`, the
components' `*.enabled`) and the templates under
`charts/kube-prometheus-stack/templates/prometheus/rules-1.14/*.yaml`, whose first line gates
each PrometheusRule on `defaultRules.create`, `defaultRules.rules.<key>` and, for a component's
rules, that component's `<component>.enabled` (for instance `kubernetes-system-scheduler.yaml`:
`.Values.defaultRules.create .Values.kubeScheduler.enabled
.Values.defaultRules.rules.kubeSchedulerAlerting`, expr `absent(up{job="kube-scheduler"} == 1)`).

Version. The estate pins chart 88.0.0 (infra/config/model.py: metrics.chartVersion). The stored
source these facts were read from is the chart's 8x line (the newest tree available offline,
Chart.yaml 81.4.5); the `defaultRules.rules` keys, the component switches and the job names
below have not changed between them. Re-check this table when the pin moves.

Jobs. The chart's ServiceMonitors name their jobs after the Services (`jobLabel: jobLabel`):
kube-controller-manager, kube-scheduler, kube-etcd, kube-proxy, kubelet, apiserver,
kube-state-metrics, node-exporter, and `<fullname>-prometheus|alertmanager|operator` for the
stack's own (fullname `kube-prometheus-stack` here). The etcd rules select `job=~".*etcd.*"`,
which is the `kube-etcd` job. Groups with no job of their own (`general`'s TargetDown, the
config reloaders, `kubePrometheusGeneral`'s `count(up == 1)`) select whatever targets exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

CHART_VERSION = "88.0.0"
RULES_DIR = "charts/kube-prometheus-stack/templates/prometheus/rules-1.14"

Flavor = Literal["eks", "kind", "generic"]


@dataclass(frozen=True)
class RuleGroupFact:
    """One `defaultRules.rules.<key>` switch of the chart."""

    #: The key under `defaultRules.rules`.
    key: str
    #: Template files (under RULES_DIR) the key gates.
    templates: tuple[str, ...]
    #: Other values that must be true for the chart to render them (dotted paths).
    requires: tuple[str, ...]
    #: The `job` label values the group's expressions select.
    jobs: tuple[str, ...]


_KSM = "kube-state-metrics"
_NODE = "node-exporter"
_KUBELET = "kubelet"
_APISERVER = "apiserver"

#: Every default rule group of the chart, in values.yaml order.
RULE_GROUPS: tuple[RuleGroupFact, ...] = (
    RuleGroupFact(
        "alertmanager",
        ("alertmanager.rules.yaml",),
        ("alertmanager.enabled",),
        ("kube-prometheus-stack-alertmanager",),
    ),
    RuleGroupFact("etcd", ("etcd.yaml",), ("kubeEtcd.enabled",), ("kube-etcd",)),
    RuleGroupFact("configReloaders", ("config-reloaders.yaml",), (), ()),
    RuleGroupFact("general", ("general.rules.yaml",), (), ()),
    RuleGroupFact(
        "k8sContainerCpuUsageSecondsTotal",
        ("k8s.rules.container_cpu_usage_seconds_total.yaml",),
        (),
        (_KUBELET,),
    ),
    RuleGroupFact(
        "k8sContainerMemoryCache", ("k8s.rules.container_memory_cache.yaml",), (), (_KUBELET,)
    ),
    RuleGroupFact(
        "k8sContainerMemoryRss", ("k8s.rules.container_memory_rss.yaml",), (), (_KUBELET,)
    ),
    RuleGroupFact(
        "k8sContainerMemorySwap", ("k8s.rules.container_memory_swap.yaml",), (), (_KUBELET,)
    ),
    RuleGroupFact("k8sContainerResource", ("k8s.rules.container_resource.yaml",), (), (_KSM,)),
    RuleGroupFact(
        "k8sContainerMemoryWorkingSetBytes",
        ("k8s.rules.container_memory_working_set_bytes.yaml",),
        (),
        (_KUBELET,),
    ),
    RuleGroupFact("k8sPodOwner", ("k8s.rules.pod_owner.yaml",), (), (_KSM,)),
    RuleGroupFact(
        "kubeApiserverAvailability",
        ("kube-apiserver-availability.rules.yaml",),
        ("kubeApiServer.enabled",),
        (_APISERVER,),
    ),
    RuleGroupFact(
        "kubeApiserverBurnrate",
        ("kube-apiserver-burnrate.rules.yaml",),
        ("kubeApiServer.enabled",),
        (_APISERVER,),
    ),
    RuleGroupFact(
        "kubeApiserverHistogram",
        ("kube-apiserver-histogram.rules.yaml",),
        ("kubeApiServer.enabled",),
        (_APISERVER,),
    ),
    RuleGroupFact(
        "kubeApiserverSlos",
        ("kube-apiserver-slos.yaml",),
        ("kubeApiServer.enabled",),
        (_APISERVER,),
    ),
    RuleGroupFact(
        "kubeControllerManager",
        ("kubernetes-system-controller-manager.yaml",),
        ("kubeControllerManager.enabled",),
        ("kube-controller-manager",),
    ),
    RuleGroupFact("kubelet", ("kubelet.rules.yaml",), ("kubelet.enabled",), (_KUBELET,)),
    RuleGroupFact(
        "kubeProxy",
        ("kubernetes-system-kube-proxy.yaml",),
        ("kubeProxy.enabled",),
        ("kube-proxy",),
    ),
    RuleGroupFact("kubePrometheusGeneral", ("kube-prometheus-general.rules.yaml",), (), ()),
    RuleGroupFact(
        "kubePrometheusNodeRecording",
        ("kube-prometheus-node-recording.rules.yaml",),
        (),
        (_NODE,),
    ),
    RuleGroupFact("kubernetesApps", ("kubernetes-apps.yaml",), (), (_KSM,)),
    RuleGroupFact("kubernetesResources", ("kubernetes-resources.yaml",), (), (_KSM, _KUBELET)),
    RuleGroupFact("kubernetesStorage", ("kubernetes-storage.yaml",), (), (_KSM, _KUBELET)),
    RuleGroupFact(
        "kubernetesSystem",
        (
            "kubernetes-system.yaml",
            "kubernetes-system-apiserver.yaml",
            "kubernetes-system-kubelet.yaml",
        ),
        (),
        (_APISERVER, _KUBELET, _KSM),
    ),
    RuleGroupFact(
        "kubeSchedulerAlerting",
        ("kubernetes-system-scheduler.yaml",),
        ("kubeScheduler.enabled",),
        ("kube-scheduler",),
    ),
    RuleGroupFact(
        "kubeSchedulerRecording",
        ("kube-scheduler.rules.yaml",),
        ("kubeScheduler.enabled",),
        ("kube-scheduler",),
    ),
    RuleGroupFact(
        "kubeStateMetrics",
        ("kube-state-metrics.yaml",),
        ("kubeStateMetrics.enabled",),
        (_KSM,),
    ),
    RuleGroupFact("network", ("node-network.yaml",), (), (_NODE,)),
    RuleGroupFact("node", ("node.rules.yaml",), (), (_KSM, _NODE)),
    RuleGroupFact(
        "nodeExporterAlerting", ("node-exporter.yaml",), ("nodeExporter.enabled",), (_NODE,)
    ),
    RuleGroupFact(
        "nodeExporterRecording",
        ("node-exporter.rules.yaml",),
        ("nodeExporter.enabled",),
        (_NODE,),
    ),
    RuleGroupFact("prometheus", ("prometheus.yaml",), (), ("kube-prometheus-stack-prometheus",)),
    RuleGroupFact(
        "prometheusOperator",
        ("prometheus-operator.yaml",),
        (),
        ("kube-prometheus-stack-operator",),
    ),
    RuleGroupFact(
        "windows",
        ("windows.node.rules.yaml", "windows.pod.rules.yaml"),
        ("windowsMonitoring.enabled",),
        ("windows-exporter",),
    ),
)

#: The chart's defaults for the switches `requires` names (values.yaml).
CHART_DEFAULTS: Mapping[str, bool] = {
    "alertmanager.enabled": True,
    "kubeEtcd.enabled": True,
    "kubeApiServer.enabled": True,
    "kubeControllerManager.enabled": True,
    "kubelet.enabled": True,
    "kubeProxy.enabled": True,
    "kubeScheduler.enabled": True,
    "kubeStateMetrics.enabled": True,
    "nodeExporter.enabled": True,
    "windowsMonitoring.enabled": False,
}

#: The values section that scrapes each control-plane job (and so must be off where the job
#: cannot be scraped: its ServiceMonitor would only ever report the target down).
COMPONENT_OF_JOB: Mapping[str, str] = {
    "kube-controller-manager": "kubeControllerManager",
    "kube-scheduler": "kubeScheduler",
    "kube-etcd": "kubeEtcd",
    "kube-proxy": "kubeProxy",
}

#: What a flavor of cluster does not let Prometheus scrape.
#: - eks: AWS runs the control plane; kube-controller-manager, kube-scheduler and etcd expose
#:   no metrics endpoint to the cluster, and kube-proxy's metrics bind to 127.0.0.1 by default
#:   (prometheus-community/helm-charts issues 4106 and 3368: KubeControllerManagerDown and
#:   KubeSchedulerDown fire forever).
#: - kind: kubeadm's defaults bind the controller-manager and scheduler to 127.0.0.1, etcd's
#:   metrics to 127.0.0.1:2381 and kube-proxy's to 127.0.0.1:10249.
#: - generic: a cluster whose control plane is configured to be scraped.
UNREACHABLE_JOBS: Mapping[Flavor, frozenset[str]] = {
    "eks": frozenset(COMPONENT_OF_JOB),
    "kind": frozenset(COMPONENT_OF_JOB),
    "generic": frozenset(),
}


def _lookup(values: Mapping[str, Any], dotted: str) -> bool:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return CHART_DEFAULTS[dotted]
        node = node[part]
    return bool(node)


def enabled_rule_groups(values: Mapping[str, Any]) -> tuple[RuleGroupFact, ...]:
    """The default rule groups the chart renders with these values (its gating, as data)."""
    default_rules = values.get("defaultRules") or {}
    if not default_rules.get("create", True):
        return ()
    switches = default_rules.get("rules") or {}
    return tuple(
        fact
        for fact in RULE_GROUPS
        if switches.get(fact.key, True) and all(_lookup(values, r) for r in fact.requires)
    )


def unreachable_components(flavor: Flavor) -> tuple[str, ...]:
    """The chart's component sections to switch off on this flavor, sorted."""
    return tuple(sorted(COMPONENT_OF_JOB[job] for job in UNREACHABLE_JOBS[flavor]))


def rule_groups_of_jobs(jobs: frozenset[str]) -> tuple[str, ...]:
    """The `defaultRules.rules` keys of groups that select any of `jobs`."""
    return tuple(fact.key for fact in RULE_GROUPS if jobs & set(fact.jobs))
