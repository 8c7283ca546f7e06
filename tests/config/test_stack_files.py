"""Stack files: every good one loads, every bad one is refused naming its key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.config import ConfigError, load_stack_file
from infra.estate import plan
from tests.conftest import STACKS, stack_config

HERE = Path(__file__).parent
GOOD = sorted((HERE / "good").glob("Pulumi.*.yaml"))
BAD = sorted((HERE / "bad").glob("Pulumi.*.yaml"))


def _expected_key(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# expect: (.+)", first)
    assert match, f"{path.name} must start with '# expect: <key>'"
    return match.group(1)


def test_there_are_at_least_fifteen_bad_cases() -> None:
    assert len(BAD) >= 15


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_stack_files_load(path: Path) -> None:
    config = load_stack_file(path)
    assert config.services


def _refuse(path: Path) -> None:
    """What `estate synth` and `pulumi up` do before registering anything: load the stack
    file, then plan (the plan adds the rules that need the rendered alerts)."""
    plan(load_stack_file(path), source=str(path))


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_stack_file_is_refused_naming_file_and_key(path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _refuse(path)
    message = caught.value.render()
    assert str(path) in message
    assert f": {_expected_key(path)}: " in message, message
    assert "CANARY" not in message


def test_a_url_password_is_never_echoed() -> None:
    for name in ("url-with-password", "secret-url-with-password"):
        with pytest.raises(ConfigError) as caught:
            load_stack_file(HERE / "bad" / f"Pulumi.{name}.yaml")
        message = caught.value.render()
        assert "CANARY-URL-PASSWORD" not in message
        assert "without credentials" in message


def test_plaintext_secret_error_does_not_echo_the_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(HERE / "bad" / "Pulumi.plaintext-secret.yaml")
    assert "CANARY-PLAINTEXT" not in caught.value.render()
    assert "pulumi config set --path --secret" in caught.value.render()


def test_unknown_key_lists_the_allowed_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(HERE / "bad" / "Pulumi.unknown-nested-key.yaml")
    assert "retentionDays" in caught.value.render()
    assert "reportEmail" in caught.value.render()


def test_retention_error_lists_the_values_cloudwatch_accepts() -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(HERE / "bad" / "Pulumi.retention-not-allowed.yaml")
    assert "allowed: 0, 1, 3, 5, 7, 14, 30" in caught.value.render()


def test_every_repository_stack_loads(stack_name: str) -> None:
    assert stack_config(stack_name).environment == stack_name


def test_secure_values_become_placeholders_offline() -> None:
    config = stack_config("prod")
    assert config.alerting.pagerduty is not None
    assert config.alerting.pagerduty.routing_key is not None
    value = config.alerting.pagerduty.routing_key.get_secret_value()
    assert value == "[secure-placeholder:blue-harvest:alerting.pagerduty.routingKey]"
    assert "v1:" not in value


def test_stack_name_supplies_the_environment_when_unset() -> None:
    assert load_stack_file(HERE / "good" / "Pulumi.prod.yaml").environment == "prod"


def test_keys_without_namespace_belong_to_the_project() -> None:
    config = load_stack_file(HERE / "good" / "Pulumi.bare-keys.yaml")
    assert config.environment == "local"
    assert config.services["backend"].image.endswith("0123456789abcdef")


def test_missing_stack_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such stack file"):
        load_stack_file(tmp_path / "Pulumi.nope.yaml")


def test_every_mistake_of_a_file_is_reported_in_one_run(tmp_path: Path) -> None:
    """An unknown key, a field error and a stack that declares another environment: one run,
    three problems, so the user fixes the file once."""
    text = (STACKS / "Pulumi.prod.yaml").read_text()
    text = text.replace("blue-harvest:environment: prod", "blue-harvest:environment: staging")
    text = text.replace("    retentionDays: 90\n", "    retentionDays: 2\n")
    text = text.replace("config:\n", "config:\n  blue-harvest:colour: blue\n", 1)
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path, "prod")
    keys = {p.key for p in caught.value.problems}
    assert {
        "blue-harvest:colour",
        "blue-harvest:environment",
        "blue-harvest:logs.retentionDays",
    } <= keys
