"""EstateConfig: every setting the program reads, typed, with cross-field rules.

Top-level fields carry the full Pulumi config key as their alias (``blue-harvest:logs``,
``aws:region``), so a validation error's location is the key a user types in a stack file.
Nested fields use camelCase aliases, as Pulumi's structured config does.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.config.probes import probe_problems
from infra.config.secrets import PLACEHOLDER_PREFIX, placeholder
from infra.naming import (
    PROJECT,
    amp_role_name,
    default_log_group_prefix,
    default_metric_namespace,
    iam_name_problem,
    image_reference_problem,
    irsa_role_name,
    log_group_name,
    log_group_problem,
    log_writer_policy_name,
    loki_bucket_name,
    metric_namespace_problem,
    name_scope,
    namespace_problem,
    pin_problem,
    resource_name,
    s3_bucket_problem,
)

Environment = Literal["local", "dev", "staging", "prod"]

#: Where build_config passes the stack's name (never a key a stack file may set: the loader
#: refuses it). Account-wide AWS names are scoped by it (`EstateConfig.name_scope`).
STACK_KEY = f"{PROJECT}:stack"
#: Sentry's project slugs held at most 50 characters until 2024 (migration 0770 raised it);
#: self-hosted releases from before still refuse more, so the estate stays within 50.
SENTRY_SLUG_MAX = 50
#: An AMP workspace alias has at most this many characters.
AMP_ALIAS_MAX = 100
ENVIRONMENTS: tuple[Environment, ...] = ("local", "dev", "staging", "prod")

#: The values CloudWatch Logs accepts for a log group's retention (0 means never expire).
RETENTION_DAYS: tuple[int, ...] = (
    0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

_DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_REGION = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$"
_K8S_VERSION = r"^1\.\d{2}$"
_OIDC_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$"
_CHANNEL = r"^#[a-z0-9_-]+$"
_DURATION = r"^([0-9]+(ms|s|m|h|d|w|y))+$"
#: An http(s) URL whose authority carries no userinfo: a password never sits in a URL key.
#: The scheme is case-insensitive (RFC 3986); HttpUrl writes it lowercase.
_URL = r"^(?i:https?)://[^\s/?#@]+([/?#][^\s]*)?$"
_HOSTPORT = r"^[A-Za-z0-9.-]+:[0-9]{1,5}$"
_CPU = r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$"
_MEMORY = r"^[0-9]+(Ki|Mi|Gi|Ti)$"
_SIZE = r"^[0-9]+(B|KB|MB|GB|TB|PB)$"
_ACCOUNT_ID = r"^[0-9]{12}$"
_KUBE_CONTEXT = r"^[^\s]{1,253}$"
_KUBECONFIG_PATH = r"^[^\n]{1,4096}$"
_HTTP_PATH = r"^/[A-Za-z0-9/_.-]*$"
_LOG_GROUP_PREFIX = r"^/[A-Za-z0-9_.#/-]*[A-Za-z0-9_.#-]$"
_METRIC_NAMESPACE = r"^[A-Za-z0-9_./#:-]{1,255}$"
_PAGERDUTY_ID = r"^P[A-Z0-9]{6}$"
_GROUP_LABEL = r"^([a-zA-Z_][a-zA-Z0-9_]*|\.\.\.)$"
_AMP_WORKSPACE_ID = r"^ws-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
_SEMVER = r"^\d+\.\d+\.\d+$"
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_DOMAIN = r"^[a-z0-9.-]+\.[a-z]{2,}$"
_AWS_PROFILE = r"^[A-Za-z0-9_.+@-]{1,128}$"

#: What each pattern means, for error messages a person can act on.
PATTERN_HELP: dict[str, str] = {
    _DNS_LABEL: "a DNS label: lowercase letters, digits and '-', starting with a letter",
    _EMAIL: "an email address",
    _REGION: "an AWS region such as us-east-1",
    _K8S_VERSION: "a Kubernetes minor version such as '1.31'",
    _OIDC_ARN: "an IAM OIDC provider ARN: arn:aws:iam::<account>:oidc-provider/<issuer>",
    _CHANNEL: "a Slack channel such as #bh-alerts",
    _DURATION: "a Prometheus duration such as 30s, 5m or 1h30m",
    _URL: "an http(s) URL without credentials (no user:password@ before the host; keep"
    " a password in its own secret key)",
    _HOSTPORT: "host:port",
    _CPU: "a CPU quantity such as 250m or 2",
    _MEMORY: "a binary quantity such as 512Mi or 50Gi",
    _SIZE: "a Prometheus size such as 45GB",
    _ACCOUNT_ID: 'a 12-digit AWS account id, quoted ("012345678901")',
    _KUBE_CONTEXT: "a kubeconfig context name (no spaces)",
    _KUBECONFIG_PATH: "a path to a kubeconfig file (one line; not the file's content)",
    _HTTP_PATH: "an HTTP path such as /healthz: '/' then letters, digits, '/', '_', '.' or '-'",
    _LOG_GROUP_PREFIX: (
        "a log group prefix such as /blue-harvest: '/' then letters, digits, '_', '.', '#',"
        " '/' or '-', not ending in '/'"
    ),
    _METRIC_NAMESPACE: (
        "a CloudWatch metric namespace: 1 to 255 letters, digits, '_', '.', '/', '#', ':' or '-'"
    ),
    _PAGERDUTY_ID: "a PagerDuty id such as PABC123: 'P' then 6 capital letters or digits",
    _GROUP_LABEL: "a label name (letters, digits and '_', not starting with a digit) or '...'",
    _AMP_WORKSPACE_ID: "an AMP workspace id such as ws-12345678-abcd-1234-abcd-123456789012",
    _METRIC_NAME: (
        "a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit"
    ),
    _SEMVER: "a chart version such as 88.0.0",
    _BUCKET: (
        "an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and"
        " ending with a letter or digit"
    ),
    _SLUG: "a slug: lowercase letters, digits, '_' and '-', starting with a letter or digit",
    _DOMAIN: "a lowercase domain name such as blueharvest.example",
    _AWS_PROFILE: "an AWS profile name: 1 to 128 letters, digits, '_', '.', '+', '@' or '-'",
}

#: Service names the estate's own releases use in the cluster.
RESERVED_SERVICE_NAMES = frozenset(
    {"jaeger", "loki", "alloy", "otel-collector", "grafana", "prometheus", "alertmanager"}
)

LogFilter = Literal["errors", "slowRequests", "failedLogins"]


class SecureValue:
    """Stands for a `secure:` value the offline loader will not decrypt."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"SecureValue({self.key!r})"


