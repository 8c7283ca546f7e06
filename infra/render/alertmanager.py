"""The native Alertmanager config of one stack, as plain data, with secrets only as file paths.

What it routes (`infra.plan.routing.alertmanager_plan` decides it; see `routing_plan` for the
fallbacks):

- critical: PagerDuty Events API v2 (only where `page_on_call`: staging and prod) and, through
  `continue: true`, the Slack critical channel;
- warning: the team's Slack warning channel;
- info: the low-noise Slack info channel and the email report (both, where configured),
  re-sent at most daily (`grouping.infoRepeatInterval`, at least 24h);
- Watchdog: the heartbeat webhook (dead man's switch; its URL is required in staging and prod)
  or the `null` receiver, re-sent every `heartbeatInterval`;
- anything without a known severity: the warning channel's receiver.

Each Slack channel has its own incoming webhook (a webhook posts to one fixed channel), so
each severity reads its own secret file.

Inhibition (`INHIBIT_EQUAL` lists the labels that make two alerts "the same thing"):

- critical inhibits warning and info, and warning inhibits info, of the same alert on the
  same object (same `alertname`, `namespace`, `service`, `job`, `instance`, pod, node, ...):
  the chart's alerts come in severity ladders; the project's own alerts have one severity
  each, so this never touches them;
- during a service outage (`ServiceDown` or `ScrapeTargetMissing`, critical) that service's
  warning and info alerts (NoPostsCreated among them) are inhibited, matched on `service`
  only: the business alerts aggregate away `namespace` and `instance`;
- Watchdog is never inhibited.

Secrets never appear in the config: each one is a `*_file` path under `secrets_dir`, where
kube-prometheus-stack mounts the Kubernetes Secret named `RECEIVER_SECRET_NAME`
(`alertmanager.alertmanagerSpec.secrets`). `receiver_secret_files` gives that Secret's keys.
The heartbeat URL uses `webhook_configs[].url_file` (Alertmanager >= 0.28; production runs
0.33, and so do the tests).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from infra.config.model import SlackChannel
from infra.naming import PROJECT, WATCHDOG
from infra.plan.routing import (
    EMAIL_REPORT,
    HEARTBEAT,
    INFO_INHIBITOR,
    NULL,
    PAGERDUTY,
    SLACK_CRITICAL,
    SLACK_INFO,
    SLACK_WARNING,
    AlertmanagerPlan,
)

#: The Kubernetes Secret holding the receivers' secrets; mounted by the Alertmanager pods.
RECEIVER_SECRET_NAME = "alertmanager-receivers"
#: Where the Prometheus operator mounts `alertmanagerSpec.secrets` entries.
DEFAULT_SECRETS_DIR = f"/etc/alertmanager/secrets/{RECEIVER_SECRET_NAME}"

#: Keys of that Secret, i.e. file names under the secrets directory.
PAGERDUTY_ROUTING_KEY_FILE = "pagerduty-routing-key"
#: One webhook per Slack receiver: a Slack incoming webhook posts to one channel only.
SLACK_WEBHOOK_URL_FILES: dict[str, str] = {
    SLACK_CRITICAL: "slack-critical-webhook-url",
    SLACK_WARNING: "slack-warning-webhook-url",
    SLACK_INFO: "slack-info-webhook-url",
}
EMAIL_AUTH_PASSWORD_FILE = "email-auth-password"
HEARTBEAT_URL_FILE = "heartbeat-url"

#: The Watchdog route's group interval: Alertmanager re-sends the heartbeat at the first
#: group-interval tick after `heartbeatInterval` has passed, so the period a checker sees is
#: `heartbeatInterval` plus up to this much.
HEARTBEAT_GROUP_INTERVAL = "1m"

#: Labels two alerts share when they are about the same thing on the same object. A label
#: absent from both alerts counts as equal, so listing object labels only narrows inhibition.
INHIBIT_EQUAL: tuple[str, ...] = (
    "alertname",
    "namespace",
    "service",
    "job",
    "instance",
    "pod",
    "container",
    "node",
    "persistentvolumeclaim",
    "device",
    "mountpoint",
)
#: Alerts meaning "this service is down": they inhibit the service's warnings and infos.
OUTAGE_ALERTS: tuple[str, ...] = ("ServiceDown", "ScrapeTargetMissing")

AlertmanagerConfig = dict[str, Any]


def alertmanager_config(
    plan: AlertmanagerPlan, *, secrets_dir: str = DEFAULT_SECRETS_DIR
) -> AlertmanagerConfig:
    """The stack's Alertmanager config (what `alertmanager.config` of the chart takes)."""
    grouping = plan.grouping
    return {
        "global": {"resolve_timeout": "5m"},
        # Given explicitly: otherwise Helm merges the chart's default `templates` into ours
        # and the deployed config is not the one amtool checked.
        "templates": ["/etc/alertmanager/config/*.tmpl"],
        "route": {
            "receiver": plan.routing.default,
            "group_by": list(grouping.group_by),
            "group_wait": grouping.group_wait,
            "group_interval": grouping.group_interval,
            "repeat_interval": grouping.repeat_interval,
            "routes": _routes(plan),
        },
        "inhibit_rules": inhibit_rules(),
        "receivers": [
            _receiver(name, plan, secrets_dir.rstrip("/")) for name in plan.routing.receivers
        ],
    }


