"""Collector and Jaeger values: receivers, one sampling point, OTLP to Jaeger, no secret inline."""

from __future__ import annotations

import pytest

from infra.config import ConfigError
from infra.naming import COLLECTOR_RELEASE, JAEGER_RELEASE
from infra.plan.tracing import tracing_plan
from infra.plan.workloads import endpoints
from infra.render.tracing import (
    COLLECTOR_CHART_VERSION,
    JAEGER_CHART_VERSION,
    JAEGER_STORAGE_SECRET,
    collector_config,
    collector_values,
    jaeger_config,
    jaeger_values,
    needs_storage_secret,
    sampling_percentage,
)
from infra.yamlout import dump
from tests.conftest import make_config, stack_config


def test_charts_are_pinned_to_exact_versions() -> None:
    for version in (COLLECTOR_CHART_VERSION, JAEGER_CHART_VERSION):
        assert version.count(".") == 2
        assert all(part.isdigit() for part in version.split("."))
    assert JAEGER_CHART_VERSION.startswith("4.")  # the Jaeger v2 chart


def test_release_names_are_the_service_names_the_endpoints_use() -> None:
    config = make_config("dev")
    assert (
        collector_values(tracing_plan(config))["fullnameOverride"]
        == COLLECTOR_RELEASE
        == "otel-collector"
    )
    assert jaeger_values(tracing_plan(config))["fullnameOverride"] == JAEGER_RELEASE == "jaeger"
    ep = endpoints(config)
    assert ep.otel_collector_otlp_http.startswith(f"http://{COLLECTOR_RELEASE}.")
    assert ep.jaeger_otlp_grpc.startswith(f"{JAEGER_RELEASE}.")


def test_the_collector_chart_gets_a_mode_and_an_image() -> None:
    values = collector_values(tracing_plan(make_config("dev")))
    assert values["mode"] == "deployment"
    assert values["image"]["repository"] == "otel/opentelemetry-collector-contrib"


def test_the_collector_receives_otlp_and_the_legacy_jaeger_thrift_http() -> None:
    config = collector_config(tracing_plan(make_config("dev")))
    otlp = config["receivers"]["otlp"]["protocols"]
    assert otlp["grpc"]["endpoint"].endswith(":4317")
    assert otlp["http"]["endpoint"].endswith(":4318")
    jaeger = config["receivers"]["jaeger"]["protocols"]
    assert jaeger["thrift_http"]["endpoint"].endswith(":14268")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp", "jaeger"]
    ports = collector_values(tracing_plan(make_config("dev")))["ports"]
    assert ports["jaeger-thrift"]["enabled"] is True
    assert ports["zipkin"]["enabled"] is False


def test_processors_limit_memory_first_sample_then_batch() -> None:
    config = collector_config(tracing_plan(make_config("dev")))
    assert config["service"]["pipelines"]["traces"]["processors"] == [
        "memory_limiter",
        "probabilistic_sampler",
        "batch",
    ]


@pytest.mark.parametrize(
    ("environment", "percentage"),
    [("local", 100), ("dev", 100), ("staging", 100), ("prod", 10)],
)
def test_sampling_is_ten_percent_in_prod_and_everything_elsewhere(
    environment: str, percentage: float
) -> None:
    sampler = collector_config(tracing_plan(make_config(environment)))["processors"][
        "probabilistic_sampler"
    ]
    assert sampler == {"sampling_percentage": percentage}


def test_sampling_percentage_is_the_ratio_times_a_hundred() -> None:
    assert sampling_percentage(0.1) == 10
    assert sampling_percentage(0.025) == 2.5
    assert sampling_percentage(1.0) == 100


def test_the_collector_exports_otlp_to_jaeger_in_plaintext() -> None:
    config = collector_config(tracing_plan(make_config("prod")))
    assert config["exporters"] == {
        "otlp": {"endpoint": "jaeger.observability.svc:4317", "tls": {"insecure": True}}
    }
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["otlp"]


def test_jaeger_stores_in_memory_outside_prod() -> None:
    for environment in ("local", "dev", "staging"):
        backends = jaeger_config(tracing_plan(make_config(environment)))["extensions"][
            "jaeger_storage"
        ]
        assert backends == {"backends": {"primary_store": {"memory": {"max_traces": 100000}}}}


def test_prod_jaeger_uses_the_search_backend_with_the_password_from_a_secret() -> None:
    config = stack_config("prod")
    store = jaeger_config(tracing_plan(config))["extensions"]["jaeger_storage"]["backends"][
        "primary_store"
    ]
    opensearch = store["opensearch"]
    assert opensearch["server_urls"] == ["https://traces-prod.search.blueharvest.example:9200"]
    assert opensearch["auth"]["basic"] == {
        "username": "jaeger",
        "password": "${env:JAEGER_STORAGE_PASSWORD}",
    }
    values = jaeger_values(tracing_plan(config))
    (env,) = values["jaeger"]["extraEnv"]
    assert env["valueFrom"]["secretKeyRef"]["name"] == JAEGER_STORAGE_SECRET
    assert needs_storage_secret(tracing_plan(config))
    text = dump(values)
    assert "secure-placeholder" not in text  # only the env reference, never the value


