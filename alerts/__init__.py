"""The estate's Prometheus rules, as typed Python: one module per rule group.

As in kubernetes-mixin, the parts are merged here and nowhere else: `settings` holds every
selector, window and threshold; `recording`, `application`, `business` and `platform` each
build one group from it. `rule_groups(config)` applies a stack's `alerting.overrides` and
links (runbooks, Grafana) and returns the groups to render.

The Prometheus tests of these rules are promtool files under alerts/tests/, run against the
rendered rules by the pytest suite (tests/alerts/).
"""

from __future__ import annotations

from alerts import application, business, pipeline, platform, recording, slos
from alerts.settings import DEFAULT_TUNING, Settings
from infra.config.model import EstateConfig
from infra.naming import WATCHDOG
from infra.rules import RuleError, RuleGroup, iter_alerts

#: Every alert name the estate declares: what `alerting.overrides` may name.
ALERT_NAMES: tuple[str, ...] = tuple(sorted(DEFAULT_TUNING))

__all__ = ["ALERT_NAMES", "WATCHDOG", "Settings", "build", "rule_groups"]


def rule_groups(config: EstateConfig, *, source: str | None = None) -> list[RuleGroup]:
    """The rule groups of one stack: defaults, the stack's services, links and overrides.

    `source` names the stack file in errors (default `stacks/Pulumi.<environment>.yaml`); an
    override naming an unknown alert, or a threshold out of range, raises ConfigError.
    """
    source = source or f"stacks/Pulumi.{config.environment}.yaml"
    return build(Settings.from_config(config, source=source))


def build(settings: Settings) -> list[RuleGroup]:
    """Every group from one settings object, recording rules first."""
    # The platform group's MetricAbsent rules are derived from these groups' alerts.
    watched = [recording.group(settings), application.group(settings), business.group(settings)]
    groups = [*watched, platform.group(settings, watched), pipeline.group(settings)]
    # The SLOs' records and burn-rate alerts (alerts/slos.py), where the stack has SLOs.
    if (slo_group := slos.group(settings)) is not None:
        groups.append(slo_group)
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        raise RuleError("rule groups", f"duplicate group names: {names}")
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for alert in iter_alerts(groups):
        # One rule per alert and service, or per alert, service and its own labels
        # (MetricAbsent has one rule per metric of a service).
        key = (alert.name, tuple(sorted(alert.all_labels.items())))
        if key in seen:
            raise RuleError(alert.name, f"declared twice for service {alert.service}")
        seen.add(key)
    missing = sorted(set(settings.tuning) - {name for name, _ in seen})
    if missing:
        raise RuleError("rule groups", f"tuned alerts with no rule: {', '.join(missing)}")
    return groups
