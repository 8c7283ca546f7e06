"""Helm values for the OpenTelemetry collector and Jaeger v2 (pure functions of the config).

Workloads send OTLP (4317/4318) or, like the seed's backend, Jaeger Thrift over HTTP (14268) to
the collector (Service `otel-collector`). The collector limits memory, samples by trace ID
(`tracing.sampleRatio`, the only head-sampling point), batches and exports OTLP to Jaeger
(Service `jaeger`), whose UI (16686) stays a ClusterIP Service with no ingress.

Chart pins (checked against the charts' sources, see docs in the component):
- opentelemetry-collector 0.173.1 (open-telemetry/opentelemetry-helm-charts): needs `mode`
  and `image.repository`; `config` is merged over the chart's default config (maps merge,
  lists replace), and since chart 0.162 component names are rewritten to their new spelling
  (the `otlp` exporter becomes `otlp_grpc`) for the Collector versions that know them.
- jaeger 4.13.0 (jaegertracing/helm-charts, Jaeger 2.20): one all-in-one Jaeger v2 Deployment;
  `userconfig` replaces the chart's config entirely, which avoids the chart's default memory
  backend being merged next to Elasticsearch (jaegertracing/helm-charts#722).
"""

from __future__ import annotations

from typing import Any

from infra.naming import COLLECTOR_RELEASE, JAEGER_RELEASE, resource_name
from infra.plan.tracing import TracingPlan
from infra.render.kube_prometheus_stack import RELEASE_NAME
from infra.render.monitors import service_monitor

COLLECTOR_CHART = "opentelemetry-collector"
COLLECTOR_CHART_REPO = "https://open-telemetry.github.io/opentelemetry-helm-charts"
COLLECTOR_CHART_VERSION = "0.173.1"
COLLECTOR_IMAGE = "otel/opentelemetry-collector-contrib"

JAEGER_CHART = "jaeger"
JAEGER_CHART_REPO = "https://jaegertracing.github.io/helm-charts"
JAEGER_CHART_VERSION = "4.13.0"

#: Secret with the trace store's password; Jaeger reads it from the env (${env:...}).
JAEGER_STORAGE_SECRET = "jaeger-storage"
JAEGER_STORAGE_SECRET_KEY = "password"
_PASSWORD_ENV = "JAEGER_STORAGE_PASSWORD"

#: Ports of the collector's receivers (the chart binds them to the pod IP).
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
JAEGER_THRIFT_HTTP_PORT = 14268
JAEGER_UI_PORT = 16686
#: Internal telemetry (the collector's and Jaeger v2's own `otelcol_*` metrics).
TELEMETRY_PORT = 8888
#: The jaeger chart's Service port for TELEMETRY_PORT.
JAEGER_METRICS_PORT_NAME = "internal-metrics"

_RESOURCES: dict[bool, dict[str, dict[str, str]]] = {
    False: {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
    True: {"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
}


def sampling_percentage(ratio: float) -> float:
    """`tracing.sampleRatio` as the probabilistic sampler's percentage (0.1 -> 10)."""
    return round(ratio * 100, 6)


def collector_config(plan: TracingPlan) -> dict[str, Any]:
    """The collector's pipeline config, merged by the chart over its defaults."""
    jaeger = plan.jaeger_otlp_grpc
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_HTTP_PORT}"},
                }
            },
            "jaeger": {
                "protocols": {
                    "thrift_http": {"endpoint": f"${{env:MY_POD_IP}}:{JAEGER_THRIFT_HTTP_PORT}"}
                }
            },
        },
        "processors": {
            "memory_limiter": {
                "check_interval": "5s",
                "limit_percentage": 80,
                "spike_limit_percentage": 25,
            },
            "probabilistic_sampler": {
                "sampling_percentage": sampling_percentage(plan.tracing.sample_ratio)
            },
            "batch": {},
        },
        "exporters": {
            # In-cluster traffic to Jaeger's OTLP gRPC port: plaintext, no certificates.
            "otlp": {"endpoint": jaeger, "tls": {"insecure": True}},
        },
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp", "jaeger"],
                    # memory_limiter first (it must see everything), sampling before batching so
                    # dropped spans are never batched, batch last before the exporter.
                    "processors": ["memory_limiter", "probabilistic_sampler", "batch"],
                    "exporters": ["otlp"],
                }
            },
            # The collector's own metrics (refused spans, failed sends) on the `metrics` port,
            # which the chart's ServiceMonitor scrapes.
            "telemetry": {
                "metrics": {
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {
                                        "host": "${env:MY_POD_IP}",
                                        "port": TELEMETRY_PORT,
                                    }
                                }
                            }
                        }
                    ]
                }
            },
        },
    }


def collector_values(plan: TracingPlan) -> dict[str, Any]:
    """Values for the opentelemetry-collector chart (release `otel-collector`)."""
    prod_like = plan.production_like
    return {
        "fullnameOverride": COLLECTOR_RELEASE,
        "mode": "deployment",
        "replicaCount": 2 if prod_like else 1,
        "image": {"repository": COLLECTOR_IMAGE},
        "command": {"name": "otelcol-contrib"},
        "resources": _RESOURCES[prod_like],
        "config": collector_config(plan),
        "ports": {
            "otlp": {"enabled": True},
            "otlp-http": {"enabled": True},
            "jaeger-thrift": {"enabled": True},
            "metrics": {"enabled": True},
            # Receivers nobody sends to stay closed on the Service.
            "jaeger-compact": {"enabled": False},
            "jaeger-grpc": {"enabled": False},
            "zipkin": {"enabled": False},
        },
        "service": {"type": "ClusterIP"},
        "ingress": {"enabled": False},
        "podDisruptionBudget": {"enabled": prod_like, "maxUnavailable": 1},
        # Meta-monitoring: kube-prometheus-stack selects it by its release label.
        "serviceMonitor": {
            "enabled": True,
            "extraLabels": {"release": RELEASE_NAME},
            "metricsEndpoints": [{"port": "metrics", "interval": plan.scrape_interval}],
        },
    }


