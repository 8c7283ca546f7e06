"""Names the cloud and Kubernetes accept: one builder and one check per kind of name.

The program builds its names with these functions and the config checks call the same
functions, so a name that passes `estate synth` is the name `pulumi up` sends. Every
`*_problem` function returns why a name would be refused (or None); it never echoes
anything but the name itself.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

PROJECT = "blue-harvest"

# --- labels, type tokens, release names ----------------------------------------------------

#: Every Kubernetes object the estate declares carries `PART_OF_LABEL: PROJECT`.
PART_OF_LABEL = "app.kubernetes.io/part-of"
#: The namespaces' environment label; the policies (estate check, the CrossGuard pack) read it.
ENVIRONMENT_LABEL = f"{PROJECT}.io/environment"
#: The components' type tokens are `<TYPE_PREFIX>:<Class>`.
TYPE_PREFIX = "blueharvest:observability"
#: The Watchdog alert: always firing, routed to the dead man's switch.
WATCHDOG = "Watchdog"

#: Helm release names (fixed: the charts' Service names and the operator's selectors use them).
MONITORING_RELEASE = "kube-prometheus-stack"
LOKI_RELEASE = "loki"
ALLOY_RELEASE = "alloy"
COLLECTOR_RELEASE = "otel-collector"
JAEGER_RELEASE = "jaeger"


def rule_name(group: str) -> str:
    """The PrometheusRule of one rule group."""
    return f"{PROJECT}-{group}"


#: OpenTelemetry's service.name of a workload is `blue-harvest-<service>` (seed section 3).
TRACE_SERVICE_PREFIX = f"{PROJECT}-"


def trace_service_name(service: str) -> str:
    return f"{TRACE_SERVICE_PREFIX}{service}"


# --- account-wide names ---------------------------------------------------------------------
# IAM roles and policies, S3 buckets, KMS aliases, SNS topics, CloudWatch alarms and log groups,
# RUM monitors, the AMP workspace alias, the Sentry project and the PagerDuty service are named
# once per account (or organization), not per cluster. They carry the stack's *name scope*
# (`EstateConfig.name_scope`): the stack name, so two stacks of one environment (`prod` and
# `prod-eu`) in one account never collide. For the stacks local, dev, staging and prod the
# scope is the environment's name, so their names read `blue-harvest-prod-...` as always.
# Labels, tags and Kubernetes objects keep the environment (they are per cluster, or say which
# rules a stack meets).

_SCOPE_OUTSIDE = re.compile(r"[^a-z0-9-]")


def name_scope(stack: str) -> str:
    """The part of account-wide names a stack contributes: its name in lowercase, with every
    character S3, KMS aliases, SNS topics or Sentry slugs refuse (`.`, `_`) written as `-`
    (`prod.eu-west-1` -> `prod-eu-west-1`). Two stack names that differ only there share a
    scope, so they must not share an account."""
    return _SCOPE_OUTSIDE.sub("-", stack.lower())


def resource_name(scope: str, *parts: str) -> str:
    """An account-wide cloud resource's name: `blue-harvest-<scope>[-<part>...]`."""
    return "-".join((PROJECT, scope, *parts))


def loki_bucket_name(scope: str, account_id: str) -> str:
    """Loki's bucket when loki.bucket is unset. Bucket names are global: the account id keeps
    two accounts' stacks apart, the scope two stacks of one account."""
    return resource_name(scope, "loki", account_id)


#: logs.groupPrefix of the stacks named after their environment (local, dev, staging, prod).
LOG_GROUP_PREFIX = f"/{PROJECT}"


def default_log_group_prefix(scope: str, environment: str) -> str:
    """logs.groupPrefix when the stack file sets none: `/blue-harvest` for a stack named after
    its environment (the prefix those stacks always had), `/blue-harvest/<scope>` for any other
    stack, which may share an account with the stack of its environment."""
    return LOG_GROUP_PREFIX if scope == environment else f"{LOG_GROUP_PREFIX}/{scope}"


# --- Loki stream labels ----------------------------------------------------------------------
# Alloy (infra/render/loki.py) sets these labels and the dashboards select on them: both read
# them from here.

LOKI_NAMESPACE_LABEL = "namespace"
LOKI_CONTAINER_LABEL = "container"
LOKI_ENVIRONMENT_LABEL = "environment"
LOKI_CLUSTER_LABEL = "cluster"
LOKI_LEVEL_LABEL = "level"
#: Alloy's relabel rules: (Kubernetes discovery meta label, Loki stream label).
ALLOY_POD_RELABELS = (
    ("__meta_kubernetes_namespace", LOKI_NAMESPACE_LABEL),
    ("__meta_kubernetes_pod_name", "pod"),
    ("__meta_kubernetes_pod_container_name", LOKI_CONTAINER_LABEL),
    ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "app"),
)

# --- Kubernetes ---------------------------------------------------------------------------

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def dns1123_label_problem(name: str) -> str | None:
    """Kubernetes DNS-1123 label: namespaces, Services, container and port names."""
    if len(name) > 63:
        return f"{name!r} is {len(name)} characters; a DNS-1123 label has at most 63"
    if not _DNS1123_LABEL.fullmatch(name):
        return (
            f"{name!r} is not a DNS-1123 label: lowercase letters, digits and '-',"
            " starting and ending with a letter or digit"
        )
    return None


