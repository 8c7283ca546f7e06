"""Tracing under the mock engine: two pinned releases, the password only in a masked Secret."""

from __future__ import annotations

import json

import pytest
import yaml

from infra.components.tracing import Tracing, TracingArgs
from infra.config import EstateConfig
from infra.config.secrets import SECRET_MARKER
from infra.plan.tracing import tracing_plan
from infra.render.tracing import (
    COLLECTOR_CHART_VERSION,
    JAEGER_CHART_VERSION,
    JAEGER_STORAGE_SECRET,
)
from infra.synth.engine import SynthRun, run_program
from infra.synth.recorder import Registration
from infra.synth.writer import render_files
from tests.conftest import make_config, stack_config

CANARY = "CANARY-os-77c1"
RELEASE = "kubernetes:helm.sh/v3:Release"


def _program(config: EstateConfig) -> None:
    Tracing("tracing", TracingArgs(plan=tracing_plan(config)))


def _run(stack: str) -> SynthRun:
    return run_program(stack_config(stack), stack, _program)


def _releases(run: SynthRun) -> dict[str, Registration]:
    return {r.inputs["name"]: r for r in run.registrations if r.type == RELEASE}


@pytest.mark.parametrize("stack", ["local", "prod"])
def test_releases_have_fixed_names_and_pinned_charts(stack: str) -> None:
    releases = _releases(_run(stack))
    assert set(releases) == {"otel-collector", "jaeger"}
    collector, jaeger = releases["otel-collector"], releases["jaeger"]
    assert (collector.inputs["chart"], collector.inputs["version"]) == (
        "opentelemetry-collector",
        COLLECTOR_CHART_VERSION,
    )
    assert (jaeger.inputs["chart"], jaeger.inputs["version"]) == ("jaeger", JAEGER_CHART_VERSION)
    assert jaeger.inputs["repositoryOpts"]["repo"] == "https://jaegertracing.github.io/helm-charts"
    assert {r.inputs["namespace"] for r in releases.values()} == {"observability"}


def test_the_collector_is_installed_after_jaeger() -> None:
    releases = _releases(_run("dev"))
    assert releases["jaeger"].urn in releases["otel-collector"].depends_on


def test_memory_storage_needs_no_secret() -> None:
    run = _run("local")
    assert not [r for r in run.registrations if r.type == "kubernetes:core/v1:Secret"]
    assert not any(r.type.startswith("aws:") for r in run.registrations)


def test_prod_password_goes_to_a_masked_secret_jaeger_waits_for() -> None:
    run = _run("prod")
    (secret,) = [r for r in run.registrations if r.type == "kubernetes:core/v1:Secret"]
    assert secret.inputs["metadata"]["name"] == JAEGER_STORAGE_SECRET
    assert secret.inputs["stringData"] == SECRET_MARKER
    assert secret.urn in _releases(run)["jaeger"].depends_on


def test_the_password_never_reaches_an_artifact() -> None:
    config = make_config(
        "prod",
        tracing={"storage": "opensearch", "storageUsername": "jaeger", "storagePassword": CANARY},
    )
    run = run_program(config, "prod", _program)
    assert CANARY not in json.dumps([r.as_dict() for r in run.registrations])
    files = render_files(run)
    assert not any(CANARY in text for text in files.values())


def test_synth_writes_both_values_files() -> None:
    files = render_files(_run("prod"))
    collector = yaml.safe_load(files["helm/otel-collector.values.yaml"])
    sampler = collector["config"]["processors"]["probabilistic_sampler"]
    assert sampler == {"sampling_percentage": 10}
    jaeger = yaml.safe_load(files["helm/jaeger.values.yaml"])
    assert (
        "opensearch"
        in jaeger["userconfig"]["extensions"]["jaeger_storage"]["backends"]["primary_store"]
    )


def test_every_child_is_parented_to_the_component() -> None:
    regs = _run("prod").registrations
    (component,) = [r for r in regs if r.type == "blueharvest:observability:Tracing"]
    assert {r.parent for r in regs if r is not component} == {component.urn}
