"""The receivers' Secret holds exactly the files the rendered Alertmanager config reads, for
every repository stack: a heartbeat or channel webhook the config points at is never missing
from the Secret the Alertmanager pods mount, and no unused secret is shipped."""

from __future__ import annotations

from typing import Any

import pytest

from infra.estate import plan
from infra.render.alertmanager import DEFAULT_SECRETS_DIR, RECEIVER_SECRET_NAME
from tests.conftest import STACK_NAMES, stack_config


def _files(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {
            str(v).removeprefix(f"{DEFAULT_SECRETS_DIR}/")
            for k, v in node.items()
            if str(k).endswith("_file")
        }
        return found.union(*(_files(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_files(v) for v in node))
    return set()


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_secret_holds_exactly_the_files_the_config_reads(stack: str) -> None:
    estate = plan(stack_config(stack))
    alertmanager = estate.monitoring.values["alertmanager"]
    assert alertmanager["alertmanagerSpec"]["secrets"] == [RECEIVER_SECRET_NAME]
    assert _files(alertmanager["config"]) == set(estate.monitoring.receiver_secrets)


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("local", set()),
        (
            "dev",
            {
                "slack-critical-webhook-url",
                "slack-warning-webhook-url",
                "slack-info-webhook-url",
                "email-auth-password",
            },
        ),
        *(
            (
                env,
                {
                    "pagerduty-routing-key",
                    "slack-critical-webhook-url",
                    "slack-warning-webhook-url",
                    "slack-info-webhook-url",
                    "email-auth-password",
                    "heartbeat-url",
                },
            )
            for env in ("staging", "prod")
        ),
    ],
)
def test_each_stack_ships_its_channel_webhooks_and_heartbeat(
    stack: str, expected: set[str]
) -> None:
    assert set(plan(stack_config(stack)).monitoring.receiver_secrets) == expected
