"""How secret settings are carried: never as plain text outside the engine's secret wrapper."""

from __future__ import annotations

from pydantic import SecretStr

#: The text that stands for a secret wherever one would otherwise be written out.
SECRET_MARKER = "[secret]"

#: Prefix of the placeholder the offline loader puts where a `secure:` value stands.
PLACEHOLDER_PREFIX = "[secure-placeholder:"


def placeholder(key: str) -> SecretStr:
    """The value the offline synth substitutes for an encrypted config value it cannot decrypt."""
    return SecretStr(f"{PLACEHOLDER_PREFIX}{key}]")


def is_placeholder(value: SecretStr) -> bool:
    return value.get_secret_value().startswith(PLACEHOLDER_PREFIX)