def dns1123_subdomain_problem(name: str) -> str | None:
    """Kubernetes DNS-1123 subdomain: most object names (ConfigMaps, Secrets, Deployments)."""
    if len(name) > 253:
        return f"{name!r} is {len(name)} characters; a DNS-1123 subdomain has at most 253"
    if not _DNS1123_SUBDOMAIN.fullmatch(name):
        return (
            f"{name!r} is not a DNS-1123 subdomain: dot-separated labels of lowercase"
            " letters, digits and '-'"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """A Kubernetes label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric ends."""
    if len(value) > 63:
        return f"{value!r} is {len(value)} characters; a label value has at most 63"
    if not _LABEL_VALUE.fullmatch(value):
        return (
            f"{value!r} is not a label value: letters, digits, '-', '_' and '.',"
            " starting and ending with a letter or digit"
        )
    return None


def namespace_problem(name: str) -> str | None:
    """A namespace the estate may deploy into: a DNS-1123 label that is not Kubernetes' own
    (`kube-*`) nor `default` (shared by everything that names no namespace)."""
    problem = dns1123_label_problem(name)
    if problem:
        return problem
    if name.startswith("kube-"):
        return f"{name!r} is reserved for Kubernetes itself (kube-*); use the estate's own"
    if name == "default":
        return "'default' is where everything without a namespace lands; use the estate's own"
    return None


# --- container images (the OCI distribution reference grammar) -------------------------------

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
#: distribution/reference's ReferenceRegexp: name[:tag][@digest].
IMAGE_REFERENCE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)


def image_reference_problem(image: str) -> str | None:
    """Why `image` is not a valid image reference (docker/distribution grammar), or None."""
    match = IMAGE_REFERENCE.fullmatch(image)
    if match is None:
        shown = image.encode("unicode_escape").decode("ascii")
        return (
            f"'{shown}' is not an image reference: [registry[:port]/]path[:tag][@digest],"
            " lowercase path, no spaces or control characters"
        )
    if len(match.group("name")) > 255:
        return f"the image name is {len(match.group('name'))} characters; at most 255"
    return None


# Image pinning: the one rule the config, the policies and the checks share.

_PIN_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def pin_problem(image: str) -> str | None:
    """Why `image` is not pinned to a tag or digest (never `latest`), or None when it is."""
    name, _, digest = image.partition("@")
    if digest:
        if not _PIN_DIGEST.fullmatch(digest):
            return f"image {image!r} has a malformed digest; use @sha256:<64 hex>"
        return None
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag; pin a version such as {image}:1.2.3"
    if last.rsplit(":", 1)[1] in ("", "latest"):
        return f"image {image!r} uses the 'latest' tag; pin a version"
    return None


# --- AWS -------------------------------------------------------------------------------------

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def s3_bucket_problem(name: str) -> str | None:
    """Amazon S3's general-purpose bucket naming rules."""
    if not 3 <= len(name) <= 63:
        return f"{name!r} is {len(name)} characters; S3 bucket names have 3 to 63"
    if not _BUCKET.fullmatch(name):
        return (
            f"{name!r} is not an S3 bucket name: lowercase letters, digits, '.' and '-',"
            " starting and ending with a letter or digit"
        )
    if ".." in name:
        return f"{name!r} has two adjacent periods; S3 refuses them"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return f"{name!r} is formatted as an IP address; S3 refuses such bucket names"
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", name):
        return f"{name!r} is formatted as an IP address; S3 refuses such bucket names"
    for prefix in _BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"{name!r} starts with {prefix!r}, which S3 reserves"
    for suffix in _BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return f"{name!r} ends with {suffix!r}, which S3 reserves"
    return None


_LOG_GROUP = re.compile(r"[.\-_/#A-Za-z0-9]+")


def log_group_name(prefix: str, service: str) -> str:
    """The CloudWatch log group of one service."""
    return f"{prefix}/{service}"


def log_group_problem(name: str) -> str | None:
    if not 1 <= len(name) <= 512:
        return f"the log group name is {len(name)} characters; CloudWatch allows 1 to 512"
    if not _LOG_GROUP.fullmatch(name):
        return f"{name!r} is not a log group name: letters, digits and . - _ / # only"
    return None


_METRIC_NAMESPACE = re.compile(r"[A-Za-z0-9.\-_/#: ]+")


def default_metric_namespace(scope: str) -> str:
    """logs.metricNamespace when unset: the metric filters' and alarms' namespace, per stack
    (two stacks' filters writing one metric would make each stack's alarm count both)."""
    return f"BlueHarvest/{scope}"


def metric_namespace_problem(namespace: str) -> str | None:
    """CloudWatch custom metric namespaces: at most 255 ASCII characters, never `AWS/...`."""
    if not 1 <= len(namespace) <= 255:
        return f"the namespace is {len(namespace)} characters; CloudWatch allows 1 to 255"
    if not _METRIC_NAMESPACE.fullmatch(namespace) or not namespace.strip():
        return f"{namespace!r} is not a metric namespace: letters, digits, spaces and . - _ / # :"
    if namespace.startswith("AWS/"):
        return f"{namespace!r} starts with 'AWS/', which is reserved for AWS services' metrics"
    return None


