"""A second cluster of one environment in one account (issue 13, item 3).

A stack `prod-eu` (environment prod, its own cluster, writing to prod's AMP workspace) is
synthesized next to `prod` under the SDK's mock engine, and every account-wide name the two
declare is compared. The names are collected generically (every name-like input of every AWS,
Sentry and PagerDuty resource), so a resource type added later is compared too. The four
repository stacks keep the names they always had, and a stack name that pushes a name past
its limit is refused naming the key before anything is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import load_stack_file
from infra.config.errors import ConfigError
from infra.plan.logs import logs_plan
from infra.synth import StacksRefusedError, synth_stacks
from infra.synth.engine import SynthRun, run_program
from infra.synth.mocks import MOCK_ACCOUNT_ID
from tests.conftest import STACKS

WORKSPACE = "ws-0123abcd-4567-4890-abcd-ef0123456789"
EU_OIDC = (
    "arn:aws:iam::333333333333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/PRDEU0EXAMPLE"
)

#: Providers whose names are account- or organization-wide.
CLOUD_PROVIDERS = ("aws:", "sentry:", "pagerduty:")
#: Inputs that name the resource itself (besides every input whose key ends in `Name`).
NAME_KEYS = frozenset({"name", "namePrefix", "alias", "bucket", "slug", "namespace"})
#: Name-like inputs that are no account-wide name, each with its reason.
NOT_ACCOUNT_WIDE = {
    "metricName": "a metric within the alarm's namespace, which is compared itself",
}
#: Types whose name is unique only within a parent the same stack declares (a log group, a
#: role, a service, a project), whose own name is compared: not collected.
PARENT_SCOPED = frozenset(
    {
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:iam/rolePolicy:RolePolicy",
        "pagerduty:index/serviceIntegration:ServiceIntegration",
        "sentry:index/sentryKey:SentryKey",
    }
)


def _is_name_key(key: str) -> bool:
    return (key in NAME_KEYS or key.endswith("Name")) and key not in NOT_ACCOUNT_WIDE


def account_wide_names(run: SynthRun) -> set[tuple[str, str, str]]:
    """(type, input, value) of every name-like input of every cloud resource the run
    registered, but for the parent-scoped ones."""
    return {
        (reg.type, key, value)
        for reg in run.registrations
        if reg.custom and reg.type.startswith(CLOUD_PROVIDERS) and reg.type not in PARENT_SCOPED
        for key, value in reg.inputs.items()
        if _is_name_key(key) and isinstance(value, str)
    }


def _prod_doc() -> dict[str, Any]:
    """Prod's stack file, with everything that declares account-wide names switched on (RUM
    and a managed PagerDuty service too), writing to the workspace with prod-eu."""
    doc: dict[str, Any] = yaml.safe_load((STACKS / "Pulumi.prod.yaml").read_text())
    config = doc["config"]
    config["blue-harvest:rum"] = {"enabled": True, "domain": "blueharvest.example"}
    config["blue-harvest:alerting"]["pagerduty"] = {
        "manage": {"escalationTargets": [{"type": "schedule_reference", "id": "PABC123"}]}
    }
    config["pagerduty:token"] = {"secure": "v1:UGFnZXJEdXR5VG9rZW5QbGFjZWhvbGRlcg=="}
    config["blue-harvest:metrics"]["amp"] = {"otherClusters": ["bh-prod-eu"]}
    return doc


def _prod_eu_doc() -> dict[str, Any]:
    """The second cluster, as docs/scaling.md tells it: its own cluster and OIDC provider, prod's
    workspace by id."""
    doc = _prod_doc()
    config = doc["config"]
    config["blue-harvest:cluster"] = {"name": "bh-prod-eu", "oidcProviderArn": EU_OIDC}
    config["blue-harvest:metrics"]["amp"] = {"workspaceId": WORKSPACE, "otherClusters": ["bh-prod"]}
    return doc


def _write(stacks: Path, stack: str, doc: dict[str, Any]) -> Path:
    stacks.mkdir(exist_ok=True)
    path = stacks / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _synth(tmp_path: Path, stack: str, doc: dict[str, Any]) -> SynthRun:
    path = _write(tmp_path / "stacks", stack, doc)
    return run_program(load_stack_file(path, stack), stack)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    return _synth(tmp_path_factory.mktemp("prod"), "prod", _prod_doc())


@pytest.fixture(scope="module")
def prod_eu(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    return _synth(tmp_path_factory.mktemp("prod-eu"), "prod-eu", _prod_eu_doc())


def _values(names: set[tuple[str, str, str]]) -> set[str]:
    return {value for _, _, value in names}


def _collisions(a: SynthRun, b: SynthRun) -> set[str]:
    return _values(account_wide_names(a)) & _values(account_wide_names(b))


def test_the_collection_covers_every_kind_of_account_wide_name(
    prod: SynthRun, prod_eu: SynthRun
) -> None:
    """The generic collection finds each kind the stacks declare (so an empty or partial
    collection cannot pass the comparison below)."""
    for run in (prod, prod_eu):
        types = {type_ for type_, _, _ in account_wide_names(run)}
        assert {
            "aws:iam/role:Role",
            "aws:iam/policy:Policy",
            "aws:cloudwatch/logGroup:LogGroup",
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:kms/alias:Alias",
            "aws:sns/topic:Topic",
            "aws:s3/bucket:Bucket",
            "aws:rum/appMonitor:AppMonitor",
            "aws:cognito/identityPool:IdentityPool",
            "sentry:index/sentryProject:SentryProject",
            "pagerduty:index/service:Service",
            "pagerduty:index/escalationPolicy:EscalationPolicy",
        } <= types, types
    # Only the stack that declares the workspace names it.
    assert any(t == "aws:amp/workspace:Workspace" for t, _, _ in account_wide_names(prod))
    assert not any(t.startswith("aws:amp/") for t, _, _ in account_wide_names(prod_eu))


def test_prod_eu_declares_no_account_wide_name_prod_declares(
    prod: SynthRun, prod_eu: SynthRun
) -> None:
    assert _collisions(prod, prod_eu) == set()
    eu = _values(account_wide_names(prod_eu))
    assert "blue-harvest-prod-eu-backend" in eu
    assert "/blue-harvest/prod-eu/backend" in eu
    assert "alias/blue-harvest-prod-eu-logs" in eu
    assert f"blue-harvest-prod-eu-loki-{MOCK_ACCOUNT_ID}" in eu
    assert "blue-harvest-prod-eu-bh-prod-eu-prometheus-amp" in eu
    assert "BlueHarvest/prod-eu" in eu


def test_the_comparison_finds_a_collision_where_there_is_one(
    tmp_path: Path, prod: SynthRun
) -> None:
    """prod-eu told to put its log groups under prod's prefix collides on exactly those."""
    doc = _prod_eu_doc()
    doc["config"]["blue-harvest:logs"]["groupPrefix"] = "/blue-harvest"
    same_groups = _synth(tmp_path, "prod-eu", doc)
    assert _collisions(prod, same_groups) == {"/blue-harvest/backend", "/blue-harvest/frontend"}


