"""Probe overrides per field: a stack file that sets one probe field keeps the seed's value
for every other (it used to need the whole probe, and one field gave ten "is required")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ConfigError, load_stack_file
from infra.config.model import SEED_PROBES, ProbeConfig, ProbesConfig
from infra.synth import synth_stacks
from tests.conftest import make_config

GOOD = Path(__file__).parent / "good"
#: Stack file (tests/config/good) -> (probe, stack-file field, value) it sets, and nothing else.
ONE_FIELD = {
    "probe-liveness-path-only": ("liveness", "path", "/livez"),
    "probe-startup-threshold-only": ("startup", "failureThreshold", 60),
}
PROBE_KEYS = {"liveness": "livenessProbe", "readiness": "readinessProbe", "startup": "startupProbe"}


def _seed_with(kind: str, field: str, value: object) -> ProbesConfig:
    return ProbesConfig.model_validate({**SEED_PROBES, kind: {**SEED_PROBES[kind], field: value}})


@pytest.mark.parametrize("stack", ONE_FIELD)
def test_one_field_keeps_the_seeds_others(stack: str) -> None:
    kind, field, value = ONE_FIELD[stack]
    probes = load_stack_file(GOOD / f"Pulumi.{stack}.yaml").services["backend"].probes
    assert probes == _seed_with(kind, field, value)
    assert probes != ProbesConfig()  # the one field did change


def _backend_probes(out: Path, stack: str) -> dict[str, Any]:
    (deployment,) = (out / stack / "kubernetes").glob("deployment-*-backend.yaml")
    manifest = yaml.safe_load(deployment.read_text())
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    return {kind: container[key] for kind, key in PROBE_KEYS.items()}


def test_rendered_probes_equal_the_seeds_except_the_one_field(tmp_path: Path) -> None:
    stacks = ["minimal-local", *ONE_FIELD]
    synth_stacks(stacks, GOOD, tmp_path)
    seed = _backend_probes(tmp_path, "minimal-local")
    assert seed["liveness"]["httpGet"]["path"] == "/health"
    assert seed["startup"]["failureThreshold"] == 30
    for stack, (kind, field, value) in ONE_FIELD.items():
        expected = {k: dict(v) for k, v in seed.items()}
        if field == "path":
            expected[kind]["httpGet"] = {**expected[kind]["httpGet"], "path": value}
        else:
            expected[kind][field] = value
        assert _backend_probes(tmp_path, stack) == expected


def test_switching_to_tcp_drops_the_seed_path() -> None:
    probes = ProbesConfig.model_validate({"liveness": {"type": "tcp"}})
    assert probes.liveness == ProbeConfig.model_validate(
        {**{k: v for k, v in SEED_PROBES["liveness"].items() if k != "path"}, "type": "tcp"}
    )


def test_the_frontend_keeps_its_tcp_probes_when_one_field_changes() -> None:
    config = make_config(
        "local",
        services={
            "backend": {"image": "ghcr.io/blue-harvest/backend:1.42.0", "port": 4000},
            "frontend": {
                "image": "ghcr.io/blue-harvest/frontend:1.42.0",
                "port": 3000,
                "probes": {"liveness": {"failureThreshold": 5}},
            },
        },
    )
    liveness = config.services["frontend"].probes.liveness
    assert liveness.type == "tcp"
    assert liveness.path is None
    assert liveness.failure_threshold == 5
    assert liveness.period_seconds == SEED_PROBES["liveness"]["periodSeconds"]


def test_one_bad_field_is_one_error_naming_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(
            "local",
            services={
                "backend": {
                    "image": "ghcr.io/blue-harvest/backend:1.42.0",
                    "port": 4000,
                    "probes": {"liveness": {"timeoutSeconds": 10}},  # == the seed's period
                }
            },
        )
    keys = [p.key for p in caught.value.problems]
    assert keys == ["blue-harvest:services.backend.probes.liveness.timeoutSeconds"], keys