def _storage_backend(plan: TracingPlan) -> dict[str, Any]:
    t = plan.tracing
    if t.storage == "memory":
        return {"memory": {"max_traces": 100000}}
    assert t.storage_url is not None  # EstateConfig requires storageUrl for a search backend
    backend: dict[str, Any] = {
        "server_urls": [t.storage_url],
        "indices": {"index_prefix": resource_name(plan.environment)},
    }
    if t.storage_username:
        basic = {"username": t.storage_username}
        if needs_storage_secret(plan):
            # Expanded by Jaeger from the env, which a secretKeyRef fills: never in values.
            basic["password"] = f"${{env:{_PASSWORD_ENV}}}"
        backend["auth"] = {"basic": basic}
    return {t.storage: backend}


def jaeger_config(plan: TracingPlan) -> dict[str, Any]:
    """Jaeger v2's own config (an OpenTelemetry collector config): OTLP in, storage out."""
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {
                    "level": "detailed",
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {"host": "0.0.0.0", "port": TELEMETRY_PORT}
                                }
                            }
                        }
                    ],
                },
            },
        },
        "extensions": {
            # The chart's probes call :13133/status.
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}},
            "jaeger_query": {
                "storage": {"traces": "primary_store"},
                "http": {"endpoint": f"0.0.0.0:{JAEGER_UI_PORT}"},
                "grpc": {"endpoint": "0.0.0.0:16685"},
            },
            "jaeger_storage": {"backends": {"primary_store": _storage_backend(plan)}},
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "primary_store"}},
    }


def needs_storage_secret(plan: TracingPlan) -> bool:
    t = plan.tracing
    return t.storage != "memory" and bool(t.storage_username) and t.storage_password is not None


def _password_env(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "valueFrom": {
            "secretKeyRef": {"name": JAEGER_STORAGE_SECRET, "key": JAEGER_STORAGE_SECRET_KEY}
        },
    }


def jaeger_monitor(plan: TracingPlan) -> dict[str, Any]:
    """The ServiceMonitor of Jaeger's own metrics (the jaeger chart 4.x ships none): its
    `internal-metrics` Service port, job `jaeger`."""
    manifest = service_monitor(
        service=JAEGER_RELEASE,
        namespace=plan.namespace,
        release=RELEASE_NAME,
        interval=plan.scrape_interval,
        port=JAEGER_METRICS_PORT_NAME,
    )
    # The chart labels its Services app.kubernetes.io/{name,instance}: jaeger, and the
    # all-in-one one app.kubernetes.io/component: all-in-one.
    manifest["spec"]["selector"] = {
        "matchLabels": {
            "app.kubernetes.io/instance": JAEGER_RELEASE,
            "app.kubernetes.io/component": "all-in-one",
        }
    }
    return manifest


def index_cleaner(plan: TracingPlan) -> dict[str, Any]:
    """The chart's esIndexCleaner: a daily CronJob deleting the daily trace indices older than
    `tracing.retentionDays` (Jaeger's Elasticsearch/OpenSearch storage never deletes any).

    The chart passes `numberOfDays` and `storage.elasticsearch.url` as the cleaner's arguments;
    the index prefix and credentials go in as flags and env (the password from the Secret, never
    in values). `storage.type` is left alone: with `elasticsearch` there the chart would write
    its own ES_PASSWORD value into the CronJob."""
    t = plan.tracing
    if t.storage == "memory":
        return {"enabled": False}
    env: list[dict[str, Any]] = []
    if t.storage_username:
        env.append({"name": "ES_USERNAME", "value": t.storage_username})
    if needs_storage_secret(plan):
        env.append(_password_env("ES_PASSWORD"))
    return {
        "enabled": True,
        "numberOfDays": t.retention_days,
        "schedule": "55 23 * * *",
        "cmdlineParams": {"index-prefix": resource_name(plan.environment)},
        "extraEnv": env,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def jaeger_values(plan: TracingPlan) -> dict[str, Any]:
    """Values for the jaeger chart (release `jaeger`): no secret value, only a secretKeyRef."""
    extra_env: list[dict[str, Any]] = []
    if needs_storage_secret(plan):
        extra_env.append(_password_env(_PASSWORD_ENV))
    cleaner = index_cleaner(plan)
    storage: dict[str, Any] = {}
    if cleaner["enabled"]:
        storage = {"storage": {"elasticsearch": {"url": plan.tracing.storage_url}}}
    return {
        "fullnameOverride": JAEGER_RELEASE,
        "userconfig": jaeger_config(plan),
        "jaeger": {
            "enabled": True,
            "replicas": 1,
            "extraEnv": extra_env,
            "resources": _RESOURCES[plan.production_like],
            "service": {"type": "ClusterIP"},
            "ingress": {"enabled": False},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
        },
        "esIndexCleaner": cleaner,
        **storage,
        # Jaeger's own metrics: the chart has no ServiceMonitor of its own for v2.
        "extraObjects": [jaeger_monitor(plan)],
    }
