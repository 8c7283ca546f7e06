"""Rule groups to the documents Prometheus reads: a plain rule file and a PrometheusRule.

Pure: no Pulumi, no I/O. `rule_file` is what `promtool check rules` and `promtool test rules`
read (`groups:` at the top); `prometheus_rule` wraps the same groups in the
monitoring.coreos.com/v1 resource the Prometheus operator loads, labelled so that
kube-prometheus-stack's rule selector picks it up. `to_yaml` serialises either one
deterministically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.plan.alerts import AlertRule, RecordingRule, Rule, RuleGroup
from infra.render import yamlout

Document = dict[str, Any]


def rule_doc(rule: Rule) -> Document:
    """One rule as Prometheus' rule-file format spells it."""
    if isinstance(rule, RecordingRule):
        doc: Document = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            doc["labels"] = dict(rule.labels)
        return doc
    alert: AlertRule = rule
    doc = {
        "alert": alert.name,
        "expr": alert.expr,
        "labels": alert.all_labels,
        "annotations": alert.annotations,
    }
    if alert.for_ is not None:
        doc["for"] = alert.for_
    return doc


def group_doc(group: RuleGroup) -> Document:
    doc: Document = {"name": group.name, "rules": [rule_doc(r) for r in group.rules]}
    if group.interval is not None:
        doc["interval"] = group.interval
    return doc


def _groups(groups: RuleGroup | Iterable[RuleGroup]) -> list[RuleGroup]:
    return [groups] if isinstance(groups, RuleGroup) else list(groups)


def rule_file(groups: RuleGroup | Iterable[RuleGroup]) -> Document:
    """The plain rule file: `{"groups": [...]}`, groups and rules in their declared order."""
    return {"groups": [group_doc(g) for g in _groups(groups)]}


def prometheus_rule(
    groups: RuleGroup | Iterable[RuleGroup],
    *,
    name: str,
    namespace: str,
    release: str,
    labels: Mapping[str, str] | None = None,
) -> Document:
    """A PrometheusRule holding `groups`, selected by kube-prometheus-stack's `release` label."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**(labels or {}), "release": release},
        },
        "spec": rule_file(groups),
    }


def to_yaml(document: Any) -> str:
    """Deterministic YAML (the project's one dumper): sorted keys, block style, no folding."""
    return yamlout.dump(document)
