"""Where each kind of alert goes in one stack, and the routing tables that pin it down.

`routing_plan` decides, from EstateConfig alone, which receivers each class of alert reaches;
`alertmanager_plan` adds what each receiver and route needs (timing, channels, secrets), and
`infra.render.alertmanager` turns that plan into a native Alertmanager config. The routing
tables under alerts/routing/<stack>.yaml are written by hand (never derived from the plan),
so that `amtool config routes test --verify.receivers` checks the rendered routing tree
against what a reviewer expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from infra.config.model import (
    EmailConfig,
    EstateConfig,
    GroupingConfig,
    PagerDutyConfig,
    PagerDutyManaged,
    SlackConfig,
)
from infra.core.labels import LABEL_NAME

#: Receiver names. One receiver per destination; a route fans out with `continue: true`.
PAGERDUTY = "pagerduty"
SLACK_CRITICAL = "slack-critical"
SLACK_WARNING = "slack-warning"
SLACK_INFO = "slack-info"
EMAIL_REPORT = "email-report"
HEARTBEAT = "heartbeat"
NULL = "null"

#: kube-prometheus-stack's helper alert (severity none): never worth a notification.
INFO_INHIBITOR = "InfoInhibitor"

#: Where the hand-written routing tables live: alerts/routing/<stack>.yaml.
ROUTING_DIR = Path(__file__).resolve().parents[2] / "alerts" / "routing"


@dataclass(frozen=True)
class RoutingPlan:
    """The receivers each class of alert reaches, in routing order."""

    critical: tuple[str, ...]
    warning: tuple[str, ...]
    info: tuple[str, ...]
    watchdog: str
    #: An alert with no severity, or one the plan does not know, lands here.
    default: str

    @property
    def receivers(self) -> tuple[str, ...]:
        """Every receiver the plan routes to (always including `null`), sorted."""
        used = {*self.critical, *self.warning, *self.info, self.watchdog, self.default, NULL}
        return tuple(sorted(used))


def routing_plan(config: EstateConfig) -> RoutingPlan:
    """Decide the receivers for one stack.

    - critical: PagerDuty only when `page_on_call` (never in dev or local), then the Slack
      critical channel; with neither, the email report, else `null`;
    - warning: the Slack warning channel, else the email report, else `null`;
    - info: the low-noise Slack channel and the email report (each when configured), else
      `null`;
    - Watchdog: the heartbeat webhook when `heartbeat_url` is set (required in staging and
      prod), else `null`;
    - anything else (no or unknown severity): the same first receiver as warnings, so an
      unlabelled alert is seen by the team rather than dropped.
    """
    alerting = config.alerting
    if alerting.page_on_call and alerting.pagerduty is None:
        raise ValueError("page_on_call is set but alerting.pagerduty is not configured")
    slack = alerting.slack is not None
    email = alerting.email is not None

    critical = tuple(
        name for name, on in ((PAGERDUTY, alerting.page_on_call), (SLACK_CRITICAL, slack)) if on
    ) or ((EMAIL_REPORT,) if email else (NULL,))
    warning = (SLACK_WARNING if slack else EMAIL_REPORT if email else NULL,)
    info = tuple(name for name, on in ((SLACK_INFO, slack), (EMAIL_REPORT, email)) if on) or (NULL,)
    heartbeat = alerting.heartbeat_url is not None
    return RoutingPlan(
        critical=critical,
        warning=warning,
        info=info,
        watchdog=HEARTBEAT if heartbeat else NULL,
        default=warning[0],
    )


@dataclass(frozen=True)
class AlertmanagerPlan:
    """Everything the stack's Alertmanager config says: where each class of alert goes, the
    grouping and repeat timing, and each receiver's settings. The secrets stay SecretStr: the
    renderer writes only the paths of the files that hold them."""

    environment: str
    routing: RoutingPlan
    #: alerting.grouping: group_by, the waits, the repeat intervals (info's at least daily).
    grouping: GroupingConfig
    #: How often the Watchdog is re-sent to the heartbeat receiver.
    heartbeat_interval: str
    pagerduty: PagerDutyConfig | None = None
    slack: SlackConfig | None = None
    email: EmailConfig | None = None
    heartbeat_url: SecretStr | None = None


def alertmanager_plan(config: EstateConfig) -> AlertmanagerPlan:
    alerting = config.alerting
    return AlertmanagerPlan(
        environment=config.environment,
        routing=routing_plan(config),
        grouping=alerting.grouping,
        heartbeat_interval=alerting.heartbeat_interval,
        pagerduty=alerting.pagerduty,
        slack=alerting.slack,
        email=alerting.email,
        heartbeat_url=alerting.heartbeat_url,
    )


LabelName = Annotated[str, StringConstraints(pattern=LABEL_NAME.pattern)]


class RoutingCase(BaseModel):
    """One row of a routing table: an alert's labels and the receivers it must reach, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="What the case pins down, as a sentence.")
    labels: dict[LabelName, str] = Field(description="The alert's labels; may be empty.")
    receivers: tuple[Annotated[str, StringConstraints(min_length=1)], ...] = Field(
        min_length=1, description="Receivers in routing order (amtool compares the order)."
    )


_TABLE = TypeAdapter(list[RoutingCase])


class RoutingTableError(ValueError):
    """A routing table file could not be read; the message names the file and the case."""


def routing_table_path(stack: str) -> Path:
    return ROUTING_DIR / f"{stack}.yaml"


def load_routing_table(path: Path) -> tuple[RoutingCase, ...]:
    """Read a routing table: a YAML list of {name, labels, receivers}."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise RoutingTableError(f"{path}: cannot read routing table: {err}") from err
    try:
        cases = _TABLE.validate_python(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"case {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise RoutingTableError(f"{path}: {problems}") from err
    if not cases:
        raise RoutingTableError(f"{path}: the routing table has no cases")
    names = [case.name for case in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RoutingTableError(f"{path}: duplicate case names: {', '.join(duplicates)}")
    return tuple(cases)


@dataclass(frozen=True)
class PagerDutyPlan:
    """The PagerDuty service the estate manages (alerting.pagerduty.manage)."""

    environment: str
    #: What account-wide names carry (EstateConfig.name_scope): the stack's name.
    name_scope: str
    manage: PagerDutyManaged


def pagerduty_plan(config: EstateConfig) -> PagerDutyPlan | None:
    """The plan where critical alerts page and the stack manages the PagerDuty service."""
    pagerduty = config.alerting.pagerduty
    if not config.alerting.page_on_call or pagerduty is None or pagerduty.manage is None:
        return None
    return PagerDutyPlan(
        environment=config.environment, name_scope=config.name_scope, manage=pagerduty.manage
    )