def _accept_secret(value: object, info: ValidationInfo) -> object:
    if isinstance(value, SecureValue):
        return placeholder(value.key)
    if isinstance(value, str):
        context = info.context or {}
        if not context.get("plaintext_secrets_ok", False):
            raise ValueError(
                "is a secret and must be stored encrypted (`pulumi config set --path --secret`);"
                " plain text is accepted only in the local stack"
            )
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value) and not re.match(_URL, value):
            # A secret URL (webhook, heartbeat) meets the URL rule too; never echo it.
            raise ValueError(f"must be {PATTERN_HELP[_URL]}")
    return value


#: A secret setting: `secure:` in a stack file, a placeholder offline, plain text only in local.
Secret = Annotated[SecretStr, BeforeValidator(_accept_secret)]


def _lowercase_scheme(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme.lower()}{sep}{rest}"


#: An http(s) URL setting (with `pattern=_URL`): `HTTPS://host` is read as `https://host`,
#: so every check downstream (prod's https, the policies) compares one spelling.
HttpUrl = Annotated[str, AfterValidator(_lowercase_scheme)]


def _account_ids(value: object) -> object:
    """aws:allowedAccountIds: a non-empty list (each item checked by `_account_id`)."""
    if value is not None and (not isinstance(value, list | tuple) or not value):
        raise ValueError(
            f"must be a list of one or more account ids, each {PATTERN_HELP[_ACCOUNT_ID]}"
        )
    return value