def test_the_stack_name_not_the_environment_scopes_the_names(prod_eu: SynthRun) -> None:
    """Labels and tags keep the environment: prod-eu meets prod's rules and is prod."""
    tags = [r.inputs["tags"] for r in prod_eu.registrations if "tags" in r.inputs]
    assert tags
    assert {t.get("environment") for t in tags} == {"prod"}


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod"])
def test_the_repository_stacks_keep_their_names(stack: str) -> None:
    config = load_stack_file(STACKS / f"Pulumi.{stack}.yaml", stack)
    assert config.stack == stack
    assert config.name_scope == stack == config.environment
    assert config.logs.group_prefix == "/blue-harvest"
    assert config.metric_namespace == f"BlueHarvest/{stack}"


def test_prods_names_are_the_ones_it_always_had() -> None:
    config = load_stack_file(STACKS / "Pulumi.prod.yaml", "prod")
    plan = logs_plan(config)
    assert plan is not None
    assert [g.name for g in plan.spec.log_groups] == [
        "/blue-harvest/backend",
        "/blue-harvest/frontend",
    ]
    names = _values(account_wide_names(run_program(config, "prod")))
    assert {
        "blue-harvest-prod-backend",
        "blue-harvest-prod-frontend",
        "blue-harvest-prod-backend-log-writer",
        "blue-harvest-prod-loki",
        "blue-harvest-prod-bh-prod-prometheus-amp",
        "blue-harvest-prod-bh-prod-grafana-amp",
        "alias/blue-harvest-prod-logs",
        "alias/blue-harvest-prod-metrics-logs",
        "blue-harvest-prod-log-reports",
        "blue-harvest-prod-backend-errors",
        "blue-harvest-prod-metrics",
        f"blue-harvest-prod-loki-{MOCK_ACCOUNT_ID}",
        "/aws/vendedlogs/prometheus/blue-harvest-prod-metrics",
        "blue-harvest-prod",
        "BlueHarvest/prod",
    } <= names


def test_a_long_stack_name_pushing_an_iam_name_over_64_is_refused_naming_the_key(
    tmp_path: Path,
) -> None:
    stack = "prod-eu-west-1-blue-green-canary-second-five"  # 44: its frontend role is 66
    stacks = tmp_path / "stacks"
    _write(stacks, stack, _prod_eu_doc())
    with pytest.raises(StacksRefusedError) as caught:
        synth_stacks([stack], stacks, tmp_path / "out")
    message = str(caught.value)
    role = f"blue-harvest-{stack}-frontend"
    assert len(role) == 66
    assert f"Pulumi.{stack}.yaml: blue-harvest:services.frontend: " in message
    assert f"the IAM role name {role!r} would be 66 characters; AWS allows 64" in message
    assert f"the stack name {stack!r}" in message
    assert not (tmp_path / "out").exists()


def test_a_stack_file_cannot_set_the_scope(tmp_path: Path) -> None:
    doc = _prod_eu_doc()
    doc["config"]["blue-harvest:stack"] = "prod"
    with pytest.raises(ConfigError) as caught:
        load_stack_file(_write(tmp_path, "prod-eu", doc), "prod-eu")
    assert "Pulumi.prod-eu.yaml: blue-harvest:stack: is the stack's name ('prod-eu')" in str(
        caught.value
    )
