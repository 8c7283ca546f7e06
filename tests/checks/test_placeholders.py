"""`estate check --deployable`: the committed stacks' example values are each named by key
(never by value) before a first `pulumi up`; a stack with real values passes; `estate synth`
keeps accepting the examples."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest

from infra.checks.placeholders import placeholder_problems
from infra.checks.runner import deployable_findings
from infra.config import load_stack_file
from tests.conftest import STACKS

#: Every placeholder the committed prod stack carries, by key.
PROD_PLACEHOLDERS = {
    "aws:allowedAccountIds[0]",
    "blue-harvest:cluster.oidcProviderArn",
    "blue-harvest:logs.reportEmail",
    "sentry:token",
    "blue-harvest:tracing.storageUrl",
    "blue-harvest:tracing.storagePassword",
    "blue-harvest:metrics.prometheusExternalUrl",
    "blue-harvest:metrics.alertmanagerExternalUrl",
    "blue-harvest:alerting.pagerduty.routingKey",
    "blue-harvest:alerting.slack.critical.webhookUrl",
    "blue-harvest:alerting.slack.warning.webhookUrl",
    "blue-harvest:alerting.slack.info.webhookUrl",
    "blue-harvest:alerting.heartbeatUrl",
    "blue-harvest:alerting.email.to",
    "blue-harvest:alerting.email.from",
    "blue-harvest:alerting.email.smarthost",
    "blue-harvest:alerting.email.authPassword",
    # Not in the file: defaults under .example.
    "blue-harvest:alerting.runbookBaseUrl",
    "blue-harvest:alerting.grafanaUrl",
}


def _passphrase_ciphertext() -> str:
    """The shape `pulumi config set --secret` writes with a passphrase: v1:nonce:box."""
    nonce = base64.b64encode(secrets.token_bytes(12)).decode()
    return f"v1:{nonce}:{base64.b64encode(secrets.token_bytes(40)).decode()}"


def _cloud_ciphertext() -> str:
    return base64.b64encode(b"\x00\x00\x01\x00" + secrets.token_bytes(40)).decode()


def _made_real(text: str) -> str:
    """prod's stack file with every example value replaced by a real-looking one."""
    text = re.sub(r"secure: \S+", lambda _: f"secure: {_passphrase_ciphertext()}", text)
    text = text.replace("333333333333", "482193705561").replace("PRD0EXAMPLE", "B71C0FFEE42")
    text = text.replace("blueharvest.example", "blueharvest.io")
    return text.replace(
        "  blue-harvest:alerting:\n",
        "  blue-harvest:alerting:\n"
        '    runbookBaseUrl: "https://runbooks.blueharvest.io/alerts"\n'
        '    grafanaUrl: "https://grafana.blueharvest.io"\n',
        1,
    )


def test_every_placeholder_of_prod_is_named_by_its_key_and_no_value_is_shown() -> None:
    config = load_stack_file(STACKS / "Pulumi.prod.yaml", "prod")
    found = deployable_findings("prod", STACKS, config)
    assert {f.location for f in found} == PROD_PLACEHOLDERS
    assert all(f.severity == "error" and f.check == "deployable" for f in found)
    text = "\n".join(f.message for f in found)
    assert "333333333333" not in text
    assert "v1:" not in text
    assert "blueharvest.example" not in text


def test_a_stack_with_real_values_is_deployable(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(_made_real((STACKS / "Pulumi.prod.yaml").read_text()))
    config = load_stack_file(path, "prod")
    assert deployable_findings("prod", tmp_path, config) == []


def test_the_local_stack_carries_none_but_its_links_default_to_example_hosts() -> None:
    config = load_stack_file(STACKS / "Pulumi.local.yaml", "local")
    found = deployable_findings("local", STACKS, config)
    assert {(f.location, f.message.endswith("(a default: set it)")) for f in found} == {
        ("blue-harvest:alerting.runbookBaseUrl", True),
        ("blue-harvest:alerting.grafanaUrl", True),
    }


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ({"secure": "v1:UHJvZFBhZ2VyRHV0eVBsYWNlaG9sZGVy"}, True),
        ({"secure": "not base64 at all"}, True),
        ({"secure": "v1:AAAAAAAAAAAAAAAA:short"}, True),
        ({"secure": "QUFBQkFub3QgdGhlIGhlYWRlcg=="}, True),
        ({"secure": _passphrase_ciphertext()}, False),
        ({"secure": _cloud_ciphertext()}, False),
        ("123456789012", True),
        ("000000000000", True),
        ("482193705561", False),
        ("arn:aws:iam::482193705561:oidc-provider/oidc.eks.x.amazonaws.com/id/EXAMPLED0", True),
        ("https://grafana.example.com/d/x", True),
        ("smtp.corp.invalid:587", True),
        ("sre@blueharvest.test", True),
        ("https://examples.blueharvest.io", False),
        ("https://grafana.blueharvest.io/example", False),
        ("team@example-corp.io", False),
    ],
)
def test_what_counts_as_a_placeholder(value: object, placeholder: bool) -> None:
    assert bool(placeholder_problems({"k": value})) is placeholder
