"""The CrossGuard pack runs the same functions on the same fixtures as `estate check`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    StackValidationArgs,
)

from infra.review.policies import POLICIES
from infra.review.policy_pack import stack_policies

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


def test_the_pack_keys_on_the_stack_not_on_a_label() -> None:
    """A prod stack whose namespaces say `staging` still gets prod's rules in CrossGuard."""
    path = Path(__file__).parent / "fixtures" / "stateful-protected.json"
    resources = _policy_resources(path)
    namespace = PolicyResource(
        resource_type="kubernetes:core/v1:Namespace",
        props={"metadata": {"name": "ns", "labels": {"blue-harvest.io/environment": "staging"}}},
        urn="urn:pulumi:prod::blue-harvest::kubernetes:core/v1:Namespace::ns",
        name="ns",
        opts=resources[0].opts,
        provider=None,
        parent=None,
        dependencies=[],
        property_dependencies={},
    )
    args = StackValidationArgs(resources=[*resources, namespace])
    reported: list[str] = []
    for policy in stack_policies():
        assert policy.validate is not None
        messages: list[tuple[str, str | None]] = []
        policy.validate(args, _collect(messages))
        reported += [policy.name] * len(messages)
    assert "stateful-protected" in reported


def _collect(into: list[tuple[str, str | None]]) -> Callable[[str, str | None], None]:
    def report(message: str, urn: str | None) -> None:
        into.append((message, urn))

    return report