def _account_id(item: object) -> object:
    """One message for an id that is not a quoted 12-digit string (unquoted, an id is a YAML
    number, which would lose a leading zero)."""
    if not (isinstance(item, str) and re.fullmatch(_ACCOUNT_ID, item)):
        number = isinstance(item, int | float) and not isinstance(item, bool)
        what = f"the number {item}" if number else repr(item)
        raise ValueError(f"is {what}: must be {PATTERN_HELP[_ACCOUNT_ID]}")
    return item


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_ASSUME_ROLE_KEYS = frozenset(
    {
        "roleArn",
        "sessionName",
        "externalId",
        "duration",
        "policy",
        "policyArns",
        "sourceIdentity",
        "tags",
        "transitiveTagKeys",
    }
)


def _accept_assume_roles(value: object, info: ValidationInfo) -> object:
    """`aws:assumeRoles`: a list of {roleArn, sessionName, externalId, ...}, kept as secret JSON.

    Offline the encrypted value is a placeholder; under the engine it arrives decrypted."""
    if isinstance(value, SecureValue):
        return placeholder(value.key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("must be a list of {roleArn, sessionName, ...} (JSON)") from None
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of {roleArn, sessionName, externalId, ...}")
    for i, role in enumerate(value):
        if not isinstance(role, dict) or not isinstance(role.get("roleArn"), str):
            raise ValueError(f"[{i}] must be a mapping with roleArn")
        unknown = sorted(str(k) for k in role if k not in _ASSUME_ROLE_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_ASSUME_ROLE_KEYS))
            raise ValueError(f"[{i}] unknown key {unknown[0]}; allowed: {allowed}")
        if not _ROLE_ARN.match(role["roleArn"]):
            raise ValueError(
                f"[{i}].roleArn must be an IAM role ARN: arn:aws:iam::<account>:role/<name>"
            )
    if not (info.context or {}).get("plaintext_secrets_ok", False):
        raise ValueError(
            "is a credential and must be stored encrypted (`pulumi config set --secret`)"
        )
    return SecretStr(json.dumps(value, sort_keys=True))


#: `aws:assumeRoles`, as secret JSON text (or the offline placeholder).
AssumeRoles = Annotated[SecretStr, BeforeValidator(_accept_assume_roles)]


def assume_roles_value(roles: SecretStr) -> list[dict[str, Any]]:
    """The provider's `assumeRoles` input: the decoded list, or (offline) one entry whose
    roleArn is the placeholder, so the synth records that a secret reaches the provider."""
    text = roles.get_secret_value()
    if text.startswith(PLACEHOLDER_PREFIX):
        return [{"roleArn": text}]
    return list(json.loads(text))


def _pinned_image(value: str) -> str:
    problem = image_reference_problem(value) or pin_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _allowed_retention(value: int) -> int:
    if value not in RETENTION_DAYS:
        allowed = ", ".join(str(v) for v in RETENTION_DAYS)
        raise ValueError(f"{value} is not a retention CloudWatch accepts; allowed: {allowed}")
    return value


def _positive_duration(value: str) -> str:
    if not re.search(r"[1-9]", value):
        raise ValueError(f"{value} is zero; Alertmanager needs a positive interval")
    return value


def _duration_seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", value))


def _at_least_a_minute(value: str) -> str:
    if _duration_seconds(value) < 60:
        raise ValueError(f"{value} is under 1m, the heartbeat route's group interval")
    return value


def _at_least_a_day(value: str) -> str:
    if _duration_seconds(value) < 86400:
        raise ValueError(f"{value} is under 24h: info notifications repeat at most daily")
    return value


