"""Deterministic YAML for every artifact a tool or a reviewer reads."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.CSafeDumper):
    """Block style, sorted keys; multi-line strings (PromQL, templates) as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a shared dict must not become an anchor a reader has to chase


def _str(dumper: yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(document: Any) -> str:
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1 << 16,  # long PromQL lines are never folded
    )
