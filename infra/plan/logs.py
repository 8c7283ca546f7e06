"""The CloudWatch logs estate of one stack, as plain typed data derived from EstateConfig."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.model import EstateConfig, LogFilter
from infra.naming import PROJECT, log_group_name, resource_name

MANAGED_BY = "pulumi"


@dataclass(frozen=True)
class LogGroupSpec:
    service: str
    name: str
    retention_days: int
    group_class: str
    tags: dict[str, str]


@dataclass(frozen=True)
class MetricFilterSpec:
    service: str
    kind: LogFilter
    name: str
    pattern: str
    metric_name: str
    namespace: str


@dataclass(frozen=True)
class QuerySpec:
    title: str
    name: str
    query: str


@dataclass(frozen=True)
class AlarmSpec:
    service: str
    kind: LogFilter
    name: str
    description: str
    metric_name: str
    namespace: str
    threshold: float
    period_seconds: int
    evaluation_periods: int


@dataclass(frozen=True)
class LogsSpec:
    environment: str
    #: What account-wide names carry (EstateConfig.name_scope): the stack's name.
    name_scope: str
    log_groups: tuple[LogGroupSpec, ...]
    metric_filters: tuple[MetricFilterSpec, ...]
    queries: tuple[QuerySpec, ...]
    alarms: tuple[AlarmSpec, ...]
    encrypt: bool
    protect: bool
    report_email: str | None
    tags: dict[str, str]


_METRIC_SUFFIX: dict[LogFilter, str] = {
    "errors": "ErrorCount",
    "slowRequests": "SlowRequestCount",
    "failedLogins": "FailedLoginCount",
}


def filter_pattern(kind: LogFilter, slow_request_ms: int) -> str:
    """CloudWatch JSON filter patterns over the seed's Winston JSON log lines."""
    if kind == "errors":
        return '{ $.level = "error" }'
    if kind == "slowRequests":
        # Only the completion line: the "Slow request detected" warning repeats the same request.
        return f'{{ ($.message = "Request completed") && ($.duration > {slow_request_ms}) }}'
    return '{ $.message = "Login failed*" }'


def saved_queries(slow_request_ms: int) -> tuple[tuple[str, str], ...]:
    """The seed's five Logs Insights queries, (title, query)."""
    return (
        (
            "Errors in the last hour",
            "fields @timestamp, level, message, error, requestId\n"
            '| filter level = "error"\n'
            "| sort @timestamp desc\n"
            "| limit 100",
        ),
        (
            f"Slow requests (over {slow_request_ms} ms)",
            "fields @timestamp, url, duration, statusCode\n"
            f"| filter duration > {slow_request_ms}\n"
            "| sort duration desc\n"
            "| limit 50",
        ),
        (
            "Failed login attempts by IP",
            "fields @timestamp, ip, email\n"
            '| filter message = "Login failed: invalid password"\n'
            "| stats count() by ip\n"
            "| sort count desc",
        ),
        (
            "Average response time by endpoint",
            "fields url, duration\n"
            '| filter level = "http"\n'
            "| stats avg(duration) as avg_duration by url\n"
            "| sort avg_duration desc",
        ),
        (
            "Error rate over time",
            "fields @timestamp\n"
            '| filter level = "error"\n'
            "| stats count() as error_count by bin(5m)",
        ),
    )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def logs_spec(config: EstateConfig) -> LogsSpec:
    env, scope = config.environment, config.name_scope
    logs = config.logs
    namespace = config.metric_namespace
    base_tags = {"environment": env, "managed-by": MANAGED_BY, "project": PROJECT}
    groups: list[LogGroupSpec] = []
    filters: list[MetricFilterSpec] = []
    alarms: list[AlarmSpec] = []
    for service in sorted(config.services):
        svc = config.services[service]
        groups.append(
            LogGroupSpec(
                service=service,
                name=log_group_name(logs.group_prefix, service),
                retention_days=logs.retention_days,
                group_class=logs.group_class,
                tags={**base_tags, "service": service},
            )
        )
        for kind in sorted(set(svc.log_filters)):
            metric = f"{_pascal(service)}{_METRIC_SUFFIX[kind]}"
            filters.append(
                MetricFilterSpec(
                    service=service,
                    kind=kind,
                    name=f"{service}-{kind}",
                    pattern=filter_pattern(kind, logs.slow_request_ms),
                    metric_name=metric,
                    namespace=namespace,
                )
            )
            threshold = {"errors": logs.alarms.errors, "slowRequests": logs.alarms.slow_requests}
            if kind in threshold:
                t = threshold[kind]
                alarms.append(
                    AlarmSpec(
                        service=service,
                        kind=kind,
                        name=resource_name(scope, service, kind),
                        description=(
                            f"{service} in {scope}: {metric} reached {t.threshold:g} per"
                            f" {t.period_seconds}s for {t.evaluation_periods} periods"
                        ),
                        metric_name=metric,
                        namespace=namespace,
                        threshold=t.threshold,
                        period_seconds=t.period_seconds,
                        evaluation_periods=t.evaluation_periods,
                    )
                )
    queries = tuple(
        QuerySpec(title=title, name=f"{PROJECT}/{scope}/{title}", query=query)
        for title, query in saved_queries(logs.slow_request_ms)
    )
    return LogsSpec(
        environment=env,
        name_scope=scope,
        log_groups=tuple(groups),
        metric_filters=tuple(filters),
        queries=queries,
        alarms=tuple(alarms),
        encrypt=logs.encrypt,
        protect=logs.protect,
        report_email=logs.report_email,
        tags=base_tags,
    )


@dataclass(frozen=True)
class LogsPlan:
    """What the CloudWatchLogs component declares: the spec and where it lives."""

    spec: LogsSpec
    #: AWS region the log groups live in (the KMS key policy names the regional service).
    region: str
    #: Prefix of the log group names, for the key policy's encryption-context condition.
    group_prefix: str
    #: Kubernetes namespace of the service accounts that assume the writer roles.
    namespace: str
    #: service -> Kubernetes service account name.
    service_accounts: dict[str, str]
    #: The cluster's IAM OIDC provider; with None, the writer policies are attached to no role.
    oidc_provider_arn: str | None = None


def logs_plan(config: EstateConfig) -> LogsPlan | None:
    """The plan, or None when the stack has no AWS (aws.enabled false)."""
    if not config.aws.enabled:
        return None
    assert config.aws_region is not None  # EstateConfig refuses aws.enabled without a region
    return LogsPlan(
        spec=logs_spec(config),
        region=config.aws_region,
        group_prefix=config.logs.group_prefix,
        namespace=config.cluster.namespace,
        service_accounts={s: config.service_account(s) for s in config.services},
        oidc_provider_arn=config.cluster.oidc_provider_arn,
    )
