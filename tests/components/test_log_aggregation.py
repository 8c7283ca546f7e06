"""LogAggregation under the mock engine: Loki and Alloy; in prod the bucket, guarded and kept."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from infra.components.log_aggregation import LogAggregation, LogAggregationArgs
from infra.config import EstateConfig
from infra.plan.loki import loki_plan
from infra.render.loki import ALLOY_CHART_VERSION, LOKI_CHART_VERSION
from infra.synth.engine import SynthRun, run_program
from infra.synth.mocks import MOCK_ACCOUNT_ID
from infra.synth.recorder import Registration
from infra.synth.writer import render_files
from tests.conftest import make_config, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
_OIDC = {"oidcProviderArn": "arn:aws:iam::222222222222:oidc-provider/oidc.eks.example/id/X"}


def _program(config: EstateConfig) -> None:
    opts = None
    if config.aws.enabled:
        provider = aws.Provider("aws", region=config.aws_region)
        opts = pulumi.ResourceOptions(providers={"aws": provider})
    LogAggregation("logs-aggregation", LogAggregationArgs(plan=loki_plan(config)), opts=opts)


def _run(stack: str) -> SynthRun:
    return run_program(stack_config(stack), stack, _program)


def _by_type(run: SynthRun, type_: str) -> list[Registration]:
    return [r for r in run.registrations if r.type == type_]


def _one(run: SynthRun, type_: str) -> Registration:
    (reg,) = _by_type(run, type_)
    return reg


def _releases(run: SynthRun) -> dict[str, Registration]:
    return {r.inputs["name"]: r for r in _by_type(run, RELEASE)}


def _policy(reg: Registration, key: str = "policy") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(reg.inputs[key])
    return document


@pytest.mark.parametrize("stack", ["local", "dev", "staging"])
def test_below_prod_loki_keeps_logs_on_its_volume_and_needs_no_aws(stack: str) -> None:
    run = _run(stack)
    assert not [r for r in run.registrations if r.type.startswith("aws:") and r.custom]
    releases = _releases(run)
    assert set(releases) == {"loki", "alloy"}
    assert releases["loki"].inputs["values"]["loki"]["storage"] == {"type": "filesystem"}


def test_releases_are_pinned_and_alloy_comes_after_loki() -> None:
    releases = _releases(_run("dev"))
    loki, alloy = releases["loki"], releases["alloy"]
    assert (loki.inputs["chart"], loki.inputs["version"]) == ("loki", LOKI_CHART_VERSION)
    assert loki.inputs["repositoryOpts"]["repo"] == (
        "https://grafana-community.github.io/helm-charts"
    )
    assert (alloy.inputs["chart"], alloy.inputs["version"]) == ("alloy", ALLOY_CHART_VERSION)
    assert loki.urn in alloy.depends_on


def test_prod_bucket_is_named_after_the_account_and_protected() -> None:
    run = _run("prod")
    bucket = _one(run, BUCKET)
    assert bucket.inputs["bucket"] == f"blue-harvest-prod-loki-{MOCK_ACCOUNT_ID}"
    assert bucket.protect is True
    assert bucket.retain_on_delete is True
    assert bucket.inputs["forceDestroy"] is False
    others = [r for r in run.registrations if r.type.startswith("aws:") and r is not bucket]
    assert others
    assert not any(r.protect for r in others)


def test_an_unprotected_stack_leaves_its_bucket_deletable() -> None:
    config = make_config("staging", loki={"storage": "s3"}, cluster=_OIDC)
    bucket = _one(run_program(config, "staging", _program), BUCKET)
    assert (bucket.protect, bucket.retain_on_delete) == (False, False)


def test_a_configured_bucket_name_is_used() -> None:
    config = make_config("prod", loki={"bucket": "bh-prod-logs"}, cluster=_OIDC)
    bucket = _one(run_program(config, "prod", _program), BUCKET)
    assert bucket.inputs["bucket"] == "bh-prod-logs"


def test_the_bucket_is_encrypted_private_tls_only_and_expires_after_retention() -> None:
    run = _run("prod")
    sse = _one(run, SSE)
    assert sse.inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]
    block = _one(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block.inputs[k] for k in flags)
    (rule,) = _one(run, LIFECYCLE).inputs["rules"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == {"days": 31}  # 720h of retention, plus a day
    policy = _one(run, "aws:s3/bucketPolicy:BucketPolicy")
    assert block.urn in policy.depends_on
    (deny,) = _policy(policy)["Statement"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_loki_gets_an_irsa_role_allowed_its_bucket_only() -> None:
    run = _run("prod")
    role = _one(run, "aws:iam/role:Role")
    (trust,) = _policy(role, "assumeRolePolicy")["Statement"]
    conditions = trust["Condition"]["StringEquals"]
    assert "system:serviceaccount:observability:loki" in conditions.values()
    policy = _policy(_one(run, "aws:iam/policy:Policy"))
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    (arn,) = {r for r in resources if not r.endswith("/*")}
    assert resources == {arn, f"{arn}/*"}
    attachment = _one(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.urn in _releases(run)["loki"].depends_on


def test_loki_values_name_the_bucket_and_the_role() -> None:
    run = _run("prod")
    values = yaml.safe_load(render_files(run)["helm/loki.values.yaml"])
    bucket = f"blue-harvest-prod-loki-{MOCK_ACCOUNT_ID}"
    assert values["loki"]["storage"]["bucketNames"]["chunks"] == bucket
    annotation = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert annotation.endswith(":role/blue-harvest-prod-loki")


def test_every_child_is_parented_to_the_component() -> None:
    regs = _run("prod").registrations
    (component,) = [r for r in regs if r.type == "blueharvest:observability:LogAggregation"]
    children = [r for r in regs if r is not component and not r.type.startswith("pulumi:")]
    assert {r.parent for r in children} == {component.urn}