def test_elasticsearch_without_credentials_has_no_auth_and_no_secret() -> None:
    config = make_config("prod", tracing={"storage": "elasticsearch"})
    store = jaeger_config(tracing_plan(config))["extensions"]["jaeger_storage"]["backends"][
        "primary_store"
    ]
    assert "auth" not in store["elasticsearch"]
    assert jaeger_values(tracing_plan(config))["jaeger"]["extraEnv"] == []
    assert not needs_storage_secret(tracing_plan(config))


def test_jaeger_ui_stays_internal() -> None:
    values = jaeger_values(tracing_plan(make_config("prod")))
    assert values["jaeger"]["service"]["type"] == "ClusterIP"
    assert values["jaeger"]["ingress"]["enabled"] is False


def test_jaeger_v2_config_receives_otlp_and_answers_the_charts_health_probe() -> None:
    config = jaeger_config(tracing_plan(make_config("dev")))
    assert config["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    assert "healthcheckv2" in config["service"]["extensions"]
    assert config["extensions"]["healthcheckv2"]["http"]["endpoint"] == "0.0.0.0:13133"
    assert config["extensions"]["jaeger_query"]["http"]["endpoint"] == "0.0.0.0:16686"


def test_a_username_without_a_password_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config("prod", tracing={"storageUsername": "jaeger"})
    assert [p.key for p in caught.value.problems] == ["blue-harvest:tracing.storagePassword"]


def test_values_have_no_null_that_would_trip_the_charts() -> None:
    def walk(value: object) -> None:
        assert value is not None
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        if isinstance(value, list):
            for v in value:
                walk(v)

    for stack in ("local", "prod"):
        walk(collector_values(tracing_plan(stack_config(stack))))
        walk(jaeger_values(tracing_plan(stack_config(stack))))


def test_the_collectors_own_metrics_are_scraped_by_kube_prometheus_stack() -> None:
    values = collector_values(tracing_plan(make_config("prod")))
    assert values["ports"]["metrics"] == {"enabled": True}
    monitor = values["serviceMonitor"]
    assert monitor["enabled"] is True
    assert monitor["extraLabels"] == {"release": "kube-prometheus-stack"}
    assert monitor["metricsEndpoints"] == [{"port": "metrics", "interval": "30s"}]
    reader = collector_config(tracing_plan(make_config("prod")))["service"]["telemetry"]["metrics"][
        "readers"
    ][0]
    assert reader["pull"]["exporter"]["prometheus"]["port"] == 8888


def test_jaeger_is_scraped_on_its_internal_metrics_port_by_its_own_service_monitor() -> None:
    (monitor,) = jaeger_values(tracing_plan(make_config("prod")))["extraObjects"]
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["metadata"]["namespace"] == "observability"
    assert monitor["spec"]["endpoints"][0]["port"] == "internal-metrics"
    assert monitor["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "jaeger",
        "app.kubernetes.io/component": "all-in-one",
    }


@pytest.mark.parametrize(("environment", "days"), [("staging", 7), ("prod", 14)])
def test_trace_indices_are_cleaned_after_the_environments_retention(
    environment: str, days: int
) -> None:
    config = make_config(
        environment,
        tracing={
            "storage": "opensearch",
            "storageUrl": "https://traces.search.example:9200",
            "storageUsername": "jaeger",
            "storagePassword": "s3cret-value",
        },
    )
    values = jaeger_values(tracing_plan(config))
    cleaner = values["esIndexCleaner"]
    assert cleaner["enabled"] is True
    assert cleaner["numberOfDays"] == days
    assert cleaner["cmdlineParams"] == {"index-prefix": f"blue-harvest-{environment}"}
    assert values["storage"] == {"elasticsearch": {"url": "https://traces.search.example:9200"}}
    env = {e["name"]: e for e in cleaner["extraEnv"]}
    assert env["ES_USERNAME"] == {"name": "ES_USERNAME", "value": "jaeger"}
    assert env["ES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == JAEGER_STORAGE_SECRET
    assert "s3cret-value" not in dump(values)
    # The chart would write its own ES_PASSWORD value with storage.type elasticsearch.
    assert "type" not in values["storage"]


def test_retention_is_configurable_and_memory_storage_needs_no_cleaner() -> None:
    config = make_config("prod", tracing={"retentionDays": 30})
    assert jaeger_values(tracing_plan(config))["esIndexCleaner"]["numberOfDays"] == 30
    assert jaeger_values(tracing_plan(make_config("dev")))["esIndexCleaner"] == {"enabled": False}
    with pytest.raises(ConfigError, match=r"blue-harvest:tracing\.retentionDays"):
        make_config("prod", tracing={"retentionDays": 0})
