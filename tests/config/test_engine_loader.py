"""Under the real engine the config comes from the engine (PULUMI_CONFIG, secrets already
decrypted); it must give the same EstateConfig as the stack file does offline."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
import pytest
import yaml

from infra.config import EstateConfig, load_from_pulumi
from infra.program import main
from infra.synth.mocks import EstateMocks
from tests.conftest import STACKS, stack_config

T = TypeVar("T")


def _engine_view(stack: str) -> dict[str, str]:
    """What `pulumi up` hands the program: every value a string (objects as JSON), every
    `secure:` value decrypted (here: replaced by a recognisable plain value)."""
    doc = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]

    def decrypt(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                return f"decrypted:{path}"
            return {k: decrypt(v, f"{path}.{k}") for k, v in value.items()}
        return value

    out: dict[str, str] = {}
    for key, value in doc.items():
        plain = decrypt(value, key)
        out[key] = plain if isinstance(plain, str) else json.dumps(plain)
    return out


def _under_engine(stack: str, config: dict[str, str], fn: Callable[[], T]) -> T:
    def run() -> T:
        pulumi.runtime.set_mocks(EstateMocks("us-east-1"), project="blue-harvest", stack=stack)
        pulumi.runtime.set_all_config(config)
        return fn()

    return contextvars.Context().run(run)


def _public(config: EstateConfig) -> dict[str, Any]:
    dumped: dict[str, Any] = json.loads(config.model_dump_json(by_alias=True))
    return dumped


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_engine_config_equals_the_stack_files(stack: str) -> None:
    engine = _under_engine(stack, _engine_view(stack), load_from_pulumi)
    offline = stack_config(stack)
    assert _public(engine) == _public(offline)  # secrets dump as '**********' on both sides
    assert engine.alerting.slack is not None
    assert engine.alerting.slack.critical.webhook_url.get_secret_value() == (
        "decrypted:blue-harvest:alerting.slack.critical.webhookUrl"
    )


def test_bad_engine_config_is_a_run_error_naming_the_stack_file_and_key() -> None:
    config = _engine_view("prod")
    logs = json.loads(config["blue-harvest:logs"])
    config["blue-harvest:logs"] = json.dumps({**logs, "retentionDays": 42})
    with pytest.raises(pulumi.RunError) as caught:
        _under_engine("prod", config, main)
    assert str(caught.value).startswith(
        "stacks/Pulumi.prod.yaml: blue-harvest:logs.retentionDays: 42 is not a retention"
    )


def test_under_the_engine_the_provider_keys_arrive_parsed_and_the_roles_stay_secret() -> None:
    config = _engine_view("prod")
    role = "arn:aws:iam::333333333333:role/estate-deployer"
    config["aws:profile"] = "bh-prod"
    # The engine hands a decrypted secret object as JSON text.
    config["aws:assumeRoles"] = json.dumps([{"roleArn": role, "sessionName": "estate"}])
    engine = _under_engine("prod", config, load_from_pulumi)
    assert engine.aws_allowed_account_ids == ("333333333333",)
    assert engine.aws_profile == "bh-prod"
    assert engine.aws_assume_roles is not None
    assert role not in repr(engine)
    assert json.loads(engine.aws_assume_roles.get_secret_value())[0]["roleArn"] == role


def test_under_the_engine_prod_cannot_declare_staging() -> None:
    config = _engine_view("prod")
    config["blue-harvest:environment"] = "staging"
    with pytest.raises(pulumi.RunError) as caught:
        _under_engine("prod", config, main)
    assert str(caught.value).startswith("stacks/Pulumi.prod.yaml: blue-harvest:environment: ")
