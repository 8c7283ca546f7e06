"""The estate's policies as plain functions over the resources a stack registers.

`estate check` feeds them the synth's resources.json; the CrossGuard policy pack (policy/)
feeds them the engine's PolicyResources during `pulumi preview --policy-pack policy`. Both
go through `Resource`, so one function decides for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.spec.images import pin_problem
from infra.spec.route_match import paging_receivers, receivers

_RELEASE = "kubernetes:helm.sh/v3:Release"
_PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
STATEFUL_TYPES = frozenset(
    {
        _LOG_GROUP,
        "aws:kms/key:Key",
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
    if env not in ("staging", "prod"):
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
        if env == "prod" and not r.props.get("kmsKeyId"):
            yield Violation(
                "log-encryption",
                r.urn,
                "inputs.kmsKeyId",
                "prod log group is not encrypted with a KMS key",
            )


def _stateful_protected(resources: Sequence[Resource], env: str) -> Iterator[Violation]:
    if env != "prod":
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
                if not image_pinned(str(c.get("image", ""))):
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
)


#: The label the program puts on its namespaces, naming the stack's environment.
ENVIRONMENT_LABEL = "blue-harvest.io/environment"


def environment_of(resources: Sequence[Resource]) -> str:
    """The environment the program declared (its namespaces' label, or the AWS provider's
    default tags); the stack name only when neither is there."""
    for r in resources:
        if r.type == "kubernetes:core/v1:Namespace":
            env = ((r.props.get("metadata") or {}).get("labels") or {}).get(ENVIRONMENT_LABEL)
            if env:
                return str(env)
    for r in resources:
        if r.type == "pulumi:providers:aws":
            tags = (r.props.get("defaultTags") or {}).get("tags") or {}
            if tags.get("environment"):
                return str(tags["environment"])
    return resources[0].stack if resources else ""


def evaluate(resources: Sequence[Resource], environment: str | None = None) -> list[Violation]:
    env = environment or environment_of(resources)
    return [v for policy in POLICIES for v in policy.check(resources, env)]
