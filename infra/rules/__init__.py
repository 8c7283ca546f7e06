"""Prometheus rules as typed, immutable values: alerting rules, recording rules, rule groups.

Every rule parses its PromQL with promql_parser when it is constructed, so a broken expression
fails where it is written, with an error naming the alert or the record, rather than at
`promtool check rules` time or, worse, in a running Prometheus. The house rules an alert must
follow (a severity, a summary, a description, a runbook and a dashboard link; the `service`
label Alertmanager's inhibition matches on) are checked at the same moment.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Literal, get_args

import promql_parser

from infra.core import durations
from infra.core.labels import LABEL_NAME_PATTERN, is_label_name

#: Alert severities. Alertmanager routes on them (critical pages) and inhibits on them (see
#: infra/render/alertmanager.py: a service's outage silences its warnings and infos). There is
#: deliberately no `none`: the Watchdog heartbeat is routed by its alertname instead.
Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)

#: Labels an alert's `labels` mapping may not set: they come from the rule's own fields
#: (`service`, `severity`) or from Prometheus (`alertname`, `__name__`).
RESERVED_LABELS = frozenset({"alertname", "severity", "service", "__name__"})

#: The annotation holding the Grafana panel link, next to `runbook_url`.
DASHBOARD_ANNOTATION = "dashboard"

_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
#: level:metric:operations, the Prometheus naming convention for recording rules.
_RECORD_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
_SERVICE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
#: A `service` read from a series label (AlertRule.service_from_label).
_SERVICE_TEMPLATE = re.compile(rf"^\{{\{{ \$labels\.{LABEL_NAME_PATTERN} \}}\}}$")
_GROUP_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
_URL = re.compile(r"^https?://[^\s]+$")


class RuleError(ValueError):
    """A rule Prometheus would refuse or that breaks a house rule. Names the rule first."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(f"{rule}: {message}")


def parse_promql(rule: str, expr: str) -> promql_parser.Expr:
    """Parse `expr`, refusing what no rule can evaluate (a range vector, a string)."""
    if not expr.strip():
        raise RuleError(rule, "expr is empty")
    try:
        tree = promql_parser.parse(expr)
    except ValueError as err:
        raise RuleError(rule, f"expr is not valid PromQL ({err}): {expr}") from None
    if isinstance(tree, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
        raise RuleError(rule, f"expr is a range vector; a rule needs an instant vector: {expr}")
    if isinstance(tree, promql_parser.StringLiteral):
        raise RuleError(rule, f"expr is a string; a rule needs an instant vector: {expr}")
    return tree


def metric_names(expr: str) -> frozenset[str]:
    """The metric names an expression selects (recording rules it depends on included)."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return frozenset(names)


def longest_range(expr: str) -> timedelta:
    """The longest range an expression reads back (a `[30d]` selector or subquery, with its
    offset): what Prometheus's retention must cover for the rule to see whole windows."""
    longest = timedelta(0)

    def visit(node: promql_parser.Expr) -> None:
        nonlocal longest
        if isinstance(node, promql_parser.MatrixSelector):
            offset = node.vector_selector.offset or timedelta(0)
            longest = max(longest, node.range + offset)
        elif isinstance(node, promql_parser.SubqueryExpr):
            window = node.range or timedelta(0)
            longest = max(longest, window + (node.offset or timedelta(0)))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return longest


def check_duration(rule: str, what: str, value: str) -> None:
    if not durations.is_duration(value):
        raise RuleError(rule, f"{what} {value!r} is not {durations.HELP}")


def _check_labels(rule: str, labels: Mapping[str, str], reserved: frozenset[str]) -> None:
    for name, value in labels.items():
        if not is_label_name(name):
            raise RuleError(rule, f"label name {name!r} is not a valid Prometheus label name")
        if name in reserved:
            raise RuleError(rule, f"label {name!r} is set by the rule itself, not by `labels`")
        if not isinstance(value, str):
            raise RuleError(rule, f"label {name!r} must be a string, got {value!r}")


def _clean(expr: str) -> str:
    return textwrap.dedent(expr).strip()


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """One Prometheus alerting rule, with the labels and annotations every alert must carry.

    `service` and `severity` become labels (Alertmanager groups, routes and inhibits on them);
    `summary`, `description`, `runbook_url` and `dashboard` become annotations.
    """

    name: str
    expr: str
    severity: Severity
    service: str
    summary: str
    description: str
    runbook_url: str
    dashboard: str
    for_: str | None = None
    #: Frozen into a read-only mapping; left out of the hash (equality still compares it).
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: One rule over several services: `service` is then a template reading the service
    #: from a label of the series (`{{ $labels.job }}`), so each alert still names its own.
    service_from_label: bool = False

    def __post_init__(self) -> None:
        name = self.name
        if not _ALERT_NAME.fullmatch(name):
            raise RuleError(repr(name), "an alert name is CamelCase letters and digits")
        object.__setattr__(self, "expr", _clean(self.expr))
        parse_promql(name, self.expr)
        if self.for_ is not None:
            check_duration(name, "for", self.for_)
        if self.severity not in SEVERITIES:
            raise RuleError(
                name, f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        if self.service_from_label:
            if not _SERVICE_TEMPLATE.fullmatch(self.service):
                raise RuleError(
                    name,
                    f"service {self.service!r} is not a template such as {{{{ $labels.job }}}}",
                )
        elif not _SERVICE.fullmatch(self.service):
            raise RuleError(name, f"service {self.service!r} is not a service name (a DNS label)")
        for what in ("summary", "description"):
            if not getattr(self, what).strip():
                raise RuleError(name, f"{what} is required")
        for what in ("runbook_url", DASHBOARD_ANNOTATION):
            if not _URL.fullmatch(getattr(self, what)):
                raise RuleError(name, f"{what} must be an http(s) URL")
        _check_labels(name, self.labels, RESERVED_LABELS)
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    @property
    def all_labels(self) -> dict[str, str]:
        """The labels the rule attaches: its own plus `service` and `severity`."""
        return {**self.labels, "service": self.service, "severity": self.severity}

    @property
    def annotations(self) -> dict[str, str]:
        return {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": self.runbook_url,
            DASHBOARD_ANNOTATION: self.dashboard,
        }


@dataclass(frozen=True, kw_only=True)
class RecordingRule:
    """One Prometheus recording rule, named `level:metric:operations`."""

    record: str
    expr: str
    #: Frozen into a read-only mapping; left out of the hash (equality still compares it).
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _RECORD_NAME.fullmatch(self.record):
            raise RuleError(
                repr(self.record),
                "a record is named level:metric:operations, e.g. job:http_requests:rate5m",
            )
        object.__setattr__(self, "expr", _clean(self.expr))
        parse_promql(self.record, self.expr)
        _check_labels(self.record, self.labels, frozenset({"__name__"}))
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))


