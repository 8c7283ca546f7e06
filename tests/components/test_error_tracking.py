"""ErrorTracking under the mock engine: the project, its key, and the DSN only as a Secret."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from infra.components.error_tracking import ErrorTracking, ErrorTrackingArgs
from infra.config import EstateConfig
from infra.config.secrets import SECRET_MARKER
from infra.plan.sentry import SentryPlan, sentry_plan
from infra.plan.workloads import SENTRY_SECRET_NAME
from infra.synth.engine import SynthRun, run_program
from infra.synth.recorder import Registration
from infra.synth.writer import render_files
from tests.conftest import make_config, stack_config

PROJECT = "sentry:index/sentryProject:SentryProject"
KEY = "sentry:index/sentryKey:SentryKey"
SECRET = "kubernetes:core/v1:Secret"


def _plan(config: EstateConfig) -> SentryPlan:
    plan = sentry_plan(config)
    assert plan is not None
    return plan


def _program(config: EstateConfig) -> None:
    ErrorTracking("sentry", ErrorTrackingArgs(plan=_plan(config)))


def _run(stack: str) -> SynthRun:
    return run_program(stack_config(stack), stack, _program)


def _one(run: SynthRun, type_: str) -> Registration:
    (reg,) = [r for r in run.registrations if r.type == type_]
    return reg


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_one_project_per_environment_in_the_organization_owned_by_the_team(stack: str) -> None:
    project = _one(_run(stack), PROJECT)
    assert project.inputs["organization"] == "blue-harvest"
    assert project.inputs["slug"] == f"blue-harvest-{stack}"
    assert project.inputs["teams"] == ["platform"]
    assert "team" not in project.inputs  # deprecated in the provider


def test_the_key_belongs_to_the_project() -> None:
    run = _run("prod")
    key = _one(run, KEY)
    assert key.inputs["organization"] == "blue-harvest"
    assert key.inputs["project"] == "blue-harvest-prod"
    assert _one(run, PROJECT).urn in key.depends_on


def test_the_dsn_is_written_masked_into_the_secret_the_workloads_read() -> None:
    run = _run("prod")
    secret = _one(run, SECRET)
    assert secret.inputs["metadata"]["name"] == SENTRY_SECRET_NAME
    assert secret.inputs["metadata"]["namespace"] == "blue-harvest"
    assert secret.inputs["stringData"] == SECRET_MARKER
    assert _one(run, KEY).urn in secret.depends_on
    assert "kubernetes/secret-blue-harvest-sentry-dsn.yaml" in render_files(run)


def test_no_dsn_appears_in_any_artifact() -> None:
    # Meaningful once the mocks give SentryKey a dsnPublic (an ingest.sentry.io URL).
    run = _run("prod")
    assert "ingest.sentry.io" not in json.dumps([r.as_dict() for r in run.registrations])
    assert not any("ingest.sentry.io" in text for text in render_files(run).values())


def test_a_secret_per_workload_namespace() -> None:
    def program(config: EstateConfig) -> None:
        plan = sentry_plan(config)
        assert plan is not None
        namespaces = ("blue-harvest", "blue-harvest-jobs", "blue-harvest")
        ErrorTracking("sentry", ErrorTrackingArgs(plan=replace(plan, namespaces=namespaces)))

    run = run_program(stack_config("prod"), "prod", program)
    namespaces = sorted(
        r.inputs["metadata"]["namespace"] for r in run.registrations if r.type == SECRET
    )
    assert namespaces == ["blue-harvest", "blue-harvest-jobs"]


def test_a_stack_without_sentry_plans_no_component() -> None:
    assert sentry_plan(make_config("local")) is None


def test_every_child_is_parented_to_the_component() -> None:
    regs = _run("prod").registrations
    (component,) = [r for r in regs if r.type == "blueharvest:observability:ErrorTracking"]
    children = [r for r in regs if r is not component and not r.type.startswith("pulumi:")]
    assert len(children) == 3
    assert {r.parent for r in children} == {component.urn}
