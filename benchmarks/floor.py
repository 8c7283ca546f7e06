"""The floor: what registering the estate's resources costs with nothing of ours around it.

It declares the same resources as `estate synth` (same types, same count, same logical names,
equivalent inputs, dependencies and providers) under the SDK's plain MockMonitor with a trivial
Mocks that returns the inputs as the state. There is no component, no pydantic validation, no
recording, and nothing is written.

* The CloudWatch logs estate (the part that grows with the services and carries the estate's
  output wiring: key ARN -> log groups -> writer policies -> roles) is derived here from the
  stack file, read with pyyaml's safe loader, the few defaults the estate applies as plain
  `dict.get` calls, and declared with raw pulumi_aws calls, policies serialised in `apply`s on
  the same outputs the component uses.
* Everything else (monitoring stack, workloads, Loki, tracing, dashboards, Sentry, ...) is made
  of documents the estate renders with its own code, so the floor takes them as rendered: a
  JSON file extracted from the synth's resources.json (benchmarks/documents.py), each declared
  with its pulumi_kubernetes / pulumi_random class where the floor has a case for it and with
  the SDK's CustomResource otherwise, with the recorded dependencies and provider. Inputs that
  were Outputs in the program are plain recorded values here; secrets are secrets again.

`python -m benchmarks.floor <stack> --stacks-dir <dir> --documents <json>` runs it once and
prints one JSON line: how many resources of each type it registered. Every benchmark run and
tests/benchmarks/test_floor.py check that this is exactly the multiset of custom resource types
the synth writes to resources.json.
"""

from __future__ import annotations

import argparse
import contextvars
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from benchmarks.documents import urn_key
from infra.plan.logs import filter_pattern
from infra.render.aws import irsa_trust_policy, logs_kms_key_policy, partition_of

PROJECT = "blue-harvest"
#: How resources.json shows a secret (infra/config/secrets.py).
SECRET_MARKER = "[secret]"

#: The per-environment values the estate defaults (infra/config/defaults.py), as plain data.
_ENV = {
    "local": {"aws": False, "retentionDays": 1, "encrypt": False, "protect": False},
    "dev": {"aws": True, "retentionDays": 14, "encrypt": False, "protect": False},
    "staging": {"aws": True, "retentionDays": 30, "encrypt": True, "protect": False},
    "prod": {"aws": True, "retentionDays": 90, "encrypt": True, "protect": True},
}
_SUFFIX = {
    "errors": "ErrorCount",
    "slowRequests": "SlowRequestCount",
    "failedLogins": "FailedLoginCount",
}
_QUERIES = (
    (
        "Errors in the last hour",
        'fields @timestamp, level, message, error, requestId\n| filter level = "error"\n'
        "| sort @timestamp desc\n| limit 100",
    ),
    (
        "Slow requests (over {ms} ms)",
        "fields @timestamp, url, duration, statusCode\n| filter duration > {ms}\n"
        "| sort duration desc\n| limit 50",
    ),
    (
        "Failed login attempts by IP",
        'fields @timestamp, ip, email\n| filter message = "Login failed: invalid password"\n'
        "| stats count() by ip\n| sort count desc",
    ),
    (
        "Average response time by endpoint",
        'fields url, duration\n| filter level = "http"\n'
        "| stats avg(duration) as avg_duration by url\n| sort avg_duration desc",
    ),
    (
        "Error rate over time",
        'fields @timestamp\n| filter level = "error"\n| stats count() as error_count by bin(5m)',
    ),
)


class FloorMocks(pulumi.runtime.Mocks):
    """Trivial mocks: a resource's state is its inputs; the one invoke returns constants."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {"accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/floor"}, []


@dataclass(frozen=True)
class Estate:
    """The stack file's settings that decide what is declared; read, not validated."""

    stack: str
    environment: str
    region: str
    aws: bool
    retention_days: int
    group_class: str
    group_prefix: str
    encrypt: bool
    protect: bool
    metric_namespace: str
    slow_request_ms: int
    report_email: str | None
    oidc_provider_arn: str | None
    kube_namespace: str
    #: service -> (log filters, service account)
    services: dict[str, tuple[tuple[str, ...], str]]
    #: kind -> (threshold, period seconds, evaluation periods)
    alarms: dict[str, tuple[float, int, int]]


