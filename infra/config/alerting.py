"""`blue-harvest:alerting`: PagerDuty, Slack, e-mail, grouping and per-alert overrides."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    model_validator,
)

from infra.config.fields import (
    _CHANNEL,
    _EMAIL,
    _GROUP_LABEL,
    _HOSTPORT,
    _PAGERDUTY_ID,
    _URL,
    Duration,
    HttpUrl,
    Secret,
    _at_least_a_day,
    _at_least_a_minute,
    _Model,
    _positive_duration,
)


class EscalationTarget(_Model):
    """Who an escalation rule notifies: a PagerDuty user or schedule, by its id."""

    type: Literal["user_reference", "schedule_reference"]
    id: str = Field(pattern=_PAGERDUTY_ID)


class PagerDutyManaged(_Model):
    """Create the PagerDuty escalation policy, service and Events API v2 integration here."""

    service_name: str | None = Field(
        default=None, description="Default: Blue Harvest (<name scope>)."
    )
    escalation_targets: tuple[EscalationTarget, ...] = Field(min_length=1)
    escalation_delay_minutes: int = Field(default=30, ge=1, le=1440)
    num_loops: int = Field(default=2, ge=0, le=9)


class PagerDutyConfig(_Model):
    """PagerDuty Events API v2: where critical alerts page the on-call.

    Either give the routing key of an existing integration, or `manage` to have the stack
    create the service and feed its integration key to Alertmanager."""

    routing_key: Secret | None = Field(
        default=None, description="Events API v2 integration (routing) key."
    )
    manage: PagerDutyManaged | None = None
    url: HttpUrl = Field(
        default="https://events.pagerduty.com/v2/enqueue",
        pattern=_URL,
        description="Events API endpoint; tests point it at a local sink.",
    )

    @model_validator(mode="after")
    def _one_source_of_the_key(self) -> Self:
        if (self.routing_key is None) == (self.manage is None):
            raise ValueError("set exactly one of routingKey (an existing integration) or manage")
        return self


class SlackChannel(_Model):
    """One Slack channel and the incoming webhook created for it.

    A Slack incoming webhook posts to the one channel it was created for (Alertmanager's
    `channel:` does not move it), so every channel needs its own webhook."""

    channel: str = Field(pattern=_CHANNEL, description="The channel the webhook posts to.")
    webhook_url: Secret = Field(description="Incoming-webhook URL created for this channel.")


class SlackConfig(_Model):
    """Slack: a channel and its own webhook per severity, with no defaults (no stack inherits
    another's channels)."""

    critical: SlackChannel
    warning: SlackChannel
    info: SlackChannel

    @model_validator(mode="before")
    @classmethod
    def _no_shared_webhook(cls, data: object) -> object:
        if isinstance(data, dict) and ({"webhookUrl", "webhook_url", "channels"} & set(data)):
            raise ValueError(
                "one webhook posts to one channel: give slack.critical, slack.warning and"
                " slack.info each a channel and its own webhookUrl (webhookUrl and channels"
                " are gone)"
            )
        return data


class EmailConfig(_Model):
    """SMTP for the email reports (info alerts)."""

    to: str = Field(pattern=_EMAIL, description="Where report emails go.")
    from_: str = Field(alias="from", pattern=_EMAIL, description="Sender address.")
    smarthost: str = Field(pattern=_HOSTPORT, description="SMTP relay, host:port.")
    auth_username: str | None = None
    auth_password: Secret | None = None
    require_tls: bool = True


class GroupingConfig(_Model):
    """How Alertmanager batches notifications."""

    group_by: tuple[Annotated[str, Field(pattern=_GROUP_LABEL)], ...] = (
        "alertname",
        "service",
    )
    group_wait: Duration = Field(default="30s")
    group_interval: Annotated[Duration, AfterValidator(_positive_duration)] = Field(default="5m")
    repeat_interval: Annotated[Duration, AfterValidator(_positive_duration)] = Field(default="4h")
    info_repeat_interval: Annotated[Duration, AfterValidator(_at_least_a_day)] = Field(
        default="24h", description="Info notifications repeat at most daily."
    )


class AlertOverride(_Model):
    """A per-environment change to one alert rule."""

    threshold: float | None = None
    for_: Duration | None = Field(default=None, alias="for")


class AlertingConfig(_Model):
    """Where alerts go: PagerDuty for on-call, Slack for the team, email for reports."""

    page_on_call: bool = Field(
        default=False, description="Critical alerts page PagerDuty (never in dev or local)."
    )
    pagerduty: PagerDutyConfig | None = None
    slack: SlackConfig | None = None
    email: EmailConfig | None = None
    heartbeat_url: Secret | None = Field(
        default=None,
        description="Dead man's switch URL that receives Watchdog (required in staging, prod).",
    )
    heartbeat_interval: Annotated[Duration, AfterValidator(_at_least_a_minute)] = Field(
        default="5m", description="How often Watchdog pings the heartbeat URL."
    )
    grouping: GroupingConfig = GroupingConfig()
    min_request_rate: float | None = Field(
        default=None,
        ge=0,
        le=1000,
        description=(
            "User requests/s below which HighErrorRate and SlowResponseTime do not judge"
            " (default 0.1)."
        ),
    )
    overrides: dict[str, AlertOverride] = Field(
        default_factory=dict, description="Alert name -> threshold/for changes."
    )
    runbook_base_url: HttpUrl = Field(
        default="https://runbooks.blueharvest.example/alerts", pattern=_URL
    )
    grafana_url: HttpUrl = Field(
        default="https://grafana.blueharvest.example",
        pattern=_URL,
        description="Base URL for the dashboard links in alert annotations.",
    )