Rule = AlertRule | RecordingRule


@dataclass(frozen=True, kw_only=True)
class RuleGroup:
    """A named group of rules Prometheus evaluates together, in order, every `interval`.

    Within a group, a recording rule must come before the rules that read it: Prometheus
    evaluates a group's rules in order, so a later record is read one evaluation stale.
    """

    name: str
    rules: tuple[Rule, ...]
    interval: str | None = None

    def __post_init__(self) -> None:
        if not _GROUP_NAME.fullmatch(self.name):
            raise RuleError(f"group {self.name!r}", "a group name is lowercase, e.g. application")
        object.__setattr__(self, "rules", tuple(self.rules))
        where = f"group {self.name}"
        if not self.rules:
            raise RuleError(where, "has no rules")
        if self.interval is not None:
            check_duration(where, "interval", self.interval)
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        recorded_later = {r.record for r in self.rules if isinstance(r, RecordingRule)}
        for rule in self.rules:
            if isinstance(rule, RecordingRule):
                recorded_later.discard(rule.record)
                key = (rule.record, tuple(sorted(rule.labels.items())))
            else:
                key = (rule.name, tuple(sorted(rule.all_labels.items())))
            uses = metric_names(rule.expr) & recorded_later
            if key in seen:
                raise RuleError(f"{where}: {key[0]}", "appears twice with the same labels")
            seen.add(key)
            if uses:
                raise RuleError(
                    f"{where}: {key[0]}",
                    f"reads {', '.join(sorted(uses))}, recorded later in the group; move it up",
                )

    @property
    def alerts(self) -> tuple[AlertRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, AlertRule))

    @property
    def records(self) -> tuple[RecordingRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, RecordingRule))


def iter_alerts(groups: Iterable[RuleGroup]) -> Iterator[AlertRule]:
    """Every alerting rule of `groups`, in order."""
    for group in groups:
        yield from group.alerts