def _alarm_period(value: int) -> int:
    if value not in (10, 30) and (value < 60 or value % 60):
        raise ValueError(f"{value} is not an alarm period; allowed: 10, 30 or a multiple of 60")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
        # Thresholds, ratios and rates are finite in every environment: never .nan or .inf.
        allow_inf_nan=False,
    )


class AwsConfig(_Model):
    """Whether this stack has an AWS account (CloudWatch, KMS, IAM, SNS)."""

    enabled: bool = Field(description="Create the AWS resources (log groups, KMS, alarms, IAM).")


#: eks: managed control plane, no controller-manager/scheduler/etcd metrics, kube-proxy on
#: 127.0.0.1; kind: kubeadm defaults, the same four bound to 127.0.0.1; generic: a cluster whose
#: control plane Prometheus can reach (everything scraped).
ClusterFlavor = Literal["eks", "kind", "generic"]


class ClusterConfig(_Model):
    """The Kubernetes cluster the workloads and the monitoring stack run in."""

    name: str = Field(pattern=_DNS_LABEL, description="Cluster name, used in external labels.")
    kubernetes_version: str = Field(
        pattern=_K8S_VERSION, description="Kubernetes minor version, e.g. '1.31'."
    )
    namespace: str = Field(pattern=_DNS_LABEL, description="Namespace of the workloads.")
    observability_namespace: str = Field(
        default="observability",
        pattern=_DNS_LABEL,
        description="Namespace of the collector, Jaeger, Loki and the log shipper.",
    )
    oidc_provider_arn: str | None = Field(
        default=None,
        pattern=_OIDC_ARN,
        description="The cluster's IAM OIDC provider; when set, service accounts get IRSA roles.",
    )
    flavor: ClusterFlavor = Field(
        description="What kind of cluster: eks, kind or generic. It decides which control-plane"
        " components Prometheus can scrape (infra/render/chart_facts.py)."
    )
    kubeconfig_context: str | None = Field(
        default=None,
        pattern=_KUBE_CONTEXT,
        description="The kubeconfig context `pulumi up` deploys with (unset: the current one);"
        " either way the context must point at the cluster `name` names.",
    )

    @property
    def oidc_issuer(self) -> str | None:
        """The issuer host and path the trust policy's conditions are keyed by."""
        if self.oidc_provider_arn is None:
            return None
        return self.oidc_provider_arn.split(":oidc-provider/", 1)[1]


class ResourcesConfig(_Model):
    """Kubernetes requests and limits for one container."""

    cpu_request: str = Field(pattern=_CPU)
    memory_request: str = Field(pattern=_MEMORY)
    cpu_limit: str | None = Field(default=None, pattern=_CPU)
    memory_limit: str = Field(pattern=_MEMORY)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        if _bytes(self.memory_request) > _bytes(self.memory_limit):
            raise ValueError(
                f"memoryRequest {self.memory_request} is above memoryLimit {self.memory_limit}"
            )
        if self.cpu_limit and _millicores(self.cpu_request) > _millicores(self.cpu_limit):
            raise ValueError(f"cpuRequest {self.cpu_request} is above cpuLimit {self.cpu_limit}")
        return self

    def as_k8s(self) -> dict[str, dict[str, str]]:
        limits = {"memory": self.memory_limit}
        if self.cpu_limit:
            limits["cpu"] = self.cpu_limit
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": limits,
        }


