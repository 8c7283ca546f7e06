"""How secret settings are carried: never as plain text outside the engine's secret wrapper."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

#: The text that stands for a secret wherever one would otherwise be written out.
SECRET_MARKER = "[secret]"

#: Prefix of the placeholder the offline loader puts where a `secure:` value stands.
PLACEHOLDER_PREFIX = "[secure-placeholder:"


def placeholder(key: str) -> SecretStr:
    """The value the offline synth substitutes for an encrypted config value it cannot decrypt."""
    return SecretStr(f"{PLACEHOLDER_PREFIX}{key}]")


def secret_values(model: BaseModel) -> list[str]:
    """Every secret value a config holds (placeholders included), for the writer's guard."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(model)
    return found
