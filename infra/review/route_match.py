"""Alertmanager's routing, in Python: which receivers an alert with given labels reaches.

`estate check` and the CrossGuard policy pack need this where amtool may not be installed;
tests/tools/test_route_match.py proves it agrees with the real amtool on every routing table.
Semantics (Alertmanager's dispatch/route.go): a node's children are tried in order; a child
whose matchers all match is descended into; without `continue` the first matching child ends
the search; a node with no matching child is itself the result. A missing label is "".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.core.labels import LABEL_NAME_PATTERN

_MATCHER = re.compile(
    rf'^\s*(?P<name>{LABEL_NAME_PATTERN})\s*(?P<op>=~|!~|!=|=)\s*(?P<value>"(?:[^"\\]|\\.)*"|[^"]*?)\s*$'
)


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


def parse_matcher(text: str) -> Matcher:
    match = _MATCHER.match(text)
    if match is None:
        raise ValueError(f"not an Alertmanager matcher: {text!r}")
    value = match.group("value")
    if value.startswith('"'):
        value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
    return Matcher(match.group("name"), match.group("op"), value)


def _matchers(route: Mapping[str, Any]) -> list[Matcher]:
    out = [parse_matcher(m) for m in route.get("matchers", [])]
    out += [Matcher(k, "=", str(v)) for k, v in (route.get("match") or {}).items()]
    out += [Matcher(k, "=~", str(v)) for k, v in (route.get("match_re") or {}).items()]
    return out


def _walk(route: Mapping[str, Any], labels: Mapping[str, str], receiver: str) -> list[str]:
    receiver = str(route.get("receiver") or receiver)
    found: list[str] = []
    for child in route.get("routes") or []:
        if all(m.matches(labels) for m in _matchers(child)):
            found += _walk(child, labels, receiver)
            if not child.get("continue", False):
                break
    return found or [receiver]


def receivers(config: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[str, ...]:
    """Receivers reached by an alert with `labels`, in order (as `amtool config routes test`)."""
    return tuple(_walk(config["route"], labels, ""))


def paging_receivers(config: Mapping[str, Any]) -> frozenset[str]:
    """Receivers that page someone (they have PagerDuty configs)."""
    return frozenset(
        str(r["name"]) for r in config.get("receivers", []) if r.get("pagerduty_configs")
    )
