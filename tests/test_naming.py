"""infra/naming.py: the names AWS and Kubernetes accept, by their own documented rules."""

from __future__ import annotations

import pytest

from infra.naming import (
    amp_role_name,
    default_log_group_prefix,
    default_metric_namespace,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    iam_name_problem,
    image_reference_problem,
    irsa_role_name,
    label_value_problem,
    log_group_name,
    log_group_problem,
    log_writer_policy_name,
    loki_bucket_name,
    metric_namespace_problem,
    name_scope,
    namespace_problem,
    resource_name,
    s3_bucket_problem,
)


@pytest.mark.parametrize(
    "name", ["blue-harvest-prod-loki-123456789012", "abc", "a.b-c", "a" * 63, "logs.example.com"]
)
def test_bucket_names_s3_accepts(name: str) -> None:
    assert s3_bucket_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("192.168.10.1", "IP address"),
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Upper-case", "not an S3 bucket name"),
        ("-leading", "not an S3 bucket name"),
        ("trailing.", "not an S3 bucket name"),
        ("under_score", "not an S3 bucket name"),
        ("a..b", "adjacent periods"),
        ("xn--bucket", "'xn--'"),
        ("sthree-bucket", "'sthree-'"),
        ("bucket-s3alias", "'-s3alias'"),
        ("bucket--ol-s3", "'--ol-s3'"),
    ],
)
def test_bucket_names_s3_refuses(name: str, why: str) -> None:
    problem = s3_bucket_problem(name)
    assert problem is not None
    assert why in problem


def test_log_group_names_are_checked_whole() -> None:
    assert log_group_name("/blue-harvest", "backend") == "/blue-harvest/backend"
    assert log_group_problem(log_group_name("/blue-harvest", "backend")) is None
    assert log_group_problem("/a#b/c.d_e-f") is None
    long = log_group_name("/" + "a" * 500, "b" * 20)
    assert "CloudWatch allows 1 to 512" in (log_group_problem(long) or "")
    assert "not a log group name" in (log_group_problem("/logs/with space") or "")
    assert log_group_problem("/" + "a" * 511) is None


@pytest.mark.parametrize("namespace", ["AWS/Logs", "AWS/", "a" * 256, "ünïcode", "   ", "a|b"])
def test_metric_namespaces_cloudwatch_refuses(namespace: str) -> None:
    assert metric_namespace_problem(namespace) is not None


@pytest.mark.parametrize("namespace", ["BlueHarvest/prod", "Custom: x/y#1", "aws/lowercase-ok"])
def test_metric_namespaces_cloudwatch_accepts(namespace: str) -> None:
    assert metric_namespace_problem(namespace) is None


@pytest.mark.parametrize(
    "name", ["kube-system", "kube-public", "kube-node-lease", "default", "UPPER", "a_b", "-a"]
)
def test_namespaces_the_estate_may_not_use(name: str) -> None:
    assert namespace_problem(name) is not None


def test_dns1123_names_and_label_values() -> None:
    assert dns1123_label_problem("a" * 63) is None
    assert dns1123_label_problem("a" * 64) is not None
    assert dns1123_label_problem("a.b") is not None
    assert dns1123_subdomain_problem("a.b-c.d") is None
    assert dns1123_subdomain_problem("a..b") is not None
    assert dns1123_subdomain_problem("a" * 254) is not None
    assert label_value_problem("") is None
    assert label_value_problem("v1.42.0_rc-1") is None
    assert label_value_problem("-v1") is not None
    assert label_value_problem("a" * 64) is not None
    assert label_value_problem("a b") is not None


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/blue-harvest/backend:1.42.0",
        "backend:1",
        "localhost:5000/team/app:v2",
        "[::1]:5000/app:1",
        "docker.io/library/nginx@sha256:" + "a" * 64,
        "registry.example/a__b/c--d:1.0@sha256:" + "0" * 64,
    ],
)
def test_image_references_the_grammar_accepts(image: str) -> None:
    assert image_reference_problem(image) is None


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/blue-harvest/backend:1.42.0 --privileged",
        "ghcr.io/blue-harvest/backend:1.42.0\nrm",
        "ghcr.io/Blue/backend:1",
        "backend:",
        "backend:-1",
        "backend@sha256:short",
        "/backend:1",
        "a" * 256 + ":1",
        "backend:" + "t" * 129,
    ],
)
def test_image_references_the_grammar_refuses(image: str) -> None:
    problem = image_reference_problem(image)
    assert problem is not None
    assert "\n" not in problem  # a newline is shown escaped, never printed


