"""The probe rules: each refuses a bad probe with a message naming the probe and the field;
they run once, in the config's validator, and the specs are built from the validated config."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError
from infra.config import probes as probe_rules
from infra.config.model import ProbeConfig, ProbesConfig
from infra.config.probes import (
    ProbeKind,
    ProbeSpec,
    ProbesSpec,
    boot_problems,
    budget_seconds,
    field_problems,
    probe_dict,
    probe_problems,
)
from infra.estate import plan
from tests.conftest import make_config

SEED = ProbesConfig()


def _probe(kind: str = "liveness", **changes: int) -> ProbeConfig:
    base: ProbeConfig = getattr(SEED, kind)
    return base.model_copy(update=changes)


def _spec(kind: ProbeKind = "liveness", **changes: int) -> ProbeSpec:
    return ProbeSpec.from_config(kind, _probe(kind, **changes))


def test_the_seeds_three_probes_pass_with_a_sixty_second_boot() -> None:
    assert probe_problems(SEED, boot_seconds=60) == []
    spec = ProbesSpec.from_config(SEED, boot_seconds=60)
    assert spec.startup is not None
    assert (spec.liveness.path, spec.readiness.path, spec.startup.path) == (
        "/health",
        "/health/ready",
        "/health/startup",
    )


def test_the_seeds_startup_budget_is_three_hundred_seconds_so_a_301_second_boot_fails() -> None:
    assert budget_seconds(SEED.startup) == 0 + 10 * 30
    assert probe_problems(SEED, boot_seconds=300) == []
    ((key, message),) = probe_problems(SEED, boot_seconds=301)
    assert key == "probes.startup.failureThreshold"
    assert "300s" in message
    assert "bootSeconds (301s)" in message


@pytest.mark.parametrize("kind", ["liveness", "readiness", "startup"])
def test_a_timeout_not_below_the_period_is_refused(kind: ProbeKind) -> None:
    period: int = getattr(SEED, kind).period_seconds
    ((key, message),) = field_problems(kind, _probe(kind, timeout_seconds=period))
    assert key == f"probes.{kind}.timeoutSeconds"
    assert f"the {kind} probe's timeoutSeconds ({period})" in message
    assert f"periodSeconds ({period})" in message


@pytest.mark.parametrize("kind", ["liveness", "startup"])
def test_a_success_threshold_other_than_one_is_refused_for_liveness_and_startup(
    kind: ProbeKind,
) -> None:
    ((key, message),) = field_problems(kind, _probe(kind, success_threshold=2))
    assert key == f"probes.{kind}.successThreshold"
    assert f"the {kind} probe's successThreshold must be 1 (is 2)" in message


def test_readiness_may_require_several_successes() -> None:
    assert field_problems("readiness", _probe("readiness", success_threshold=3)) == []
    assert _spec("readiness", success_threshold=3).success_threshold == 3


def test_a_startup_budget_shorter_than_the_boot_is_refused() -> None:
    probes = SEED.model_copy(update={"startup": _probe("startup", failure_threshold=5)})
    ((key, message),) = probe_problems(probes, boot_seconds=60)
    assert key == "probes.startup.failureThreshold"
    assert "0s initial delay + 10s period x 5 failures = 50s" in message
    assert "bootSeconds (60s)" in message


def test_initial_delay_counts_towards_the_startup_budget() -> None:
    probes = SEED.model_copy(
        update={"startup": _probe("startup", failure_threshold=5, initial_delay_seconds=10)}
    )
    assert probe_problems(probes, boot_seconds=60) == []


def test_without_a_startup_probe_a_liveness_probe_that_can_kill_a_booting_pod_is_refused() -> None:
    # The seed's liveness probe gives up after 30 + 10 x 3 = 60s.
    ((key, message),) = boot_problems(SEED.liveness, None, boot_seconds=61)
    assert key == "probes.liveness.initialDelaySeconds"
    assert "can kill a pod still starting" in message
    assert "= 60s" in message
    assert "bootSeconds (61s)" in message


def test_without_a_startup_probe_a_liveness_budget_covering_the_boot_is_accepted() -> None:
    assert boot_problems(SEED.liveness, None, boot_seconds=60) == []


def test_with_a_startup_probe_liveness_may_be_shorter_than_the_boot() -> None:
    # The kubelet holds liveness back until startup has succeeded.
    probes = SEED.model_copy(update={"liveness": _probe("liveness", initial_delay_seconds=0)})
    assert budget_seconds(probes.liveness) < 60
    assert probe_problems(probes, boot_seconds=60) == []


def test_every_problem_is_reported_at_once() -> None:
    probes = ProbesConfig(
        liveness=_probe("liveness", timeout_seconds=10, success_threshold=2),
        readiness=_probe("readiness", timeout_seconds=7),
        startup=_probe("startup", failure_threshold=1),
    )
    keys = [key for key, _ in probe_problems(probes, boot_seconds=60)]
    assert keys == [
        "probes.liveness.timeoutSeconds",
        "probes.liveness.successThreshold",
        "probes.readiness.timeoutSeconds",
        "probes.startup.failureThreshold",
    ]


def test_probe_dict_is_the_kubernetes_http_probe_on_the_named_port() -> None:
    assert probe_dict(SEED.liveness, "http") == {
        "httpGet": {"path": "/health", "port": "http", "scheme": "HTTP"},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
        "successThreshold": 1,
    }
    assert probe_dict(_spec("startup"), "web")["httpGet"]["port"] == "web"


def test_a_tcp_probe_connects_to_the_named_port_and_keeps_the_rules() -> None:
    tcp = ProbeConfig(
        type="tcp",
        initial_delay_seconds=0,
        period_seconds=10,
        timeout_seconds=3,
        failure_threshold=30,
    )
    spec = ProbeSpec.from_config("startup", tcp)
    assert probe_dict(spec, "http") == {
        "tcpSocket": {"port": "http"},
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 30,
        "successThreshold": 1,
    }
    assert field_problems("startup", tcp) == []
    ((key, _),) = field_problems("startup", tcp.model_copy(update={"timeout_seconds": 10}))
    assert key == "probes.startup.timeoutSeconds"


def test_the_rules_run_once_from_stack_file_to_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """One place: the config's validator runs every rule for every service; planning the
    workloads builds their specs from the validated config and runs none again."""
    calls: list[str] = []
    real = probe_rules.field_problems

    def counted(kind: ProbeKind, probe: Any) -> list[tuple[str, str]]:
        calls.append(kind)
        return real(kind, probe)

    monkeypatch.setattr(probe_rules, "field_problems", counted)
    config = make_config("dev")
    assert sorted(calls) == sorted(["liveness", "readiness", "startup"] * len(config.services))
    calls.clear()
    workloads = plan(config).workloads
    assert calls == []
    backend = next(w for w in workloads if w.service == "backend")
    assert backend.probes == ProbesSpec.from_config(
        config.services["backend"].probes, config.services["backend"].boot_seconds
    )


def test_a_bad_probe_is_refused_by_the_config_naming_the_service_key() -> None:
    with pytest.raises(ConfigError) as caught:
        make_config("dev", services={"backend": {"probes": {"liveness": {"timeoutSeconds": 10}}}})
    keys = [p.key for p in caught.value.problems]
    assert keys == ["blue-harvest:services.backend.probes.liveness.timeoutSeconds"]
