"""EstateConfig: every setting the program reads, typed, with cross-field rules.

Top-level fields carry the full Pulumi config key as their alias (``blue-harvest:logs``,
``aws:region``), so a validation error's location is the key a user types in a stack file.
Nested fields use camelCase aliases, as Pulumi's structured config does.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.config.alerting import (
    AlertingConfig,
    AlertOverride,
    EmailConfig,
    GroupingConfig,
    PagerDutyConfig,
    PagerDutyManaged,
    SlackChannel,
    SlackConfig,
)
from infra.config.cluster import (
    AwsConfig,
    ClusterConfig,
    ClusterFlavor,
)
from infra.config.fields import (
    _AWS_PROFILE,
    _DNS_LABEL,
    _KUBE_CONTEXT,
    _KUBECONFIG_PATH,
    _PAGERDUTY_URL,
    _REGION,
    _URL,
    AMP_ALIAS_MAX,
    PATTERN_HELP,
    RESERVED_SERVICE_NAMES,
    RETENTION_DAYS,
    SENTRY_SLUG_MAX,
    STACK_KEY,
    AssumeRoles,
    CrossFieldError,
    Environment,
    LogFilter,
    SecureValue,
    _account_id,
    _account_ids,
    _bytes,
    assume_roles_value,
)
from infra.config.grafana import (
    GrafanaConfig,
)
from infra.config.integrations import (
    RumConfig,
    SentryConfig,
)
from infra.config.logs import (
    LogsConfig,
)
from infra.config.loki import (
    LokiConfig,
)
from infra.config.metrics import (
    AmpConfig,
    MetricsConfig,
)
from infra.config.probes import probe_problems
from infra.config.services import (
    SEED_PROBES,
    ProbeConfig,
    ProbesConfig,
    ResourcesConfig,
    ServiceConfig,
    _seed_service_defaults,
)
from infra.config.slos import (
    SloConfig,
)
from infra.config.tracing import (
    TracingConfig,
)
from infra.core import durations, environments
from infra.core.environments import ENVIRONMENTS
from infra.naming import (
    PROJECT,
    amp_role_name,
    default_log_group_prefix,
    default_metric_namespace,
    iam_name_problem,
    irsa_role_name,
    log_group_name,
    log_group_problem,
    log_writer_policy_name,
    loki_bucket_name,
    metric_namespace_problem,
    name_scope,
    namespace_problem,
    resource_name,
    s3_bucket_problem,
)

#: What the rest of the project imports from here; each section lives in its own module.
__all__ = [
    "ENVIRONMENTS",
    "PATTERN_HELP",
    "RETENTION_DAYS",
    "SEED_PROBES",
    "STACK_KEY",
    "_URL",
    "AlertOverride",
    "AlertingConfig",
    "AmpConfig",
    "ClusterFlavor",
    "CrossFieldError",
    "EmailConfig",
    "Environment",
    "EstateConfig",
    "GroupingConfig",
    "LogFilter",
    "MetricsConfig",
    "PagerDutyConfig",
    "PagerDutyManaged",
    "ProbeConfig",
    "ProbesConfig",
    "ResourcesConfig",
    "SecureValue",
    "SlackChannel",
    "SlackConfig",
    "TracingConfig",
    "assume_roles_value",
    "top_level_keys",
]


class EstateConfig(BaseModel):
    """The whole estate's settings for one stack."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, allow_inf_nan=False
    )

    environment: Environment = Field(alias=f"{PROJECT}:environment")
    stack: str | None = Field(
        default=None,
        alias=STACK_KEY,
        description="The stack's name, from the loader (None: the environment's own stack).",
    )
    aws_region: str | None = Field(default=None, alias="aws:region", pattern=_REGION)
    aws: AwsConfig = Field(alias=f"{PROJECT}:aws")
    aws_allowed_account_ids: Annotated[
        tuple[Annotated[str, BeforeValidator(_account_id)], ...] | None,
        BeforeValidator(_account_ids),
    ] = Field(
        default=None,
        alias="aws:allowedAccountIds",
        description="The only AWS accounts the provider may touch (required: staging, prod).",
    )
    aws_profile: str | None = Field(default=None, alias="aws:profile", pattern=_AWS_PROFILE)
    aws_assume_roles: AssumeRoles | None = Field(
        default=None, alias="aws:assumeRoles", description="Roles the provider assumes (secret)."
    )
    kubernetes_context: str | None = Field(
        default=None,
        alias="kubernetes:context",
        pattern=_KUBE_CONTEXT,
        description="The same as cluster.kubeconfigContext (Pulumi's own key for it).",
    )
    kubernetes_kubeconfig: str | None = Field(
        default=None,
        alias="kubernetes:kubeconfig",
        pattern=_KUBECONFIG_PATH,
        description="The kubeconfig file the provider reads (unset: $KUBECONFIG, ~/.kube/config).",
    )
    cluster: ClusterConfig = Field(alias=f"{PROJECT}:cluster")
    services: Annotated[
        dict[Annotated[str, Field(pattern=_DNS_LABEL)], ServiceConfig],
        BeforeValidator(_seed_service_defaults),
    ] = Field(alias=f"{PROJECT}:services", min_length=1)
    logs: LogsConfig = Field(alias=f"{PROJECT}:logs")
    alerting: AlertingConfig = Field(default=AlertingConfig(), alias=f"{PROJECT}:alerting")
    metrics: MetricsConfig = Field(alias=f"{PROJECT}:metrics")
    grafana: GrafanaConfig = Field(default=GrafanaConfig(), alias=f"{PROJECT}:grafana")
    tracing: TracingConfig = Field(alias=f"{PROJECT}:tracing")
    loki: LokiConfig = Field(alias=f"{PROJECT}:loki")
    sentry: SentryConfig = Field(alias=f"{PROJECT}:sentry")
    rum: RumConfig = Field(default=RumConfig(), alias=f"{PROJECT}:rum")
    slos: dict[str, dict[str, SloConfig]] = Field(
        default_factory=dict,
        alias=f"{PROJECT}:slos",
        description="Service -> SLI (availability, latency) -> objective (alerts/slos.py).",
    )

    @property
    def name_scope(self) -> str:
        """What account-wide AWS names carry (`infra.naming.name_scope`): the stack's name, so
        `prod-eu` and `prod` in one account never collide; for the stacks local, dev, staging
        and prod (and a config built without a stack) the environment, as always."""
        return name_scope(self.stack) if self.stack is not None else self.environment

    @property
    def metric_namespace(self) -> str:
        return self.logs.metric_namespace or default_metric_namespace(self.name_scope)

    @model_validator(mode="before")
    @classmethod
    def _stack_log_group_prefix(cls, data: Any) -> Any:
        """Without logs.groupPrefix, a stack not named after its environment gets its own
        prefix (`/blue-harvest/prod-eu`): log group names are account-wide."""
        if not isinstance(data, dict):
            return data
        stack, environment = data.get(STACK_KEY), data.get(f"{PROJECT}:environment")
        logs = data.get(f"{PROJECT}:logs")
        if not (isinstance(stack, str) and isinstance(environment, str)):
            return data
        if not isinstance(logs, dict) or "groupPrefix" in logs:
            return data
        prefix = default_log_group_prefix(name_scope(stack), environment)
        return {**data, f"{PROJECT}:logs": {**logs, "groupPrefix": prefix}}

    def _scope_hint(self) -> str:
        """Said after a name problem the stack's name contributes to."""
        if self.name_scope == self.environment:
            return ""
        written = "" if self.name_scope == self.stack else f" as {self.name_scope!r}"
        return (
            f" (account-wide names carry the stack name {self.stack!r}{written};"
            " a shorter stack name also fits)"
        )

    @property
    def kube_context(self) -> str | None:
        """The kubeconfig context to deploy with (None: the kubeconfig's current one)."""
        return self.cluster.kubeconfig_context or self.kubernetes_context

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Self:
        problems: list[tuple[str, str]] = []
        if self.aws.enabled and self.aws_region is None:
            problems.append(("aws:region", "is required when blue-harvest:aws.enabled is true"))
        context = self.cluster.kubeconfig_context
        if context and self.kubernetes_context and context != self.kubernetes_context:
            problems.append(
                (
                    "kubernetes:context",
                    f"{self.kubernetes_context!r} differs from {PROJECT}:cluster.kubeconfigContext"
                    f" {context!r}: set one of them",
                )
            )
        if environments.prod_rules(self.environment):
            if not self.logs.encrypt:
                problems.append((f"{PROJECT}:logs.encrypt", "must be true in prod"))
            if not self.logs.protect:
                problems.append((f"{PROJECT}:logs.protect", "must be true in prod"))
            if not self.alerting.page_on_call:
                problems.append(
                    (f"{PROJECT}:alerting.pageOnCall", "must be true in prod: critical alerts page")
                )
        if self.alerting.page_on_call and not environments.production_like(self.environment):
            problems.append(
                (
                    f"{PROJECT}:alerting.pageOnCall",
                    f"must be false in {self.environment}: only staging and prod page the on-call",
                )
            )
        if environments.production_like(self.environment):
            problems += self._watched_from_outside()
        if self.alerting.page_on_call and self.alerting.pagerduty is None:
            problems.append(
                (
                    f"{PROJECT}:alerting.pagerduty",
                    "is required when pageOnCall is true: critical alerts need an on-call route"
                    " (set alerting.pagerduty.routingKey as a secret)",
                )
            )
        if environments.prod_rules(self.environment):
            if self.metrics.prometheus_replicas < 2:
                problems.append(
                    (f"{PROJECT}:metrics.prometheusReplicas", "must be at least 2 in prod (HA)")
                )
            if self.metrics.alertmanager_replicas < 3:
                problems.append(
                    (f"{PROJECT}:metrics.alertmanagerReplicas", "must be at least 3 in prod (HA)")
                )
        problems += self._workload_problems()
        problems += self._guardrail_problems()
        problems += self._cloud_name_problems()
        size, volume = _bytes(self.metrics.retention_size), _bytes(self.metrics.storage)
        if size > volume * 0.9:
            problems.append(
                (
                    f"{PROJECT}:metrics.retentionSize",
                    f"{self.metrics.retention_size} does not fit in {self.metrics.storage} of"
                    " storage with 10% headroom for the WAL and compaction",
                )
            )
        if (
            self.aws.enabled
            and environments.production_like(self.environment)
            and not self.logs.report_email
        ):
            problems.append(
                (
                    f"{PROJECT}:logs.reportEmail",
                    f"is required in {self.environment}: log alarms email their reports there",
                )
            )
        if self.logs.group_class == "INFREQUENT_ACCESS":
            with_filters = sorted(n for n, s in self.services.items() if s.log_filters)
            if with_filters:
                problems.append(
                    (
                        f"{PROJECT}:logs.groupClass",
                        "INFREQUENT_ACCESS log groups support no metric filters; use STANDARD"
                        f" or set logFilters: [] on {', '.join(with_filters)}",
                    )
                )
        if problems:
            raise CrossFieldError(problems)
        return self

    def _watched_from_outside(self) -> list[tuple[str, str]]:
        """Staging and prod: a dead man's switch, and links people can open."""
        problems: list[tuple[str, str]] = []
        env = self.environment
        if self.alerting.heartbeat_url is None:
            problems.append(
                (
                    f"{PROJECT}:alerting.heartbeatUrl",
                    f"is required in {env}: the dead man's switch that notices when Prometheus"
                    " or Alertmanager dies (set it with `pulumi config set --secret`)",
                )
            )
        for key, value in (
            ("prometheusExternalUrl", self.metrics.prometheus_external_url),
            ("alertmanagerExternalUrl", self.metrics.alertmanager_external_url),
        ):
            if value is None:
                problems.append(
                    (
                        f"{PROJECT}:metrics.{key}",
                        f"is required in {env}: alert and silence links must open",
                    )
                )
        return problems

    def _naming_problems(self) -> list[tuple[str, str]]:
        """Names that would collide in the cluster or exceed AWS limits at `pulumi up`."""
        problems: list[tuple[str, str]] = []
        namespaces = {
            "cluster.namespace": self.cluster.namespace,
            "cluster.observabilityNamespace": self.cluster.observability_namespace,
            "metrics.namespace": self.metrics.namespace,
        }
        seen: dict[str, str] = {}
        for key, ns in namespaces.items():
            if ns in seen:
                problems.append(
                    (f"{PROJECT}:{key}", f"{ns!r} is already {seen[ns]}: use its own namespace")
                )
            seen.setdefault(ns, key)
        accounts: dict[str, str] = {}
        for name in sorted(self.services):
            account = self.service_account(name)
            if account in accounts:
                problems.append(
                    (
                        f"{PROJECT}:services.{name}.serviceAccount",
                        f"{account!r} is already {accounts[account]}'s service account",
                    )
                )
            accounts.setdefault(account, name)
            if name in RESERVED_SERVICE_NAMES:
                problems.append(
                    (f"{PROJECT}:services.{name}", f"{name!r} is taken by the estate's own charts")
                )
            if self.aws.enabled:
                role = iam_name_problem(irsa_role_name(self.name_scope, name))
                policy = iam_name_problem(
                    log_writer_policy_name(self.name_scope, name), "policy", 128
                )
                for problem in (role, policy):
                    if problem:
                        problems.append(
                            (f"{PROJECT}:services.{name}", problem + self._scope_hint())
                        )
        return problems

    def _cloud_name_problems(self) -> list[tuple[str, str]]:
        """Names AWS and Kubernetes would refuse at `pulumi up`, checked with the builders the
        program uses (infra.naming)."""
        problems: list[tuple[str, str]] = []
        for key, ns in (
            ("cluster.namespace", self.cluster.namespace),
            ("cluster.observabilityNamespace", self.cluster.observability_namespace),
            ("metrics.namespace", self.metrics.namespace),
        ):
            if problem := namespace_problem(ns):
                problems.append((f"{PROJECT}:{key}", problem))
        if self.aws.enabled:
            for name in sorted(self.services):
                group = log_group_name(self.logs.group_prefix, name)
                if problem := log_group_problem(group):
                    problems.append((f"{PROJECT}:logs.groupPrefix", f"{problem} ({name})"))
            if problem := metric_namespace_problem(self.metric_namespace):
                problems.append((f"{PROJECT}:logs.metricNamespace", problem))
        if self.loki.bucket is not None and (problem := s3_bucket_problem(self.loki.bucket)):
            problems.append((f"{PROJECT}:loki.bucket", problem))
        problems += self._account_name_problems()
        return problems

    def _account_name_problems(self) -> list[tuple[str, str]]:
        """The account-wide names with short limits the stack's name scope goes into (the
        IRSA, log writer and AMP names are checked with their keys elsewhere); each refused
        naming the key that declares the resource. The rest (KMS alias, SNS topic, alarms,
        RUM monitor) allow 255 characters or more, more than a stack name can fill."""
        scope, hint = self.name_scope, self._scope_hint()
        checks: list[tuple[str, str | None]] = []
        loki = self.loki
        if loki.enabled and loki.storage == "s3":
            checks += [
                ("loki.storage", iam_name_problem(resource_name(scope, "loki"))),
                ("loki.storage", iam_name_problem(resource_name(scope, "loki-s3"), "policy", 128)),
            ]
            if loki.bucket is None:
                some_account = "0" * 12  # every account id has 12 digits
                bucket = s3_bucket_problem(loki_bucket_name(scope, some_account))
                if bucket:
                    shown = bucket.replace(some_account, "<account id>")
                    checks.append(("loki.bucket", f"the default bucket name: {shown}"))
        if self.rum.enabled:
            checks.append(("rum.enabled", iam_name_problem(resource_name(scope, "rum-guest"))))
        if self.sentry.enabled and len(slug := resource_name(scope)) > SENTRY_SLUG_MAX:
            checks.append(
                (
                    "sentry.enabled",
                    f"the Sentry project slug {slug!r} would be {len(slug)} characters;"
                    f" Sentry allows {SENTRY_SLUG_MAX}",
                )
            )
        alias = resource_name(scope, "metrics")
        if (
            self.metrics.store == "amp"
            and self.metrics.amp.workspace_id is None
            and len(alias) > AMP_ALIAS_MAX
        ):
            checks.append(
                (
                    "metrics.store",
                    f"the AMP workspace alias {alias!r} would be {len(alias)} characters;"
                    f" AWS allows {AMP_ALIAS_MAX}",
                )
            )
        return [(f"{PROJECT}:{key}", problem + hint) for key, problem in checks if problem]

    def _guardrail_problems(self) -> list[tuple[str, str]]:
        """What no stack file can switch off (docs/configuration.md, "Guardrails")."""
        problems: list[tuple[str, str]] = []
        env, alerting = self.environment, self.alerting
        if environments.production_like(env) and not self.aws_allowed_account_ids:
            problems.append(
                (
                    "aws:allowedAccountIds",
                    f"is required in {env}: the AWS provider refuses any other account, so a"
                    " wrong profile cannot deploy into the wrong account",
                )
            )
        if alerting.page_on_call:
            problems += self._paging_problems()
        if not environments.prod_rules(env):
            return problems
        if not self.aws.enabled:
            problems.append((f"{PROJECT}:aws.enabled", "must be true in prod"))
        floor = environments.PROD.log_retention_days
        if self.logs.retention_days == 0 or self.logs.retention_days < floor:
            problems.append(
                (
                    f"{PROJECT}:logs.retentionDays",
                    f"{self.logs.retention_days} is below prod's floor: at least {floor} days",
                )
            )
        if alerting.email is not None and not alerting.email.require_tls:
            problems.append(
                (f"{PROJECT}:alerting.email.requireTls", "must be true in prod: SMTP uses TLS")
            )
        t = self.tracing
        if t.enabled and t.storage_url is not None and not t.storage_url.startswith("https://"):
            problems.append(
                (
                    f"{PROJECT}:tracing.storageUrl",
                    "must be https:// in prod: the trace store uses TLS",
                )
            )
        pagerduty = alerting.pagerduty
        if pagerduty is not None and not _PAGERDUTY_URL.match(pagerduty.url):
            problems.append(
                (
                    f"{PROJECT}:alerting.pagerduty.url",
                    "must be a PagerDuty Events API URL (https://events.pagerduty.com/...) in"
                    " prod: pages must reach PagerDuty",
                )
            )
        return problems

    def _paging_problems(self) -> list[tuple[str, str]]:
        """Where critical alerts page, notifications leave in minutes and repeat daily at least
        (the critical alerts' own `for` limit is checked in `infra.estate.plan`)."""
        problems: list[tuple[str, str]] = []
        grouping = self.alerting.grouping
        given = {
            "group_wait": grouping.group_wait,
            "group_interval": grouping.group_interval,
            "repeat_interval": grouping.repeat_interval,
        }
        for name, limit in environments.PAGING.limits():
            key, value = to_camel(name), given[name]
            if durations.seconds(value) > durations.seconds(limit):
                problems.append(
                    (
                        f"{PROJECT}:alerting.grouping.{key}",
                        f"{value} is above {limit}: the paging route must reach the on-call"
                        f" within {limit}",
                    )
                )
        return problems

    def _workload_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = self._naming_problems()
        t, loki, sentry, rum = self.tracing, self.loki, self.sentry, self.rum
        if t.enabled and t.storage != "memory" and not t.storage_url:
            problems.append(
                (f"{PROJECT}:tracing.storageUrl", f"is required with storage {t.storage}")
            )
        if environments.prod_rules(self.environment):
            if t.enabled and t.storage == "memory":
                problems.append(
                    (f"{PROJECT}:tracing.storage", "must be elasticsearch or opensearch in prod")
                )
            if loki.enabled and loki.storage != "s3":
                problems.append((f"{PROJECT}:loki.storage", "must be s3 in prod"))
            for name, svc in sorted(self.services.items()):
                if svc.debug or svc.debug_requests:
                    problems.append(
                        (f"{PROJECT}:services.{name}.debug", "debug switches must be off in prod")
                    )
        if loki.enabled and loki.storage == "s3" and not self.aws.enabled:
            problems.append((f"{PROJECT}:loki.storage", "s3 needs blue-harvest:aws.enabled"))
        if loki.enabled and loki.storage == "s3" and self.cluster.oidc_provider_arn is None:
            problems.append(
                (
                    f"{PROJECT}:cluster.oidcProviderArn",
                    "is required with loki.storage s3: Loki reaches its bucket through an IRSA"
                    " role, never with access keys",
                )
            )
        problems += self._store_problems()
        if t.enabled and t.storage != "memory" and t.storage_username and not t.storage_password:
            problems.append(
                (
                    f"{PROJECT}:tracing.storagePassword",
                    "is required with storageUsername (set it with `pulumi config set --secret`)",
                )
            )
        for name, svc in sorted(self.services.items()):
            problems += [
                (f"{PROJECT}:services.{name}.{key}", message)
                for key, message in probe_problems(svc.probes, svc.boot_seconds)
            ]
        if sentry.enabled:
            for key, value in (("organization", sentry.organization), ("team", sentry.team)):
                if not value:
                    problems.append(
                        (f"{PROJECT}:sentry.{key}", "is required when Sentry is enabled")
                    )
        if rum.enabled:
            if not rum.domain:
                problems.append((f"{PROJECT}:rum.domain", "is required when RUM is enabled"))
            if not self.aws.enabled:
                problems.append((f"{PROJECT}:rum.enabled", "RUM needs blue-harvest:aws.enabled"))
        return problems

    def _store_problems(self) -> list[tuple[str, str]]:
        """A remote metrics store is AMP: an AWS account, its region, and IRSA for the writer
        and the reader (never static keys)."""
        if self.metrics.store != "amp":
            return []
        problems: list[tuple[str, str]] = []
        if not self.aws.enabled:
            problems.append((f"{PROJECT}:metrics.store", "amp needs blue-harvest:aws.enabled"))
        if self.aws_region is None:
            problems.append(("aws:region", "is required with metrics.store amp"))
        if self.cluster.oidc_provider_arn is None:
            problems.append(
                (
                    f"{PROJECT}:cluster.oidcProviderArn",
                    "is required with metrics.store amp: Prometheus writes and Grafana reads"
                    " through IRSA roles, never with access keys",
                )
            )
        for component in ("prometheus", "grafana"):
            problem = iam_name_problem(amp_role_name(self.name_scope, self.cluster.name, component))
            if problem:
                problems.append((f"{PROJECT}:cluster.name", problem + self._scope_hint()))
        queue = self.metrics.amp.queue
        if queue.min_shards > queue.max_shards:
            problems.append(
                (
                    f"{PROJECT}:metrics.amp.queue.minShards",
                    f"{queue.min_shards} is above maxShards ({queue.max_shards}); allowed: at"
                    " most maxShards",
                )
            )
        own = self.cluster.name
        if own in self.metrics.amp.other_clusters:
            problems.append(
                (
                    f"{PROJECT}:metrics.amp.otherClusters",
                    f"lists this stack's own cluster {own!r}; list only the other clusters"
                    " writing to the workspace",
                )
            )
        return problems

    def service_account(self, service: str) -> str:
        return self.services[service].service_account or service

    @property
    def scraped_services(self) -> tuple[str, ...]:
        """Services that serve metrics (a ServiceMonitor, ServiceDown, `$service`), sorted."""
        return tuple(sorted(n for n, s in self.services.items() if s.metrics.enabled))


def top_level_keys() -> dict[str, str]:
    """Full config key -> field name, for every key EstateConfig reads."""
    return {
        str(f.alias): name
        for name, f in EstateConfig.model_fields.items()
        if f.alias != STACK_KEY  # from the stack's name, never from its file
    }
