"""The estate's policies as plain functions over the resources a stack registers.

`estate check` feeds them the synth's resources.json; the CrossGuard policy pack (policy/)
feeds them the engine's PolicyResources during `pulumi preview --policy-pack policy`. Both
go through `Resource`, so one function decides for both.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser

from infra.config.identity import policy_environment
from infra.core import durations, environments
from infra.core.environments import prod_rules, production_like
from infra.naming import ENVIRONMENT_LABEL, image_reference_problem, pin_problem
from infra.review.route_match import paging_receivers, receivers

_RELEASE = "kubernetes:helm.sh/v3:Release"
_PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
STATEFUL_TYPES = frozenset(
    {
        _LOG_GROUP,
        "aws:kms/key:Key",
        # The metrics store's samples (metrics.store amp).
        "aws:amp/workspace:Workspace",
        "aws:s3/bucketV2:BucketV2",
        "aws:s3/bucket:Bucket",
        "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:core/v1:PersistentVolume",
    }
)
_WORKLOADS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
}
#: Passwords charts ship as defaults; never acceptable for Grafana's admin.
DEFAULT_PASSWORDS = frozenset({"admin", "prom-operator", "password", "changeme"})


@dataclass(frozen=True)
class Resource:
    """What a policy sees of a resource, whichever engine registered it."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    protect: bool

    @property
    def stack(self) -> str:
        return self.urn.split("::")[0].removeprefix("urn:pulumi:")


@dataclass(frozen=True)
class Violation:
    policy: str
    urn: str
    location: str
    message: str


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    check: Callable[[Sequence[Resource], str], Iterator[Violation]]


def from_registration(entry: Mapping[str, Any]) -> Resource:
    """A resources.json entry (estate synth) as a Resource."""
    return Resource(
        type=str(entry["type"]),
        urn=str(entry["urn"]),
        name=str(entry["name"]),
        props=entry.get("inputs") or {},
        protect=bool(entry.get("protect")),
    )


def _rules(resources: Sequence[Resource]) -> Iterator[tuple[Resource, str, dict[str, Any]]]:
    for r in resources:
        if r.type == _PROMETHEUS_RULE:
            for group in (r.props.get("spec") or {}).get("groups", []):
                for rule in group.get("rules", []):
                    if "alert" in rule:
                        yield r, str(group.get("name")), rule


