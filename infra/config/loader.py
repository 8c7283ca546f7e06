"""Build an EstateConfig from a stack file (offline) or from the engine's config (`pulumi up`).

Both paths go through `build_config`, so a stack file that synths is a stack file the real
engine accepts, with the same defaults and the same errors.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
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
    #: Keys a misspelt key most likely meant: what they would have said is not also refused.
    meant: set[str] = set()
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
        guess = _closest(key, sorted((set(known) | PROVIDER_KEYS) - {STACK_KEY} - set(raw)))
        if guess is not None:
            meant.add(guess)
            problems.append(ConfigProblem(key, f"unknown key; did you mean {guess}?"))
        elif key.startswith(f"{PROJECT}:"):
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
        raise ConfigError(source, [*problems, *_unless_meant(_problems(exc), meant)]) from None
    problems += _unless_meant(_provider_token_problems(config, raw, plaintext_secrets_ok), meant)
    if problems:
        raise ConfigError(source, problems)
    return config


def _closest(key: str, candidates: list[str]) -> str | None:
    """The known key `key` most likely misspells (case and one or two letters off)."""
    by_lower = {c.lower(): c for c in candidates}
    if key.lower() in by_lower:
        return by_lower[key.lower()]
    found = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.8)
    return by_lower[found[0]] if found else None


def _unless_meant(problems: list[ConfigProblem], meant: set[str]) -> list[ConfigProblem]:
    """Drops what a misspelt key's intended key is refused for (it was given, under another
    spelling): one error that says which key was meant, not knock-on "is required"s."""
    return [p for p in problems if not any(p.key == m or p.key.startswith(f"{m}.") for m in meant)]


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
    meant: set[str] = set()
    for err in exc.errors(include_url=False):
        error = (err.get("ctx") or {}).get("error")
        if isinstance(error, CrossFieldError):
            out.extend(ConfigProblem(k, m) for k, m in error.problems)
            continue
        key = _key(err["loc"])
        if err["type"] == "extra_forbidden":
            guess = _closest(str(err["loc"][-1]), _allowed_keys(err["loc"][:-1]))
            if guess is not None:
                meant.add(f"{key.rpartition('.')[0]}.{guess}")
        out.append(ConfigProblem(key, _message(err)))
    return _unless_meant(out, meant)


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


#: pydantic's type errors, in the project's words: what the value is not.
_NOT_A: dict[str, str] = {
    "int_parsing": "is not a whole number",
    "int_type": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "bool_parsing": "is not true or false",
    "bool_type": "is not true or false",
    "string_type": "is not text",
    "list_type": "is not a list (write [a, b] or one '- item' per line)",
    "tuple_type": "is not a list (write [a, b] or one '- item' per line)",
    "set_type": "is not a list (write [a, b] or one '- item' per line)",
    "dict_type": "is not a mapping (write key: value lines under it)",
    "model_type": "is not a mapping (write key: value lines under it)",
    "model_attributes_type": "is not a mapping (write key: value lines under it)",
}
#: pydantic's bound errors: the value is outside the field's range.
_OUT_OF_RANGE = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    given = err.get("input")
    if isinstance(given, SecureValue):
        return "is encrypted (secure:) but is not a secret setting; store it in plain text"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(err["loc"][:-1])
        guess = _closest(str(err["loc"][-1]), allowed)
        if guess is not None:
            return f"unknown key; did you mean {guess}? allowed here: {', '.join(allowed)}"
        return f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
    if kind == "finite_number":
        return f"{_shown(given)} is not a finite number (no nan or infinity)"
    if kind in _NOT_A or kind in _OUT_OF_RANGE:
        text = f"{_shown(given)} {_NOT_A.get(kind, 'is out of range')}"
        if kind in _NOT_A and kind.startswith(("dict", "model")):
            allowed = _allowed_keys(err["loc"])
            return f"{text}; allowed keys: {', '.join(allowed)}" if allowed else text
        bounds = _range(_field_at(err["loc"]))
        return f"{text}; allowed: {bounds}" if bounds else text
    if kind == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        return f"{_shown(given)} is not {PATTERN_HELP.get(pattern, f'of the form {pattern}')}"
    if kind in ("string_too_short", "string_too_long", "too_short", "too_long"):
        return f"{_shown(given)}: {_plain(err['msg'])}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return _plain(msg)


def _plain(msg: str) -> str:
    return msg.replace("Input should be", "must be").replace("String should", "must")


def _shown(value: object) -> str:
    """The value as the stack file holds it, shortened: a wrong value is named, never a secret
    (secrets arrive as SecureValue and are handled before)."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str) and ("@" in value or "://" in value or ":" in value):
        # A URL or address may carry credentials (user:password@host): never echoed.
        return "the value"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _range(field: FieldInfo | None) -> str:
    """A field's bounds as a reader says them: '1 to 100', 'at least 1', 'above 0'."""
    if field is None:
        return ""
    low = high = ""
    for bound in field.metadata:
        if isinstance(bound, annotated_types.Ge):
            low = f"{bound.ge}"
        elif isinstance(bound, annotated_types.Gt):
            low = f"above {bound.gt}"
        elif isinstance(bound, annotated_types.Le):
            high = f"{bound.le}"
        elif isinstance(bound, annotated_types.Lt):
            high = f"below {bound.lt}"
    if low and high:
        return f"{low} to {high}" if not low.startswith("above") else f"{low} and {high}"
    if low:
        return low if low.startswith("above") else f"at least {low}"
    if high:
        return high if high.startswith("below") else f"at most {high}"
    return ""


def _field_at(loc: tuple[int | str, ...]) -> FieldInfo | None:
    """The FieldInfo of the setting at `loc` (None for a list item or a mapping's value)."""
    walked = _walk(loc)
    return walked[1] if walked is not None else None


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys a mapping at `loc` accepts."""
    walked = _walk(loc)
    current = _unwrap(walked[0]) if walked is not None else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(str(f.alias or n) for n, f in current.model_fields.items())
    return []


def _walk(loc: tuple[int | str, ...]) -> tuple[Any, FieldInfo | None] | None:
    """The type declared at `loc` and its field, by walking EstateConfig's field types."""
    current: Any = EstateConfig
    field: FieldInfo | None = None
    for part in loc:
        if part == "[key]":
            return None
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current, field = typing.get_args(current)[1], None
        elif typing.get_origin(current) in (tuple, list) and isinstance(part, int):
            current, field = typing.get_args(current)[0], None
        else:
            return None
    return current, field


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
