"""The program's explicit Kubernetes provider (mock engine): every Kubernetes resource of
every stack goes through it, it carries the stack's context, and under the real engine's
entry (`main`) a kubeconfig pointing at another cluster stops the run before anything is
registered."""

from __future__ import annotations

import contextvars
import json
from pathlib import Path

import pulumi
import pytest
import yaml

from infra.program import main
from infra.synth.engine import run_program
from infra.synth.mocks import EstateMocks
from tests.config.test_engine_loader import _engine_view
from tests.conftest import STACK_NAMES, make_config, stack_config
from tests.plan.test_kubernetes import EKS_DEV, EKS_PROD, kubeconfig

PROVIDER = "pulumi:providers:kubernetes"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_kubernetes_resource_goes_through_the_stacks_provider(stack: str) -> None:
    run = run_program(stack_config(stack), stack)
    (provider,) = [r for r in run.registrations if r.type == PROVIDER]
    assert provider.name == "kubernetes"
    kube = [r for r in run.registrations if r.type.startswith("kubernetes:")]
    assert len(kube) > 10
    wrong = {r.urn: r.provider for r in kube if not (r.provider or "").startswith(provider.urn)}
    assert wrong == {}


def test_the_provider_carries_the_stacks_context_and_kubeconfig() -> None:
    config = make_config(
        "dev",
        cluster={"kubeconfigContext": "bh-dev-admin"},
        extra={"kubernetes:kubeconfig": "~/.kube/bh.yaml"},
    )
    run = run_program(config, "dev")
    (provider,) = [r for r in run.registrations if r.type == PROVIDER]
    assert provider.inputs["context"] == "bh-dev-admin"
    assert provider.inputs["kubeconfig"] == "~/.kube/bh.yaml"


def test_pulumis_own_context_key_is_the_same_setting_and_may_not_disagree() -> None:
    same = make_config("dev", extra={"kubernetes:context": "ctx"})
    assert same.kube_context == "ctx"
    with pytest.raises(Exception, match=r"kubernetes:context: 'ctx' differs from"):
        make_config(
            "dev", cluster={"kubeconfigContext": "other"}, extra={"kubernetes:context": "ctx"}
        )


def _main_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, current: str) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(kubeconfig(current, **{EKS_PROD: EKS_PROD, EKS_DEV: EKS_DEV})))
    monkeypatch.setenv("KUBECONFIG", str(path))

    def run() -> None:
        pulumi.runtime.set_mocks(EstateMocks("us-east-1"), project="blue-harvest", stack="prod")
        pulumi.runtime.set_all_config(_engine_view("prod"))
        main()

    contextvars.Context().run(run)


def test_main_refuses_a_kubeconfig_on_another_cluster_before_registering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        _main_with(tmp_path, monkeypatch, current=EKS_DEV)
    message = str(caught.value)
    assert message.startswith("stacks/Pulumi.prod.yaml: kubeconfig context ")
    assert f"points at cluster {EKS_DEV!r}, not at this stack's cluster 'bh-prod'" in message


def test_main_runs_on_the_stacks_own_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _main_with(tmp_path, monkeypatch, current=EKS_PROD)


def test_the_synth_never_reads_a_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """estate synth runs anywhere: a broken kubeconfig does not matter offline."""
    broken = tmp_path / "config"
    broken.write_text("contexts: [unclosed\n")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    run = run_program(stack_config("prod"), "prod")
    assert json.dumps([r.as_dict() for r in run.registrations])
