"""The config model's shared pieces: environments, field patterns and their words, secret
and URL fields, durations, and the strict base model every section derives from."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    SecretStr,
    ValidationInfo,
)
from pydantic.alias_generators import to_camel

from infra.config.secrets import PLACEHOLDER_PREFIX, placeholder
from infra.core import durations
from infra.core.environments import EnvironmentName
from infra.core.labels import LABEL_NAME_PATTERN
from infra.naming import (
    PROJECT,
    image_reference_problem,
    pin_problem,
)

Environment = EnvironmentName

#: Where build_config passes the stack's name (never a key a stack file may set: the loader
#: refuses it). Account-wide AWS names are scoped by it (`EstateConfig.name_scope`).
STACK_KEY = f"{PROJECT}:stack"
#: Sentry's project slugs held at most 50 characters until 2024 (migration 0770 raised it);
#: self-hosted releases from before still refuse more, so the estate stays within 50.
SENTRY_SLUG_MAX = 50
#: An AMP workspace alias has at most this many characters.
AMP_ALIAS_MAX = 100

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
_GROUP_LABEL = rf"^({LABEL_NAME_PATTERN}|\.\.\.)$"
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


def _duration(value: str) -> str:
    """A duration as Prometheus and Alertmanager read it (infra/core/durations.py)."""
    try:
        durations.milliseconds(value)
    except durations.DurationError as err:
        raise ValueError(str(err)) from None
    return value


#: A Prometheus duration setting (`30s`, `1h30m`): checked by the project's one parser.
Duration = Annotated[str, AfterValidator(_duration)]


def _at_least_a_minute(value: str) -> str:
    if durations.seconds(value) < 60:
        raise ValueError(f"{value} is under 1m, the heartbeat route's group interval")
    return value


def _at_least_a_day(value: str) -> str:
    if durations.seconds(value) < 86400:
        raise ValueError(f"{value} is under 24h: info notifications repeat at most daily")
    return value


def _alarm_period(value: int) -> int:
    if value not in (10, 30) and (value < 60 or value % 60):
        raise ValueError(f"{value} is not an alarm period; allowed: 10, 30 or a multiple of 60")
    return value


_PAGERDUTY_URL = re.compile(r"^https://events(\.[a-z]{2})?\.pagerduty\.com/")
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
