"""CloudWatchLogs under the SDK's mock engine: what it registers, under whom, with what flags."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from infra.config import EstateConfig
from infra.synth.engine import run_program
from infra.synth.recorder import Registration
from tests.conftest import make_config

COMPONENT = "blueharvest:observability:CloudWatchLogs"


def _registrations(config: EstateConfig) -> list[Registration]:
    return list(run_program(config, config.environment).registrations)


def _own(regs: list[Registration]) -> list[Registration]:
    """The component's children only (prod's metrics store has a log group and key too)."""
    return [r for r in regs if r.urn.split("::")[2].startswith(f"{COMPONENT}$")]


def _by_type(regs: list[Registration], suffix: str) -> list[Registration]:
    return [r for r in regs if r.type.endswith(suffix)]


def test_every_child_is_parented_to_the_component() -> None:
    regs = _registrations(make_config("prod"))
    (component,) = [r for r in regs if r.type == COMPONENT]
    children = [r for r in regs if r.urn.split("::")[2].startswith(f"{COMPONENT}$")]
    assert children
    assert {r.parent for r in children} == {component.urn}


OIDC = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"


def test_resource_counts_for_two_services() -> None:
    config = make_config("prod", cluster={"oidcProviderArn": OIDC})
    counts = Counter(
        r.type
        for r in _registrations(config)
        if r.type in ("pulumi:providers:aws", COMPONENT)
        or r.urn.split("::")[2].startswith(f"{COMPONENT}$")
    )
    assert counts == {
        "pulumi:providers:aws": 1,
        COMPONENT: 1,
        "aws:kms/key:Key": 1,
        "aws:kms/alias:Alias": 1,
        "aws:cloudwatch/logGroup:LogGroup": 2,
        "aws:cloudwatch/logMetricFilter:LogMetricFilter": 5,
        "aws:cloudwatch/queryDefinition:QueryDefinition": 5,
        "aws:cloudwatch/metricAlarm:MetricAlarm": 4,
        "aws:sns/topic:Topic": 1,
        "aws:sns/topicSubscription:TopicSubscription": 1,
        "aws:iam/policy:Policy": 2,
        "aws:iam/role:Role": 2,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 2,
    }


@pytest.mark.parametrize(
    ("environment", "protected"), [("dev", False), ("staging", False), ("prod", True)]
)
def test_log_groups_and_key_are_protected_and_retained_only_in_prod(
    environment: str, protected: bool
) -> None:
    regs = _own(_registrations(make_config(environment, logs={"encrypt": True})))
    stateful = _by_type(regs, ":LogGroup") + _by_type(regs, "kms/key:Key")
    assert len(stateful) == 3
    assert {(r.protect, r.retain_on_delete) for r in stateful} == {(protected, protected)}
    others = [
        r for r in regs if r not in stateful and r.urn.split("::")[2].startswith(f"{COMPONENT}$")
    ]
    assert others
    assert not any(r.protect or r.retain_on_delete for r in others)


def test_no_key_without_encryption_and_groups_reference_the_key_with_it() -> None:
    plain = _registrations(make_config("dev"))
    assert not _by_type(plain, "kms/key:Key")
    assert all("kmsKeyId" not in r.inputs for r in _by_type(plain, ":LogGroup"))

    encrypted = _registrations(make_config("staging"))
    (key,) = _by_type(encrypted, "kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    groups = _by_type(encrypted, ":LogGroup")
    assert len(groups) == 2
    for group in groups:
        assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")
        assert key.urn in group.depends_on


def test_key_policy_names_the_account_from_the_caller_identity() -> None:
    (key,) = _by_type(_own(_registrations(make_config("prod"))), "kms/key:Key")
    policy = json.loads(key.inputs["policy"])
    assert policy["Statement"][1]["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_log_group_inputs() -> None:
    (backend, _) = _by_type(_own(_registrations(make_config("prod"))), ":LogGroup")
    assert backend.name == "logs-backend"
    assert backend.inputs["name"] == "/blue-harvest/backend"
    assert backend.inputs["retentionInDays"] == 90
    assert backend.inputs["logGroupClass"] == "STANDARD"
    assert backend.inputs["tags"]["service"] == "backend"


def test_alarms_notify_the_reports_topic_and_depend_on_their_filter() -> None:
    regs = _registrations(make_config("prod"))
    (topic,) = _by_type(regs, "sns/topic:Topic")
    topic_arn = "arn:aws:sns:us-east-1:123456789012:blue-harvest-prod-log-reports"
    assert topic.inputs["name"] == "blue-harvest-prod-log-reports"
    filters = {r.urn for r in _by_type(regs, ":LogMetricFilter")}
    alarms = _by_type(regs, ":MetricAlarm")
    assert len(alarms) == 4
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic_arn]
        assert alarm.inputs["okActions"] == [topic_arn]
        assert set(alarm.depends_on) & filters
    (subscription,) = _by_type(regs, "TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "sre@blueharvest.example"


def test_without_report_email_there_is_no_subscription_and_a_warning() -> None:
    run = run_program(make_config("dev"), "dev")
    assert not [r for r in run.registrations if r.type.endswith("TopicSubscription")]
    assert any("reportEmail" in w for w in run.warnings)


def test_irsa_roles_only_with_an_oidc_provider() -> None:
    without = _registrations(make_config("dev"))
    assert len(_by_type(without, "iam/policy:Policy")) == 2
    assert not _by_type(without, "iam/role:Role")

    regs = _registrations(make_config("dev", cluster={"oidcProviderArn": OIDC}))
    roles = {r.inputs["name"]: r for r in _by_type(regs, "iam/role:Role")}
    trust = json.loads(roles["blue-harvest-dev-backend"].inputs["assumeRolePolicy"])
    assert (
        trust["Statement"][0]["Condition"]["StringEquals"][
            "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"
        ]
        == "system:serviceaccount:blue-harvest:backend"
    )
    attachments = _by_type(regs, "RolePolicyAttachment")
    assert {a.inputs["role"] for a in attachments} == set(roles)


def test_writer_policy_covers_only_its_own_group() -> None:
    regs = _registrations(make_config("prod"))
    policies = {
        r.inputs["name"]: json.loads(r.inputs["policy"])
        for r in _by_type(regs, "iam/policy:Policy")
    }
    backend = policies["blue-harvest-prod-backend-log-writer"]["Statement"][0]
    assert backend["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert all("/blue-harvest/backend" in r for r in backend["Resource"])


def test_saved_queries_cover_every_log_group() -> None:
    regs = _registrations(make_config("prod"))
    queries = _by_type(regs, ":QueryDefinition")
    assert len(queries) == 5
    for q in queries:
        assert q.inputs["logGroupNames"] == ["/blue-harvest/backend", "/blue-harvest/frontend"]


def test_local_registers_no_aws_resources() -> None:
    assert not [r for r in _registrations(make_config("local")) if r.type.startswith("aws:")]


def test_every_aws_resource_uses_the_explicit_regional_provider() -> None:
    regs = _registrations(make_config("prod"))
    (provider,) = _by_type(regs, "providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    custom = [r for r in regs if r.type.startswith("aws:")]
    assert {r.provider.split("::id")[0].rsplit("::", 1)[0] for r in custom} == {provider.urn}
