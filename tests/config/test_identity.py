"""A stack's environment is fixed by the stack (infra.config.identity)."""

from __future__ import annotations

import pytest

from infra.config.identity import environment_problems, floor_environment, policy_environment


@pytest.mark.parametrize("stack", ["local", "dev", "staging", "prod"])
def test_a_known_stack_is_bound_to_its_environment(stack: str) -> None:
    assert environment_problems(stack, None) == []
    assert environment_problems(stack, stack) == []
    for other in {"local", "dev", "staging", "prod"} - {stack}:
        (problem,) = environment_problems(stack, other)
        assert f"bound to the {stack} environment" in problem


def test_prod_cannot_declare_staging() -> None:
    (problem,) = environment_problems("prod", "staging")
    assert "'staging'" in problem


def test_any_other_stack_must_state_its_environment() -> None:
    (problem,) = environment_problems("eu-west", None)
    assert problem.startswith("is required")
    assert environment_problems("eu-west", "dev") == []


@pytest.mark.parametrize(
    ("stack", "floor"),
    [
        ("prod-eu", "prod"),
        ("prod.eu-west-1", "prod"),
        ("eu-production", "prod"),
        ("PROD_2", "prod"),
        ("staging-2", "staging"),
        ("dev-feature", "dev"),
        ("preview-dev-prod", "prod"),
        ("eu-west", None),
    ],
)
def test_a_name_that_reads_as_an_environment_takes_its_rules_at_least(
    stack: str, floor: str | None
) -> None:
    assert floor_environment(stack) == floor
    if floor is None:
        return
    assert environment_problems(stack, floor) == []
    weaker = {"prod": "staging", "staging": "dev", "dev": "local"}[floor]
    (problem,) = environment_problems(stack, weaker)
    assert f"contains {floor!r}" in problem
    assert environment_problems(stack, "prod") == []  # stronger is always allowed


def test_policies_never_take_weaker_rules_than_the_stack_name() -> None:
    assert policy_environment("prod", "staging") == "prod"
    assert policy_environment("prod-eu", "dev") == "prod"
    assert policy_environment("dev", "prod") == "prod"
    assert policy_environment("eu-west", "staging") == "staging"
    assert policy_environment("eu-west", None) == "prod"
    assert policy_environment("eu-west", "bogus") == "prod"
