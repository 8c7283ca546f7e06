"""Refusals read in the project's words: the value given, what it is not, and what is allowed;
a misspelt key gets one error that names the key it most likely meant."""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from infra.config import ConfigError, EstateConfig, build_config
from infra.config.loader import read_stack_file
from infra.config.model import PATTERN_HELP
from tests.conftest import STACKS, make_config


def _problems(environment: str = "local", **keys: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        make_config(environment, plaintext_secrets_ok=True, **keys)
    return [f"{p.key}: {p.message}" for p in caught.value.problems]


def _backend(**fields: Any) -> dict[str, Any]:
    return {"backend": fields}


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (
            {"replicas": "three"},
            "blue-harvest:services.backend.replicas: 'three' is not a whole number;"
            " allowed: 1 to 100",
        ),
        ({"replicas": 0}, "blue-harvest:services.backend.replicas: 0 is out of range;"),
        (
            {"port": 70000},
            "blue-harvest:services.backend.port: 70000 is out of range; allowed: 1 to 65535",
        ),
        (
            {"probes": [1, 2]},
            "blue-harvest:services.backend.probes: a list is not a mapping (write key: value"
            " lines under it); allowed keys: liveness, readiness, startup",
        ),
        (
            {"metrics": {"path": "healthz"}},
            "blue-harvest:services.backend.metrics.path: 'healthz' is not an HTTP path such as"
            " /healthz",
        ),
    ],
)
def test_a_wrong_value_is_named_with_what_is_allowed(
    service: dict[str, Any], expected: str
) -> None:
    problems = _problems(services=_backend(**service))
    assert any(p.startswith(expected) for p in problems), problems
    for problem in problems:
        assert "valid integer" not in problem
        assert "valid tuple" not in problem
        assert "instance of" not in problem
        assert "match pattern" not in problem


def test_a_list_where_a_list_is_wanted_reads_as_yaml() -> None:
    problems = _problems(alerting={"grouping": {"groupBy": "alertname"}})
    assert problems == [
        "blue-harvest:alerting.grouping.groupBy: 'alertname' is not a list"
        " (write [a, b] or one '- item' per line)"
    ]


def test_a_boolean_is_shown_as_the_yaml_wrote_it() -> None:
    problems = _problems(logs=True)
    assert problems[0].startswith("blue-harvest:logs: true is not a mapping"), problems


def _patterns(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    found: set[str] = set()
    if model in seen:
        return found
    seen.add(model)
    todo: list[Any] = []
    for field in model.model_fields.values():
        found |= {str(m.pattern) for m in field.metadata if getattr(m, "pattern", None)}
        todo.append(field.annotation)
    while todo:
        annotation = todo.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= _patterns(annotation, seen)
        for meta in getattr(annotation, "__metadata__", ()):
            pattern = getattr(meta, "pattern", None) or next(
                (getattr(m, "pattern", None) for m in getattr(meta, "metadata", ())), None
            )
            if pattern:
                found.add(str(pattern))
        todo.extend(typing.get_args(annotation))
    return found


def test_every_pattern_in_the_model_has_words_for_its_message() -> None:
    patterns = _patterns(EstateConfig, set())
    assert len(patterns) > 15
    assert sorted(patterns - set(PATTERN_HELP)) == []


def test_a_misspelt_top_level_key_is_one_error_naming_the_right_key() -> None:
    """Staging requires alerting's PagerDuty key and heartbeat: the typo hides them, and
    only the typo is reported."""
    raw = read_stack_file(STACKS / "Pulumi.staging.yaml")
    raw["blue-harvest:alertng"] = raw.pop("blue-harvest:alerting")
    with pytest.raises(ConfigError) as caught:
        build_config(raw, source="staging", stack="staging", plaintext_secrets_ok=False)
    problems = [f"{p.key}: {p.message}" for p in caught.value.problems]
    assert problems == ["blue-harvest:alertng: unknown key; did you mean blue-harvest:alerting?"]


def test_a_misspelt_nested_key_hides_no_other_error_and_adds_no_knock_on() -> None:
    problems = _problems(
        "staging",
        logs={"reportEmail": None, "reportemail": "sre@blueharvest.example"},
        services=_backend(replicas=0),
    )
    assert len(problems) == 2, problems
    assert any(
        p.startswith("blue-harvest:logs.reportemail: unknown key; did you mean reportEmail?")
        for p in problems
    ), problems
    assert any(
        re.match(r"blue-harvest:services\.backend\.replicas: 0 is out of range", p)
        for p in problems
    ), problems
