"""The CrossGuard pack runs the same functions on the same fixtures as `estate check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)

from infra.checks.policies import POLICIES
from infra.checks.policy_pack import stack_policies

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


def _policy_resources(path: Path) -> list[PolicyResource]:
    doc = json.loads(path.read_text())
    return [
        PolicyResource(
            resource_type=e["type"],
            props=e["inputs"],
            urn=e["urn"],
            name=e["name"],
            opts=PolicyResourceOptions(
                protect=bool(e.get("protect")),
                ignore_changes=[],
                delete_before_replace=None,
                aliases=[],
                custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                additional_secret_outputs=[],
            ),
            provider=None,
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
        for e in doc["resources"]
    ]


def test_the_pack_has_one_mandatory_policy_per_estate_policy() -> None:
    assert [p.name for p in stack_policies()] == [p.name for p in POLICIES]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_the_pack_reports_each_fixture_as_estate_check_does(path: Path) -> None:
    expect = json.loads(path.read_text())["expect"]
    args = StackValidationArgs(resources=_policy_resources(path))
    reported: list[tuple[str, str | None]] = []
    for policy in stack_policies():
        assert policy.validate is not None
        policy.validate(args, lambda message, urn: reported.append((message, urn)))
    name, _, location = expect["location"].partition(": ")
    assert any(
        message.startswith(f"{location}: ")
        and expect["message"] in message
        and urn
        and urn.endswith(f"::{name}")
        for message, urn in reported
    ), reported
