"""Every plain manifest the workload renderers produce passes kubernetes-validate --strict.

Strict schemas refuse unknown fields, so a misspelt key (livenessProbes) fails here rather
than being dropped silently by the API server. Each stack is checked at the Kubernetes version
it names (cluster.kubernetesVersion); CRD kinds (ServiceMonitor, PrometheusRule) have no
schema in kubernetes-validate and are left out.
"""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils

from infra.components.error_tracking import ErrorTracking, ErrorTrackingArgs
from infra.components.observed_workload import ObservedWorkload, ObservedWorkloadArgs
from infra.config import EstateConfig
from infra.config.secrets import SECRET_MARKER
from infra.plan.sentry import sentry_plan
from infra.plan.workloads import workload_specs
from infra.render.workloads import manifests, namespace, sentry_secret
from infra.synth.engine import run_program
from infra.synth.writer import kubernetes_files
from tests.conftest import STACK_NAMES, stack_config

ROLE = "arn:aws:iam::123456789012:role/blue-harvest-workload"
DSN = "https://0123456789abcdef@o0.ingest.sentry.io/1"
#: Kinds whose schemas come from CRDs, which kubernetes-validate does not know.
CRD_KINDS = frozenset({"ServiceMonitor", "PrometheusRule", "PodMonitor", "AlertmanagerConfig"})


def require_schemas(version: str) -> str:
    """The version's schemas must ship with kubernetes-validate; no silent fallback to an
    older one (the library would otherwise use the newest schema not newer than `version`)."""
    available = sorted({kv_utils.major_minor(v) for v in kv_utils.all_versions()})
    if version not in available:
        raise RuntimeError(
            f"kubernetes-validate {kubernetes_validate.__version__} has no schemas for"
            f" Kubernetes {version} (it has {', '.join(available)}); upgrade it or change"
            " blue-harvest:cluster.kubernetesVersion"
        )
    return version


def validate(manifest: dict[str, Any], version: str) -> None:
    """Raise kubernetes_validate's ValidationError when `manifest` breaks the strict schema."""
    kubernetes_validate.validate(manifest, require_schemas(version), strict=True)


def rendered(config: EstateConfig) -> list[dict[str, Any]]:
    """Every plain manifest the renderers produce for a stack."""
    docs: list[dict[str, Any]] = [
        namespace(config.cluster.namespace, environment=config.environment),
        namespace(
            config.cluster.observability_namespace,
            environment=config.environment,
            pod_security="privileged",
        ),
        sentry_secret(config.cluster.namespace, DSN),
    ]
    for spec in workload_specs(config):
        docs += manifests(spec, ROLE if config.aws.enabled else None)
    return docs


def _ids(docs: list[dict[str, Any]]) -> list[str]:
    return [f"{d['kind']}/{d['metadata']['name']}" for d in docs]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_stack_names_a_kubernetes_version_with_schemas(stack: str) -> None:
    version = stack_config(stack).cluster.kubernetes_version
    assert require_schemas(version) == version


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_rendered_manifest_passes_strict_validation(stack: str) -> None:
    config = stack_config(stack)
    docs = rendered(config)
    assert {"Namespace", "Secret", "ServiceAccount", "Service", "Deployment"} <= {
        d["kind"] for d in docs
    }
    assert "PodDisruptionBudget" in {d["kind"] for d in docs}
    failures: list[str] = []
    for doc, name in zip(docs, _ids(docs), strict=True):
        try:
            validate(doc, config.cluster.kubernetes_version)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{name}: {exc.message} at {list(exc.path)}")
    assert failures == []


def test_the_synthesized_prod_kubernetes_files_pass_strict_validation() -> None:
    """What `estate synth` writes to out/prod/kubernetes/ for these components."""

    def program(config: EstateConfig) -> None:
        plan = sentry_plan(config)
        assert plan is not None
        sentry = ErrorTracking("sentry", ErrorTrackingArgs(plan=plan))
        for spec in workload_specs(config):
            ObservedWorkload(
                spec.service,
                ObservedWorkloadArgs(
                    spec=spec,
                    monitor_release="kube-prometheus-stack",
                    scrape_interval=config.metrics.scrape_interval,
                    irsa_role_arn=ROLE,
                    depends_on=sentry.dsn_secrets,
                ),
            )

    config = stack_config("prod")
    run = run_program(config, "prod", program)
    checked = 0
    for path, text in sorted(kubernetes_files(run.registrations).items()):
        if not path.startswith("kubernetes/"):
            continue
        doc = yaml.safe_load(text)
        if doc["kind"] in CRD_KINDS:
            continue
        if doc.get("stringData") == SECRET_MARKER:  # masked by the recorder: a string, not a map
            doc["stringData"] = {"masked": "x"}
        validate(doc, config.cluster.kubernetes_version)
        checked += 1
    assert checked == 9  # per service: SA, Service, Deployment, PDB; plus the DSN Secret


def _deployment() -> dict[str, Any]:
    (spec, *_) = workload_specs(stack_config("prod"))
    (doc,) = [d for d in manifests(spec) if d["kind"] == "Deployment"]
    return doc


def test_a_misspelt_field_is_rejected() -> None:
    doc = copy.deepcopy(_deployment())
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbes"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="livenessProbes"):
        validate(doc, "1.31")


def test_a_wrongly_typed_field_is_rejected() -> None:
    doc = copy.deepcopy(_deployment())
    doc["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "4000"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(doc, "1.31")


@pytest.mark.parametrize("version", ["1.99", "1.10"])
def test_a_version_without_schemas_fails_clearly(version: str) -> None:
    with pytest.raises(RuntimeError, match=rf"no schemas for Kubernetes {version}"):
        require_schemas(version)
