"""The floor is honest: it registers exactly the custom resources the synth writes out."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks import floor
from benchmarks.documents import COMPONENT_PREFIX, documents_from, is_derived, urn_key
from benchmarks.estates import STACKS_DIR, write_generated_stack
from infra.synth import synth_stacks

Resources = list[dict[str, Any]]


@pytest.fixture(scope="module", params=["prod", "services-10"])
def estate(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(stacks dir, stack, the synth's resources.json entries, the floor's (type, name)s):
    one synth and one floor run per estate."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "prod":
        stacks_dir, stack = STACKS_DIR, "prod"
    else:
        stacks_dir = tmp / "stacks"
        stack = write_generated_stack(stacks_dir, 10)
    [result] = synth_stacks([stack], stacks_dir, tmp / "out")
    doc = json.loads((result.path / "resources.json").read_text(encoding="utf-8"))
    return stacks_dir, stack, doc["resources"], _floor(stacks_dir, stack, doc["resources"])


def _floor(stacks_dir: Path, stack: str, synth: Resources) -> list[tuple[str, str]]:
    """(type, logical name) of everything the floor registered, given the synth's documents."""
    estate = floor.read_estate(stacks_dir / f"Pulumi.{stack}.yaml", stack)
    monitor = floor.run(estate, documents_from(synth))
    return [urn_key(urn) for urn in monitor.resources]


def _custom(synth: Resources) -> Resources:
    return [r for r in synth if not str(r["type"]).startswith(COMPONENT_PREFIX)]


Estate = tuple[Path, str, Resources, list[tuple[str, str]]]


def test_floor_registers_the_same_multiset_of_custom_resource_types(estate: Estate) -> None:
    _, _, synth, floor_resources = estate
    components = [r for r in synth if str(r["type"]).startswith(COMPONENT_PREFIX)]
    assert components, "the synth declares its resources in components"
    assert not any(r["custom"] for r in components)
    synth_types = Counter(str(r["type"]) for r in _custom(synth))
    assert synth_types["aws:cloudwatch/logGroup:LogGroup"] > 0
    floor_types = Counter(t for t, _ in floor_resources)
    assert floor_types == synth_types


def test_floor_uses_the_same_logical_names(estate: Estate) -> None:
    _, _, synth, floor_resources = estate
    expected = sorted((str(r["type"]), str(r["name"])) for r in _custom(synth))
    assert sorted(floor_resources) == expected


def test_documents_leave_out_what_the_floor_derives_and_keep_dependency_order(
    estate: Estate,
) -> None:
    synth = estate[2]
    docs = documents_from(synth)
    derived = {(str(r["type"]), str(r["name"])) for r in synth if is_derived(r)}
    assert ("pulumi:providers:aws", "aws") in derived
    assert ("aws:cloudwatch/logGroup:LogGroup", "logs-backend") in derived
    documented = [(d["type"], d["name"]) for d in docs]
    assert documented
    assert not set(documented) & derived
    assert not any(t.startswith(COMPONENT_PREFIX) for t, _ in documented)
    seen: set[tuple[str, str]] = set()
    for d in docs:
        assert all(tuple(dep) in seen | derived for dep in d["dependsOn"])
        seen.add((d["type"], d["name"]))


def _no_aws_estate(tmp_path: Path) -> floor.Estate:
    path = tmp_path / "Pulumi.local.yaml"
    path.write_text("config:\n  blue-harvest:environment: local\n", encoding="utf-8")
    return floor.read_estate(path, "local")


def test_a_provider_the_floor_has_no_case_for_is_registered_generically(tmp_path: Path) -> None:
    provider: dict[str, Any] = {"type": "pulumi:providers:pagerduty", "name": "pd", "inputs": {}}
    service: dict[str, Any] = {
        "type": "pagerduty:index/service:Service",
        "name": "svc",
        "inputs": {"name": "x"},
    }
    docs: Resources = [
        {**provider, "dependsOn": [], "provider": None},
        {**service, "dependsOn": [], "provider": ["pulumi:providers:pagerduty", "pd"]},
    ]
    monitor = floor.run(_no_aws_estate(tmp_path), docs)
    assert sorted(urn_key(u) for u in monitor.resources) == [
        ("pagerduty:index/service:Service", "svc"),
        ("pulumi:providers:pagerduty", "pd"),
    ]


def test_a_kubernetes_kind_without_a_case_is_registered_generically(tmp_path: Path) -> None:
    docs: Resources = [
        {
            "type": "kubernetes:apps/v1:StatefulSet",
            "name": "db",
            "inputs": {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}},
            "dependsOn": [],
            "provider": None,
        }
    ]
    monitor = floor.run(_no_aws_estate(tmp_path), docs)
    assert [urn_key(u) for u in monitor.resources] == [("kubernetes:apps/v1:StatefulSet", "db")]


def test_generated_estate_has_the_requested_services(tmp_path: Path) -> None:
    stack = write_generated_stack(tmp_path, 10)
    estate = floor.read_estate(tmp_path / f"Pulumi.{stack}.yaml", stack)
    assert len(estate.services) == 10
    assert "backend" in estate.services
    assert "svc-0001" in estate.services
    assert all(len(filters) == 3 for filters, _ in estate.services.values())
    assert estate.environment == "prod"
