"""The guardrails no stack file can switch off, and the one URL rule every URL key meets."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from infra.config import ConfigError, EstateConfig
from infra.config.model import _URL
from tests.conftest import make_config

ENVS = ("local", "dev", "staging", "prod")


def _refused(environment: str, **keys: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        make_config(environment, **keys)
    return caught.value.render()


@pytest.mark.parametrize("environment", ENVS)
@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
def test_thresholds_are_finite_in_every_environment(environment: str, number: object) -> None:
    message = _refused(
        environment, alerting={"overrides": {"HighErrorRate": {"threshold": number}}}
    )
    assert ": blue-harvest:alerting.overrides.HighErrorRate.threshold: " in message
    assert "finite" in message
    message = _refused(environment, logs={"alarms": {"errors": {"threshold": number}}})
    assert ": blue-harvest:logs.alarms.errors.threshold: " in message


def _url_fields(model: type[BaseModel], path: str = "") -> list[tuple[str, Any]]:
    """(key, annotation) of every field whose name says it holds a URL, at any depth."""
    found: list[tuple[str, Any]] = []
    for name, field in model.model_fields.items():
        key = f"{path}.{field.alias or name}" if path else str(field.alias or name)
        if name.endswith("url") or name.endswith("_url"):
            found.append((key, field))
        for inner in _types(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found += _url_fields(inner, key)
    return found


def _types(annotation: Any) -> set[Any]:
    found = {annotation}
    for arg in typing.get_args(annotation):
        found |= _types(arg)
    return found


def test_every_url_key_uses_the_one_url_rule() -> None:
    """A new URL-valued key either carries the URL pattern (no userinfo) or is a secret,
    whose plain-text form meets the same rule."""
    fields = _url_fields(EstateConfig)
    assert len(fields) >= 6, fields
    for key, field in fields:
        patterns = [getattr(m, "pattern", None) for m in field.metadata]
        secret = SecretStr in _types(field.annotation)
        assert _URL in patterns or secret, f"{key} does not use the URL rule"


@pytest.mark.parametrize("environment", ENVS)
@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"tracing": {"storage": "opensearch", "storageUrl": "https://jaeger:pw-CANARY@h:9200"}},
            "blue-harvest:tracing.storageUrl",
        ),
        (
            {"alerting": {"runbookBaseUrl": "https://u:pw-CANARY@runbooks.example/a"}},
            "blue-harvest:alerting.runbookBaseUrl",
        ),
        (
            {"alerting": {"grafanaUrl": "https://admin:pw-CANARY@grafana.example"}},
            "blue-harvest:alerting.grafanaUrl",
        ),
        (
            {"grafana": {"external": {"url": "https://a:pw-CANARY@g.example", "auth": "t"}}},
            "blue-harvest:grafana.external.url",
        ),
        (
            {"alerting": {"heartbeatUrl": "https://u:pw-CANARY@hb.example/ping"}},
            "blue-harvest:alerting.heartbeatUrl",
        ),
    ],
)
def test_no_credentials_in_any_url_in_any_environment(
    environment: str, keys: dict[str, Any], expected: str
) -> None:
    message = _refused(environment, **keys)
    assert f": {expected}: " in message, message
    assert "CANARY" not in message
    assert "pw-" not in message


def test_a_url_without_userinfo_may_still_contain_an_at_sign_in_its_path() -> None:
    config = make_config("dev", alerting={"runbookBaseUrl": "https://r.example/@team/alerts"})
    assert config.alerting.runbook_base_url.endswith("@team/alerts")


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"alerting": {"grouping": {"groupWait": "6m"}}}, "alerting.grouping.groupWait"),
        ({"alerting": {"grouping": {"groupInterval": "31m"}}}, "alerting.grouping.groupInterval"),
        ({"alerting": {"grouping": {"repeatInterval": "25h"}}}, "alerting.grouping.repeatInterval"),
        ({"logs": {"retentionDays": 14}}, "logs.retentionDays"),
        ({"logs": {"retentionDays": 0}}, "logs.retentionDays"),
        (
            {
                "alerting": {
                    "email": {
                        "to": "a@b.example",
                        "from": "c@b.example",
                        "smarthost": "smtp.b.example:587",
                        "requireTls": False,
                    }
                }
            },
            "alerting.email.requireTls",
        ),
        ({"tracing": {"storageUrl": "http://traces.example:9200"}}, "tracing.storageUrl"),
        ({"aws": {"enabled": False}}, "aws.enabled"),
        (
            {"alerting": {"pagerduty": {"url": "http://127.0.0.1:9999/v2/enqueue"}}},
            "alerting.pagerduty.url",
        ),
    ],
)
def test_prod_cannot_be_weakened(keys: dict[str, Any], expected: str) -> None:
    message = _refused("prod", **keys)
    assert f": blue-harvest:{expected}: " in message, message


@pytest.mark.parametrize("url", ["HTTP://traces.example:9200", "Http://traces.example:9200"])
def test_a_plain_http_trace_store_is_refused_in_prod_whatever_the_schemes_case(url: str) -> None:
    """Once refused with the no-credentials message: the scheme is compared case-insensitively."""
    message = _refused("prod", tracing={"storageUrl": url})
    assert message.endswith(
        ": blue-harvest:tracing.storageUrl: must be https:// in prod: the trace store uses TLS"
    ), message
    assert "credentials" not in message


def test_a_capital_scheme_is_read_as_the_scheme() -> None:
    config = make_config(
        "prod",
        tracing={"storageUrl": "HTTPS://Traces.example:9200/x"},
        alerting={"runbookBaseUrl": "Https://runbooks.example/a"},
    )
    assert config.tracing.storage_url == "https://Traces.example:9200/x"
    assert config.alerting.runbook_base_url == "https://runbooks.example/a"


def test_the_paging_limits_hold_at_their_edge() -> None:
    grouping = {"groupWait": "5m", "groupInterval": "30m", "repeatInterval": "24h"}
    assert make_config("prod", alerting={"grouping": grouping})
    assert make_config("prod", logs={"retentionDays": 30})
    # Where nothing pages, the team chooses its own grouping.
    assert make_config("dev", alerting={"grouping": {"repeatInterval": "520w"}})


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_allowed_account_ids_are_required_in_staging_and_prod(environment: str) -> None:
    message = _refused(environment, extra={"aws:allowedAccountIds": None})
    assert ": aws:allowedAccountIds: is required" in message
    assert make_config("dev").aws_allowed_account_ids is None


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        # Unquoted, an id is a YAML number: one message, not pydantic's words twice over.
        ([333333333333], "aws:allowedAccountIds[0]: is the number 333333333333: must be"),
        (["333333333333", "12345"], "aws:allowedAccountIds[1]: is '12345': must be"),
        ([True], "aws:allowedAccountIds[0]: is True: must be"),
        ("333333333333", "aws:allowedAccountIds: must be a list of one or more account ids, each"),
        ([], "aws:allowedAccountIds: must be a list of one or more account ids, each"),
    ],
)
def test_allowed_account_ids_are_quoted_twelve_digit_ids(ids: object, expected: str) -> None:
    message = _refused("prod", extra={"aws:allowedAccountIds": ids})
    (line,) = [x for x in message.splitlines() if "aws:allowedAccountIds" in x]
    assert line.endswith(f': {expected} a 12-digit AWS account id, quoted ("012345678901")'), (
        message
    )
    assert "Tuple" not in message
    assert "valid string" not in message


def test_assume_roles_name_role_arns_and_never_echo_them() -> None:
    message = _refused("dev", extra={"aws:assumeRoles": [{"roleArn": "CANARY-not-an-arn"}]})
    assert ": aws:assumeRoles: " in message
    assert "CANARY" not in message
    message = _refused("dev", extra={"aws:assumeRoles": [{"roleArn": "x", "secretKey": "k"}]})
    assert "unknown key secretKey" in message


def test_assume_roles_must_be_encrypted_outside_local() -> None:
    roles = [{"roleArn": "arn:aws:iam::123456789012:role/deployer"}]
    message = _refused("dev", plaintext_secrets_ok=False, extra={"aws:assumeRoles": roles})
    assert ": aws:assumeRoles: is a credential and must be stored encrypted" in message
