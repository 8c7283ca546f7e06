"""`estate deploy-policy`: the deploy role's IAM policy comes from the resource types a stack
declares, and every AWS type a component can declare has its actions."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.checks.deploy_policy import ACTIONS, UnknownResourceTypeError, deploy_policy
from infra.cli import app
from infra.synth.engine import run_program
from tests.conftest import ROOT, make_config, stack_config

_DECLARED = re.compile(r"\baws\.([a-z0-9]+)\.([A-Z][A-Za-z0-9]*)\(")


def _token(module: str, cls: str) -> str:
    return f"aws:{module}/{cls[0].lower()}{cls[1:]}:{cls}"


def test_every_aws_resource_a_component_declares_has_its_actions() -> None:
    declared = {
        _token(m, c)
        for path in (ROOT / "infra" / "components").glob("*.py")
        for m, c in _DECLARED.findall(path.read_text())
        if not c.endswith("Args")
    }
    assert "aws:cloudwatch/logGroup:LogGroup" in declared
    assert sorted(declared - set(ACTIONS)) == []
    assert sorted(set(ACTIONS) - declared) == []


def _types(stack: str, **keys: Any) -> set[str]:
    config = make_config(stack, **keys) if keys else stack_config(stack)
    return {r.type for r in run_program(config, stack).registrations}


def test_prods_policy_covers_its_resources_and_nothing_it_does_not_declare() -> None:
    types = _types("prod")
    statement = deploy_policy(types)["Statement"]
    assert isinstance(statement, list)
    actions = set(statement[0]["Action"])
    assert {"logs:CreateLogGroup", "kms:CreateKey", "aps:CreateWorkspace"} <= actions
    assert not any(a.startswith(("rum:", "cognito-identity:")) for a in actions)


def test_a_stack_with_rum_asks_for_rum_and_cognito() -> None:
    types = _types("staging", rum={"enabled": True, "domain": "blueharvest.io"})
    statement = deploy_policy(types)["Statement"]
    assert isinstance(statement, list)
    actions = set(statement[0]["Action"])
    assert {
        "rum:CreateAppMonitor",
        "cognito-identity:CreateIdentityPool",
        "iam:PassRole",
    } <= actions


def test_the_local_stack_needs_no_aws_permission() -> None:
    assert deploy_policy(_types("local")) == {"Version": "2012-10-17", "Statement": []}


def test_a_type_without_a_row_is_named() -> None:
    with pytest.raises(UnknownResourceTypeError, match="aws:ec2/vpc:Vpc"):
        deploy_policy(["aws:ec2/vpc:Vpc", "aws:kms/key:Key"])


def test_the_command_prints_the_policy(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["deploy-policy", "dev", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert "logs:PutMetricFilter" in document["Statement"][0]["Action"]
