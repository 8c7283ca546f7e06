"""A stack's environment is fixed by the stack, not by a value its own file can change.

The rule (docs/configuration.md, "Environment identity"):

1. The stacks `local`, `dev`, `staging` and `prod` are bound to the environment of the same
   name: their file may leave `blue-harvest:environment` out or state that same value; any
   other value is a config error.
2. Any other stack must state `blue-harvest:environment` and meets that environment's rules.
3. A stack whose name contains `prod`, `staging` or `dev` (`prod-eu`, `prod.eu-west-1`,
   `eu-production`, `staging-2`) cannot state an environment weaker than the strongest one its
   name contains: a stack that reads as production always meets prod's rules.

The policies (`estate check`, the CrossGuard pack) apply the same floor to the stack name in
each resource's URN, so a label the program writes can raise the rules a stack meets, never
lower them.
"""

from __future__ import annotations

from infra.core.environments import ENVIRONMENTS, EnvironmentName

#: Weakest first: each environment's rules include the previous one's guardrails.
STRENGTH: tuple[EnvironmentName, ...] = ENVIRONMENTS

ENVIRONMENT_KEY = "blue-harvest:environment"


_RANK: dict[str, int] = {env: i for i, env in enumerate(STRENGTH)}


def rank(environment: str) -> int:
    """0 (local) to 3 (prod); -1 for anything that is not an environment."""
    return _RANK.get(environment, -1)


def bound_environment(stack: str) -> EnvironmentName | None:
    """The environment a known stack is bound to, or None for any other stack name."""
    for env in STRENGTH:
        if stack == env:
            return env
    return None


def floor_environment(stack: str) -> EnvironmentName | None:
    """The weakest environment a stack of this name may take: the strongest environment name
    (`prod`, `staging`, `dev`) its name contains, case-insensitively; None when none."""
    lowered = stack.lower()
    for env in reversed(STRENGTH):
        if env != "local" and env in lowered:
            return env
    return None


def environment_problems(stack: str, declared: object) -> list[str]:
    """Why `declared` (the file's `blue-harvest:environment`, None when unset) is not an
    environment stack `stack` may take; empty when it may."""
    bound = bound_environment(stack)
    if bound is not None:
        if declared is None or declared == bound:
            return []
        return [
            f"the stack {stack!r} is bound to the {bound} environment; its file may leave"
            f" {ENVIRONMENT_KEY} out or set it to {bound!r}, never to {declared!r}"
        ]
    if declared is None:
        return [
            f"is required: the stack {stack!r} is not one of {', '.join(STRENGTH)}, so its file"
            " must say which environment's rules it takes"
        ]
    floor = floor_environment(stack)
    if floor is not None and isinstance(declared, str) and rank(declared) < rank(floor):
        return [
            f"the stack name {stack!r} contains {floor!r}, so it takes {floor}'s rules at least;"
            f" {declared!r} is weaker"
        ]
    return []


def policy_environment(stack: str, declared: str | None) -> str:
    """The environment whose policies a stack's resources must meet: what the program declared
    (its namespaces' label, its provider's tags), raised to the stack name's binding or floor.
    With neither, prod's (the strictest): an unknown stack is never checked more loosely."""
    candidates: list[str] = [e for e in (bound_environment(stack), floor_environment(stack)) if e]
    if declared and rank(declared) >= 0:
        candidates.append(declared)
    if not candidates:
        return "prod"
    return max(candidates, key=rank)