def read_estate(path: Path, stack: str) -> Estate:
    """The stack file as plain data, with the estate's defaults filled in by dict.get."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when pyyaml has it
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    config: dict[str, Any] = doc["config"]

    def section(key: str) -> dict[str, Any]:
        value = config.get(f"{PROJECT}:{key}") or {}
        assert isinstance(value, dict)
        return value

    env = str(config.get(f"{PROJECT}:environment", stack))
    defaults = _ENV[env]
    logs, cluster, aws_section = section("logs"), section("cluster"), section("aws")
    given_alarms = logs.get("alarms") or {}
    alarms: dict[str, tuple[float, int, int]] = {}
    for kind, (threshold, period, periods) in (
        ("errors", (10.0, 60, 5)),
        ("slowRequests", (25.0, 300, 2)),
    ):
        a = given_alarms.get(kind) or {}
        alarms[kind] = (
            float(a.get("threshold", threshold)),
            int(a.get("periodSeconds", period)),
            int(a.get("evaluationPeriods", periods)),
        )
    services = {
        name: (
            tuple(svc.get("logFilters", ("errors", "slowRequests"))),
            str(svc.get("serviceAccount") or name),
        )
        for name, svc in section("services").items()
    }
    return Estate(
        stack=stack,
        environment=env,
        region=str(config.get("aws:region", "us-east-1")),
        aws=bool(aws_section.get("enabled", defaults["aws"])),
        retention_days=int(logs.get("retentionDays", defaults["retentionDays"])),
        group_class=str(logs.get("groupClass", "STANDARD")),
        group_prefix=str(logs.get("groupPrefix", "/blue-harvest")),
        encrypt=bool(logs.get("encrypt", defaults["encrypt"])),
        protect=bool(logs.get("protect", defaults["protect"])),
        metric_namespace=str(logs.get("metricNamespace") or f"BlueHarvest/{env}"),
        slow_request_ms=int(logs.get("slowRequestMs", 1000)),
        report_email=logs.get("reportEmail"),
        oidc_provider_arn=cluster.get("oidcProviderArn"),
        kube_namespace=str(cluster.get("namespace", "blue-harvest")),
        services=services,
        alarms=alarms,
    )


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def _key_policy(e: Estate, account_id: str, caller_arn: str) -> dict[str, Any]:
    # The same pure function the component calls: the floor pays for the document too.
    return logs_kms_key_policy(
        account_id=account_id,
        region=e.region,
        partition=partition_of(caller_arn),
        log_group_prefix=e.group_prefix,
    )


def _writer_policy(arn: str | None) -> dict[str, Any]:
    # The trivial mocks compute no ARN, so `arn` is None here; the document keeps its shape.
    base = f"{arn}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [base, f"{base}:log-stream:*"],
            }
        ],
    }


def _trust_policy(oidc_provider_arn: str, namespace: str, account: str) -> dict[str, Any]:
    return irsa_trust_policy(
        oidc_provider_arn=oidc_provider_arn, namespace=namespace, service_account=account
    )


Made = dict[tuple[str, str], pulumi.CustomResource]


def declare(e: Estate) -> Made:
    """The CloudWatch logs estate as raw pulumi_aws calls (no component, every resource a
    stack child); returns what it declared by (type, name)."""
    pulumi.export("environment", e.environment)
    if not e.aws:
        return {}
    env = e.environment
    tags = {"environment": env, "managed-by": "pulumi", "project": "blue-harvest"}
    declared: list[pulumi.CustomResource] = []

    def keep(resource: Any) -> Any:
        declared.append(resource)
        return resource

    provider = keep(
        aws.Provider(
            "aws",
            region=e.region,
            default_tags=aws.ProviderDefaultTagsArgs(
                tags={"project": "blue-harvest", "environment": env}
            ),
        )
    )
    child = pulumi.ResourceOptions(provider=provider)
    stateful = pulumi.ResourceOptions(
        provider=provider, protect=e.protect, retain_on_delete=e.protect
    )
    key = None
    if e.encrypt:
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))
        key = keep(
            aws.kms.Key(
                "logs-key",
                description=f"Blue Harvest {env} CloudWatch Logs encryption",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=caller.apply(lambda c: _dumps(_key_policy(e, c.account_id, c.arn))),
                tags={**tags, "component": "logs"},
                opts=stateful,
            )
        )
        keep(
            aws.kms.Alias(
                "logs-key-alias",
                name=f"alias/blue-harvest-{env}-logs",
                target_key_id=key.key_id,
                opts=child,
            )
        )
    groups = {}
    filters = {}
    for service in sorted(e.services):
        groups[service] = keep(
            aws.cloudwatch.LogGroup(
                f"logs-{service}",
                name=f"{e.group_prefix}/{service}",
                retention_in_days=e.retention_days,
                log_group_class=e.group_class,
                kms_key_id=key.arn if key is not None else None,
                tags={**tags, "service": service},
                opts=stateful,
            )
        )
        metric_prefix = "".join(p.capitalize() for p in service.split("-"))
        for kind in sorted(set(e.services[service][0])):
            filters[(service, kind)] = keep(
                aws.cloudwatch.LogMetricFilter(
                    f"logs-{service}-{kind}",
                    name=f"{service}-{kind}",
                    log_group_name=groups[service].name,
                    pattern=filter_pattern(kind, e.slow_request_ms),  # type: ignore[arg-type]
                    metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                        name=f"{metric_prefix}{_SUFFIX[kind]}",
                        namespace=e.metric_namespace,
                        value="1",
                        default_value="0",
                        unit="Count",
                    ),
                    opts=child,
                )
            )
    group_names = [groups[s].name for s in sorted(groups)]
    for template, query in _QUERIES:
        title = template.format(ms=e.slow_request_ms)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        keep(
            aws.cloudwatch.QueryDefinition(
                f"logs-query-{slug}",
                name=f"blue-harvest/{env}/{title}",
                query_string=query.format(ms=e.slow_request_ms),
                log_group_names=group_names,
                opts=child,
            )
        )
    topic = keep(
        aws.sns.Topic(
            "logs-reports",
            name=f"blue-harvest-{env}-log-reports",
            tags={**tags, "component": "logs"},
            opts=child,
        )
    )
    if e.report_email:
        keep(
            aws.sns.TopicSubscription(
                "logs-reports-email",
                topic=topic.arn,
                protocol="email",
                endpoint=e.report_email,
                opts=child,
            )
        )
    for (service, kind), metric_filter in filters.items():
        if kind not in e.alarms:
            continue
        threshold, period, periods = e.alarms[kind]
        metric = "".join(p.capitalize() for p in service.split("-")) + _SUFFIX[kind]
        keep(
            aws.cloudwatch.MetricAlarm(
                f"logs-{service}-{kind}-alarm",
                name=f"blue-harvest-{env}-{service}-{kind}",
                alarm_description=(
                    f"{service} in {env}: {metric} reached {threshold:g} per"
                    f" {period}s for {periods} periods"
                ),
                namespace=e.metric_namespace,
                metric_name=metric,
                statistic="Sum",
                period=period,
                evaluation_periods=periods,
                threshold=threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                tags={**tags, "service": service},
                opts=pulumi.ResourceOptions(provider=provider, depends_on=[metric_filter]),
            )
        )
    roles = {}
    for service in sorted(groups):
        writer = keep(
            aws.iam.Policy(
                f"logs-{service}-writer",
                name=f"blue-harvest-{env}-{service}-log-writer",
                description=f"Write {service}'s own CloudWatch log streams, nothing else",
                policy=groups[service].arn.apply(lambda arn: _dumps(_writer_policy(arn))),
                tags={**tags, "service": service},
                opts=child,
            )
        )
        if e.oidc_provider_arn is None:
            continue
        role = keep(
            aws.iam.Role(
                f"logs-{service}-irsa",
                name=f"blue-harvest-{env}-{service}",
                description=f"IRSA role of the {service} service account",
                assume_role_policy=_dumps(
                    _trust_policy(e.oidc_provider_arn, e.kube_namespace, e.services[service][1])
                ),
                tags={**tags, "service": service},
                opts=child,
            )
        )
        keep(
            aws.iam.RolePolicyAttachment(
                f"logs-{service}-writer",
                role=role.name,
                policy_arn=writer.arn,
                opts=child,
            )
        )
        roles[service] = role.arn
    pulumi.export("logGroupNames", pulumi.Output.all(**{s: g.name for s, g in groups.items()}))
    pulumi.export("logWriterRoleArns", pulumi.Output.all(**roles))
    pulumi.export("logReportsTopicArn", topic.arn)
    return {(r.pulumi_resource_type, r.pulumi_resource_name): r for r in declared}


def _unmask(value: Any) -> Any:
    """The record shows secrets as the marker; declare them as secrets again. Returns `value`
    itself when it holds no marker, so the floor keeps no second copy of the documents."""
    if value == SECRET_MARKER:
        return pulumi.Output.secret(value)
    if isinstance(value, dict):
        items = {k: _unmask(v) for k, v in value.items()}
        return items if any(items[k] is not v for k, v in value.items()) else value
    if isinstance(value, list):
        elements = [_unmask(v) for v in value]
        return elements if any(e is not v for e, v in zip(elements, value, strict=True)) else value
    return value


def _documented(doc: dict[str, Any], made: Made) -> pulumi.CustomResource:
    """One recorded resource, declared with its pulumi_kubernetes / pulumi_random class where
    the floor has a case for it, else with the SDK's CustomResource (or ProviderResource),
    which is what every generated provider class hands its property bag to."""
    typ, name, inputs = doc["type"], doc["name"], _unmask(doc["inputs"])
    deps = [made[(t, n)] for t, n in doc["dependsOn"]]
    provider = made[tuple(doc["provider"])] if doc.get("provider") else None
    assert provider is None or isinstance(provider, pulumi.ProviderResource)
    opts = pulumi.ResourceOptions(depends_on=deps, provider=provider)
    resource: pulumi.CustomResource
    if typ.startswith("pulumi:providers:"):
        resource = pulumi.ProviderResource(typ.removeprefix("pulumi:providers:"), name, inputs)
    elif typ == "random:index/randomPassword:RandomPassword":
        resource = random.RandomPassword(
            name, length=inputs["length"], special=inputs.get("special"), opts=opts
        )
    elif typ == "kubernetes:core/v1:Namespace":
        resource = k8s.core.v1.Namespace(name, metadata=inputs["metadata"], opts=opts)
    elif typ == "kubernetes:core/v1:Secret":
        # The record masks the data; a password dependency is wired as the synth wires it.
        passwords = [d for d in deps if isinstance(d, random.RandomPassword)]
        data: Any = inputs.get("stringData")
        if passwords:
            data = {"user": "admin", "password": pulumi.Output.secret(passwords[0].result)}
        resource = k8s.core.v1.Secret(
            name, metadata=inputs["metadata"], string_data=data, opts=opts
        )
    elif typ == "kubernetes:core/v1:ConfigMap":
        resource = k8s.core.v1.ConfigMap(
            name, metadata=inputs["metadata"], data=inputs.get("data"), opts=opts
        )
    elif typ == "kubernetes:helm.sh/v3:Release":
        resource = k8s.helm.v3.Release(
            name,
            name=inputs.get("name"),
            chart=inputs["chart"],
            version=inputs.get("version"),
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(
                repo=(inputs.get("repositoryOpts") or {}).get("repo")
            ),
            namespace=inputs.get("namespace"),
            values=inputs.get("values"),
            atomic=inputs.get("atomic"),
            cleanup_on_fail=inputs.get("cleanupOnFail"),
            timeout=inputs.get("timeout"),
            opts=opts,
        )
    elif typ.startswith("kubernetes:") and "." in typ.split(":")[1].split("/")[0]:
        # A custom resource of an operator's CRD (monitoring.coreos.com/v1 ...).
        resource = k8s.apiextensions.CustomResource(
            name,
            api_version=inputs["apiVersion"],
            kind=inputs["kind"],
            metadata=inputs.get("metadata"),
            spec=inputs.get("spec"),
            opts=opts,
        )
    else:
        resource = pulumi.CustomResource(typ, name, inputs, opts=opts)
    return resource


def declare_documents(docs: list[dict[str, Any]], made: Made) -> Made:
    """The recorded resources, in dependency order, each a stack child; `made` holds what
    was declared before (the AWS provider, the logs estate) and is extended. Consumes `docs`,
    so that each document can be freed once the SDK has what it needs."""
    docs.reverse()
    while docs:
        doc = docs.pop()
        made[(doc["type"], doc["name"])] = _documented(doc, made)
    return made


def run(estate: Estate, docs: list[dict[str, Any]]) -> MockMonitor:
    """Declare `estate` and `docs` (consumed) under the SDK's plain MockMonitor; returns the
    monitor (its `.resources` are what was registered)."""
    return contextvars.Context().run(_run, estate, docs)


def _run(estate: Estate, docs: list[dict[str, Any]]) -> MockMonitor:
    monitor = MockMonitor(FloorMocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=estate.stack, preview=False, monitor=monitor
    )

    def program() -> None:
        declare_documents(docs, declare(estate))

    _sync_await(run_pulumi_func(program))
    return monitor


def read_documents(path: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return docs


def resource_type(urn: str) -> str:
    """The resource's own type from its URN (the last of the `parent$child` type chain)."""
    return urn_key(urn)[0]


def type_counts(monitor: MockMonitor) -> dict[str, int]:
    return dict(sorted(Counter(resource_type(u) for u in monitor.resources).items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("--stacks-dir", type=Path, default=Path("stacks"))
    parser.add_argument(
        "--documents",
        type=Path,
        required=True,
        help="JSON from benchmarks.documents.write_documents (the rendered resources' inputs).",
    )
    args = parser.parse_args(argv)
    estate = read_estate(args.stacks_dir / f"Pulumi.{args.stack}.yaml", args.stack)
    monitor = run(estate, read_documents(args.documents))
    sys.stdout.write(json.dumps({"types": type_counts(monitor)}) + "\n")


if __name__ == "__main__":
    main()
