"""Every policy has a failing fixture that `estate check` reports with its location, and
the repository's own stacks pass every policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.checks.policies import POLICIES, evaluate, from_registration, image_pinned
from infra.checks.runner import Target, check_policies
from tests.conftest import make_config

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _target(path: Path, tmp_path: Path) -> Target:
    doc = _load(path)
    tree = tmp_path / "prod"
    tree.mkdir()
    (tree / "resources.json").write_text(
        json.dumps({"stack": "prod", "resources": doc["resources"]})
    )
    return Target("prod", make_config("prod"), tree)


def test_every_policy_has_a_failing_fixture() -> None:
    # log-groups has two rules (retention; encryption in prod), each with its own fixture.
    assert {p.name for p in POLICIES} | {"log-encryption"} == {p.stem for p in FIXTURES}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_estate_check_reports_the_fixture_with_its_location(path: Path, tmp_path: Path) -> None:
    expect = _load(path)["expect"]
    findings = list(check_policies(_target(path, tmp_path)))
    assert findings, f"{path.stem}: no finding"
    locations = [f.location for f in findings]
    assert expect["location"] in locations, locations
    finding = findings[locations.index(expect["location"])]
    assert expect["message"] in finding.message
    assert finding.severity == "error"
    assert finding.file.endswith("resources.json")


def test_the_repository_stacks_pass_every_policy(stack_name: str, tmp_path: Path) -> None:
    from infra.synth import synth_stacks
    from tests.conftest import STACKS

    synth_stacks([stack_name], STACKS, tmp_path)
    doc = json.loads((tmp_path / stack_name / "resources.json").read_text())
    assert evaluate([from_registration(e) for e in doc["resources"]]) == []


def test_critical_pages_is_only_required_in_staging_and_prod(tmp_path: Path) -> None:
    doc = _load(Path(__file__).parent / "fixtures" / "critical-pages.json")
    resources = [from_registration(e) for e in doc["resources"]]
    assert [v.policy for v in evaluate(resources, "dev")] == []
    assert [v.policy for v in evaluate(resources, "staging")] == ["critical-pages"]


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("a/b:1.2.3", True),
        ("a/b", False),
        ("a/b:latest", False),
        ("registry:5000/b", False),
        ("b@sha256:" + "0" * 64, True),
    ],
)
def test_image_pinning(image: str, pinned: bool) -> None:
    assert image_pinned(image) is pinned


def test_the_environment_comes_from_the_program_not_the_stack_name(tmp_path: Path) -> None:
    """A stack named prod-eu with environment prod gets prod's policies."""
    from infra.synth import synth_stacks
    from tests.conftest import STACKS

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.prod-eu.yaml").write_text((STACKS / "Pulumi.prod.yaml").read_text())
    synth_stacks(["prod-eu"], stacks, tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "prod-eu" / "resources.json").read_text())
    resources = [from_registration(e) for e in doc["resources"]]
    assert resources[0].stack == "prod-eu"
    from infra.checks.policies import environment_of

    assert environment_of(resources) == "prod"
    unprotected = [
        from_registration({**e, "protect": False})
        if e["type"] == "aws:kms/key:Key"
        else from_registration(e)
        for e in doc["resources"]
    ]
    assert [v.policy for v in evaluate(unprotected)] == ["stateful-protected"]