def inhibit_rules() -> list[dict[str, Any]]:
    """The inhibition rules (see the module docstring); Watchdog is never a target."""
    not_watchdog = f'alertname!="{WATCHDOG}"'
    equal = list(INHIBIT_EQUAL)
    return [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity=~"warning|info"', not_watchdog],
            "equal": equal,
        },
        {
            "source_matchers": ['severity="warning"'],
            "target_matchers": ['severity="info"', not_watchdog],
            "equal": equal,
        },
        {
            "source_matchers": [
                f'alertname=~"{"|".join(OUTAGE_ALERTS)}"',
                'severity="critical"',
            ],
            "target_matchers": ['severity=~"warning|info"', not_watchdog],
            "equal": ["service"],
        },
    ]


def receiver_secret_files(plan: AlertmanagerPlan) -> dict[str, SecretStr]:
    """File name under the secrets directory -> secret value, for every file the config reads.

    Exactly the files `alertmanager_config` references: the Pulumi component makes these the
    keys of the `RECEIVER_SECRET_NAME` Secret.
    """
    receivers = plan.routing.receivers
    files: dict[str, SecretStr] = {}
    # A managed PagerDuty service's key is an output of its integration: the program adds it.
    pagerduty_key = plan.pagerduty.routing_key if plan.pagerduty else None
    if PAGERDUTY in receivers and pagerduty_key is not None:
        files[PAGERDUTY_ROUTING_KEY_FILE] = pagerduty_key
    if plan.slack is not None:
        for name, file in SLACK_WEBHOOK_URL_FILES.items():
            if name in receivers:
                files[file] = _slack_channel(plan, name).webhook_url
    email_password = plan.email.auth_password if plan.email else None
    if EMAIL_REPORT in receivers and email_password is not None:
        files[EMAIL_AUTH_PASSWORD_FILE] = email_password
    if HEARTBEAT in receivers and plan.heartbeat_url is not None:
        files[HEARTBEAT_URL_FILE] = plan.heartbeat_url
    return files


def _routes(plan: AlertmanagerPlan) -> list[dict[str, Any]]:
    routing = plan.routing
    watchdog: dict[str, Any] = {
        "receiver": routing.watchdog,
        "matchers": [f'alertname="{WATCHDOG}"'],
    }
    if routing.watchdog == HEARTBEAT:
        # Re-sent steadily: the dead man's switch expects a ping every heartbeatInterval.
        watchdog |= {
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": HEARTBEAT_GROUP_INTERVAL,
            "repeat_interval": plan.heartbeat_interval,
        }
    routes = [watchdog, {"receiver": NULL, "matchers": [f'alertname="{INFO_INHIBITOR}"']}]
    by_severity = {"critical": routing.critical, "warning": routing.warning, "info": routing.info}
    for severity, receivers in by_severity.items():
        for position, name in enumerate(receivers):
            route: dict[str, Any] = {"receiver": name, "matchers": [f'severity="{severity}"']}
            if severity == "info":
                route["repeat_interval"] = plan.grouping.info_repeat_interval
            if position < len(receivers) - 1:
                route["continue"] = True
            routes.append(route)
    return routes