class ProbeConfig(_Model):
    """One probe, as Kubernetes takes it: an HTTP GET of `path`, or (type tcp, for a service
    with no health endpoint) a TCP connect to the service's port."""

    type: Literal["http", "tcp"] = Field(
        default="http", description="http: GET `path`; tcp: the port accepts a connection."
    )
    path: str | None = Field(default=None, pattern=_HTTP_PATH)
    initial_delay_seconds: int = Field(ge=0, le=3600)
    period_seconds: int = Field(ge=1, le=3600)
    timeout_seconds: int = Field(ge=1, le=3600)
    failure_threshold: int = Field(ge=1, le=1000)
    success_threshold: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _path_matches_type(self) -> Self:
        if self.type == "http" and self.path is None:
            raise ValueError("an http probe needs a path (or use type: tcp)")
        if self.type == "tcp" and self.path is not None:
            raise ValueError("a tcp probe has no path (use type: http to GET one)")
        return self


class MetricsEndpointConfig(_Model):
    """Whether a service serves Prometheus metrics, and where."""

    enabled: bool = Field(
        default=True, description="It serves metrics: a ServiceMonitor, ServiceDown, $service."
    )
    path: str = Field(default="/metrics", pattern=_HTTP_PATH)
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Defaults to the service's own port."
    )


#: The seed's probes (section 5), field by field as a stack file spells them. A probe a stack
#: file gives takes every field it does not set from here: `liveness: {path: /livez}` keeps the
#: seed's liveness timings. A probe switched to `type: tcp` takes no path.
SEED_PROBES: dict[str, dict[str, Any]] = {
    "liveness": {
        "type": "http",
        "path": "/health",
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
        "successThreshold": 1,
    },
    "readiness": {
        "type": "http",
        "path": "/health/ready",
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
        "successThreshold": 1,
    },
    "startup": {
        "type": "http",
        "path": "/health/startup",
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 30,
        "successThreshold": 1,
    },
}


