"""Build an EstateConfig from a stack file (offline) or from the engine's config (`pulumi up`).

Both paths go through `build_config`, so a stack file that synths is a stack file the real
engine accepts, with the same defaults and the same errors.
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from infra.config import stack_yaml
from infra.config.defaults import ENV_DEFAULTS, merge
from infra.config.errors import ConfigError, ConfigProblem
from infra.config.identity import environment_problems
from infra.config.model import (
    ENVIRONMENTS,
    PATTERN_HELP,
    STACK_KEY,
    CrossFieldError,
    EstateConfig,
    SecureValue,
    top_level_keys,
)
from infra.naming import PROJECT, stack_name_problem

#: Keys of other namespaces a stack file may carry: they configure Pulumi's providers.
PROVIDER_KEYS = frozenset(
    {
        "aws:region",
        "aws:profile",
        "aws:allowedAccountIds",
        "aws:assumeRoles",
        "aws:skipCredentialsValidation",
        "kubernetes:context",
        "kubernetes:kubeconfig",
        "kubernetes:namespace",
        "pagerduty:token",
        "sentry:token",
    }
)

#: Provider keys that hold credentials: encrypted in every stack but local.
CREDENTIAL_KEYS = frozenset({"pagerduty:token", "sentry:token", "aws:assumeRoles"})

#: Keys Pulumi itself writes at the top of a stack file. (`environment:`, Pulumi ESC, is not
#: accepted: the offline synth cannot open an ESC environment, so review would not see it.)
STACK_FILE_KEYS = frozenset({"config", "secretsprovider", "encryptedkey", "encryptionsalt"})


def stack_file(stacks_dir: Path, stack: str) -> Path:
    """stacks/Pulumi.<stack>.yaml; a ConfigError naming that file if `stack` breaks the
    stack-name rule (`infra.naming.stack_name_problem`), before anything is opened."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    problem = stack_name_problem(stack)
    if problem is not None:
        raise ConfigError(str(path), [ConfigProblem("(file name)", problem)])
    return path


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file, with every `secure:` value left undecrypted."""
    source = str(path)
    if not path.is_file():
        raise ConfigError(source, [ConfigProblem("(file)", "no such stack file")])
    try:
        doc = stack_yaml.load(stack_yaml.read(path))
    except stack_yaml.StackYamlError as exc:
        raise ConfigError(source, [ConfigProblem(exc.where, exc.message)]) from None
    except OSError as exc:
        problem = ConfigProblem("(file)", f"cannot be read: {exc.strerror}")
        raise ConfigError(source, [problem]) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(
            source, [ConfigProblem("(file)", "must be a mapping with a `config:` key")]
        )
    problems = [
        ConfigProblem(
            str(k),
            "Pulumi ESC environments are not supported: estate synth, check and diff could not"
            " see their values; put the settings under config:"
            if k == "environment"
            else f"unknown top-level key; allowed: {', '.join(sorted(STACK_FILE_KEYS))}",
        )
        for k in doc
        if k not in STACK_FILE_KEYS
    ]
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        problems.append(ConfigProblem("config", "must be a mapping of `namespace:key: value`"))
    if problems:
        raise ConfigError(source, problems)
    return {_full_key(str(k)): _mark_secure(_full_key(str(k)), v) for k, v in config.items()}


def _full_key(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _mark_secure(path: str, value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return SecureValue(path)
        return {k: _mark_secure(f"{path}.{k}", v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_secure(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return value


def load_stack_file(path: Path, stack: str | None = None) -> EstateConfig:
    """Offline: read and validate stacks/Pulumi.<stack>.yaml without decrypting anything."""
    stack = stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    raw = read_stack_file(path)
    environment = raw.get(f"{PROJECT}:environment", stack)
    return build_config(
        raw, source=str(path), stack=stack, plaintext_secrets_ok=environment == "local"
    )


def load_from_pulumi() -> EstateConfig:
    """Under the real engine: read every config key the engine passed to this program."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    stack = pulumi.get_stack()
    values: dict[str, Any] = dict(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    raw = {_full_key(k): _parse_engine_value(v) for k, v in values.items()}
    # The engine has already decrypted secrets and the stack file's own check (estate synth in
    # CI) refuses plain-text secrets, so plain text here is the decrypted value.
    return build_config(
        raw, source=f"stacks/Pulumi.{stack}.yaml", stack=stack, plaintext_secrets_ok=True
    )


def _parse_engine_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def build_config(
    raw: dict[str, Any], *, source: str, stack: str, plaintext_secrets_ok: bool
) -> EstateConfig:
    """Check keys, apply the environment's defaults, validate; raise ConfigError on any problem."""
    known = top_level_keys()
    problems: list[ConfigProblem] = []
    for key in sorted(raw):
        if key in known or key in PROVIDER_KEYS:
            continue
        if key == STACK_KEY:
            problems.append(
                ConfigProblem(
                    key,
                    f"is the stack's name ({stack!r}), never a value in its file: account-wide"
                    " AWS names are scoped by it; remove the key",
                )
            )
            continue
        if key.startswith(f"{PROJECT}:"):
            allowed = ", ".join(sorted(k for k in known if k.startswith(f"{PROJECT}:")))
            problems.append(ConfigProblem(key, f"unknown key; allowed: {allowed}"))
        else:
            allowed = ", ".join(sorted(PROVIDER_KEYS | {k for k in known if ":" in k}))
            problems.append(
                ConfigProblem(key, f"unknown key; allowed outside {PROJECT}: {allowed}")
            )
    env_key = f"{PROJECT}:environment"
    environment = raw.get(env_key, stack)
    if environment not in ENVIRONMENTS:
        allowed_envs = ", ".join(ENVIRONMENTS)
        hint = "" if env_key in raw else f" (unset, and the stack name {stack!r} is not one)"
        problems.append(ConfigProblem(env_key, f"must be one of: {allowed_envs}{hint}"))
        raise ConfigError(source, problems)
    # Collected with the rest, so a file with several mistakes is fixed in one run.
    problems += [ConfigProblem(env_key, m) for m in environment_problems(stack, raw.get(env_key))]

    given = {k: v for k, v in raw.items() if k in known}
    given[env_key] = environment
    given[STACK_KEY] = stack
    data = merge(ENV_DEFAULTS[environment], given)
    try:
        config = EstateConfig.model_validate(
            data, context={"plaintext_secrets_ok": plaintext_secrets_ok}
        )
    except ValidationError as exc:
        raise ConfigError(source, [*problems, *_problems(exc)]) from None
    problems += _provider_token_problems(config, raw, plaintext_secrets_ok)
    if problems:
        raise ConfigError(source, problems)
    return config


def _provider_token_problems(
    config: EstateConfig, raw: dict[str, Any], plaintext_secrets_ok: bool
) -> list[ConfigProblem]:
    """Providers' own tokens live in their namespaces; the estate still checks they are there
    (and encrypted) when a feature needs them."""
    needed: list[tuple[str, str]] = []
    pagerduty = config.alerting.pagerduty
    if config.alerting.page_on_call and pagerduty is not None and pagerduty.manage is not None:
        needed.append(("pagerduty:token", "alerting.pagerduty.manage creates PagerDuty resources"))
    if config.sentry.enabled:
        needed.append(("sentry:token", "sentry.enabled creates the Sentry project and key"))
    problems = [ConfigProblem(key, f"is required: {why}") for key, why in needed if key not in raw]
    if not plaintext_secrets_ok:
        problems += [
            ConfigProblem(key, "is a credential and must be stored encrypted (`--secret`)")
            for key in sorted(CREDENTIAL_KEYS)
            if key in raw and not isinstance(raw[key], SecureValue)
        ]
    return problems


def _problems(exc: ValidationError) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    for err in exc.errors(include_url=False):
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, CrossFieldError):
            out.extend(ConfigProblem(k, m) for k, m in error.problems)
            continue
        out.append(ConfigProblem(_key(err["loc"]), _message(err)))
    return out


def _key(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a mapping key that failed validation
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        elif not text:
            text = part
        else:
            text += f".{part}"
    return text or "(config)"


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    if isinstance(err.get("input"), SecureValue):
        return "is encrypted (secure:) but is not a secret setting; store it in plain text"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(err["loc"][:-1])
        return f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
    if kind == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        if pattern in PATTERN_HELP:
            return f"must be {PATTERN_HELP[pattern]}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return msg.replace("Input should be", "must be").replace("String should", "must")


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys a mapping at `loc` accepts, by walking EstateConfig's field types."""
    current: Any = EstateConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(str(f.alias or n) for n, f in current.model_fields.items())
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
