"""GrafanaDashboards under the mock engine: ConfigMaps for the in-cluster Grafana, or an
explicit provider, folders and dashboards for an external one, whose auth never shows."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

import dashboards
from infra.catalog.dashboard_refs import DASHBOARDS
from infra.components.dashboards import (
    ExternalGrafanaArgs,
    GrafanaDashboards,
    GrafanaDashboardsArgs,
)
from infra.config import EstateConfig
from infra.config.secrets import SECRET_MARKER
from infra.synth.engine import SynthRun, run_program
from infra.synth.recorder import Registration
from infra.synth.writer import render_files
from tests.conftest import make_config

CANARY = "CANARY-grafana-7f3e"
COMPONENT = "blueharvest:observability:GrafanaDashboards"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"


def _program(config: EstateConfig) -> None:
    namespace = k8s.core.v1.Namespace("monitoring-ns", metadata={"name": config.metrics.namespace})
    external = config.grafana.external
    GrafanaDashboards(
        "dashboards",
        GrafanaDashboardsArgs(
            dashboards=dashboards.build_all(config, multi_cluster=False),
            namespace=config.metrics.namespace,
            external=(
                ExternalGrafanaArgs(url=external.url, auth=external.auth) if external else None
            ),
            depends_on=[namespace],
        ),
    )


def _in_cluster() -> SynthRun:
    return run_program(make_config("prod"), "prod", _program)


def _external() -> SynthRun:
    config = make_config(
        "prod", grafana={"external": {"url": "https://grafana.example", "auth": CANARY}}
    )
    return run_program(config, "prod", _program)


def _of(run: SynthRun, type_: str) -> list[Registration]:
    return [r for r in run.registrations if r.type == type_]


def test_in_cluster_one_labelled_configmap_per_dashboard_in_the_monitoring_namespace() -> None:
    run = _in_cluster()
    docs = {d.uid: d for d in dashboards.build_all(make_config("prod"), multi_cluster=False)}
    maps = _of(run, CONFIGMAP)
    # The five fixed dashboards and prod's one SLO dashboard (backend).
    assert len(maps) == len(docs) == len(DASHBOARDS) + 1 == 6
    for cm in maps:
        meta = cm.inputs["metadata"]
        assert meta["namespace"] == "monitoring"
        assert meta["labels"]["grafana_dashboard"] == "1"
        ((key, text),) = cm.inputs["data"].items()
        doc = docs[key.removesuffix(".json")]
        assert text == doc.text
        assert meta["annotations"] == {"grafana_folder": doc.folder.title}
    assert not [r for r in run.registrations if r.type.startswith(("grafana:", "pulumi:providers"))]


def test_configmaps_wait_for_their_namespace_and_belong_to_the_component() -> None:
    run = _in_cluster()
    (component,) = _of(run, COMPONENT)
    (namespace,) = _of(run, "kubernetes:core/v1:Namespace")
    for cm in _of(run, CONFIGMAP):
        assert cm.parent == component.urn
        assert namespace.urn in cm.depends_on


def test_synth_writes_the_configmaps_as_manifests() -> None:
    files = render_files(_in_cluster())
    assert "kubernetes/configmap-monitoring-grafana-dashboard-bh-application-overview.yaml" in files


def test_external_grafana_gets_folders_and_dashboards_through_an_explicit_provider() -> None:
    run = _external()
    (provider,) = _of(run, "pulumi:providers:grafana")
    assert provider.inputs["url"] == "https://grafana.example"
    assert provider.inputs["auth"] == SECRET_MARKER
    folders = _of(run, "grafana:oss/folder:Folder")
    boards = _of(run, "grafana:oss/dashboard:Dashboard")
    assert sorted(f.inputs["uid"] for f in folders) == sorted(f.uid for f in dashboards.FOLDERS)
    docs = {d.uid: d for d in dashboards.build_all(make_config("prod"), multi_cluster=False)}
    assert len(boards) == len(docs) == len(DASHBOARDS) + 1 == 6
    for board in [*folders, *boards]:
        assert board.provider.startswith(provider.urn + "::")
    for board in boards:
        doc = docs[json.loads(board.inputs["configJson"])["uid"]]
        assert board.inputs["configJson"] == doc.text
        assert board.inputs["folder"] == doc.folder.uid
        assert board.inputs["overwrite"] is True
    assert _of(run, CONFIGMAP) == []


def test_external_grafana_auth_never_appears_unmasked() -> None:
    run = _external()
    assert CANARY not in json.dumps([r.as_dict() for r in run.registrations])
    assert not any(CANARY in text for text in render_files(run).values())


def test_every_child_is_parented_to_the_component() -> None:
    run = _external()
    (component,) = _of(run, COMPONENT)
    children = [r for r in run.registrations if r.type.startswith(("grafana:", "pulumi:providers"))]
    assert children
    assert {r.parent for r in children} == {component.urn}


def test_two_dashboards_with_one_uid_are_refused() -> None:
    doc = dashboards.build_all(make_config("dev"), multi_cluster=False)[0]

    def program(config: EstateConfig) -> None:
        GrafanaDashboards(
            "dashboards", GrafanaDashboardsArgs(dashboards=[doc, doc], namespace="monitoring")
        )

    with pytest.raises(ValueError, match="duplicate dashboard uids"):
        run_program(make_config("dev"), "dev", program)


def test_outputs_name_the_dashboards_and_the_delivery() -> None:
    seen: dict[str, object] = {}

    def program(config: EstateConfig) -> None:
        component = GrafanaDashboards(
            "dashboards",
            GrafanaDashboardsArgs(
                dashboards=dashboards.build_all(config, multi_cluster=False), namespace="monitoring"
            ),
        )
        pulumi.Output.all(component.dashboard_uids, component.delivery).apply(
            lambda values: seen.update(uids=values[0], delivery=values[1])
        )

    run_program(make_config("dev"), "dev", program)
    assert seen == {
        "uids": [
            "bh-application-overview",
            "bh-database-performance",
            "bh-business-metrics",
            "bh-infrastructure",
            "bh-estate-health",
        ],
        "delivery": "configmap",
    }
