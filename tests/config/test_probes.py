"""ProbeSpec: each rule refuses a bad probe with a message naming the probe and the field."""

from __future__ import annotations

import pytest

from infra.config.model import ProbeConfig, ProbesConfig
from infra.config.probes import (
    ProbeError,
    ProbeSpec,
    ProbesSpec,
    budget_seconds,
    probe_dict,
    probe_problems,
)

SEED = ProbesConfig()


def _probe(kind: str = "liveness", **changes: int) -> ProbeConfig:
    base: ProbeConfig = getattr(SEED, kind)
    return base.model_copy(update=changes)


def _spec(kind: str = "liveness", **changes: int) -> ProbeSpec:
    return ProbeSpec.from_config(kind, _probe(kind, **changes))  # type: ignore[arg-type]


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
def test_a_timeout_not_below_the_period_is_refused(kind: str) -> None:
    period: int = getattr(SEED, kind).period_seconds
    with pytest.raises(ProbeError) as caught:
        _spec(kind, timeout_seconds=period)
    ((key, message),) = caught.value.problems
    assert key == f"probes.{kind}.timeoutSeconds"
    assert f"the {kind} probe's timeoutSeconds ({period})" in message
    assert f"periodSeconds ({period})" in message


@pytest.mark.parametrize("kind", ["liveness", "startup"])
def test_a_success_threshold_other_than_one_is_refused_for_liveness_and_startup(
    kind: str,
) -> None:
    with pytest.raises(ProbeError) as caught:
        _spec(kind, success_threshold=2)
    ((key, message),) = caught.value.problems
    assert key == f"probes.{kind}.successThreshold"
    assert f"the {kind} probe's successThreshold must be 1 (is 2)" in message


def test_readiness_may_require_several_successes() -> None:
    assert _spec("readiness", success_threshold=3).success_threshold == 3


def test_a_startup_budget_shorter_than_the_boot_is_refused() -> None:
    probes = SEED.model_copy(update={"startup": _probe("startup", failure_threshold=5)})
    ((key, message),) = probe_problems(probes, boot_seconds=60)
    assert key == "probes.startup.failureThreshold"
    assert "0s initial delay + 10s period x 5 failures = 50s" in message
    assert "bootSeconds (60s)" in message
    with pytest.raises(ProbeError, match=r"probes\.startup\.failureThreshold"):
        ProbesSpec.from_config(probes, boot_seconds=60)


def test_initial_delay_counts_towards_the_startup_budget() -> None:
    probes = SEED.model_copy(
        update={"startup": _probe("startup", failure_threshold=5, initial_delay_seconds=10)}
    )
    assert probe_problems(probes, boot_seconds=60) == []


def test_without_a_startup_probe_a_liveness_probe_that_can_kill_a_booting_pod_is_refused() -> None:
    # The seed's liveness probe gives up after 30 + 10 x 3 = 60s.
    with pytest.raises(ProbeError) as caught:
        ProbesSpec(
            liveness=_spec("liveness"),
            readiness=_spec("readiness"),
            startup=None,
            boot_seconds=61,
        )
    ((key, message),) = caught.value.problems
    assert key == "probes.liveness.initialDelaySeconds"
    assert "can kill a pod still starting" in message
    assert "= 60s" in message
    assert "bootSeconds (61s)" in message


def test_without_a_startup_probe_a_liveness_budget_covering_the_boot_is_accepted() -> None:
    spec = ProbesSpec(
        liveness=_spec("liveness"), readiness=_spec("readiness"), startup=None, boot_seconds=60
    )
    assert spec.startup is None


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


def test_a_probe_in_the_wrong_slot_is_refused() -> None:
    with pytest.raises(ValueError, match="liveness slot holds a readiness probe"):
        ProbesSpec(
            liveness=_spec("readiness"),
            readiness=_spec("readiness"),
            startup=_spec("startup"),
            boot_seconds=60,
        )


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
    with pytest.raises(ProbeError):
        ProbeSpec.from_config("startup", tcp.model_copy(update={"timeout_seconds": 10}))
    with pytest.raises(ValueError, match="an http probe has a path"):
        ProbeSpec(
            kind="liveness",
            path=None,
            initial_delay_seconds=0,
            period_seconds=10,
            timeout_seconds=3,
            failure_threshold=3,
        )