def _with_seed(seed: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` with each field it sets neither by its stack-file (camelCase) nor its Python
    name taken from `seed`; a tcp probe takes no seed path."""
    out = dict(given)
    names = {field.alias or name: name for name, field in ProbeConfig.model_fields.items()}
    kind = given.get("type", seed["type"])
    for key, value in seed.items():
        if key in given or names.get(key, key) in given:
            continue
        if key == "path" and kind == "tcp":
            continue
        out[key] = value
    return out


class ProbesConfig(_Model):
    """The seed's three probes; defaults are exactly the seed's (section 5), per field."""

    liveness: ProbeConfig = ProbeConfig.model_validate(SEED_PROBES["liveness"])
    readiness: ProbeConfig = ProbeConfig.model_validate(SEED_PROBES["readiness"])
    startup: ProbeConfig = ProbeConfig.model_validate(SEED_PROBES["startup"])

    @model_validator(mode="before")
    @classmethod
    def _seed_each_field(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            kind: _with_seed(SEED_PROBES[kind], given)
            if kind in SEED_PROBES and isinstance(given, dict)
            else given
            for kind, given in data.items()
        }


LogLevel = Literal["error", "warn", "info", "http", "debug"]


class ServiceConfig(_Model):
    """One workload of the application (the Express backend, the Next.js frontend)."""

    image: Annotated[str, AfterValidator(_pinned_image)] = Field(
        description="Container image, pinned to a tag or digest (never 'latest')."
    )
    port: int = Field(ge=1, le=65535, description="Container port serving HTTP and /metrics.")
    replicas: int = Field(default=1, ge=1, le=100)
    boot_seconds: int = Field(default=60, ge=1, le=3600, description="Worst-case start time.")
    service_account: str | None = Field(
        default=None, pattern=_DNS_LABEL, description="Defaults to the service's name."
    )
    log_filters: tuple[LogFilter, ...] = Field(
        default=("errors", "slowRequests"),
        description="CloudWatch metric filters over this service's JSON logs.",
    )
    probes: ProbesConfig = ProbesConfig()
    metrics: MetricsEndpointConfig = Field(
        default=MetricsEndpointConfig(),
        description="Its /metrics endpoint (default: the seed's backend's; off for frontend).",
    )
    log_level: LogLevel | None = Field(
        default=None, description="LOG_LEVEL; default debug in local and dev, info elsewhere."
    )
    debug: str | None = Field(
        default=None, description="DEBUG namespaces for the debug package, e.g. 'app:*'."
    )
    debug_requests: bool = Field(default=False, description="DEBUG_REQUESTS request dumps.")
    resources: ResourcesConfig | None = Field(
        default=None, description="Container resources; default per environment."
    )
    sentry: bool = Field(default=True, description="Wire SENTRY_DSN when Sentry is enabled.")


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
    group_wait: str = Field(default="30s", pattern=_DURATION)
    group_interval: Annotated[str, AfterValidator(_positive_duration)] = Field(
        default="5m", pattern=_DURATION
    )
    repeat_interval: Annotated[str, AfterValidator(_positive_duration)] = Field(
        default="4h", pattern=_DURATION
    )
    info_repeat_interval: Annotated[str, AfterValidator(_at_least_a_day)] = Field(
        default="24h", pattern=_DURATION, description="Info notifications repeat at most daily."
    )


class AlertOverride(_Model):
    """A per-environment change to one alert rule."""

    threshold: float | None = None
    for_: str | None = Field(default=None, alias="for", pattern=_DURATION)


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
    heartbeat_interval: Annotated[str, AfterValidator(_at_least_a_minute)] = Field(
        default="5m", pattern=_DURATION, description="How often Watchdog pings the heartbeat URL."
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


class SloConfig(_Model):
    """One service level objective over 30 days (alerts/slos.py renders its rules and tests)."""

    objective: float = Field(
        gt=0, lt=1, description="The share of good user requests, e.g. 0.999 for 99.9%."
    )
    threshold_seconds: float | None = Field(
        default=None, gt=0, description="Latency SLOs: a histogram bucket boundary, e.g. 1."
    )
    page: bool = Field(
        default=False,
        description="The fast burn tiers page (critical); else every tier is a ticket (warning).",
    )


#: Where Prometheus's samples end up: only its own disk, or also Amazon Managed Service for
#: Prometheus (remote write; docs/scaling.md).
MetricsStore = Literal["in-cluster", "amp"]


class RemoteWriteQueue(_Model):
    """Prometheus's remote-write queue (per shard): how much it buffers and sends at once."""

    capacity: int = Field(
        default=10000, ge=100, le=1_000_000, description="Samples buffered per shard."
    )
    min_shards: int = Field(default=1, ge=1, le=1000)
    max_shards: int = Field(default=50, ge=1, le=1000, description="Parallel senders at most.")
    max_samples_per_send: int = Field(
        default=2000, ge=100, le=100_000, description="Samples per request."
    )
    batch_send_deadline: str = Field(
        default="5s", pattern=_DURATION, description="Longest a sample waits in a shard."
    )


class AmpConfig(_Model):
    """The Amazon Managed Service for Prometheus workspace this stack's Prometheus writes to."""

    workspace_id: str | None = Field(
        default=None,
        pattern=_AMP_WORKSPACE_ID,
        description="Write to an existing workspace (one another stack declares, in this"
        " account and region); unset: this stack declares its own.",
    )
    retention_days: int = Field(
        default=150,
        ge=1,
        le=1095,
        description="How long the workspace keeps samples (only for a workspace this stack"
        " declares).",
    )
    other_clusters: tuple[Annotated[str, Field(pattern=_DNS_LABEL)], ...] = Field(
        default=(),
        description="Other clusters writing to the same workspace: the dashboards gain a"
        " `cluster` variable.",
    )
    queue: RemoteWriteQueue = RemoteWriteQueue()
    keep_metrics: tuple[Annotated[str, Field(pattern=_METRIC_NAME)], ...] = Field(
        default=(),
        description="Metric names written besides those the estate's rules and dashboards read.",
    )
    log_retention_days: Annotated[int, AfterValidator(_allowed_retention)] = Field(
        default=30, description="Retention of the workspace's own log group."
    )


class MetricsConfig(_Model):
    """kube-prometheus-stack: Prometheus, Alertmanager, Grafana and the operator."""

    store: MetricsStore = Field(
        default="in-cluster",
        description="in-cluster: Prometheus's disk only; amp: also remote-write to Amazon"
        " Managed Service for Prometheus (metrics.amp), Grafana reading it.",
    )
    amp: AmpConfig = AmpConfig()

    namespace: str = Field(default="monitoring", pattern=_DNS_LABEL)
    chart_version: str = Field(default="88.0.0", pattern=_SEMVER)
    retention: str = Field(pattern=_DURATION, description="How long Prometheus keeps samples.")
    retention_size: str = Field(pattern=_SIZE, description="Disk cap for the TSDB, e.g. 45GB.")
    storage: str = Field(pattern=_MEMORY, description="Prometheus volume size, e.g. 50Gi.")
    storage_class: str | None = Field(default=None, pattern=_DNS_LABEL)
    prometheus_replicas: int = Field(ge=1, le=10)
    alertmanager_replicas: int = Field(ge=1, le=10)
    alertmanager_storage: str = Field(default="1Gi", pattern=_MEMORY)
    scrape_interval: str = Field(default="30s", pattern=_DURATION)
    evaluation_interval: str = Field(default="30s", pattern=_DURATION)
    prometheus_resources: ResourcesConfig
    grafana_storage: str | None = Field(
        default=None, pattern=_MEMORY, description="Grafana persistence size; none disables it."
    )
    prometheus_external_url: HttpUrl | None = Field(
        default=None, pattern=_URL, description="Where people reach Prometheus (alert links)."
    )
    alertmanager_external_url: HttpUrl | None = Field(
        default=None, pattern=_URL, description="Where people reach Alertmanager (silences)."
    )


class ExternalGrafana(_Model):
    """A Grafana outside the cluster that receives the dashboards via its API."""

    url: HttpUrl = Field(pattern=_URL)
    auth: Secret = Field(description="Service-account token, or user:password.")


class GrafanaConfig(_Model):
    """Dashboards and data sources as code."""

    external: ExternalGrafana | None = None


class TracingConfig(_Model):
    """OpenTelemetry collector and Jaeger v2."""

    enabled: bool = True
    sample_ratio: float = Field(ge=0, le=1, description="Head sampling at the collector.")
    storage: Literal["memory", "elasticsearch", "opensearch"]
    storage_url: HttpUrl | None = Field(default=None, pattern=_URL)
    storage_username: str | None = None
    storage_password: Secret | None = None
    retention_days: int = Field(
        ge=1,
        le=3650,
        description="Days of trace indices kept in Elasticsearch/OpenSearch (the chart's"
        " esIndexCleaner deletes older ones daily).",
    )


class LokiConfig(_Model):
    """Loki for in-cluster logs, with a shipper DaemonSet."""

    enabled: bool = True
    retention: str = Field(pattern=_DURATION)
    storage: Literal["filesystem", "s3"]
    bucket: str | None = Field(default=None, pattern=_BUCKET)


class SentryConfig(_Model):
    """A Sentry project and client key per environment (token in `sentry:token`)."""

    enabled: bool
    organization: str | None = Field(default=None, pattern=_SLUG)
    team: str | None = Field(default=None, pattern=_SLUG)
    traces_sample_rate: float = Field(ge=0, le=1)


class RumConfig(_Model):
    """CloudWatch RUM app monitor for the frontend."""

    enabled: bool = False
    domain: str | None = Field(default=None, pattern=_DOMAIN)
    session_sample_rate: float = Field(default=1.0, ge=0, le=1)


def _seed_service_defaults(value: object) -> object:
    """Each service's instrumentation defaults by name (infra/config/defaults.py:
    SERVICE_DEFAULTS), deep-merged under what the stack file says about it."""
    from infra.config.defaults import SERVICE_DEFAULTS, merge

    if not isinstance(value, dict):
        return value
    return {
        name: merge(SERVICE_DEFAULTS[name], given)
        if name in SERVICE_DEFAULTS and isinstance(given, dict)
        else given
        for name, given in value.items()
    }


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
        if self.environment == "prod":
            if not self.logs.encrypt:
                problems.append((f"{PROJECT}:logs.encrypt", "must be true in prod"))
            if not self.logs.protect:
                problems.append((f"{PROJECT}:logs.protect", "must be true in prod"))
            if not self.alerting.page_on_call:
                problems.append(
                    (f"{PROJECT}:alerting.pageOnCall", "must be true in prod: critical alerts page")
                )
        if self.alerting.page_on_call and self.environment in ("local", "dev"):
            problems.append(
                (
                    f"{PROJECT}:alerting.pageOnCall",
                    f"must be false in {self.environment}: only staging and prod page the on-call",
                )
            )
        if self.environment in ("staging", "prod"):
            problems += self._watched_from_outside()
        if self.alerting.page_on_call and self.alerting.pagerduty is None:
            problems.append(
                (
                    f"{PROJECT}:alerting.pagerduty",
                    "is required when pageOnCall is true: critical alerts need an on-call route"
                    " (set alerting.pagerduty.routingKey as a secret)",
                )
            )
        if self.environment == "prod":
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
            and self.environment in ("staging", "prod")
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
        if env in ("staging", "prod") and not self.aws_allowed_account_ids:
            problems.append(
                (
                    "aws:allowedAccountIds",
                    f"is required in {env}: the AWS provider refuses any other account, so a"
                    " wrong profile cannot deploy into the wrong account",
                )
            )
        if alerting.page_on_call:
            problems += self._paging_problems()
        if env != "prod":
            return problems
        if not self.aws.enabled:
            problems.append((f"{PROJECT}:aws.enabled", "must be true in prod"))
        if self.logs.retention_days == 0 or self.logs.retention_days < 30:
            problems.append(
                (
                    f"{PROJECT}:logs.retentionDays",
                    f"{self.logs.retention_days} is below prod's floor: at least 30 days",
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
        (the critical alerts' own `for` limit is checked in `infra.program.plan`)."""
        problems: list[tuple[str, str]] = []
        grouping = self.alerting.grouping
        for key, value, limit in (
            ("groupWait", grouping.group_wait, "5m"),
            ("groupInterval", grouping.group_interval, "30m"),
            ("repeatInterval", grouping.repeat_interval, "24h"),
        ):
            if duration_seconds(value) > duration_seconds(limit):
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
        if self.environment == "prod":
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


#: The longest `for` a critical (paging) alert may have.
CRITICAL_FOR_MAX_SECONDS = 3600
_PAGERDUTY_URL = re.compile(r"^https://events(\.[a-z]{2})?\.pagerduty\.com/")
_DURATION_SECONDS = {
    "ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000,
}  # fmt: skip


def duration_seconds(value: str) -> float:
    """A Prometheus duration (`30s`, `1h30m`, `520w`) in seconds."""
    return sum(
        int(n) * _DURATION_SECONDS[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", value)
    )


_UNITS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def _bytes(quantity: str) -> int:
    number = re.match(r"^[0-9]+", quantity)
    assert number is not None  # the field patterns guarantee a leading number
    return int(number.group()) * _UNITS[quantity[number.end() :]]


def _millicores(cpu: str) -> float:
    return float(cpu[:-1]) if cpu.endswith("m") else float(cpu) * 1000


class CrossFieldError(ValueError):
    """Raised by EstateConfig's cross-field rules; each problem names its own key."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


def top_level_keys() -> dict[str, str]:
    """Full config key -> field name, for every key EstateConfig reads."""
    return {
        str(f.alias): name
        for name, f in EstateConfig.model_fields.items()
        if f.alias != STACK_KEY  # from the stack's name, never from its file
    }
