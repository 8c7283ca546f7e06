"""Rule groups as the plain rule file Prometheus and promtool read (`groups:` at the top).

Pure: no Pulumi, no I/O. `to_yaml` serialises it (or any document) deterministically. The
PrometheusRule resource that wraps the same groups is infra/render/prometheus.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infra import yamlout
from infra.rules import AlertRule, RecordingRule, Rule, RuleGroup

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


def to_yaml(document: Any) -> str:
    """Deterministic YAML (the project's one dumper): sorted keys, block style, no folding."""
    return yamlout.dump(document)
