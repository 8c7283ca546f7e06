"""Rum under the mock engine: the app monitor, its identity pool and a send-only guest role."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from infra.components.rum import Rum
from infra.config import EstateConfig
from infra.plan.rum import RumPlan, rum_plan
from infra.render.rum import guest_trust_policy, put_events_policy
from infra.synth.engine import SynthRun, run_program
from infra.synth.recorder import Registration
from tests.conftest import make_config

RUM = {"enabled": True, "domain": "blueharvest.example", "sessionSampleRate": 0.25}


def _plan(config: EstateConfig) -> RumPlan:
    plan = rum_plan(config)
    assert plan is not None
    return plan


def _run() -> SynthRun:
    def program(config: EstateConfig) -> None:
        provider = aws.Provider("aws", region=config.aws_region)
        Rum("rum", _plan(config), pulumi.ResourceOptions(providers={"aws": provider}))

    return run_program(make_config("prod", rum=RUM), "prod", program)


def _one(run: SynthRun, type_: str) -> Registration:
    (reg,) = [r for r in run.registrations if r.type == type_]
    return reg


def test_the_monitor_watches_the_domain_at_the_configured_sample_rate() -> None:
    monitor = _one(_run(), "aws:rum/appMonitor:AppMonitor")
    assert monitor.inputs["domain"] == "blueharvest.example"
    conf = monitor.inputs["appMonitorConfiguration"]
    assert conf["sessionSampleRate"] == 0.25
    assert conf["telemetries"] == ["errors", "http", "performance"]


def test_browsers_get_a_guest_role_that_may_only_send_events_to_this_monitor() -> None:
    run = _run()
    pool = _one(run, "aws:cognito/identityPool:IdentityPool")
    assert pool.inputs["allowUnauthenticatedIdentities"] is True
    attachment = _one(run, "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment")
    assert set(attachment.inputs["roles"]) == {"unauthenticated"}
    (statement,) = json.loads(_one(run, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])[
        "Statement"
    ]
    assert statement["Action"] == "rum:PutRumEvents"


def test_policies() -> None:
    (trust,) = guest_trust_policy("us-east-1:pool")["Statement"]
    assert trust["Condition"]["StringEquals"] == {
        "cognito-identity.amazonaws.com:aud": "us-east-1:pool"
    }
    assert put_events_policy("arn:x")["Statement"][0]["Resource"] == "arn:x"


def test_a_stack_without_rum_plans_no_component() -> None:
    assert rum_plan(make_config("prod")) is None
