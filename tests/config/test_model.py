"""EstateConfig's per-environment defaults and cross-field rules."""

from __future__ import annotations

import pytest

from infra.config import RETENTION_DAYS, ConfigError, build_config
from tests.conftest import make_config


@pytest.mark.parametrize(
    ("environment", "retention", "encrypt", "protect", "aws"),
    [
        ("local", 1, False, False, False),
        ("dev", 14, False, False, True),
        ("staging", 30, True, False, True),
        ("prod", 90, True, True, True),
    ],
)
def test_environment_defaults(
    environment: str, retention: int, encrypt: bool, protect: bool, aws: bool
) -> None:
    config = make_config(environment)
    assert config.logs.retention_days == retention
    assert config.logs.encrypt is encrypt
    assert config.logs.protect is protect
    assert config.aws.enabled is aws
    assert config.metric_namespace == f"BlueHarvest/{environment}"


def test_stack_file_values_override_defaults_key_by_key() -> None:
    config = make_config("dev", logs={"retentionDays": 30})
    assert config.logs.retention_days == 30
    assert config.logs.encrypt is False  # the rest of logs keeps dev's defaults


@pytest.mark.parametrize("days", RETENTION_DAYS)
def test_every_cloudwatch_retention_is_accepted(days: int) -> None:
    assert make_config("dev", logs={"retentionDays": days}).logs.retention_days == days


@pytest.mark.parametrize("days", [2, 4, 31, 366, 3654, -1])
def test_other_retentions_are_refused(days: int) -> None:
    with pytest.raises(ConfigError, match=r"blue-harvest:logs\.retentionDays"):
        make_config("dev", logs={"retentionDays": days})


def test_prod_collects_every_cross_field_problem_at_once() -> None:
    raw = {
        "aws:region": "us-east-1",
        "blue-harvest:services": {"backend": {"image": "b:1", "port": 4000}},
        "blue-harvest:logs": {"encrypt": False, "protect": False},
    }
    with pytest.raises(ConfigError) as caught:
        build_config(raw, source="x.yaml", stack="prod", plaintext_secrets_ok=False)
    keys = {p.key for p in caught.value.problems}
    assert keys >= {
        "blue-harvest:logs.encrypt",
        "blue-harvest:logs.protect",
        "blue-harvest:alerting.pagerduty",
        "blue-harvest:logs.reportEmail",
    }


def test_plaintext_secret_refused_outside_local() -> None:
    with pytest.raises(ConfigError, match=r"alerting\.pagerduty\.routingKey"):
        make_config("prod", plaintext_secrets_ok=False)


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/blue-harvest/backend:1.42.0",
        "registry:5000/backend:2024.11.1",
        "backend@sha256:" + "a" * 64,
    ],
)
def test_pinned_images_are_accepted(image: str) -> None:
    config = make_config("local", services={"backend": {"image": image, "port": 4000}})
    assert config.services["backend"].image == image


@pytest.mark.parametrize(
    "image", ["backend", "registry:5000/backend", "backend:latest", "backend@sha256:abc"]
)
def test_unpinned_images_are_refused(image: str) -> None:
    with pytest.raises(ConfigError, match=r"services\.backend\.image"):
        make_config("local", services={"backend": {"image": image, "port": 4000}})


def test_service_account_defaults_to_the_service_name() -> None:
    config = make_config(
        "local",
        services={
            "backend": {"image": "b:1", "port": 4000},
            "frontend": {"image": "f:1", "port": 3000, "serviceAccount": "web"},
        },
    )
    assert config.service_account("backend") == "backend"
    assert config.service_account("frontend") == "web"


def test_oidc_issuer_is_derived_from_the_provider_arn() -> None:
    arn = "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
    config = make_config("dev", cluster={"oidcProviderArn": arn})
    assert config.cluster.oidc_issuer == "oidc.eks.us-east-1.amazonaws.com/id/ABC"


def test_config_is_immutable() -> None:
    config = make_config("local")
    with pytest.raises(ValueError, match="frozen"):
        config.logs.encrypt = True  # type: ignore[misc]
