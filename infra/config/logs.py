"""`blue-harvest:logs`: CloudWatch log groups, retention, encryption, filters and alarms."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
)

from infra.config.fields import (
    _EMAIL,
    _LOG_GROUP_PREFIX,
    _METRIC_NAMESPACE,
    _alarm_period,
    _allowed_retention,
    _Model,
)


class AlarmThreshold(_Model):
    """A CloudWatch alarm on a metric-filter count."""

    threshold: float = Field(gt=0, description="Alarm when the count reaches this value.")
    period_seconds: Annotated[int, AfterValidator(_alarm_period)] = 60
    evaluation_periods: int = Field(default=5, ge=1, le=100)


class LogAlarms(_Model):
    errors: AlarmThreshold = AlarmThreshold(threshold=10)
    slow_requests: AlarmThreshold = AlarmThreshold(
        threshold=25, period_seconds=300, evaluation_periods=2
    )


class LogsConfig(_Model):
    """CloudWatch Logs: groups, retention, encryption, metric filters, saved queries, alarms."""

    group_prefix: str = Field(
        default="/blue-harvest",
        pattern=_LOG_GROUP_PREFIX,
        description="Log groups are named <prefix>/<service>; see default_log_group_prefix.",
    )
    retention_days: Annotated[int, AfterValidator(_allowed_retention)]
    group_class: Literal["STANDARD", "INFREQUENT_ACCESS"] = "STANDARD"
    encrypt: bool = Field(description="Encrypt the log groups with a customer-managed KMS key.")
    protect: bool = Field(description="Protect log groups and the key, and retain them on delete.")
    metric_namespace: str | None = Field(
        default=None,
        pattern=_METRIC_NAMESPACE,
        description="Defaults to BlueHarvest/<name scope>.",
    )
    slow_request_ms: int = Field(default=1000, ge=1, description="What counts as a slow request.")
    report_email: str | None = Field(default=None, pattern=_EMAIL)
    alarms: LogAlarms = LogAlarms()