_IAM_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
IAM_ROLE_NAME_MAX = 64
IAM_POLICY_NAME_MAX = 128


def irsa_role_name(scope: str, service: str) -> str:
    """The IAM role a service's Kubernetes service account assumes (IRSA)."""
    return resource_name(scope, service)


def amp_role_name(scope: str, cluster: str, component: str) -> str:
    """The IRSA role of a cluster's Prometheus (writer) or Grafana (reader) on the metrics
    workspace. IAM names are account-wide and several clusters share a workspace (and its
    account), so the cluster is in the name as well as the stack's scope."""
    return resource_name(scope, cluster, component, "amp")


def log_writer_policy_name(scope: str, service: str) -> str:
    """The IAM policy that lets one service write its own log group."""
    return resource_name(scope, service, "log-writer")


def iam_name_problem(name: str, what: str = "role", limit: int = IAM_ROLE_NAME_MAX) -> str | None:
    """IAM role (64) and policy (128) names: [A-Za-z0-9_+=,.@-]."""
    if not 1 <= len(name) <= limit:
        return f"the IAM {what} name {name!r} would be {len(name)} characters; AWS allows {limit}"
    if not _IAM_NAME.fullmatch(name):
        return f"the IAM {what} name {name!r} may hold only letters, digits and _+=,.@-"
    return None


# --- Pulumi stacks ---------------------------------------------------------------------------

#: Pulumi's limit on a stack name's length.
STACK_NAME_MAX = 100
#: Pulumi's stack-name characters; stricter in that the first may not be `.`.
_STACK_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", re.ASCII)
STACK_NAME_HELP = (
    f"1 to {STACK_NAME_MAX} letters, digits, '-', '_' or '.', not starting with '.'"
    " (for example dev, prod, prod.eu-west-1)"
)


class InvalidStackNameError(ValueError):
    """A stack name breaks the rule of `stack_name_problem`; the message says what is allowed."""


def stack_name_problem(name: str) -> str | None:
    """Why `name` cannot be a stack name, or None.

    The rule is Pulumi's (letters, digits, `-`, `_`, `.`; at most 100 characters), made
    stricter so that a stack name is always exactly one harmless path part: not empty, and
    not starting with `.` (which refuses `.`, `..` and hidden names). A stack name becomes
    `stacks/Pulumi.<stack>.yaml` and `out/<stack>/`: this is what keeps a file called
    `Pulumi....yaml` (stack `..`) or `Pulumi..yaml` (stack ``) from naming `out/..` or `out/`.
    """
    if len(name) > STACK_NAME_MAX or not _STACK_NAME.fullmatch(name):
        shown = repr(name) if name else "'' (empty)"
        return f"stack name {shown} is not allowed: must be {STACK_NAME_HELP}"
    return None


def validate_stack_name(name: str) -> str:
    """`name` if it is a legal stack name (`stack_name_problem`), else InvalidStackNameError."""
    problem = stack_name_problem(name)
    if problem is not None:
        raise InvalidStackNameError(problem)
    return name


# --- in-cluster names and URLs -----------------------------------------------------------
# The components agree on these (releases set fullnameOverride so the Services really have
# these names): the dashboards' data sources, the collector's exporters and the workloads' env
# all read them from here.


@dataclass(frozen=True)
class Endpoints:
    monitoring_namespace: str
    observability_namespace: str

    @property
    def prometheus(self) -> str:
        return f"http://{MONITORING_RELEASE}-prometheus.{self.monitoring_namespace}.svc:9090"

    @property
    def alertmanager(self) -> str:
        return f"http://{MONITORING_RELEASE}-alertmanager.{self.monitoring_namespace}.svc:9093"

    @property
    def loki(self) -> str:
        return f"http://{LOKI_RELEASE}.{self.observability_namespace}.svc:3100"

    @property
    def jaeger_query(self) -> str:
        return f"http://{JAEGER_RELEASE}.{self.observability_namespace}.svc:16686"

    @property
    def jaeger_otlp_grpc(self) -> str:
        return f"{JAEGER_RELEASE}.{self.observability_namespace}.svc:4317"

    @property
    def otel_collector_otlp_http(self) -> str:
        return f"http://{COLLECTOR_RELEASE}.{self.observability_namespace}.svc:4318"

    @property
    def otel_collector_jaeger_thrift(self) -> str:
        return f"http://{COLLECTOR_RELEASE}.{self.observability_namespace}.svc:14268/api/traces"


#: Stable data source UIDs the dashboards reference.
DATASOURCE_UIDS = {
    "prometheus": "bh-prometheus",
    "alertmanager": "bh-alertmanager",
    "loki": "bh-loki",
    "jaeger": "bh-jaeger",
    #: metrics.store amp: the Amazon Managed Service for Prometheus workspace (every cluster
    #: writing to it, and its longer retention).
    "amp": "bh-amp",
}
