"""Every policy has a failing fixture that `estate check` reports with its location, and
the repository's own stacks pass every policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.checks.runner import Target, check_policies
from infra.estate import plan
from infra.review.policies import (
    POLICIES,
    Resource,
    environment_of,
    evaluate,
    from_registration,
    image_pinned,
)
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
    config = make_config("prod")
    return Target("prod", config, tree, plan(config))


#: Policies with more than one rule have a fixture per rule: log-groups (retention, prod's
#: 30-day floor, encryption in prod) and tls (email, the trace store).
EXTRA_FIXTURES = {"log-encryption", "log-retention-prod", "tls-trace-store"}


def test_every_policy_has_a_failing_fixture() -> None:
    assert {p.name for p in POLICIES} | EXTRA_FIXTURES == {p.stem for p in FIXTURES}


def _on_stack(path: Path, stack: str) -> list[Resource]:
    """A fixture's resources as if another stack had registered them."""
    text = path.read_text().replace("urn:pulumi:prod::", f"urn:pulumi:{stack}::")
    return [from_registration(e) for e in json.loads(text)["resources"]]


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


def test_critical_pages_is_only_required_in_staging_and_prod() -> None:
    path = Path(__file__).parent / "fixtures" / "critical-pages.json"
    assert [v.policy for v in evaluate(_on_stack(path, "dev"))] == []
    assert [v.policy for v in evaluate(_on_stack(path, "staging"))] == ["critical-pages"]


@pytest.mark.parametrize(
    "fixture", ["paging-grouping", "critical-for", "tls", "tls-trace-store", "aws-account-guard"]
)
def test_paging_tls_and_account_rules_apply_where_they_belong(fixture: str) -> None:
    """Quiet in dev; the fixture's finding in prod."""
    path = Path(__file__).parent / "fixtures" / f"{fixture}.json"
    policy = "tls" if fixture == "tls-trace-store" else fixture
    assert policy not in [v.policy for v in evaluate(_on_stack(path, "dev"))]
    assert policy in [v.policy for v in evaluate(_on_stack(path, "prod"))]


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod"])
def test_url_credentials_and_non_finite_thresholds_are_refused_everywhere(stack: str) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    found = evaluate(_on_stack(fixtures / "no-url-credentials.json", stack))
    assert "no-url-credentials" in [v.policy for v in found]
    assert all("CANARY" not in f"{v.location} {v.message}" for v in found)
    found = evaluate(_on_stack(fixtures / "thresholds-finite.json", stack))
    assert "thresholds-finite" in [v.policy for v in found]


def test_a_label_cannot_talk_a_prod_stack_out_of_prod_rules() -> None:
    """The stack's identity (its name in the URNs) fixes the rules; a declared environment
    (the namespaces' label, or the caller's) may raise them, never lower them."""
    path = Path(__file__).parent / "fixtures" / "stateful-protected.json"
    for stack in ("prod", "prod-eu", "prod.eu-west-1", "eu-production"):
        resources = _on_stack(path, stack)
        assert environment_of(resources, "staging") == "prod"
        assert "stateful-protected" in [v.policy for v in evaluate(resources, "dev")]
    # A stack of another name takes what the program declared, and prod's rules without it.
    assert environment_of(_on_stack(path, "eu-west"), "staging") == "staging"
    assert environment_of(_on_stack(path, "eu-west")) == "prod"
    assert environment_of(_on_stack(path, "dev"), "prod") == "prod"


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
    assert environment_of(resources) == "prod"
    unprotected = [
        from_registration({**e, "protect": False})
        if e["type"] in ("aws:kms/key:Key", "aws:amp/workspace:Workspace")
        else from_registration(e)
        for e in doc["resources"]
    ]
    violations = evaluate(unprotected)
    assert {v.policy for v in violations} == {"stateful-protected"}
    # One per key (the log groups' and the metrics workspace's log group's) and the workspace.
    stateful = ("aws:kms/key:Key", "aws:amp/workspace:Workspace")
    assert sorted(v.urn for v in violations) == sorted(
        r.urn for r in resources if r.type in stateful
    )
    assert any(r.type == "aws:amp/workspace:Workspace" for r in resources)


def _aws_provider(stack: str, **inputs: str) -> Resource:
    return from_registration(
        {
            "type": "pulumi:providers:aws",
            "name": "aws",
            "urn": f"urn:pulumi:{stack}::blue-harvest::pulumi:providers:aws::aws",
            "inputs": inputs,
        }
    )


def test_provider_inputs_are_read_as_the_sdk_sends_them_json_encoded() -> None:
    tags = '{"tags": {"project": "blue-harvest", "environment": "staging"}}'
    guarded = _aws_provider("eu-west", defaultTags=tags, allowedAccountIds='["123456789012"]')
    assert environment_of([guarded]) == "staging"
    assert evaluate([guarded]) == []
    unguarded = _aws_provider("eu-west", defaultTags=tags, allowedAccountIds="[]")
    assert [v.location for v in evaluate([unguarded])] == ["inputs.allowedAccountIds"]


def test_an_image_reference_outside_the_oci_grammar_is_a_finding() -> None:
    deployment = from_registration(
        {
            "type": "kubernetes:apps/v1:Deployment",
            "name": "backend",
            "urn": "urn:pulumi:dev::blue-harvest::kubernetes:apps/v1:Deployment::backend",
            "inputs": {
                "spec": {"template": {"spec": {"containers": [{"image": "ghcr.io/a/b:1 x"}]}}}
            },
        }
    )
    (found,) = [v for v in evaluate([deployment]) if v.policy == "images-pinned"]
    assert found.location == "spec.template.spec.containers[0].image"
    assert "not an image reference" in found.message


def test_a_prod_stack_running_a_staging_config_meets_prod_policies() -> None:
    """What `blue-harvest:environment: staging` in the prod stack file would register (the
    loader refuses the file; this is the policies' own line of defence): the program labels
    everything staging, and estate check still applies prod's rules to the stack `prod`."""
    from infra.synth.engine import run_program

    config = make_config("staging")
    run = run_program(config, "prod")
    resources = [from_registration(r.as_dict()) for r in run.registrations]
    assert resources[0].stack == "prod"
    found = {v.policy for v in evaluate(resources, config.environment)}
    assert found == {"stateful-protected"}  # staging's unprotected log groups and key


def test_a_trace_store_on_plain_http_is_refused_whatever_the_scheme_case(tmp_path: Path) -> None:
    source = Path(__file__).parent / "fixtures" / "tls-trace-store.json"
    upper = tmp_path / "tls-trace-store-upper.json"
    upper.write_text(source.read_text().replace('"http://', '"HTTP://'))
    assert '"HTTP://' in upper.read_text()
    assert "tls" in [v.policy for v in evaluate(_on_stack(upper, "prod"))]