def _receiver(name: str, plan: AlertmanagerPlan, secrets_dir: str) -> dict[str, Any]:
    env = plan.environment
    if name == PAGERDUTY:
        return {"name": name, "pagerduty_configs": [_pagerduty(plan, secrets_dir)]}
    if name in SLACK_WEBHOOK_URL_FILES:
        return {
            "name": name,
            "slack_configs": [
                {
                    "api_url_file": f"{secrets_dir}/{SLACK_WEBHOOK_URL_FILES[name]}",
                    "channel": _slack_channel(plan, name).channel,
                    # Info is at most daily: its repeat interval is 24h or more, and a
                    # flapping info alert must not post a resolve each time it clears.
                    "send_resolved": name != SLACK_INFO,
                    "title": _SLACK_TITLE.replace("ENV", env),
                    "text": _SLACK_TEXT,
                }
            ],
        }
    if name == EMAIL_REPORT:
        email = plan.email
        assert email is not None  # the plan routes to the email report only when configured
        email_config: dict[str, Any] = {
            "to": email.to,
            "from": email.from_,
            "smarthost": email.smarthost,
            "require_tls": email.require_tls,
            "send_resolved": False,
            "headers": {"Subject": _EMAIL_SUBJECT.replace("ENV", env)},
        }
        if email.auth_username is not None:
            email_config["auth_username"] = email.auth_username
        if email.auth_password is not None:
            email_config["auth_password_file"] = f"{secrets_dir}/{EMAIL_AUTH_PASSWORD_FILE}"
        return {"name": name, "email_configs": [email_config]}
    if name == HEARTBEAT:
        return {
            "name": name,
            "webhook_configs": [
                {"url_file": f"{secrets_dir}/{HEARTBEAT_URL_FILE}", "send_resolved": False}
            ],
        }
    if name == NULL:
        return {"name": name}
    raise ValueError(f"no receiver definition for {name!r}")


def _slack_channel(plan: AlertmanagerPlan, receiver: str) -> SlackChannel:
    slack = plan.slack
    assert slack is not None  # the plan routes to Slack receivers only when it is configured
    return {SLACK_CRITICAL: slack.critical, SLACK_WARNING: slack.warning, SLACK_INFO: slack.info}[
        receiver
    ]


def _pagerduty(plan: AlertmanagerPlan, secrets_dir: str) -> dict[str, Any]:
    assert plan.pagerduty is not None  # the plan pages only when PagerDuty is configured
    env = plan.environment
    return {
        "routing_key_file": f"{secrets_dir}/{PAGERDUTY_ROUTING_KEY_FILE}",
        "url": plan.pagerduty.url,
        "send_resolved": True,
        "severity": "critical",
        "client": f"Alertmanager ({PROJECT} {env})",
        "source": f"{PROJECT}-{env}",
        "component": "{{ .CommonLabels.service }}",
        "group": env,
        "class": "{{ .CommonLabels.alertname }}",
        "description": (
            "[" + env + "] {{ .CommonLabels.alertname }}"
            "{{ if .CommonLabels.service }} ({{ .CommonLabels.service }}){{ end }}"
            ": {{ .CommonAnnotations.summary }}"
        ),
        "details": {
            "environment": env,
            "service": "{{ .CommonLabels.service }}",
            "summary": "{{ .CommonAnnotations.summary }}",
            "description": "{{ .CommonAnnotations.description }}",
            "runbook_url": "{{ .CommonAnnotations.runbook_url }}",
            "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
            "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
            "num_firing": "{{ .Alerts.Firing | len }}",
            "num_resolved": "{{ .Alerts.Resolved | len }}",
        },
    }


# Go templates (Alertmanager's); ENV is replaced by the environment name.
_SLACK_TITLE = (
    "[ENV] [{{ .Status | toUpper }}"
    '{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
    "{{ .CommonLabels.alertname }}"
    "{{ if .CommonLabels.service }} ({{ .CommonLabels.service }}){{ end }}"
)
_SLACK_TEXT = (
    "{{ range .Alerts }}"
    "*{{ .Labels.severity | toUpper }}* {{ .Annotations.summary }}\n"
    "{{ if .Annotations.description }}{{ .Annotations.description }}\n{{ end }}"
    "{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}\n{{ end }}"
    "{{ end }}"
)
_EMAIL_SUBJECT = (
    "[ENV] [{{ .Status | toUpper }}"
    '{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
    "{{ .CommonLabels.alertname }}"
)