def test_iam_names() -> None:
    role = irsa_role_name("prod", "backend")
    assert role == "blue-harvest-prod-backend"
    assert iam_name_problem(role) is None
    long = irsa_role_name("staging", "s" * 44)
    assert len(long) == 65
    assert "AWS allows 64" in (iam_name_problem(long) or "")
    assert iam_name_problem("with space") is not None
    assert iam_name_problem("p" * 128, "policy", 128) is None


def test_the_config_checks_and_the_components_call_the_same_name_builders() -> None:
    import infra.components.cloudwatch_logs as component
    import infra.components.log_aggregation as loki_component
    import infra.config.model as config_model
    import infra.plan.logs as logs_plan
    from infra import naming

    for name, users in (
        ("irsa_role_name", (config_model, component)),
        ("log_writer_policy_name", (config_model, component)),
        ("log_group_name", (config_model, logs_plan)),
        ("loki_bucket_name", (config_model, loki_component)),
    ):
        builder = getattr(naming, name)
        assert all(vars(module)[name] is builder for module in users), name


def test_the_role_the_config_refuses_is_the_role_the_component_would_name() -> None:
    from infra.config import ConfigError
    from infra.synth.engine import run_program
    from tests.conftest import make_config

    run = run_program(make_config("prod"), "prod")
    roles = {r.inputs["name"] for r in run.registrations if r.type == "aws:iam/role:Role"}
    assert irsa_role_name("prod", "backend") in roles
    groups = {
        r.inputs["name"] for r in run.registrations if r.type == "aws:cloudwatch/logGroup:LogGroup"
    }
    assert log_group_name("/blue-harvest", "backend") in groups
    # A service whose role name would pass 64 characters: the config's message quotes the
    # very name the component would send.
    long = "a" * (64 - len(irsa_role_name("prod", "")) + 1)
    service = {"image": "ghcr.io/blue-harvest/backend:1.42.0", "port": 4000}
    with pytest.raises(ConfigError) as caught:
        make_config("prod", services={long: service})
    assert repr(irsa_role_name("prod", long)) in caught.value.render()


def test_alloys_labels_are_the_labels_the_dashboards_select_on() -> None:
    from dashboards.common import LOKI_STREAM_LABELS
    from infra.plan.loki import loki_plan
    from infra.render.loki import alloy_config
    from tests.conftest import make_config

    config = alloy_config(loki_plan(make_config("dev")))
    selected = {matcher.split("=")[0] for matcher in LOKI_STREAM_LABELS}
    set_by_alloy = {
        line.split('"')[1] for line in config.splitlines() if "target_label" in line
    } | {line.split("=")[0].strip() for line in config.splitlines() if '= "' in line}
    assert selected <= set_by_alloy, selected - set_by_alloy


# --- the name scope of account-wide names ----------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "scope"),
    [
        ("prod", "prod"),
        ("prod-eu", "prod-eu"),
        ("prod.eu-west-1", "prod-eu-west-1"),
        ("Prod_EU", "prod-eu"),
        ("staging-2", "staging-2"),
    ],
)
def test_the_name_scope_is_the_stack_name_in_the_characters_every_name_takes(
    stack: str, scope: str
) -> None:
    assert name_scope(stack) == scope
    # The strictest names it goes into: an S3 bucket and a KMS alias (no `.` nor `_`).
    assert s3_bucket_problem(loki_bucket_name(name_scope(stack), "123456789012")) is None
    assert set(name_scope(stack)) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_the_builders_put_the_scope_where_they_always_put_the_environment() -> None:
    """For the stacks named after their environment (scope == environment) every name reads
    as before the scope existed."""
    assert resource_name("prod", "logs") == "blue-harvest-prod-logs"
    assert irsa_role_name("prod", "backend") == "blue-harvest-prod-backend"
    assert log_writer_policy_name("prod", "backend") == "blue-harvest-prod-backend-log-writer"
    assert amp_role_name("prod", "bh-prod", "grafana") == "blue-harvest-prod-bh-prod-grafana-amp"
    assert loki_bucket_name("prod", "123456789012") == "blue-harvest-prod-loki-123456789012"
    assert default_metric_namespace("prod") == "BlueHarvest/prod"
    assert irsa_role_name("prod-eu", "backend") == "blue-harvest-prod-eu-backend"


@pytest.mark.parametrize("environment", ["local", "dev", "staging", "prod"])
def test_the_log_group_prefix_is_the_seeds_for_the_environments_own_stack(
    environment: str,
) -> None:
    assert default_log_group_prefix(environment, environment) == "/blue-harvest"
    assert default_log_group_prefix(f"{environment}-eu", environment) == (
        f"/blue-harvest/{environment}-eu"
    )


def test_lokis_renderer_names_the_bucket_the_config_checks() -> None:
    from infra.render.loki import default_bucket_name

    for scope in ("prod", "prod-eu"):
        assert default_bucket_name(scope, "123456789012") == loki_bucket_name(scope, "123456789012")
