"""A managed PagerDuty service: its integration key feeds Alertmanager, never in plain text."""

from __future__ import annotations

import json

import pytest

from infra.config import ConfigError
from infra.config.secrets import SECRET_MARKER
from infra.program import build
from infra.synth.engine import SynthRun, run_program
from infra.synth.writer import render_files
from tests.conftest import make_config

MANAGE = {"manage": {"escalationTargets": [{"type": "schedule_reference", "id": "PSCHED1"}]}}


def _run(environment: str = "staging") -> SynthRun:
    config = make_config(
        environment,
        alerting={"pagerduty": {"routingKey": None, **MANAGE}},
        extra={"pagerduty:token": "pd-test-token"},
    )
    return run_program(config, environment, build)


def test_managed_service_creates_policy_service_and_events_v2_integration() -> None:
    regs = _run().registrations
    by_type = {r.type: r for r in regs if r.type.startswith("pagerduty:")}
    assert set(by_type) == {
        "pagerduty:index/escalationPolicy:EscalationPolicy",
        "pagerduty:index/service:Service",
        "pagerduty:index/serviceIntegration:ServiceIntegration",
    }
    policy = by_type["pagerduty:index/escalationPolicy:EscalationPolicy"]
    assert policy.inputs["rules"][0]["targets"] == [{"id": "PSCHED1", "type": "schedule_reference"}]
    integration = by_type["pagerduty:index/serviceIntegration:ServiceIntegration"]
    assert integration.inputs["type"] == "events_api_v2_inbound_integration"
    assert by_type["pagerduty:index/service:Service"].inputs["name"] == "Blue Harvest (staging)"


def test_the_integration_key_feeds_the_receivers_secret() -> None:
    run = _run()
    (integration,) = [r for r in run.registrations if r.type.endswith("ServiceIntegration")]
    (secret,) = [
        r
        for r in run.registrations
        if r.type == "kubernetes:core/v1:Secret"
        and r.inputs["metadata"]["name"] == "alertmanager-receivers"
    ]
    assert integration.urn in secret.depends_on
    assert secret.inputs["stringData"] == SECRET_MARKER
    files = render_files(run)
    assert "synth" not in json.dumps(secret.inputs)
    assert "routing_key_file" in files["alertmanager/alertmanager.yaml"]


def test_dev_never_creates_a_pagerduty_service() -> None:
    regs = run_program(make_config("dev"), "dev", build).registrations
    assert not [r for r in regs if r.type.startswith("pagerduty:")]


@pytest.mark.parametrize(
    "pagerduty",
    [{"routingKey": "k", **MANAGE}, {"routingKey": None}],
    ids=["both", "neither"],
)
def test_exactly_one_source_of_the_routing_key(pagerduty: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=r"alerting\.pagerduty: set exactly one of routingKey"):
        make_config("staging", alerting={"pagerduty": pagerduty})


def test_a_managed_service_needs_the_provider_token() -> None:
    with pytest.raises(ConfigError, match="pagerduty:token: is required"):
        make_config("staging", alerting={"pagerduty": {"routingKey": None, **MANAGE}})
