"""infra/program.py under the SDK's mock engine: what reaches the explicit AWS provider, and
the rules the plan adds before anything is registered."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError, EstateConfig, load_stack_file
from infra.config.secrets import SECRET_MARKER
from infra.estate import plan
from infra.program import register
from infra.synth.engine import run_program
from infra.synth.recorder import Registration
from tests.conftest import STACKS, make_config

ROLE = "arn:aws:iam::123456789012:role/estate-deployer"


def _provider(regs: tuple[Registration, ...]) -> dict[str, Any]:
    (provider,) = [r for r in regs if r.type == "pulumi:providers:aws"]
    return provider.inputs


def _decoded(value: Any) -> Any:
    """Provider inputs may arrive JSON-encoded (the SDK encodes a provider's non-string
    inputs); plain data either way."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def test_the_provider_receives_the_account_guard_profile_and_secret_roles() -> None:
    config = make_config(
        "staging",
        extra={
            "aws:allowedAccountIds": ["123456789012", "210987654321"],
            "aws:profile": "bh-staging",
            "aws:assumeRoles": [{"roleArn": ROLE, "sessionName": "estate", "externalId": "x"}],
        },
    )
    run = run_program(config, "staging")
    inputs = _provider(run.registrations)
    assert _decoded(inputs["allowedAccountIds"]) == ["123456789012", "210987654321"]
    assert inputs["profile"] == "bh-staging"
    assert inputs["assumeRoles"] == SECRET_MARKER
    recorded = json.dumps([r.as_dict() for r in run.registrations])
    assert ROLE not in recorded
    assert "estate-deployer" not in recorded


def test_an_encrypted_assume_roles_stays_secret_offline(tmp_path: Path) -> None:
    text = (STACKS / "Pulumi.prod.yaml").read_text()
    text += "  aws:assumeRoles:\n    secure: v1:UHJvZEFzc3VtZVJvbGVzUGxhY2Vob2xkZXI=\n"
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text)
    config = load_stack_file(path, "prod")
    inputs = _provider(run_program(config, "prod").registrations)
    assert inputs["assumeRoles"] == SECRET_MARKER
    assert _decoded(inputs["allowedAccountIds"]) == ["333333333333"]
    assert "profile" not in inputs


def test_without_the_keys_the_provider_gets_none_of_them() -> None:
    inputs = _provider(run_program(make_config("dev"), "dev").registrations)
    assert not {"allowedAccountIds", "profile", "assumeRoles"} & set(inputs)


def test_a_critical_alert_that_pages_fires_within_an_hour() -> None:
    slow = {"overrides": {"ServiceDown": {"for": "520w"}}}
    with pytest.raises(ConfigError) as caught:
        plan(make_config("prod", alerting=slow), source="stacks/Pulumi.prod.yaml")
    message = caught.value.render()
    assert "stacks/Pulumi.prod.yaml: blue-harvest:alerting.overrides.ServiceDown.for: " in message
    assert "above 1h" in message
    assert plan(make_config("prod", alerting={"overrides": {"ServiceDown": {"for": "1h"}}}))
    # Where nothing pages (dev), a slow critical alert is the team's choice.
    assert plan(make_config("dev", alerting=slow))


@pytest.mark.parametrize(
    ("stack", "declared"),
    [("prod", "staging"), ("prod", "local"), ("staging", "dev"), ("prod-eu", "dev")],
)
def test_a_stack_file_cannot_declare_its_way_out_of_its_environment(
    stack: str, declared: str, tmp_path: Path
) -> None:
    from infra.synth import StacksRefusedError, synth_stacks

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (STACKS / "Pulumi.staging.yaml").read_text()
    if declared == "local":
        text = (STACKS / "Pulumi.local.yaml").read_text()
    text = text.replace(
        "blue-harvest:environment: staging", f"blue-harvest:environment: {declared}"
    )
    (stacks / f"Pulumi.{stack}.yaml").write_text(text)
    with pytest.raises(StacksRefusedError) as caught:
        synth_stacks([stack], stacks, tmp_path / "out")
    message = str(caught.value)
    assert f"Pulumi.{stack}.yaml: blue-harvest:environment: " in message
    assert repr(declared) in message
    assert not (tmp_path / "out").exists()


def test_the_known_stacks_and_their_prefixed_kin_keep_their_environment(tmp_path: Path) -> None:
    from infra.synth import synth_stacks

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.prod.eu-west-1.yaml").write_text((STACKS / "Pulumi.prod.yaml").read_text())
    (stacks / "Pulumi.staging.yaml").write_text(
        (STACKS / "Pulumi.staging.yaml")
        .read_text()
        .replace("  blue-harvest:environment: staging\n", "")
    )
    (result_prod, result_staging) = synth_stacks(
        ["prod.eu-west-1", "staging"], stacks, tmp_path / "o"
    )
    assert result_prod.run.stack == "prod.eu-west-1"
    assert result_staging.stack == "staging"


def test_pipeline_charts_wait_for_the_chart_that_installs_the_servicemonitor_crd() -> None:
    """Jaeger, the collector, Loki and Alloy ship ServiceMonitors: on a first `pulumi up` their
    releases must wait for kube-prometheus-stack, which installs the CRD."""
    run = run_program(load_stack_file(STACKS / "Pulumi.prod.yaml", "prod"), "prod")
    (monitoring,) = [
        r
        for r in run.registrations
        if r.type == "kubernetes:helm.sh/v3:Release" and r.name == "monitoring-chart"
    ]
    pipeline = [
        r
        for r in run.registrations
        if r.type == "kubernetes:helm.sh/v3:Release" and r.urn != monitoring.urn
    ]
    assert {r.name for r in pipeline} == {
        "tracing-jaeger",
        "tracing-collector",
        "loki-loki",
        "loki-alloy",
    }
    for release in pipeline:
        assert monitoring.urn in release.depends_on, release.name


def test_three_mistakes_in_three_capabilities_are_reported_in_one_run() -> None:
    # The stack's identity, the backend's metrics (which the alerts and the SLOs read), an
    # alert override: four problems from three mistakes, one run.
    config = make_config(
        "staging",
        services={"backend": {"metrics": {"enabled": False}}},
        alerting={"overrides": {"HighErrorRate": {"threshold": -1}}},
    )
    with pytest.raises(ConfigError) as caught:
        plan(config, source="stacks/Pulumi.prod.yaml")
    keys = [p.key for p in caught.value.problems]
    assert keys == [
        "blue-harvest:environment",
        "blue-harvest:services.backend.metrics.enabled",
        "blue-harvest:alerting.overrides.HighErrorRate.threshold",
        "blue-harvest:slos.backend",
    ]
    assert caught.value.render().startswith("4 problems in stacks/Pulumi.prod.yaml:")


def test_register_reads_the_plan_only() -> None:
    config = make_config("prod")
    estate = plan(config)
    # No field of the plan is (or holds) the config: register cannot read it.
    assert not any(isinstance(getattr(estate, f.name), EstateConfig) for f in fields(estate))
    assert "config" not in {f.name for f in fields(estate)}
    recorded = run_program(config, "prod").registrations
    # Under the mock engine, register(plan) alone declares what build(config) declares.
    replayed = run_program(make_config("dev"), "prod", lambda _ignored: register(estate))
    assert [r.as_dict() for r in replayed.registrations] == [r.as_dict() for r in recorded]
