"""A MockMonitor that records every resource registration the program makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.settings import get_project, get_stack

from infra.config.secrets import SECRET_MARKER

#: Pulumi's wire signatures (sdk/go/common/resource/properties.go).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"
_SIG_RESOURCE_REF = "5cf8f73096256a8f31e491e813e4eb8e"
_SIG_OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class Registration:
    """One resource registration, as the engine received it (secrets already masked)."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    depends_on: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    inputs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "deleteBeforeReplace": self.delete_before_replace,
            "dependsOn": list(self.depends_on),
            "ignoreChanges": list(self.ignore_changes),
            "replaceOnChanges": list(self.replace_on_changes),
            "inputs": self.inputs,
        }


def clean(value: Any) -> Any:
    """Wire values to plain data: secrets become the marker, integral floats become ints."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SIG_SECRET:
            return SECRET_MARKER
        if sig == _SIG_RESOURCE_REF:
            return {"resourceRef": value.get("urn", "")}
        if sig == _SIG_OUTPUT:
            if value.get("secret"):
                return SECRET_MARKER
            return clean(value.get("value", _UNKNOWN))
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RecordingMonitor(MockMonitor):
    """Passes every request to the SDK's MockMonitor after writing down what was asked."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the real engine makes them: the parent's whole type chain, but no
        `pulumi:pulumi:Stack` for top-level resources (the SDK's mock adds one)."""
        if parent:
            chain = parent.split("::")[2]
            if chain != "pulumi:pulumi:Stack":
                type_ = f"{chain}${type_}"
        return f"urn:pulumi:{get_stack()}::{get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = clean(json_format.MessageToDict(request.object))
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=request.provider,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                depends_on=tuple(sorted(request.dependencies)),
                ignore_changes=tuple(sorted(request.ignoreChanges)),
                replace_on_changes=tuple(sorted(request.replaceOnChanges)),
                inputs=inputs,
            )
        )
        return response