def _alert_annotations(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    for r, group, rule in _rules(resources):
        labels, annotations = rule.get("labels") or {}, rule.get("annotations") or {}
        missing = [k for k in ("severity",) if not labels.get(k)]
        missing += [k for k in ("summary", "runbook_url") if not annotations.get(k)]
        if missing:
            yield Violation(
                "alert-annotations",
                r.urn,
                f"group {group}, alert {rule['alert']}",
                f"missing {', '.join(missing)}",
            )


def _alertmanager_configs(
    resources: Sequence[Resource],
) -> Iterator[tuple[Resource, dict[str, Any]]]:
    for r in resources:
        if r.type == _RELEASE:
            config = ((r.props.get("values") or {}).get("alertmanager") or {}).get("config")
            if config:
                yield r, config


def _critical_pages(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    if not production_like(env):
        return
    configs = list(_alertmanager_configs(resources))
    criticals = [
        (r, g, rule)
        for r, g, rule in _rules(resources)
        if (rule.get("labels") or {}).get("severity") == "critical"
    ]
    if criticals and not configs:
        yield Violation(
            "critical-pages",
            criticals[0][0].urn,
            "alertmanager.config",
            "critical alerts exist but no Alertmanager config routes them",
        )
    for release, config in configs:
        pagers = paging_receivers(config)
        for _r, group, rule in criticals:
            labels = {
                "alertname": str(rule["alert"]),
                **{k: str(v) for k, v in (rule.get("labels") or {}).items()},
            }
            reached = receivers(config, labels)
            if not set(reached) & pagers:
                yield Violation(
                    "critical-pages",
                    release.urn,
                    f"group {group}, alert {rule['alert']}",
                    f"critical in {env} but reaches {', '.join(reached) or 'nothing'}, no on-call",
                )


def _log_groups(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    for r in resources:
        if r.type != _LOG_GROUP:
            continue
        if not r.props.get("retentionInDays"):
            yield Violation(
                "log-retention",
                r.urn,
                "inputs.retentionInDays",
                "log group keeps logs forever: set a retention",
            )
        retention = r.props.get("retentionInDays")
        floor = environments.PROD.log_retention_days
        if prod_rules(env) and isinstance(retention, int | float) and 0 < retention < floor:
            yield Violation(
                "log-retention",
                r.urn,
                "inputs.retentionInDays",
                f"prod log group keeps logs {retention:g} days; at least 30",
            )
        if prod_rules(env) and not r.props.get("kmsKeyId"):
            yield Violation(
                "log-encryption",
                r.urn,
                "inputs.kmsKeyId",
                "prod log group is not encrypted with a KMS key",
            )


def _stateful_protected(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    if not prod_rules(env):
        return
    for r in resources:
        if r.type in STATEFUL_TYPES and not r.protect:
            yield Violation(
                "stateful-protected",
                r.urn,
                "options.protect",
                f"{r.type} holds data and must be protected in prod",
            )


def _exposure(section: Mapping[str, Any], part: str) -> str | None:
    service_type = (section.get("service") or {}).get("type", "ClusterIP")
    if service_type in ("LoadBalancer", "NodePort"):
        return f"{part}.service.type"
    if (section.get("ingress") or {}).get("enabled"):
        return f"{part}.ingress.enabled"
    return None


def _authenticated(section: Mapping[str, Any], part: str) -> bool:
    """Prometheus and Alertmanager have no login of their own: only an authenticating ingress
    counts. Grafana counts with SSO (generic OAuth) configured."""
    if part == "grafana":
        oauth = (section.get("grafana.ini") or {}).get("auth.generic_oauth") or {}
        return bool(oauth.get("enabled"))
    annotations = (section.get("ingress") or {}).get("annotations") or {}
    return any(k.endswith(("/auth-url", "/auth-type")) for k in annotations)


def _not_public(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    for r in resources:
        if r.type != _RELEASE:
            continue
        values = r.props.get("values") or {}
        for part in ("prometheus", "alertmanager", "grafana"):
            section = values.get(part) or {}
            exposed = _exposure(section, part)
            if exposed is not None and not _authenticated(section, part):
                yield Violation(
                    "not-public",
                    r.urn,
                    f"values.{exposed}",
                    f"{part} is reachable from outside the cluster without authentication",
                )


def image_pinned(image: str) -> bool:
    return pin_problem(image) is None


def _containers(r: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = ((r.props.get("spec") or {}).get("template") or {}).get("spec") or {}
    for kind in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(kind) or []):
            yield f"spec.template.spec.{kind}[{i}]", c


def _images_pinned(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    for r in resources:
        if r.type in _WORKLOADS:
            for where, c in _containers(r):
                problem = image_reference_problem(str(c.get("image", "")))
                if problem:
                    yield Violation("images-pinned", r.urn, f"{where}.image", problem)
                elif not image_pinned(str(c.get("image", ""))):
                    yield Violation(
                        "images-pinned",
                        r.urn,
                        f"{where}.image",
                        f"image {c.get('image')!r} is not pinned to a tag or digest",
                    )
        if r.type == _RELEASE:
            if not r.props.get("version"):
                yield Violation(
                    "images-pinned", r.urn, "inputs.version", "Helm chart version is not pinned"
                )
            tag = _find_tag(r.props.get("values") or {})
            if tag is not None:
                yield Violation("images-pinned", r.urn, f"values.{tag}", "image tag 'latest'")


def _find_tag(values: Any, path: str = "") -> str | None:
    if isinstance(values, dict):
        if values.get("tag") == "latest":
            return f"{path}.tag".lstrip(".")
        for key, value in values.items():
            found = _find_tag(value, f"{path}.{key}")
            if found:
                return found
    return None


def _grafana_password(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    for r in resources:
        if r.type != _RELEASE:
            continue
        grafana = (r.props.get("values") or {}).get("grafana")
        if not grafana or grafana.get("enabled") is False:
            continue
        password = grafana.get("adminPassword")
        if password is not None and str(password) in DEFAULT_PASSWORDS:
            yield Violation(
                "grafana-password",
                r.urn,
                "values.grafana.adminPassword",
                "Grafana's admin password is a well-known default",
            )
        elif not (grafana.get("admin") or {}).get("existingSecret") and password is None:
            yield Violation(
                "grafana-password",
                r.urn,
                "values.grafana.admin.existingSecret",
                "no admin secret: the chart falls back to its default password",
            )


def _probes(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    for r in resources:
        if r.type != "kubernetes:apps/v1:Deployment":
            continue
        for where, c in _containers(r):
            if "initContainers" in where:
                continue
            missing = [
                p for p in ("livenessProbe", "readinessProbe", "startupProbe") if not c.get(p)
            ]
            if missing:
                yield Violation("workload-probes", r.urn, where, f"missing {', '.join(missing)}")


#: Alertmanager's own defaults, for a route tree that leaves a value unset.
_ALERTMANAGER_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
#: Userinfo in a URL: `scheme://user[:password]@host`.
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@\"']*@")


def duration_seconds(text: str) -> float:
    """A Prometheus/Alertmanager duration in seconds (infra/core/durations.py); inf for one
    Prometheus would refuse, so that a bound is never met by a value that cannot run."""
    try:
        return durations.seconds(text)
    except durations.DurationError:
        return math.inf


def _paging_routes(
    route: Mapping[str, Any], pagers: frozenset[str], inherited: dict[str, str], path: str
) -> Iterator[tuple[str, dict[str, str]]]:
    timing = {k: str(route.get(k, inherited[k])) for k in inherited}
    if route.get("receiver") in pagers:
        yield path, timing
    for i, child in enumerate(route.get("routes") or []):
        yield from _paging_routes(child, pagers, timing, f"{path}.routes[{i}]")


def _paging_grouping(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    """Where critical alerts page (staging, prod), the paging route reaches PagerDuty and a
    page leaves within 5m, is re-grouped within 30m and repeats at least daily."""
    if not production_like(env):
        return
    for r, config in _alertmanager_configs(resources):
        pagers = paging_receivers(config)
        if not pagers:
            yield Violation(
                "paging-grouping",
                r.urn,
                "values.alertmanager.config.receivers",
                f"no receiver with pagerduty_configs: critical alerts in {env} reach no on-call",
            )
            continue
        route = config.get("route") or {}
        for path, timing in _paging_routes(route, pagers, _ALERTMANAGER_DEFAULTS, "route"):
            for key, limit in environments.PAGING.limits():
                if duration_seconds(timing[key]) > durations.seconds(limit):
                    yield Violation(
                        "paging-grouping",
                        r.urn,
                        f"values.alertmanager.config.{path}.{key}",
                        f"{key} {timing[key]} on a paging route is above {limit}",
                    )


def _non_finite_literals(expr: str) -> list[str]:
    found: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.NumberLiteral) and not math.isfinite(node.val):
            found.append(str(node.val))

    try:
        promql_parser.walk(promql_parser.parse(expr), visit)
    except ValueError:
        return []  # the PromQL check reports what does not parse
    return found


def _thresholds_finite(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    """Alert thresholds are finite numbers in every environment: `> NaN` never fires and
    `> Inf` never can."""
    for r, group, rule in _rules(resources):
        bad = _non_finite_literals(str(rule.get("expr", "")))
        if bad:
            yield Violation(
                "thresholds-finite",
                r.urn,
                f"group {group}, alert {rule['alert']}",
                f"expr compares with {bad[0]}: thresholds must be finite numbers",
            )
    for r in resources:
        if r.type == _ALARM:
            threshold = r.props.get("threshold")
            if isinstance(threshold, int | float) and not math.isfinite(threshold):
                yield Violation(
                    "thresholds-finite",
                    r.urn,
                    "inputs.threshold",
                    f"alarm threshold {threshold} is not a finite number",
                )


def _critical_for(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    """Where critical alerts page, each fires within an hour of its condition."""
    if not production_like(env):
        return
    for r, group, rule in _rules(resources):
        if (rule.get("labels") or {}).get("severity") != "critical" or not rule.get("for"):
            continue
        if duration_seconds(str(rule["for"])) > durations.seconds(environments.PAGING.critical_for):
            yield Violation(
                "critical-for",
                r.urn,
                f"group {group}, alert {rule['alert']}",
                f"critical alert waits {rule['for']} before it fires; at most 1h",
            )


def _find_key(value: Any, key: str, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if k == key:
                yield here, v
            yield from _find_key(v, key, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _find_key(v, key, f"{path}[{i}]")


def _tls(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    """In prod, report email goes over TLS and the trace store is reached over https."""
    if not prod_rules(env):
        return
    for r, config in _alertmanager_configs(resources):
        for i, receiver in enumerate(config.get("receivers") or []):
            for j, email in enumerate(receiver.get("email_configs") or []):
                if email.get("require_tls") is False:
                    yield Violation(
                        "tls",
                        r.urn,
                        f"values.alertmanager.config.receivers[{i}].email_configs[{j}].require_tls",
                        "prod sends email without TLS",
                    )
    for r in resources:
        if r.type != _RELEASE:
            continue
        for path, urls in _find_key(r.props.get("values") or {}, "server_urls"):
            for i, url in enumerate(urls if isinstance(urls, list) else [urls]):
                if isinstance(url, str) and url.lower().startswith("http://"):
                    yield Violation(
                        "tls",
                        r.urn,
                        f"values.{path}[{i}]",
                        "prod reaches its trace store over plain http",
                    )


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def _no_url_credentials(resources: Sequence[Resource], _env: str) -> Iterator[Violation]:
    """No input anywhere carries a URL with userinfo (`https://user:password@host`): it would
    sit in clear in the state and the synth. The message never repeats the URL."""
    for r in resources:
        for path, text in _strings(dict(r.props), "inputs"):
            if _URL_USERINFO.search(text):
                yield Violation(
                    "no-url-credentials",
                    r.urn,
                    path,
                    "a URL carries credentials (user:password@host); keep them in a secret",
                )


def _aws_account_guard(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    """Prod has its AWS account; staging's and prod's AWS providers name the only accounts
    they may touch (`aws:allowedAccountIds`)."""
    if not production_like(env) or not resources:
        return
    providers = [r for r in resources if r.type == "pulumi:providers:aws"]
    if prod_rules(env) and not providers:
        yield Violation(
            "aws-account-guard",
            resources[0].urn,
            "pulumi:providers:aws",
            "prod declares no AWS provider: blue-harvest:aws.enabled must be true",
        )
    for r in providers:
        ids = provider_input(r, "allowedAccountIds")
        if not isinstance(ids, list) or not ids:
            yield Violation(
                "aws-account-guard",
                r.urn,
                "inputs.allowedAccountIds",
                f"the AWS provider in {env} may touch any account: set aws:allowedAccountIds",
            )


POLICIES: tuple[Policy, ...] = (
    Policy(
        "alert-annotations",
        "Every alert has severity, summary and runbook_url.",
        _alert_annotations,
    ),
    Policy(
        "critical-pages",
        "Critical alerts reach an on-call receiver in staging and prod.",
        _critical_pages,
    ),
    Policy("log-groups", "Log groups have retention, and encryption in prod.", _log_groups),
    Policy("stateful-protected", "Stateful resources are protected in prod.", _stateful_protected),
    Policy(
        "not-public",
        "Prometheus, Alertmanager and Grafana are not exposed without auth.",
        _not_public,
    ),
    Policy("images-pinned", "Images and charts are pinned; never 'latest'.", _images_pinned),
    Policy("grafana-password", "The Grafana admin password is never a default.", _grafana_password),
    Policy(
        "workload-probes", "Every workload has liveness, readiness and startup probes.", _probes
    ),
    Policy(
        "paging-grouping",
        "Paging routes reach PagerDuty within 5m, regroup within 30m, repeat within 24h.",
        _paging_grouping,
    ),
    Policy("thresholds-finite", "Alert and alarm thresholds are finite.", _thresholds_finite),
    Policy("critical-for", "Critical alerts fire within 1h where they page.", _critical_for),
    Policy("tls", "Prod sends email with TLS and reaches its trace store over https.", _tls),
    Policy(
        "no-url-credentials",
        "No URL anywhere carries user:password@ credentials.",
        _no_url_credentials,
    ),
    Policy(
        "aws-account-guard",
        "Prod has AWS; staging and prod providers set allowedAccountIds.",
        _aws_account_guard,
    ),
)


def declared_environment(resources: Sequence[Resource]) -> str | None:
    """The environment the program declared: its namespaces' label, or the AWS provider's
    default tags; None when neither is there."""
    for r in resources:
        if r.type == "kubernetes:core/v1:Namespace":
            env = ((r.props.get("metadata") or {}).get("labels") or {}).get(ENVIRONMENT_LABEL)
            if env:
                return str(env)
    for r in resources:
        if r.type == "pulumi:providers:aws":
            default_tags = provider_input(r, "defaultTags")
            tags = default_tags.get("tags") if isinstance(default_tags, Mapping) else None
            if isinstance(tags, Mapping) and tags.get("environment"):
                return str(tags["environment"])
    return None


def provider_input(r: Resource, key: str) -> Any:
    """A provider's input as plain data: the SDK sends a provider's non-string inputs
    JSON-encoded (`'["333333333333"]'`), the engine may not."""
    value = r.props.get(key)
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def environment_of(resources: Sequence[Resource], declared: str | None = None) -> str:
    """The environment whose policies the resources must meet: the stack's identity (its
    name in the URNs binds `prod` to prod, and `prod-eu` to prod at least), raised by what
    the program or the caller declared, never lowered by it (infra.config.identity)."""
    stack = resources[0].stack if resources else ""
    return policy_environment(stack, declared or declared_environment(resources))


def evaluate(resources: Sequence[Resource], environment: str | None = None) -> list[Violation]:
    env = environment_of(resources, environment)
    return [v for policy in POLICIES for v in policy.check(resources, env)]
