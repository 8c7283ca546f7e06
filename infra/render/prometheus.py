"""Rule groups to the documents Prometheus reads: a plain rule file and a PrometheusRule.

Pure: no Pulumi, no I/O. `rule_file` is what `promtool check rules` and `promtool test rules`
read (`groups:` at the top); `prometheus_rule` wraps the same groups in the
monitoring.coreos.com/v1 resource the Prometheus operator loads, labelled so that
kube-prometheus-stack's rule selector picks it up. `to_yaml` serialises either one
deterministically.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from infra.rules import RuleGroup
from infra.rules.files import Document, rule_file, to_yaml

__all__ = ["Document", "prometheus_rule", "rule_file", "to_yaml"]


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
