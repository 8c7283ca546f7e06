"""The native Alertmanager config of one stack, as plain data, with secrets only as file paths.

What it routes (see `infra.spec.routing.routing_plan` for the fallbacks):

- critical: PagerDuty Events API v2 (only where `page_on_call`: staging and prod) and, through
  `continue: true`, the Slack critical channel;
- warning: the team's Slack warning channel;
- info: the low-noise Slack info channel and the email report (both, where configured);
- Watchdog: a heartbeat webhook (dead man's switch) or the `null` receiver;
- anything without a known severity: the warning channel's receiver.

Critical alerts inhibit warning and info alerts with the same `alertname` and `service`.

Secrets never appear in the config: each one is a `*_file` path under `secrets_dir`, where
kube-prometheus-stack mounts the Kubernetes Secret named `RECEIVER_SECRET_NAME`
(`alertmanager.alertmanagerSpec.secrets`). `receiver_secret_files` gives that Secret's keys.

Compatibility: the config must load in Debian's Alertmanager 0.25 (what the tests run) and in
the 0.28+ kube-prometheus-stack 88.x deploys. 0.25 reads `pagerduty_configs[].routing_key_file`,
`slack_configs[].api_url_file` and `email_configs[].auth_password_file`, but has no
`webhook_configs[].url_file` ("field url_file not found"). A heartbeat URL carries its secret
in the URL itself, so there is no 0.25 form that keeps it out of the config: by default the
Watchdog goes to `null` (the external dead man's switch then reports the missing heartbeat,
which is loud and safe), and `webhook_url_file=True` renders the heartbeat receiver for an
Alertmanager that has `url_file`.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from infra.config.model import PROJECT, EstateConfig
from infra.spec.routing import (
    EMAIL_REPORT,
    HEARTBEAT,
    INFO_INHIBITOR,
    NULL,
    PAGERDUTY,
    SLACK_CRITICAL,
    SLACK_INFO,
    SLACK_WARNING,
    WATCHDOG,
    RoutingPlan,
    routing_plan,
)

#: The Kubernetes Secret holding the receivers' secrets; mounted by the Alertmanager pods.
RECEIVER_SECRET_NAME = "alertmanager-receivers"
#: Where the Prometheus operator mounts `alertmanagerSpec.secrets` entries.
DEFAULT_SECRETS_DIR = f"/etc/alertmanager/secrets/{RECEIVER_SECRET_NAME}"

#: Keys of that Secret, i.e. file names under the secrets directory.
PAGERDUTY_ROUTING_KEY_FILE = "pagerduty-routing-key"
SLACK_WEBHOOK_URL_FILE = "slack-webhook-url"
EMAIL_AUTH_PASSWORD_FILE = "email-auth-password"
HEARTBEAT_URL_FILE = "heartbeat-url"

#: How often the Watchdog is re-sent to the heartbeat URL (set the check's period above it).
HEARTBEAT_REPEAT_INTERVAL = "5m"

AlertmanagerConfig = dict[str, Any]


def alertmanager_config(
    config: EstateConfig,
    *,
    secrets_dir: str = DEFAULT_SECRETS_DIR,
    webhook_url_file: bool = False,
) -> AlertmanagerConfig:
    """The stack's Alertmanager config (what `alertmanager.config` of the chart takes).

    `webhook_url_file`: the target Alertmanager reads `webhook_configs[].url_file` (not 0.25);
    only then does a configured `heartbeat_url` get a heartbeat receiver.
    """
    plan = routing_plan(config, webhook_url_file=webhook_url_file)
    grouping = config.alerting.grouping
    return {
        "global": {"resolve_timeout": "5m"},
        # Given explicitly: otherwise Helm merges the chart's default `templates` into ours
        # and the deployed config is not the one amtool checked.
        "templates": ["/etc/alertmanager/config/*.tmpl"],
        "route": {
            "receiver": plan.default,
            "group_by": list(grouping.group_by),
            "group_wait": grouping.group_wait,
            "group_interval": grouping.group_interval,
            "repeat_interval": grouping.repeat_interval,
            "routes": _routes(plan),
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity=~"warning|info"'],
                "equal": ["alertname", "service"],
            }
        ],
        "receivers": [_receiver(name, config, secrets_dir.rstrip("/")) for name in plan.receivers],
    }


def receiver_secret_files(
    config: EstateConfig, *, webhook_url_file: bool = False
) -> dict[str, SecretStr]:
    """File name under the secrets directory -> secret value, for every file the config reads.

    Exactly the files `alertmanager_config` (with the same `webhook_url_file`) references:
    the Pulumi component makes these the keys of the `RECEIVER_SECRET_NAME` Secret.
    """
    plan = routing_plan(config, webhook_url_file=webhook_url_file)
    alerting = config.alerting
    files: dict[str, SecretStr] = {}
    # A managed PagerDuty service's key is an output of its integration: the program adds it.
    pagerduty_key = alerting.pagerduty.routing_key if alerting.pagerduty else None
    if PAGERDUTY in plan.receivers and pagerduty_key is not None:
        files[PAGERDUTY_ROUTING_KEY_FILE] = pagerduty_key
    slack_used = {SLACK_CRITICAL, SLACK_WARNING, SLACK_INFO} & set(plan.receivers)
    if slack_used and alerting.slack is not None:
        files[SLACK_WEBHOOK_URL_FILE] = alerting.slack.webhook_url
    if (
        EMAIL_REPORT in plan.receivers
        and alerting.email is not None
        and alerting.email.auth_password is not None
    ):
        files[EMAIL_AUTH_PASSWORD_FILE] = alerting.email.auth_password
    if HEARTBEAT in plan.receivers and alerting.heartbeat_url is not None:
        files[HEARTBEAT_URL_FILE] = alerting.heartbeat_url
    return files


def _routes(plan: RoutingPlan) -> list[dict[str, Any]]:
    watchdog: dict[str, Any] = {
        "receiver": plan.watchdog,
        "matchers": [f'alertname="{WATCHDOG}"'],
    }
    if plan.watchdog == HEARTBEAT:
        # Re-sent steadily so the dead man's switch sees a ping every few minutes.
        watchdog |= {
            "group_wait": "0s",
            "group_interval": "1m",
            "repeat_interval": HEARTBEAT_REPEAT_INTERVAL,
        }
    routes = [watchdog, {"receiver": NULL, "matchers": [f'alertname="{INFO_INHIBITOR}"']}]
    by_severity = {"critical": plan.critical, "warning": plan.warning, "info": plan.info}
    for severity, receivers in by_severity.items():
        for position, name in enumerate(receivers):
            route: dict[str, Any] = {"receiver": name, "matchers": [f'severity="{severity}"']}
            if position < len(receivers) - 1:
                route["continue"] = True
            routes.append(route)
    return routes


def _receiver(name: str, config: EstateConfig, secrets_dir: str) -> dict[str, Any]:
    alerting = config.alerting
    env = config.environment
    if name == PAGERDUTY:
        assert alerting.pagerduty is not None
        return {"name": name, "pagerduty_configs": [_pagerduty(config, secrets_dir)]}
    if name in (SLACK_CRITICAL, SLACK_WARNING, SLACK_INFO):
        assert alerting.slack is not None
        channels = alerting.slack.channels
        channel = {
            SLACK_CRITICAL: channels.critical,
            SLACK_WARNING: channels.warning,
            SLACK_INFO: channels.info,
        }[name]
        return {
            "name": name,
            "slack_configs": [
                {
                    "api_url_file": f"{secrets_dir}/{SLACK_WEBHOOK_URL_FILE}",
                    "channel": channel,
                    "send_resolved": True,
                    "title": _SLACK_TITLE.replace("ENV", env),
                    "text": _SLACK_TEXT,
                }
            ],
        }
    if name == EMAIL_REPORT:
        assert alerting.email is not None
        email = alerting.email
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


def _pagerduty(config: EstateConfig, secrets_dir: str) -> dict[str, Any]:
    assert config.alerting.pagerduty is not None
    env = config.environment
    return {
        "routing_key_file": f"{secrets_dir}/{PAGERDUTY_ROUTING_KEY_FILE}",
        "url": config.alerting.pagerduty.url,
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
